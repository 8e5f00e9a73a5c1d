"""One applicant's cases together, and what each waits on (9.1: a firm building a workshop).

A firm's investment project needs many approvals (project filing, land, planning, the
construction permit, fire safety, the environment), each an item of the 清单 with its own
department and time limit, so each its own case here. The proxy agent (7.3.2: tracks the
approval process, relays between the departments and the applicant) has to see them as
one: which are with a department, which wait for the firm's papers or fees, which went up
to the county. The case page lists the other cases of the same applicant, found by the
applicant's ID number (a firm's 统一社会信用代码) through the index's keyed hash (no
plaintext in the index, design §5), each with its status and whom it waits on.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from node.core import Node

#: at most this many other cases on the page (a firm's project has a handful of items)
LIMIT = 30
#: 10.2.5.1 a–d: whom a suspended case waits on
SUSPENDED_ON = {"a": "服务对象（补交材料）", "b": "服务对象（缴纳费用）", "c": "服务对象（要求暂停）",
                "d": "不可抗力消除"}


def waiting_on(state: Mapping[str, Any], events: Sequence[Mapping[str, Any]], institution: str,
               name_of: Any = str, tiers: Sequence[str] | None = None) -> str:
    """Whom an open case waits on now, in the clerk's words; "" for a finished one.
    ``tiers``: the tiers the case's item is accepted at (the 清单, 4.3)."""
    status = state.get("status")
    holder = state.get("holder") or institution
    if status in ("completed", "terminated", "refused", "archived", "consulted", None):
        return ""
    if holder != institution:  # 4.3: handed up (or down): the other institution has it
        return f"{name_of(holder)}（已移交）"
    if status == "suspended":
        return SUSPENDED_ON.get(str((state.get("suspension") or {}).get("reason")), "服务对象")
    if status == "consulting":
        return "本机构（答复咨询）"
    if status == "applied":
        from schemas.ids import institution_tier

        if tiers and institution_tier(institution) not in tiers:  # item_not_for_tier
            return "本机构（上报：本级不受理该事项，4.3）"
        return "本机构（受理）"
    if state.get("corrections_open"):  # 10.2.4: the department asked, the applicant owes
        return "服务对象（补正材料）"
    submitted = [e for e in events if e.get("event_type") == "submitted"]
    decided = [e for e in events if e.get("event_type") == "decision"]
    if len(submitted) > len(decided):  # 10.2.4: with the approval department
        return f"审批部门（{submitted[-1].get('department', '')}）"
    if state.get("materials_missing"):  # 10.1.4: the one-time notification's list
        return "服务对象（补齐材料）"
    open_problems = [p for p, s in (state.get("problems") or {}).items()
                     if s in ("open", "in_progress")]
    if open_problems:
        return f"本机构（待解决问题 {len(open_problems)} 个）"
    return "本机构（办理）"


def applicant_cases(n: Node, case_id: str, private: Mapping[str, Any],
                    item_of: Any = lambda code: None,
                    state: Mapping[str, Any] | None = None) -> list[dict[str, Any]]:
    """The applicant's other cases (by ID number), newest change first: index rows with
    ``waiting_on``, and ``duplicate`` when both are open for the same item (``state``: this
    case's fold). Empty without an ID number or while the index holds no name key.
    ``item_of``: the catalog entry of an item code (its ``tiers``)."""
    from node.nametokens import normalize
    from node.state import fold

    number = str(private.get("id_number") or "").strip()
    if not number or n.index.name_key is None:
        return []
    rows = [r for r in n.index.search(q=normalize(number), limit=LIMIT + 1).rows
            if r["case_id"] != case_id][:LIMIT]
    out = []
    for row in rows:
        events = n.casework.events(row["case_id"])
        other = fold(n.casework.header(row["case_id"]), events, n)
        tiers = (item_of(other.get("service_item")) or {}).get("tiers")
        out.append({**row, "waiting_on": waiting_on(other, events, n.institution, n.name_of,
                                                    tiers),
                    "duplicate": same_matter(state or {}, other)})
    return out


def same_matter(mine: Mapping[str, Any], other: Mapping[str, Any]) -> bool:
    """Two open cases of one applicant for one item: the applicant came twice and two
    laptops of the station (or two clerks) each opened a case, offline, for one matter.
    One is to be ended (终止, reason 其他, naming the other's number): nothing is deleted.
    A consultation is none of them: its pending reply answers it, and 终止 follows an
    application only (10.1.5, schemas.rules._termination), so the note's advice was refused."""
    from schemas.state import CONSULTATION, OPEN

    registered = OPEN - CONSULTATION
    return bool(mine.get("service_item")) and mine.get("service_item") == other.get(
        "service_item") and mine.get("status") in registered and other.get("status") in registered
