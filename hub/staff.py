"""An institution's staff roster: ``bangban hub institution staff CODE [--add ID --name N
--role R] [--remove ID] [--off-duty ID | --on-duty ID]``.

``--remove`` is for a person who left (7, 6.2.2: stations change their staff): the entry
stays, marked ``left`` with the day and never on duty again, because the steps that person
recorded carry their id for good, and the case page, every form printed afterwards and the
11.2.2 assessment name them from this roster (a dropped entry left a bare id on them). The
window refuses a member who left; ``--add`` with the same id takes the person on again.

Events carry a staff id (``staff``, in clear: design.md §2), never a name. The window must
show the staff on duty (8.1.2), and a printed form names its 经办人: so the roster lives on
the institution document (``staff``: id, name, role 7.1, on duty), edited here at the hub
and flowing down read-only with the other reference data. Names of staff are public at the
window; they are not applicant data (7.2.2.2 is about the applicant's information).
"""

from __future__ import annotations

import argparse
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from hub.errors import BadInput
from schemas.reference import staff_names

if TYPE_CHECKING:
    from hub.core import Hub


def roster(doc: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The staff of an institution document, as stored (an older document has none)."""
    return [dict(m) for m in doc.get("staff") or []]


def staff_label(institutions: Mapping[str, Mapping[str, Any]], code: str, staff_id: str) -> str:
    """``name（id）`` from the roster of institution ``code``, else the id as recorded (an id
    of another institution, or a hub whose rosters are not filled in yet)."""
    name = staff_names(institutions.get(code) or {}).get(staff_id)
    return f"{name}（{staff_id}）" if name else staff_id


#: The private record of every name each staff id of an institution ever had.
NAMES_PREFIX = "staff-names:"


def former_names(hub: Hub, code: str) -> dict[str, list[str]]:
    """Staff id -> every name it had on the roster of ``code``, oldest first (names of
    people taken off the roster, or of an id given another name, included)."""
    from sync.errors import NotFound

    try:
        doc = hub.stores.private.get(NAMES_PREFIX + code)
    except NotFound:
        return {}
    return {str(k): [str(n) for n in v] for k, v in (doc.get("names") or {}).items()}


def _remember(hub: Hub, code: str, members: list[dict[str, Any]]) -> None:
    """Keep the names of ``members`` (the roster before a change, and the new entry) in the
    hub's private record. Events carry staff ids only; the roster says who an id is *now*,
    and a case archive read a year later (5 d, 11.1 e; 7.3.2: who kept the materials) lost
    the name of anyone taken off the roster since, and named the wrong person once an id was
    given to someone else. Private, not on the institution document: that one flows to
    every station, whose older releases refuse a member they do not know."""
    from sync.errors import NotFound

    try:
        doc = dict(hub.stores.private.get(NAMES_PREFIX + code))
    except NotFound:
        doc = {"_id": NAMES_PREFIX + code, "type": "staff_names", "institution": code}
    names = {str(k): list(v) for k, v in (doc.get("names") or {}).items()}
    changed = False
    for m in members:
        known = names.setdefault(str(m["id"]), [])
        if m.get("name") and m["name"] not in known:
            known.append(str(m["name"]))
            changed = True
    if changed:
        doc["names"] = names
        hub.stores.private.put(doc)


def set_staff(hub: Hub, code: str, staff_id: str, *, name: str, role: str,
              on_duty: bool = True) -> dict[str, Any]:
    """Add ``staff_id`` to the roster of institution ``code``, or replace its entry (one who
    left is taken on again: the entry loses ``left``)."""
    from hub.admin import institution, put_reference

    staff_id, name = staff_id.strip(), name.strip()
    if not staff_id or not name:
        raise BadInput("--add and --name: a staff id and a name are both needed "
                       "/ 人员编号和姓名均须填写")
    doc = dict(institution(hub, code))
    _remember(hub, code, [*roster(doc), {"id": staff_id, "name": name}])
    members = [m for m in roster(doc) if m.get("id") != staff_id]
    members.append({"id": staff_id, "name": name, "role": role, "on_duty": on_duty})
    doc["staff"] = sorted(members, key=lambda m: str(m["id"]))
    return put_reference(hub, doc)  # schema-checked: role, lengths, ids unique


def remove_staff(hub: Hub, code: str, staff_id: str) -> dict[str, Any]:
    """``staff_id`` left institution ``code``: off duty for good, the name kept for the
    steps they recorded (module docstring)."""
    from hub.admin import institution, put_reference
    from schemas.state import local_today

    doc = dict(institution(hub, code))
    members = roster(doc)
    member = next((m for m in members if m.get("id") == staff_id), None)
    if member is None:
        raise BadInput(f"--remove {staff_id}: not on the roster of {code} / 名单中没有该人员")
    _remember(hub, code, members)  # who it was stays readable in the cases' archives
    if not member.get("left"):
        member.update(on_duty=False, left=local_today().isoformat())
    doc["staff"] = members
    return put_reference(hub, doc)


def set_on_duty(hub: Hub, code: str, staff_id: str, on_duty: bool) -> dict[str, Any]:
    from hub.admin import institution

    member = next((m for m in roster(institution(hub, code)) if m.get("id") == staff_id), None)
    if member is None:
        raise BadInput(f"{staff_id}: not on the roster of {code} / 名单中没有该人员")
    if member.get("left"):
        if not on_duty:  # off duty already, for good: the entry stays as it is
            return institution(hub, code)
        raise BadInput(f"--on-duty {staff_id}: left {code} on {member['left']} / 该人员已离职; "
                       f"to take the person on again: --add {staff_id} --name NAME")
    return set_staff(hub, code, staff_id, name=member["name"], role=member["role"],
                     on_duty=on_duty)


def _line(m: Mapping[str, Any]) -> str:
    state = (f"left {m['left']}" if m.get("left") else
             "" if m.get("on_duty", True) else "off duty")
    return f"{m['id']}\t{m['name']}\t{m['role']}\t{state}"


# -- CLI ---------------------------------------------------------------------------------
def cmd_staff(args: argparse.Namespace) -> int:
    from hub.cli import _hub, _print

    hub = _hub(args)
    try:
        if args.add:
            doc = set_staff(hub, args.code, args.add, name=args.name or "", role=args.role)
        elif args.remove:
            doc = remove_staff(hub, args.code, args.remove)
        elif args.off_duty or args.on_duty:
            doc = set_on_duty(hub, args.code, args.off_duty or args.on_duty, bool(args.on_duty))
        else:
            from hub.admin import institution

            doc = institution(hub, args.code)
    finally:
        hub.close()
    members = roster(doc)
    _print(args, members, "\n".join(map(_line, members)) or f"{args.code}: no staff on the roster")
    return 0


def register(inst: Any) -> None:
    """Add ``staff`` to the ``hub institution`` subcommands (hub/cli.py calls this)."""
    from hub.cli import _run
    from schemas.vocab import STAFF_ROLES

    p = inst.add_parser("staff", help="the staff roster shown at the window (8.1.2) and "
                        "named on printed forms; without options, list it")
    p.add_argument("code", help="institution code")
    p.add_argument("--add", metavar="ID", help="add (or replace) this staff id")
    p.add_argument("--name", help="with --add: the person's name")
    p.add_argument("--role", choices=list(STAFF_ROLES), default="both",
                   help="with --add: 7.1 role (default: both)")
    p.add_argument("--remove", metavar="ID", help="this person left: never on duty again, the "
                   "name kept for the steps they recorded (forms, assessment); --add takes "
                   "them on again")
    p.add_argument("--off-duty", metavar="ID", help="keep on the roster, not shown on duty")
    p.add_argument("--on-duty", metavar="ID", help="shown on duty again")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=_run(cmd_staff))
