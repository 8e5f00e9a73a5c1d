"""Field-level merge of case headers (design.md §3).

Each mergeable field (``schemas.case.MERGE_FIELDS``) carries its own hybrid logical clock in
``clocks``; the private part is one unit under ``clocks["private"]`` whose value is the
``sealed`` envelope (the hub cannot look inside). Only stored (sealed) revisions merge:
a node merges its stored leaves the same way and then opens the winner's envelope.

The merge is a join on the set of *versions* ``(field, hlc, value)`` a header knows: its
current values plus its ``history``. Merging two headers takes the union; each field's
winner is the version with the greatest ``(hlc, canonical JSON of value)``; every other
version is kept in ``history`` (sorted), so nothing is lost. Union and max make
:func:`merge` commutative, associative and idempotent, and :func:`resolve` independent of
the order in which CouchDB lists conflicting revisions.

Fixed fields (case_id, case_no, institution, …) never change after opening; should two
revisions still disagree, the smallest canonical value is taken (deterministic) and the
other is recorded in history under the clock ``""``.

The merged body drops ``_rev``, ``_revisions``, ``_conflicts``, ``_deleted_conflicts`` and
``sig``: the hub stores it as a new child of the winning revision (design.md §3).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from functools import reduce
from typing import Any

from schemas.case import MERGE_FIELDS, PRIVATE_CLOCK
from schemas.errors import ValidationFailed

Doc = Mapping[str, Any]
Version = tuple[str, str, str]  # (field, hlc, canonical json of value)
_DROP = frozenset({"_rev", "_revisions", "_conflicts", "_deleted_conflicts", "sig", "clocks",
                   "history", "private", "sealed"})
_UNITS = (*MERGE_FIELDS, PRIVATE_CLOCK)


def canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True, ensure_ascii=False, separators=(",", ":"))


def unit_value(doc: Doc) -> dict[str, Any] | None:
    """The private unit as ``{"sealed": …}`` or ``{"private": …}`` (None if absent)."""
    if "sealed" in doc:
        return {"sealed": doc["sealed"]}
    if "private" in doc:
        return {"private": doc["private"]}
    return None


def versions(doc: Doc) -> set[Version]:
    """Every version of every mergeable field this header knows (current + history)."""
    out = _current(doc)
    for h in doc.get("history") or ():
        out.add((str(h["field"]), str(h["hlc"]), canonical(h["value"])))
    return out


def _current(doc: Doc) -> set[Version]:
    """The version each mergeable field of this header holds now."""
    clocks = doc.get("clocks") or {}
    out: set[Version] = set()
    for f in _UNITS:
        if f == PRIVATE_CLOCK:
            value = unit_value(doc)
            if value is None:
                continue
        elif f in doc:
            value = doc[f]
        else:
            continue
        out.add((f, str(clocks.get(f, "")), canonical(value)))
    return out


def _fixed(a: Doc, b: Doc) -> tuple[dict[str, Any], set[Version]]:
    out: dict[str, Any] = {}
    extra: set[Version] = set()
    for k in sorted((set(a) | set(b)) - _DROP - set(_UNITS)):
        if k in a and k in b and canonical(a[k]) != canonical(b[k]):
            ca, cb = canonical(a[k]), canonical(b[k])
            out[k] = a[k] if ca < cb else b[k]
            extra.add((k, "", max(ca, cb)))
        else:
            out[k] = a[k] if k in a else b[k]
    return out, extra


def _check(a: Doc, b: Doc) -> None:
    for d in (a, b):
        if d.get("type") != "case":
            raise ValidationFailed.one("type", "merge_case_only", "only case headers merge",
                                       "只有办件基本信息文档可以合并")
        if "private" in d:
            # Open-form losers would land in ``history`` in clear text and leak when the
            # header is sealed: merge stored revisions, then open the winner (design.md §3).
            raise ValidationFailed.one("private", "merge_sealed_only",
                                       "merge stored (sealed) revisions, not open ones",
                                       "只能合并已加密（sealed）的修订版本")
    if a.get("_id") != b.get("_id"):
        raise ValidationFailed.one("_id", "merge_same_doc", "cannot merge different documents",
                                   "不能合并不同的文档")


def merge(a: Doc, b: Doc) -> dict[str, Any]:
    """Merge two revisions of one case header (commutative, associative, idempotent)."""
    _check(a, b)
    # History entries of fixed fields live beside the units' versions.
    body, extra = _fixed(a, b)
    allv = versions(a) | versions(b) | extra
    winners: dict[str, tuple[str, str]] = {}
    for f, hlc, val in allv:
        if f in _UNITS and (f not in winners or (hlc, val) > winners[f]):
            winners[f] = (hlc, val)
    clocks: dict[str, str] = {}
    for f, (hlc, val) in sorted(winners.items()):
        value = json.loads(val)
        if f == PRIVATE_CLOCK:
            body.update(value)
        else:
            body[f] = value
        if hlc:  # a field never edited has no clock (node.casework clocks only ``private``):
            clocks[f] = hlc  # "" is no clock, which the header's schema refuses
    body["clocks"] = clocks
    losers = sorted(v for v in allv if v[0] not in winners or (v[1], v[2]) != winners[v[0]])
    body["history"] = [{"field": f, "value": json.loads(val), "hlc": hlc}
                       for f, hlc, val in losers]
    return body


def dropped(before: Doc, after: Doc) -> tuple[str, str, bool] | None:
    """``(field, clock, fixed)`` of something ``after``, a later revision of the header
    ``before``, lost, or ``None``: a version ``before`` knew (``history`` keeps every value a
    field ever had: a correction keeps what it replaced, :func:`schemas.build.set_fields`),
    or a field fixed at opening changed (``fixed``) without the old value kept in
    ``history`` as :func:`merge` keeps it. The hub refuses such a revision from a station
    (hub/header_kept.py) and a station refuses it from the hub (node/pull.py): the archive
    of a case must be complete (5 d, 11.1 e)."""
    keep = versions(after)
    for key in sorted((set(before) | set(after)) - _DROP - set(_UNITS)):
        if key.startswith("_") or canonical(before.get(key)) == canonical(after.get(key)):
            continue
        if key not in before or (key, "", canonical(before[key])) not in keep:
            return key, "", True
    # A value ``before`` held *now* may be gone when ``after`` edited that field later:
    # releases before 2026-11-27 replaced a value without keeping it in ``history``. A hub
    # upgraded first (docs/operations.md "Upgrading") refused every such correction from a
    # laptop not yet upgraded, and every later header of that case built on it, so the
    # header never reached the hub again. What ``before`` kept in ``history`` never goes.
    later = {f: str(c) for f, c in (after.get("clocks") or {}).items()}
    now = _current(before)
    lost = sorted(v for v in versions(before) - keep
                  if not (v in now and later.get(v[0], "") > v[1]))
    return (lost[0][0], lost[0][1], False) if lost else None


def resolve(revisions: Iterable[Doc]) -> dict[str, Any]:
    """The merged body of all conflicting leaf revisions (the hub's conflict resolver and
    the node's local merged view compute the same thing)."""
    revs = list(revisions)
    if not revs:
        raise ValidationFailed.one("revisions", "required", "nothing to resolve",
                                   "没有需要合并的修订版本")
    return reduce(merge, revs[1:], merge(revs[0], revs[0]))
