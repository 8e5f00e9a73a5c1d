"""Mango selectors as pure functions (CouchDB's mango_selector: normalize/1, match/2).

Used for ``_changes?filter=_selector`` by the embedded store. A selector is first
normalized as CouchDB does it (norm_ops: validate operators, implicit ``$eq`` and
``$and``; norm_fields: nested objects become dotted field paths; norm_negations:
``$not``/``$nor`` pushed down to the terminals by De Morgan's laws), then matched.
The consequences differ from MongoDB and are kept on purpose: ``$eq`` on an array
field compares the whole array; a missing field fails every condition except
exactly ``{"$exists": false}``, also under a ``$not`` (``{"$not": {"a": 1}}`` is
``{"a": {"$ne": 1}}``, which a doc without ``a`` does not match); range operators
compare across types in view collation order (null < false < true < numbers <
strings < arrays < objects). Strings compare by code point where CouchDB uses
ICU collation (``_id`` is compared raw by CouchDB too).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from sync.errors import BadRequest

Selector = dict[str, Any]
_NOT_FOUND = object()
_BAD_PATH = object()
_TYPES = ("null", "boolean", "number", "string", "array", "object")
_NEGATED = {"$lt": "$gte", "$lte": "$gt", "$eq": "$ne", "$ne": "$eq", "$gte": "$lt",
            "$gt": "$lte", "$in": "$nin", "$nin": "$in"}
_UNSUPPORTED = ("$where", "$geoWithin", "$geoIntersects", "$near", "$nearSphere")
_TERMINALS = ("$lt", "$lte", "$eq", "$ne", "$gte", "$gt")


def _bad(op: str, arg: Any) -> BadRequest:
    return BadRequest(f"Bad argument for operator {op}: {arg!r}", error="invalid_selector")


# -- collation ------------------------------------------------------------------------
def _rank(value: Any) -> int:
    if value is None:
        return 0
    if value is False:
        return 1
    if value is True:
        return 2
    if isinstance(value, (int, float)):
        return 3
    if isinstance(value, str):
        return 4
    if isinstance(value, list):
        return 5
    return 6


def collate(a: Any, b: Any) -> int:
    """CouchDB view collation (couch_ejson_compare): -1, 0 or 1."""
    ra, rb = _rank(a), _rank(b)
    if ra != rb:
        return -1 if ra < rb else 1
    if ra in (3, 4):
        return (a > b) - (a < b)
    if ra == 5:
        for x, y in zip(a, b, strict=False):
            c = collate(x, y)
            if c:
                return c
        return (len(a) > len(b)) - (len(a) < len(b))
    if ra == 6:
        for (ka, va), (kb, vb) in zip(a.items(), b.items(), strict=False):
            c = collate(ka, kb) or collate(va, vb)
            if c:
                return c
        return (len(a) > len(b)) - (len(a) < len(b))
    return 0


def _exact(a: Any, b: Any) -> bool:
    """Erlang ``=:=`` on EJSON (lists:member in ``$all``): 1 and 1.0 differ, and so
    do objects with the same members in another order."""
    if type(a) is not type(b):
        return False
    if isinstance(a, list):
        return len(a) == len(b) and all(_exact(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, dict):
        return len(a) == len(b) and all(
            ka == kb and _exact(va, vb)
            for (ka, va), (kb, vb) in zip(a.items(), b.items(), strict=True)
        )
    return bool(a == b)


def _type_name(value: Any) -> str:
    rank = _rank(value)
    return "boolean" if rank in (1, 2) else _TYPES[{0: 0, 3: 2, 4: 3, 5: 4, 6: 5}[rank]]


# -- fields -----------------------------------------------------------------------------
def _parse_field(field: str) -> list[str]:
    """mango_util:parse_field: dots separate names, ``\\.`` is a literal dot."""
    return [p.replace("\\.", ".") for p in re.split(r"(?<!\\)\.", field)]


def get_field(value: Any, field: str) -> Any:
    """mango_doc:get_field: the value, ``_NOT_FOUND`` (an object lacks the name) or
    ``_BAD_PATH`` (the path runs through a scalar or past an array's end)."""
    for name in _parse_field(field):
        if isinstance(value, Mapping):
            if name not in value:
                return _NOT_FOUND
            value = value[name]
        elif isinstance(value, list):
            if not name.isdigit() or int(name) >= len(value):
                return _BAD_PATH
            value = value[int(name)]
        else:
            return _BAD_PATH
    return value


# -- normalization ------------------------------------------------------------------------
def _norm_ops(sel: Any) -> Selector:
    if not isinstance(sel, Mapping) or not sel:
        return {"$eq": sel}
    if len(sel) > 1:
        return {"$and": [_norm_ops({k: v}) for k, v in sel.items()]}
    ((op, arg),) = sel.items()
    if op in ("$and", "$or", "$nor"):
        if not isinstance(arg, list):
            raise _bad(op, arg)
        return {op: [_norm_ops(a) for a in arg]}
    if op in ("$not", "$elemMatch", "$allMatch"):
        if not isinstance(arg, Mapping):
            raise _bad(op, arg)
        return {op: _norm_ops(arg)}
    if op in ("$in", "$nin", "$all"):
        if not isinstance(arg, list):
            raise _bad(op, arg)
        return {op: arg}
    if op == "$exists" and not isinstance(arg, bool):
        raise _bad(op, arg)
    if op == "$type" and not isinstance(arg, str):
        raise _bad(op, arg)
    if op == "$mod" and not (
        isinstance(arg, list) and len(arg) == 2
        and all(isinstance(x, int) and not isinstance(x, bool) for x in arg) and arg[0] != 0
    ):
        raise _bad(op, arg)
    if op == "$regex":
        if not isinstance(arg, str):
            raise _bad(op, arg)
        try:
            re.compile(arg)
        except re.error as exc:
            raise _bad(op, arg) from exc
    if op == "$size" and not (isinstance(arg, int) and not isinstance(arg, bool) and arg >= 0):
        raise _bad(op, arg)
    if op in _UNSUPPORTED:
        raise BadRequest(f"Unsupported operator: {op}", error="invalid_selector")
    if op in ("$exists", "$type", "$mod", "$regex", "$size", *_TERMINALS):
        return {op: arg}
    if op.startswith("$"):
        raise BadRequest(f"Invalid operator: {op}", error="invalid_selector")
    return {op: _norm_ops(arg)}


def _norm_fields(sel: Selector, path: str = "") -> Selector:
    ((op, arg),) = sel.items()
    if op in ("$and", "$or", "$nor"):
        return {op: [_norm_fields(a, path) for a in arg]}
    if op == "$not":
        return {op: _norm_fields(arg, path)}
    if op in ("$elemMatch", "$allMatch"):
        return {path: {op: _norm_fields(arg)}}
    if op.startswith("$"):
        return {path: sel}
    return _norm_fields(arg, f"{path}.{op}" if path else op)


def _norm_negations(sel: Selector) -> Selector:
    ((op, arg),) = sel.items()
    if op == "$not":
        return _negate(arg)
    if op == "$nor":
        return {"$and": [_negate(a) for a in arg]}
    if op in ("$and", "$or"):
        return {op: [_norm_negations(a) for a in arg]}
    if op in ("$elemMatch", "$allMatch"):
        return {op: _norm_negations(arg)}
    return sel


def _negate(sel: Selector) -> Selector:
    ((op, arg),) = sel.items()
    if op == "$not":
        return _norm_negations(arg)
    if op == "$nor":
        return {"$or": [_norm_negations(a) for a in arg]}
    if op == "$and":
        return {"$or": [_negate(a) for a in arg]}
    if op == "$or":
        return {"$and": [_negate(a) for a in arg]}
    if op in _NEGATED:
        return {_NEGATED[op]: arg}
    if op == "$exists":
        return {"$exists": not arg}
    if op.startswith("$"):
        return {"$not": sel}
    return {op: _negate(arg)}


def normalize(selector: Any) -> Selector:
    """The normalized form of ``selector``; BadRequest (``invalid_selector``) if bad."""
    if not isinstance(selector, Mapping):
        raise BadRequest("Selector must be a JSON object", error="invalid_selector")
    if not selector:
        return {}
    norm = _norm_negations(_norm_fields(_norm_ops(selector)))
    if "" in norm:
        raise BadRequest("Invalid selector: missing field name", error="invalid_selector")
    return norm


# -- matching -----------------------------------------------------------------------------
def _match(sel: Selector, value: Any, raw: bool = False) -> bool:
    ((op, arg),) = sel.items()
    cmp = _raw_cmp if raw else collate
    if op == "$and":
        return all(_match(a, value, raw) for a in arg)
    if op == "$or":
        return any(_match(a, value, raw) for a in arg)
    if op == "$not":
        return not _match(arg, value, raw)
    if op == "":
        return _match(arg, value, raw)
    if op == "$all":
        if not isinstance(value, list):
            return False
        has = all(any(_exact(a, v) for v in value) for a in arg)
        return has or (len(arg) == 1 and isinstance(arg[0], list) and collate(arg[0], value) == 0)
    if op == "$elemMatch":
        return isinstance(value, list) and any(_match(arg, v, raw) for v in value)
    if op == "$allMatch":
        return isinstance(value, list) and bool(value) and all(_match(arg, v, raw) for v in value)
    if op in _TERMINALS:
        c = cmp(value, arg)
        return {"$lt": c < 0, "$lte": c <= 0, "$eq": c == 0, "$ne": c != 0,
                "$gte": c >= 0, "$gt": c > 0}[op]
    if op == "$in":
        values = value if isinstance(value, list) else [value]
        return any(cmp(v, a) == 0 for a in arg for v in values)
    if op == "$nin":
        values = value if isinstance(value, list) else [value]
        return all(cmp(v, a) != 0 for a in arg for v in values)
    if op == "$exists":
        return bool(arg)
    if op == "$type":
        return bool(arg == _type_name(value))
    if op == "$mod":
        if not isinstance(value, int) or isinstance(value, bool):
            return False
        rem = abs(value) % abs(arg[0])  # Erlang rem: the sign follows the dividend
        return (-rem if value < 0 else rem) == arg[1]
    if op == "$regex":
        return isinstance(value, str) and re.search(arg, value) is not None
    if op == "$size":
        return isinstance(value, list) and len(value) == arg
    if op.startswith("$"):
        raise BadRequest(f"Invalid operator: {op}", error="invalid_selector")
    sub = get_field(value, op)
    if sub is _NOT_FOUND:
        return dict(arg) == {"$exists": False}
    if sub is _BAD_PATH:
        return False
    return _match(arg, sub, raw or op == "_id")


def _raw_cmp(a: Any, b: Any) -> int:
    # mango_json:cmp_raw for _id: plain term order; ids are strings.
    if isinstance(a, str) and isinstance(b, str):
        return (a > b) - (a < b)
    return collate(a, b)


def match(selector: Mapping[str, Any], doc: Any) -> bool:
    """Whether ``doc`` (EJSON with ``_id``, ``_rev``...) satisfies ``selector``."""
    norm = normalize(selector)
    return True if not norm else _match(norm, doc)


def compile_selector(selector: Any) -> Selector:
    """Normalize once for many matches (see :func:`matches`)."""
    return normalize(selector)


def matches(normalized: Selector, doc: Any) -> bool:
    """Match with a selector already passed through :func:`normalize`."""
    return True if not normalized else _match(normalized, doc)


def validate(selector: Any) -> None:
    """Raise BadRequest now if ``selector`` is malformed."""
    normalize(selector)
