"""The staff member at the window: who the steps recorded through the web UI and the API are
attributed to (8.1.2 the staff on duty are shown at the window; 11.2.2 ratings and on-time
work feed the assessment of individual staff).

Events and case headers carry a staff id (``staff``, in clear: design.md §2). Before this,
the node wrote its enrollment's ``staff``, which nothing the hub produced set, so every step
was the device id's and two clerks sharing a laptop could not be told apart. The roster is
the institution document's ``staff`` (``bangban hub institution staff``), reference data
that flows down read-only; the choice of one member is kept with the browser's node session
(:class:`node.sessions.Sessions`: in memory, one per browser and node port, ended by a lock,
so the next clerk to unlock chooses again). The Flask cookie is not used: it is shared by
the nodes served on one laptop (cookies are per host, not port) and outlives a lock.

Which id a request acts under (:func:`resolve`): the one it names (the API's ``staff``),
else the session's choice, else the enrollment's ``staff`` when on duty (``hub device
enroll --staff``: a laptop of one person), else the only member on duty. An institution
without a roster keeps the enrollment's staff, else the device id, as before. With several
on duty and none chosen, reading goes on under the device id (an access event must not wait
for a choice) and recording a step is refused, naming ``staff``.
"""

from __future__ import annotations

from contextvars import ContextVar, Token
from typing import TYPE_CHECKING, Any

from node.errors import InvalidInput

if TYPE_CHECKING:
    from node.core import Node

#: The staff id this request acts under (``None``: none chosen, or no roster). Set for each
#: request by node.app (waitress reuses its threads: reset at teardown) and read by
#: :meth:`node.core.Node.acting_staff` for steps and access events alike.
ACTING: ContextVar[str | None] = ContextVar("bangban_acting_staff", default=None)

#: The key of the choice in a node session's data (node.sessions).
SESSION_KEY = "staff"


def roster(node: Node) -> list[dict[str, Any]]:
    """This institution's roster as the hub last wrote it ([] before the first pull, or for
    an institution without one). Read each time (one SQLite lookup): a cache would need
    clearing by every way reference data arrives (pull, bundle, restore)."""
    from sync.errors import NotFound as StoreNotFound
    from sync.reference import read_latest

    try:
        doc = read_latest(node.store, f"institution:{node.institution}")
    except StoreNotFound:
        return []
    return [dict(m) for m in doc.get("staff") or [] if m.get("id")]


def on_duty(node: Node) -> list[dict[str, Any]]:
    """The members shown at the window now (8.1.2; ``on_duty`` absent means on duty, one
    who left never is: schemas.reference.on_duty)."""
    from schemas.reference import on_duty as serving

    return [m for m in roster(node) if serving(m)]


def _ids(members: list[dict[str, Any]]) -> str:
    """The members as the header's choice shows them: by name, the id beside it (the
    refusal listed staff-201-1、staff-201-2 while the choice read 唐思琪, 曾嘉豪)."""
    return "、".join(f"{m['name']}（{m['id']}）" if m.get("name") else str(m["id"])
                    for m in members)


def check(node: Node, staff_id: Any) -> str:
    """``staff_id`` if it is a member of this institution's roster on duty, else
    :class:`InvalidInput` naming ``staff`` and the rule (zh/en)."""
    members = roster(node)
    if not isinstance(staff_id, str) or not staff_id.strip():
        problem = "应为本机构名册中在岗人员的编号 / must be the id of a staff member on duty"
    elif not members:
        problem = ("本机构名册为空，不能指定经办人，步骤以设备记录 / this institution has no "
                   "roster: no staff can be named, steps are recorded under the device")
    else:
        member = next((m for m in members if m.get("id") == staff_id.strip()), None)
        if member is None:
            problem = (f"{staff_id} 不在本机构人员名册中（在岗：{_ids(on_duty(node)) or '无'}） / "
                       f"staff {staff_id} is not on this institution's roster (8.1.2)")
        elif member.get("left"):
            problem = (f"{staff_id} 已于 {member['left']} 离职 / staff {staff_id} left this "
                       f"institution on {member['left']}")
        elif not member.get("on_duty", True):
            problem = f"{staff_id} 不在岗 / staff {staff_id} is not on duty (8.1.2)"
        else:
            return str(member["id"])
    raise InvalidInput(f"staff: {problem}", fields={"staff": problem})


def resolve(node: Node, chosen: str | None) -> str | None:
    """The staff id a request acts under, without refusing anything: ``chosen`` (the
    session's) while still on duty, else the enrollment's ``staff`` while on duty, else the
    only member on duty; ``None`` when there is no roster or the choice is open."""
    duty = {str(m["id"]) for m in on_duty(node)}
    if not duty:
        return None
    enrolled = str((node.enrollment or {}).get("staff") or "")
    for candidate in (chosen, enrolled):
        if candidate and candidate in duty:
            return candidate
    return next(iter(duty)) if len(duty) == 1 else None


def required(node: Node, named: Any = None) -> str | None:
    """The staff id a step is recorded under: ``named`` (the API's ``staff``) checked
    against the roster, else the request's (:data:`ACTING`); ``None`` (today's enrollment
    staff or device id) only for an institution without a roster. Several members on duty
    and none chosen: refused, naming ``staff`` (11.2.2: each step is one person's)."""
    if named is not None:
        named = check(node, named)
        ACTING.set(named)  # the access events of this request too
        return str(named)
    staff = ACTING.get()
    if staff or not roster(node):
        return staff
    duty = on_duty(node)
    problem = (f"请先在页首选择当前经办人（在岗：{_ids(duty) or '无'}） / choose the staff "
               "member at the window first (page header), or give staff")
    raise InvalidInput(f"staff: {problem}", fields={"staff": problem})


def begin(node: Node, chosen: str | None) -> Token[str | None]:
    """Set :data:`ACTING` for one request; the token resets it at teardown."""
    try:
        staff = resolve(node, chosen) if node.enrollment else None
    except Exception:  # an unreadable store must not stop the unlock page; steps refuse
        staff = None
    return ACTING.set(staff)


def staff_name(node: Node, staff_id: Any, *codes: Any) -> str:
    """The name of ``staff_id`` on the first roster of ``codes`` that lists it, else "": the
    case page and the forms name a step's 经办人 from the roster of the institution that
    recorded it (8.1.2; the same id may be another person elsewhere)."""
    from schemas.reference import staff_names
    from sync.errors import NotFound as StoreNotFound
    from sync.reference import read_latest

    if not staff_id:
        return ""
    for code in dict.fromkeys(str(c) for c in codes if c):
        try:
            name = staff_names(read_latest(node.store, f"institution:{code}")).get(str(staff_id))
        except StoreNotFound:
            continue
        if name:
            return name
    return ""
