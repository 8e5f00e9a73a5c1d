"""Reading a case archive (:mod:`hub.oversight.archive`) offline: check it, then lay it out.

:func:`check_archive` needs the file and the root keys the auditor pins, nothing else (no
hub, no network): the directory must verify under a root key; the file under the hub's
device key named by that directory; every header, event and chunk under the key of the
device that wrote it, revoked or rotated since (``allow_revoked``: the directory keeps
every key it ever listed); every keyring wrap likewise; every chunk's bytes their hash;
and nothing a step names (``base_hlc``, the consultation a reply answers, the complaint a
handling closes, the correction request a receipt answers, the events a review resolved, a
scan's chunks) nor any event the hub's receipts name may be missing from the file. The case's figures are folded again from the events with the calendars in the file
and compared with those the hub computed.

:func:`timeline` is what the supervisor's page and ``hub case verify`` print: every step
with who (device, institution, staff and name), when (stated and received), what it
recorded in clear, and each version of the header's fields (a correction, the losing side
of a resolved conflict). Pure functions.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import hashlib
from collections.abc import Mapping, Sequence
from typing import Any

from hub.oversight.archive import DOMAIN, FORMAT
from schemas.errors import CalendarError
from schemas.fold import order_key
from schemas.hlc import unpack
from schemas.state import LOCAL_TZ, local_timestamp
from sync.crypto import CryptoError, verify_directory, verify_document
from sync.crypto.keyring import verify_wrap
from sync.crypto.sign import (
    attachment_digest,
    check_signature,
    recorder_mismatch,
    signing_payload,
)

#: Fold results compared between the hub's figures and the offline fold.
FIGURES = ("status", "accepted_on", "time_limit_days", "due", "suspended_days",
           "completed_on", "terminated_on", "on_time")


def _attachment(doc: Mapping[str, Any], name: str) -> bytes | None:
    att = (doc.get("_attachments") or {}).get(name) or {}
    data = att.get("data") if isinstance(att, Mapping) else None
    try:
        return base64.b64decode(data) if isinstance(data, str) else None
    except binascii.Error:  # not base64: not the bytes its id names either
        return None


def _signatures(archive: Mapping[str, Any], directory: Any) -> list[str]:
    problems = []
    for doc in archive.get("documents") or []:
        docid = str(doc.get("_id"))
        if doc.get("_deleted") and "sig" not in doc:
            continue  # a resolved conflict's losing leaf: its values are in history
        try:
            if doc.get("type") == "keyring":
                for gen in doc.get("data_keys") or []:
                    for wrap in gen.get("wraps") or []:
                        verify_wrap(doc, str(gen.get("kid")), wrap, directory,
                                    allow_revoked=True)
                continue
            signer = verify_document(doc, directory, allow_revoked=True)
        except CryptoError as exc:
            problems.append(f"{docid}: {exc.reason}")
            continue
        mismatch = recorder_mismatch(doc, signer)
        if mismatch:
            problems.append(f"{docid}: {mismatch}")
        problems += _attachment_bytes(docid, doc)
        if doc.get("type") == "chunk" and archive.get("attachments", True):
            data = _attachment(doc, "data")
            if data is None or hashlib.sha256(data).hexdigest() != docid.rsplit(":", 1)[-1]:
                problems.append(f"{docid}: its bytes do not hash to its id")
    return problems


def _attachment_bytes(docid: str, doc: Mapping[str, Any]) -> list[str]:
    """A signature covers an attachment's stated ``digest`` (sync.crypto.sign.signed_view),
    not the bytes beside it: bytes swapped under the same digest verified (a scan of a
    form, whoever held the file or re-signed it with the hub's key)."""
    out = []
    for name, att in (doc.get("_attachments") or {}).items():
        if isinstance(att, Mapping) and "data" in att and "digest" in att:
            try:
                computed = attachment_digest({"data": att["data"]})
            except CryptoError:
                computed = None
            if computed != att["digest"]:
                out.append(f"{docid}: the bytes of attachment {name} are not those signed")
    return out


def _missing(archive: Mapping[str, Any]) -> list[str]:
    """What a step names that the file lacks: a step deleted from the archive."""
    docs = archive.get("documents") or []
    events = {str(d.get("hlc")): d for d in docs if d.get("type") == "event"}
    chunks = {str(d["_id"]).rsplit(":", 1)[-1] for d in docs if d.get("type") == "chunk"}
    out = []
    for hlc, ev in sorted(events.items()):
        named = [ev.get("base_hlc"), ev.get("consultation"), ev.get("complaint"),
                 ev.get("request"), *(ev.get("events") or [])]
        for ref in named:
            if isinstance(ref, str) and ref and ref not in events:
                out.append(f"event {hlc} ({ev.get('event_type')}) names {ref}, which the "
                           "archive does not hold")
        for name, part in (ev.get("chunked") or {}).items():
            lost = [c for c in part.get("chunks") or [] if c not in chunks]
            if lost:
                out.append(f"event {hlc}: {len(lost)} chunk(s) of {name} missing")
    # the hub's receipts name every event a station pushed: one deleted from the store
    # since (by whoever holds the database) is still named there
    held = {str(d.get("_id")) for d in docs}
    out += [f"{eid}: the hub received it ({local(r.get('received_ms'))}), the archive does "
            "not hold it" for eid, r in sorted((archive.get("receipts") or {}).items())
            if eid not in held]
    return out


def _figures(archive: Mapping[str, Any]) -> list[str]:
    from schemas.fold import fold
    from schemas.workdays import Workdays

    events = [d for d in archive.get("documents") or [] if d.get("type") == "event"]
    again = fold(events, workdays=Workdays(list(archive.get("calendars") or []))).as_dict()
    said = archive.get("state") or {}
    return [f"{k}: the hub said {said.get(k)!r}, the events fold to {again.get(k)!r}"
            for k in FIGURES if said.get(k) != again.get(k)]


def _all(value: Any, kind: type | tuple[type, ...]) -> bool:
    return isinstance(value, list) and all(isinstance(v, kind) for v in value)


def _doc_shape(i: int, doc: Any) -> list[str]:
    """What of ``documents[i]`` the checks and the timeline read is not of its shape."""
    if not isinstance(doc, Mapping):
        return [f"documents[{i}]: not an object"]
    out = []
    for key, ok in (
            ("_id", isinstance(doc.get("_id"), str)),
            ("_attachments", isinstance(doc.get("_attachments", {}), Mapping) and all(
                isinstance(a, Mapping) for a in (doc.get("_attachments") or {}).values())),
            ("chunked", isinstance(doc.get("chunked", {}), Mapping) and all(
                isinstance(c, Mapping) and _all(c.get("chunks", []), str)
                for c in (doc.get("chunked") or {}).values())),
            ("events", _all(doc.get("events", []), (str, type(None)))),
            ("clocks", isinstance(doc.get("clocks", {}), Mapping)),
            ("history", _all(doc.get("history", []), Mapping) and all(
                {"field", "hlc", "value"} <= set(h) for h in doc.get("history") or [])),
            ("data_keys", _all(doc.get("data_keys", []), Mapping) and all(
                _all(g.get("wraps", []), Mapping) for g in doc.get("data_keys") or []))):
        if not ok:
            out.append(f"documents[{i}] ({doc.get('_id')}): {key} is not of its shape")
    return out


def malformed(archive: Any) -> list[str]:
    """What of ``archive`` is not of the shape :func:`check_archive` and :func:`timeline`
    read, each named: a file anyone may have edited stopped ``hub case verify`` with a
    traceback (a signature that is a string, a receipt that is a number), no verdict."""
    if not isinstance(archive, Mapping):
        return ["archive: not a JSON object"]
    out = [f"{key}: is not {what}" for key, what, ok in (
        ("sig", "an object", isinstance(archive.get("sig", {}), Mapping)),
        ("root_keys", "a list of keys", _all(archive.get("root_keys", []), str)),
        ("directory", "an object", isinstance(archive.get("directory", {}), Mapping)),
        ("documents", "a list", isinstance(archive.get("documents", []), list)),
        ("receipts", "an object of objects", isinstance(archive.get("receipts", {}), Mapping)
         and all(isinstance(r, Mapping) for r in (archive.get("receipts") or {}).values())),
        ("roster", "an object of lists of objects",
         isinstance(archive.get("roster", {}), Mapping)
         and all(_all(r, Mapping) for r in (archive.get("roster") or {}).values())),
        ("calendars", "a list of objects", _all(archive.get("calendars", []), Mapping)),
        ("calendar_sources", "an object",
         isinstance(archive.get("calendar_sources", {}), Mapping)),
        ("service_item", "an object", isinstance(archive.get("service_item") or {}, Mapping)),
        ("state", "an object with a list of suspensions",
         isinstance(archive.get("state", {}), Mapping)
         and _all((archive.get("state") or {}).get("suspensions", []), Mapping)),
    ) if not ok]
    if isinstance(archive.get("documents", []), list):
        for i, doc in enumerate(archive.get("documents") or []):
            out += _doc_shape(i, doc)
    return out


def check_archive(archive: Mapping[str, Any], root_keys: Sequence[str]) -> dict[str, Any]:
    """``{"ok", "problems", "notes", "documents", "events"}`` (module docstring)."""
    from sync.bundle import hub_device

    shape = malformed(archive)
    if shape or archive.get("format") != FORMAT:
        return {"ok": False, "problems": shape or [f"format: not a {FORMAT} file"],
                "notes": [], "documents": 0, "events": 0}
    try:
        directory = verify_directory(archive["directory"], list(root_keys))
    except (CryptoError, KeyError, TypeError) as exc:
        reason = getattr(exc, "reason", str(exc))
        return {"ok": False, "problems": [f"directory: {reason}"], "notes": [],
                "documents": 0, "events": 0}
    problems: list[str] = []
    sig = archive.get("sig") or {}
    try:
        hub = hub_device(directory)
        if sig.get("device") != hub:
            raise CryptoError(f"signed by {sig.get('device')!r}, not the hub's device {hub}")
        _dev, key = directory.device_key(hub, str(sig.get("key_id")), allow_revoked=True)
        body = {k: v for k, v in archive.items() if k != "sig"}
        check_signature(key.public, sig.get("value"), signing_payload(body, DOMAIN),
                        what="archive")
    except CryptoError as exc:
        problems.append(f"archive: {exc.reason}")
    problems += _signatures(archive, directory)
    problems += _missing(archive)
    try:
        notes = _figures(archive)
    except CalendarError as exc:  # the file's calendars do not count days
        problems.append(f"calendars: {exc.reason}")
        notes = []
    docs = archive.get("documents") or []
    return {"ok": not problems, "problems": problems, "notes": notes,
            "documents": len(docs), "events": sum(d.get("type") == "event" for d in docs)}


# -- the timeline -------------------------------------------------------------------------
#: Cleartext members each step shows (the rest of an event is bookkeeping or sealed).
SHOWN = ("channel", "answered", "service_item", "mode", "ledger_no", "period_end", "zone",
         "time_limit_days", "reason_codes", "materials", "materials_due", "due", "department",
         "outcome", "kind", "reason", "resumption_deadline", "cause_removed_on",
         "new_time_limit_days", "from_institution", "to_institution", "reason_code",
         "archive_no", "level", "category", "result", "decision", "events", "purpose",
         "fields_read", "problem_id", "status", "attachments", "completion")


def local(ms: int | None) -> str:
    if ms is None:
        return "—"
    return dt.datetime.fromtimestamp(ms / 1000, LOCAL_TZ).strftime("%Y-%m-%d %H:%M:%S")


def _staff_name(archive: Mapping[str, Any], code: str, staff: Any) -> str:
    from schemas.reference import staff_names

    rows = (archive.get("roster") or {}).get(code) or []
    row = next((r for r in rows if r.get("id") == staff), None)
    name = str(staff_names({"staff": rows}).get(str(staff)) or "")
    if row is not None and len(row.get("names") or []) > 1:  # the id had other names
        name = " / ".join(str(n) for n in row["names"])
    return f"{name}（已离开名单）" if row is not None and row.get("left") else name


def _material_names(archive: Mapping[str, Any]) -> dict[str, str]:
    """Material code -> its name in the 清单, marked when the item asks for the original
    (7.3.2: the originals are what the agent keeps and must hand back)."""
    item = archive.get("service_item") or {}
    return {str(m.get("code")): str(m.get("name")) + ("（原件）" if m.get("original") else "")
            for m in item.get("materials") or []}


def steps(archive: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Every event in the fold's order, as a row (who, when stated, when received, what;
    a step entered later from paper, 补录, also when it was typed)."""
    from hub.oversight.paper import typed_at

    docs = [d for d in archive.get("documents") or [] if d.get("type") == "event"]
    receipts = archive.get("receipts") or {}
    names = _material_names(archive)
    rows = []
    for ev in sorted(docs, key=order_key):
        got = receipts.get(str(ev["_id"])) or {}
        shown = {k: ev[k] for k in SHOWN if k in ev}
        if isinstance(shown.get("materials"), list):
            shown["materials"] = [
                f"{m.get('code')} {m.get('name', '')}".strip() if isinstance(m, Mapping)
                else f"{m} {names.get(m, '')}".strip() for m in shown["materials"]]
        # the hub's own steps (a complaint taken at the hub, a 10.2.5.2 termination) are
        # written by it, on its clock: no device pushed them, so no receipt
        by_hub = ev.get("device") == archive.get("hub")
        typed = typed_at(ev)  # 补录: states the paper's date, typed then (schemas.paper)
        rows.append({
            "paper": typed is not None, "typed": local(typed) if typed is not None else "",
            # in Beijing time beside the receipt's (the hub's own steps state UTC on a UTC
            # server); the file keeps the event as its device stated it
            "hlc": ev.get("hlc"), "event_type": ev.get("event_type"),
            "at": local_timestamp(str(ev.get("at") or "")).replace("T", " "),
            "received": "（平台自记）" if by_hub and not got else local(got.get("received_ms")),
            "received_via": got.get("via", ""),
            "device": ev.get("device"), "institution": ev.get("institution"),
            "staff": ev.get("staff"), "staff_name": _staff_name(
                archive, str(ev.get("institution")), ev.get("staff")),
            "sealed": "sealed" in ev, "fields": shown,
            "schema_version": ev.get("schema_version")})
    return rows


def header_versions(archive: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Each version of each header field, oldest first: who wrote it (the clock's device),
    when (its clock), and whether it is the current value, one replaced by a later edit, or
    the losing side of a conflict the hub resolved (a version beside a newer one from
    another device with no edit between)."""
    header = next((d for d in archive.get("documents") or []
                   if d.get("type") == "case" and not d.get("_deleted")), None)
    if header is None:
        return []
    from schemas.merge import versions

    clocks = header.get("clocks") or {}
    rows = []
    for field, hlc, value in sorted(versions(header), key=lambda v: (v[0], v[1])):
        current = str(clocks.get(field, "")) == hlc and (
            field != "private" or '"sealed"' in value)
        try:
            clock = unpack(hlc) if hlc else None
        except ValueError:
            clock = None
        rows.append({"field": field, "hlc": hlc, "current": current,
                     "device": clock.node if clock else "",
                     "when": local(clock.wall_ms) if clock else "（登记时）",
                     "value": "（已加密的服务对象信息）" if field == "private" else value})
    return rows


def timeline(archive: Mapping[str, Any]) -> dict[str, Any]:
    """What a supervisor reads of one case (module docstring)."""
    state = archive.get("state") or {}
    return {"case_no": archive.get("case_no"), "case_id": archive.get("case_id"),
            "steps": steps(archive), "header": header_versions(archive),
            "state": state, "calendar_sources": archive.get("calendar_sources") or {},
            "signed_by": (archive.get("sig") or {}).get("device"),
            # the 清单 entry the promised limit was checked against (6.2.4, 10.1.3)
            "item": {k: (archive.get("service_item") or {}).get(k)
                     for k in ("code", "name", "department", "time_limit_days")}}


__all__ = ["FIGURES", "check_archive", "header_versions", "local", "malformed", "steps",
           "timeline"]
