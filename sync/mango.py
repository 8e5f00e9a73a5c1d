"""Mango selectors as a pure matcher (CouchDB's mango_selector:match/2).

Used for ``_changes?filter=_selector`` by the embedded store. Semantics follow
CouchDB 3, not MongoDB: ``$eq`` on an array field compares the whole array
(no implicit element match); a missing field fails every condition except
exactly ``{"$exists": false}``; range operators compare across types with
CouchDB's view collation (null < false < true < numbers < strings < arrays <
objects). Strings compare by raw code point, where CouchDB uses ICU collation.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any

from sync.errors import BadRequest

_MISSING = object()


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
    """CouchDB view collation: -1, 0 or 1."""
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


def get_field(value: Any, path: str) -> Any:
    """``"a.b.0"`` into nested objects/arrays; ``_MISSING`` if absent."""
    parts = re.split(r"(?<!\\)\.", path)
    for raw in parts:
        part = raw.replace("\\.", ".")
        if isinstance(value, Mapping):
            if part not in value:
                return _MISSING
            value = value[part]
        elif isinstance(value, list) and part.isdigit() and int(part) < len(value):
            value = value[int(part)]
        else:
            return _MISSING
    return value


_TYPES = {
    "null": 0,
    "boolean": 1,
    "number": 3,
    "string": 4,
    "array": 5,
    "object": 6,
}


def _type_of(value: Any) -> str:
    rank = _rank(value)
    return "boolean" if rank in (1, 2) else next(k for k, v in _TYPES.items() if v == rank)


def _list_arg(op: str, arg: Any) -> list[Any]:
    if not isinstance(arg, list):
        raise BadRequest(f"Invalid selector: {op} requires an array argument")
    return arg


def _op_in(arg: Any, v: Any) -> bool:
    args = _list_arg("$in", arg)
    values = v if isinstance(v, list) else [v]
    return any(collate(x, a) == 0 for a in args for x in values)


def _op_nin(arg: Any, v: Any) -> bool:
    args = _list_arg("$nin", arg)
    values = v if isinstance(v, list) else [v]
    return all(collate(x, a) != 0 for a in args for x in values)


def _op_all(arg: Any, v: Any) -> bool:
    args = _list_arg("$all", arg)
    return isinstance(v, list) and all(any(collate(x, a) == 0 for x in v) for a in args)


def _op_regex(arg: Any, v: Any) -> bool:
    if not isinstance(arg, str):
        raise BadRequest("Invalid selector: $regex requires a string")
    try:
        pattern = re.compile(arg)
    except re.error as exc:
        raise BadRequest(f"Invalid selector: bad $regex {arg!r}") from exc
    return isinstance(v, str) and pattern.search(v) is not None


def _op_mod(arg: Any, v: Any) -> bool:
    if not (isinstance(arg, list) and len(arg) == 2 and all(isinstance(a, int) for a in arg)):
        raise BadRequest("Invalid selector: $mod requires [divisor, remainder]")
    if arg[0] == 0:
        raise BadRequest("Invalid selector: $mod divisor must not be zero")
    return isinstance(v, int) and not isinstance(v, bool) and v % arg[0] == arg[1]


def _op_type(arg: Any, v: Any) -> bool:
    if arg not in _TYPES:
        raise BadRequest(f"Invalid selector: unknown $type {arg!r}")
    return _type_of(v) == arg


_VALUE_OPS: dict[str, Callable[[Any, Any], bool]] = {
    "$eq": lambda a, v: collate(v, a) == 0,
    "$ne": lambda a, v: collate(v, a) != 0,
    "$lt": lambda a, v: collate(v, a) < 0,
    "$lte": lambda a, v: collate(v, a) <= 0,
    "$gt": lambda a, v: collate(v, a) > 0,
    "$gte": lambda a, v: collate(v, a) >= 0,
    "$in": _op_in,
    "$nin": _op_nin,
    "$all": _op_all,
    "$exists": lambda a, v: bool(a),
    "$type": _op_type,
    "$regex": _op_regex,
    "$size": lambda a, v: isinstance(v, list) and isinstance(a, int) and len(v) == a,
    "$mod": _op_mod,
    "$beginsWith": lambda a, v: isinstance(v, str) and isinstance(a, str) and v.startswith(a),
}


def _combinator(op: str, arg: Any, value: Any) -> bool:
    if op == "$not":
        return not _match_selector(arg, value)
    subs = _list_arg(op, arg)
    if op == "$and":
        return all(_match_selector(s, value) for s in subs)
    if op == "$or":
        return any(_match_selector(s, value) for s in subs)
    return not any(_match_selector(s, value) for s in subs)  # $nor


def _match_op(op: str, arg: Any, value: Any) -> bool:
    if op in ("$and", "$or", "$nor", "$not"):
        return _combinator(op, arg, value)
    if op == "$elemMatch":
        return isinstance(value, list) and any(_match_cond(arg, v) for v in value)
    if op == "$allMatch":
        return isinstance(value, list) and bool(value) and all(_match_cond(arg, v) for v in value)
    fn = _VALUE_OPS.get(op)
    if fn is None:
        raise BadRequest(f"Invalid operator: {op}")
    return fn(arg, value)


def _is_operator_object(cond: Any) -> bool:
    return isinstance(cond, Mapping) and bool(cond) and all(k.startswith("$") for k in cond)


def _match_cond(cond: Any, value: Any) -> bool:
    """A field's condition: operators, a nested selector, or implicit ``$eq``."""
    if _is_operator_object(cond):
        return all(_match_op(op, arg, value) for op, arg in cond.items())
    if isinstance(cond, Mapping) and cond:
        return _match_selector(cond, value)
    return collate(value, cond) == 0


def _match_selector(selector: Any, value: Any) -> bool:
    if not isinstance(selector, Mapping):
        raise BadRequest("Invalid selector: must be a JSON object")
    for key, cond in selector.items():
        if key.startswith("$"):
            if not _match_op(key, cond, value):
                return False
            continue
        if isinstance(cond, Mapping) and cond and not _is_operator_object(cond):
            # {"a": {"b": 1}} is the field "a.b" (mango_selector:normalize).
            flat = {f"{key}.{k}" if not k.startswith("$") else key: v for k, v in cond.items()}
            if not _match_selector(flat, value):
                return False
            continue
        sub = get_field(value, key)
        if sub is _MISSING:
            if not (isinstance(cond, Mapping) and dict(cond) == {"$exists": False}):
                return False
            continue
        if not _match_cond(cond, sub):
            return False
    return True


def match(selector: Mapping[str, Any], doc: Any) -> bool:
    """Whether ``doc`` satisfies the Mango ``selector``; BadRequest on a bad selector."""
    return _match_selector(selector, doc)


def validate(selector: Any) -> None:
    """Raise BadRequest now if ``selector`` is malformed (checked against ``{}``)."""
    if not isinstance(selector, Mapping):
        raise BadRequest("Invalid selector: must be a JSON object")
    _match_selector(selector, {})
