"""One case's archive, as an auditor keeps it (5 d, 11.1 e: standard and complete case
archives; 7.3.2: what the proxy agent received, kept and handed back).

A dispute a year after completion ("the agent lost my original", "the approval took too
long") is settled from the system alone. :func:`case_archive` collects, for one case:

* every document of the case **as stored**: the header (every leaf; its ``history``
  keeps each value a field ever had, the losing side of a resolved conflict included:
  hub.header_kept), the keyring, every event and chunk, sealed, each with the signature
  of the device that wrote it;
* the hub's first receipt of each event (``received_ms``: when the hub got it, a time no
  laptop can move, beside the ``at`` its laptop stated; hub.receipts);
* the root-signed directory (every device and institution key ever listed, revoked ones
  with ``revoked_at``: signatures made before a key rotation still verify) and the root
  keys this hub pins;
* the calendars and the 清单 entry the time limit was counted with, and the hub's fold of
  the case (its due day, the suspended days excluded, on time or not);
* the staff roster's names for the staff ids the events carry (8.1.2).

The whole file is signed by the hub's device key under its own domain tag (a document
signature is never valid for it, nor the reverse). ``bangban hub case verify`` checks it
offline with the root keys (:mod:`hub.oversight.archive_check`). The hub holds no case
key (design.md §5): particulars and free text stay sealed; the escrow key, kept offline,
opens them where the audit is allowed.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

from hub import scope as scopes
from sync.crypto.sign import signing_payload
from sync.errors import NotFound

if TYPE_CHECKING:
    from hub.core import Hub

FORMAT = "bangban-case-archive"
VERSION = 1
#: The archive's signature domain (sync.crypto.sign: one tag per kind of signed thing).
DOMAIN = b"bangban/v1/case-archive\n"


def _documents(hub: Hub, case_id: str, attachments: bool) -> list[dict[str, Any]]:
    main = hub.stores.main
    out: list[dict[str, Any]] = []
    for docid in (f"case:{case_id}", f"keyring:{case_id}"):
        try:
            leaves = main.open_revs(docid, "all")
        except NotFound:
            continue
        # every leaf: a conflict not resolved yet, or the tombstone of a resolved one's
        # losing leaf (its values are in the merged header's history)
        out += sorted((dict(leaf["ok"]) for leaf in leaves if isinstance(leaf, dict)
                       and "ok" in leaf), key=lambda d: str(d.get("_rev")))
    for prefix in (f"event:{case_id}:", f"chunk:{case_id}:"):
        rows = main.all_docs(startkey=prefix, endkey=prefix + "\ufff0", include_docs=True,
                             offset=False)["rows"]
        for row in rows:
            if not row.get("doc"):
                continue
            doc = dict(row["doc"])
            if attachments and doc.get("_attachments"):  # the bytes, not stubs (scans)
                doc = dict(main.get(str(doc["_id"]), attachments=True))
            out.append(doc)
    return out


def _roster(hub: Hub, codes: set[str]) -> dict[str, list[dict[str, Any]]]:
    """Each institution's roster now, with every name each id ever had (``names``) and the
    people taken off it since (``left``): hub.staff.former_names."""
    from hub.staff import former_names, roster

    institutions = hub.stores.institutions()
    out: dict[str, list[dict[str, Any]]] = {}
    for code in sorted(c for c in codes if c in institutions):
        rows = {str(m["id"]): m for m in roster(institutions[code])}
        for staff_id, names in former_names(hub, code).items():
            row = rows.setdefault(staff_id, {"id": staff_id, "name": names[-1], "left": True})
            if names != [row["name"]]:
                row["names"] = names + ([row["name"]] if row["name"] not in names else [])
        out[code] = [rows[k] for k in sorted(rows)]
    return out


def _calendars(hub: Hub, state: dict[str, Any]) -> tuple[list[dict[str, Any]],
                                                           dict[str, str]]:
    """The hub's calendar documents of the years the case ran in, and each year's source
    of working days (``calendar``, ``chinesecalendar`` or ``weekdays``: an estimate)."""
    from schemas.workdays import Workdays

    days = [str(state.get(k)) for k in ("accepted_on", "limit_start", "due", "completed_on",
                                         "terminated_on") if state.get(k)]
    years = sorted({int(d[:4]) for d in days}) or [dt.date.today().year]
    docs = [dict(d) for y, d in sorted(hub.stores.calendars().items())
            if int(y) in range(years[0], years[-1] + 2)]
    workdays = Workdays(list(hub.stores.calendars().values()))
    return docs, {str(y): workdays.source(dt.date(y, 1, 1))
                  for y in range(years[0], years[-1] + 1)}


def case_archive(hub: Hub, case_id: str, *, receipts: dict[str, dict[str, Any]],
                 exported_by: str, now: dt.datetime | None = None,
                 attachments: bool = True) -> dict[str, Any]:
    """The signed archive of ``case_id`` (module docstring). ``receipts``: event id ->
    its first receipt (:func:`hub.oversight.clocks.case_receipts`). ``attachments=False``
    (the page, which shows no scan): stubs instead of the bytes of scans and chunks, whose
    signatures still verify (they cover the attachments' digests)."""
    from schemas.fold import fold
    from schemas.workdays import Workdays
    from sync.crypto.directory import DIRECTORY_ID

    docs = _documents(hub, case_id, attachments)
    header = next((d for d in docs if d.get("type") == "case" and not d.get("_deleted")), {})
    events = [d for d in docs if d.get("type") == "event"]
    state = fold(events, workdays=Workdays(list(hub.stores.calendars().values()))).as_dict()
    calendars, sources = _calendars(hub, state)
    item = hub.stores.service_items().get(str(state.get("service_item")
                                              or header.get("service_item") or ""))
    codes = {str(e.get("institution")) for e in events} | set(state.get("institutions") or [])
    archive: dict[str, Any] = {
        "_id": f"archive:{case_id}", "format": FORMAT, "version": VERSION,
        "case_id": case_id, "case_no": header.get("case_no"),
        "exported_at": (now or dt.datetime.now(dt.UTC)).isoformat(timespec="seconds"),
        "exported_by": exported_by, "hub": hub.keys.signer.device_id,
        "root_keys": list(hub.identity.get("root_keys", [])),
        "directory": dict(hub.stores.main.get(DIRECTORY_ID)),
        "documents": docs, "attachments": attachments,
        "receipts": {e: receipts[e] for e in sorted(receipts)
                     if scopes.case_id_of(e) == case_id},
        "state": state, "calendars": calendars, "calendar_sources": sources,
        "service_item": dict(item) if item else None,
        "roster": _roster(hub, {c for c in codes if c}),
    }
    archive["sig"] = hub.keys.signer.signature(signing_payload(archive, DOMAIN))
    return archive


__all__ = ["DOMAIN", "FORMAT", "VERSION", "case_archive"]
