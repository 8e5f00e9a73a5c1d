"""``bangban hub institution close CODE``: a village merged into another (撤村并居) or a
station whose code changed.

An institution's code is in every case id, case number, device id and scope of its cases
(schemas.ids, hub.scope): nothing renames it. What the standard's hierarchy allows (4.3) is
to move each open case: the station hands it up to its town, the town hands it down to
the receiving station (or keeps it), and the case key goes with it (design.md §5). Once the
station holds no open case and its laptops are revoked, ``close`` marks the institution
``active: false``: its history stays (finished cases, the oversight's counts under its
code, its roster), and the tools refuse what would strand a case there: enrolling a laptop
(hub.admin.enroll_device), a hand-over to it (hub.validate, node.casework). Each refusal
of ``close`` says what to do first (docs/operations.md, "Staff come and go").
"""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING, Any

from hub.errors import BadInput
from schemas.reference import closed

if TYPE_CHECKING:
    from hub.core import Hub

#: Open cases named in a refusal at most (the rest counted).
SHOWN = 10


def _open_cases(hub: Hub, code: str) -> list[str]:
    """Case numbers of the open cases ``code`` holds now, from the oversight's facts folded
    up to the feed's end (the holder after every hand-over, hub/oversight/facts.py)."""
    from hub.oversight import Oversight
    from hub.oversight.facts import OPEN_SQL

    ov = Oversight(hub)
    try:
        ov.catch_up(force=True)
        rows = ov.facts.reader().execute(
            f"SELECT case_no, case_id FROM facts WHERE institution = ? AND {OPEN_SQL} "
            "ORDER BY case_no", (code,)).fetchall()
    finally:
        ov.facts.close()
    return [str(no or cid) for no, cid in rows]


def _live_devices(hub: Hub, code: str) -> list[str]:
    res = hub.stores.main.all_docs(startkey="device:", endkey="device:\ufff0",
                                   include_docs=True, offset=False)
    return sorted(str(r["doc"]["device_id"]) for r in res["rows"] if r.get("doc")
                  and r["doc"].get("institution") == code and not r["doc"].get("revoked_at"))


def close_institution(hub: Hub, code: str) -> dict[str, Any]:
    """Mark ``code`` closed once it holds no open case, has no laptop that is not revoked
    and no open institution below it; else :class:`BadInput` saying what to do first."""
    from hub.admin import institution, put_reference

    doc = dict(institution(hub, code))
    if closed(doc):
        raise BadInput(f"{code}: closed already / 该机构已撤并")
    if doc.get("tier") == "city":
        raise BadInput(f"{code}: the city centre cannot be closed / 市级中心不能撤并")
    below = sorted(c for c, d in hub.stores.institutions(max_age=0).items()
                   if d.get("parent") == code and not closed(d))
    if below:
        raise BadInput(f"{code}: {len(below)} open institution(s) below it ({', '.join(below)}): "
                       "close them first, after moving their cases / 请先撤并其下级机构")
    cases = _open_cases(hub, code)
    if cases:
        shown = ", ".join(cases[:SHOWN]) + (f" and {len(cases) - SHOWN} more"
                                            if len(cases) > SHOWN else "")
        raise BadInput(
            f"{code} holds {len(cases)} open case(s): {shown}. Move each first: the station "
            "hands it up (上报) to its town, the town hands it down (下派) to the receiving "
            "station or keeps it; sync both / 该机构仍有在办件，请先逐件上报，由乡镇下派给"
            "接收的服务站")
    devices = _live_devices(hub, code)
    if devices:
        raise BadInput(
            f"{code}: {len(devices)} laptop(s) not revoked ({', '.join(devices)}): after their "
            f"last sync, `bangban hub device revoke ID` each / 请在最后一次同步后注销该机构的设备")
    doc["active"] = False
    return put_reference(hub, doc)


def reopen_institution(hub: Hub, code: str) -> dict[str, Any]:
    """Undo :func:`close_institution` (a close made in error): open again, as it was."""
    from hub.admin import institution, put_reference

    doc = dict(institution(hub, code))
    if not closed(doc):
        raise BadInput(f"--reopen {code}: not closed / 该机构未撤并")
    doc["active"] = True
    return put_reference(hub, doc)


# -- CLI ---------------------------------------------------------------------------------
def cmd_close(args: argparse.Namespace) -> int:
    from hub.cli import _hub, _print

    hub = _hub(args)
    try:
        doc = (reopen_institution if args.reopen else close_institution)(hub, args.code)
    finally:
        hub.close()
    _print(args, {"code": doc["code"], "active": doc["active"]},
           f"{doc['code']} {doc.get('name', '')}: open again" if args.reopen else
           f"{doc['code']} {doc.get('name', '')}: closed (撤并). Its history stays; no laptop "
           "can be enrolled there and no case handed to it.")
    return 0


def register(inst: Any) -> None:
    """Add ``close`` to the ``hub institution`` subcommands (hub/cli.py calls this)."""
    from hub.cli import _run

    p = inst.add_parser("close", help="a village merged into another (撤村并居) or a code "
                        "changed: once its open cases are handed over and its laptops "
                        "revoked, close it (history kept; no enrollment, no hand-over to it)")
    p.add_argument("code", help="institution code")
    p.add_argument("--reopen", action="store_true", help="undo a close made in error")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=_run(cmd_close))
