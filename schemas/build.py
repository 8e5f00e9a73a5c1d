"""Builders for documents in their open form (what a node writes before sealing).

Pure helpers so node, hub, sample generator and tests make documents the same way:
:func:`make_case`, :func:`make_event`, :func:`set_fields` (header edit with per-field clocks).
They validate what they build (:func:`schemas.registry.validate_open`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from schemas.case import MERGE_FIELDS, PRIVATE_CLOCK
from schemas.hlc import HLC, pack
from schemas.ids import doc_id, event_doc_id, institution_tier
from schemas.registry import validate_open, writing_version
from schemas.vocab import SCHEMA_VERSION


def institution_path(code: str, parents: Mapping[str, str | None]) -> list[str]:
    """Codes from the top (city) down to ``code``, following ``parents`` (code -> parent)."""
    path = [code]
    while (parent := parents.get(path[-1])) and len(path) < 5:
        path.append(parent)
    return list(reversed(path))


def make_case(*, clock: HLC, case_no: str, institution: str, path: Iterable[str], device: str,
              opened_at: str, service_type: str, mode: str, focus_area: str,
              applicant_kind: str, private: Mapping[str, Any], service_item: str | None = None,
              special_groups: Iterable[str] = (), staff: str | None = None,
              labels: Iterable[str] = ()) -> dict[str, Any]:
    """A new case header; every mergeable field is clocked by the creation clock."""
    case_id = pack(clock)
    doc: dict[str, Any] = {
        "_id": doc_id("case", case_id), "type": "case", "schema_version": SCHEMA_VERSION,
        "case_id": case_id, "case_no": case_no, "institution": institution,
        "institution_path": list(path), "device": device, "opened_at": opened_at,
        "service_type": service_type, "mode": mode, "focus_area": focus_area,
        "applicant_kind": applicant_kind, "special_groups": list(special_groups),
        "labels": list(labels), "staff": staff, "service_item": service_item,
        "history": [], "private": dict(private),
    }
    doc["clocks"] = {f: case_id for f in (*MERGE_FIELDS, PRIVATE_CLOCK)}
    return validate_open(doc)


def set_fields(header: Mapping[str, Any], changes: Mapping[str, Any], clock: HLC) -> dict[str, Any]:
    """A header edit: the new values, each clocked with ``clock`` (design.md §3).

    ``changes`` may hold MERGE_FIELDS and ``private`` (the whole private part)."""
    doc = dict(header)
    # no "" clock: a header the hub merged before 2026-11-27 clocked each field never
    # edited with "" (schemas.merge), which the schema refuses, so no edit of it validated
    clocks = {k: v for k, v in (doc.get("clocks") or {}).items() if v}
    stamp = pack(clock)
    history = list(doc.get("history") or [])
    for name, value in changes.items():
        if name not in MERGE_FIELDS and name != PRIVATE_CLOCK:
            from schemas.errors import ValidationFailed

            raise ValidationFailed.one(name, "immutable_field",
                                       f"{name} cannot be edited after opening",
                                       f"{name} 在登记后不可修改")
        replaced = _replaced(header, name, value)
        entry = {"field": name, "value": replaced, "hlc": str(clocks.get(name, ""))}
        if replaced is not None and entry not in history:  # a caller may have kept it
            history.append(entry)
        doc[name] = value
        if name == PRIVATE_CLOCK:
            doc.pop("sealed", None)  # the envelope of the value replaced, now in history
        clocks[name] = stamp
    doc["clocks"] = clocks
    doc["history"] = history
    return doc


def _replaced(header: Mapping[str, Any], name: str, value: Any) -> Any:
    """The value an edit of ``name`` replaces, to keep in ``history``, or ``None``. A case
    archive must say what a correction changed (5 d, 11.1 e; design.md §3: nothing is
    lost): the edit dropped the replaced value, which then lived on only in an old revision
    until compaction, and a station could rewrite a header's service item or staff with no
    trace. The private part is kept only as its stored ``sealed`` envelope: an open one
    would put personal data in clear into ``history`` (the merge refuses open revisions for
    the same reason); a caller editing an open header records the envelope it replaces
    itself (node/views/applicant.py)."""
    if name == PRIVATE_CLOCK:
        return {"sealed": header["sealed"]} if "sealed" in header else None
    if name not in header or header[name] == value:
        return None
    return header[name]


def make_event(event_type: str, *, case_id: str, clock: HLC, at: str, institution: str,
               staff: str | None = None, base_hlc: str | None = None,
               private: Mapping[str, Any] | None = None, **fields: Any) -> dict[str, Any]:
    """An event in open form; ``clock.node`` is the recording device."""
    hlc = pack(clock)
    doc: dict[str, Any] = {
        "_id": event_doc_id(case_id, hlc), "type": "event",
        "schema_version": writing_version("event", event_type),
        "event_type": event_type, "case_id": case_id, "hlc": hlc, "at": at,
        "device": clock.node, "institution": institution,
    }
    if staff is not None:
        doc["staff"] = staff
    if base_hlc is not None:
        doc["base_hlc"] = base_hlc
    doc.update(fields)
    doc["private"] = dict(private or {})
    return validate_open(doc)


def handover_fields(from_code: str, to_code: str, reason_code: str) -> dict[str, Any]:
    """Cleartext of a hand_up / hand_down (tiers derived from the codes' shape)."""
    return {"from_institution": from_code, "to_institution": to_code,
            "from_tier": institution_tier(from_code), "to_tier": institution_tier(to_code),
            "reason_code": reason_code}
