"""A case's state on the node: the schemas' fold of its events (design §3), shaped for
the UI, the index and the API. The rules themselves live in ``schemas`` (pure, shared
with the hub); this module only adapts their result.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

# the statuses after which a case needs no more handling (the index's ``closed``)
from schemas.state import CLOSED as CLOSED
from schemas.state import local_timestamp, local_today

if TYPE_CHECKING:
    from node.core import Node
    from schemas.workdays import Workdays


def _as_dict(state: Any) -> dict[str, Any]:
    if hasattr(state, "as_dict"):
        return dict(state.as_dict())
    if dataclasses.is_dataclass(state) and not isinstance(state, type):
        return dataclasses.asdict(state)
    return dict(state)


def _events_only(events: Sequence[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    return [e for e in events if e.get("type") == "event"]


def _calendars(node: Node | None) -> list[dict[str, Any]]:
    if node is None:
        return []
    from sync.reference import latest_in_range

    return latest_in_range(node.store, "calendar:")  # the hub's latest (schemas.written)


def workdays(node: Node | None) -> Workdays:
    """The working-day calendar the node's folds count with: its stored ``calendar``
    documents (the hub's reference data), else chinesecalendar (schemas.workdays)."""
    from schemas.workdays import Workdays

    return Workdays(_calendars(node))


def fold_state(header: Mapping[str, Any], events: Sequence[Mapping[str, Any]],
               node: Node | None = None, wd: Workdays | None = None) -> Any:
    """``wd``: a calendar read once for many folds (a refold of the whole index), instead
    of the node's calendar documents read again for each case."""
    from schemas.fold import fold as rules_fold

    return rules_fold(_events_only(events), workdays=wd or workdays(node), as_of=local_today())


def fold(header: Mapping[str, Any], events: Sequence[Mapping[str, Any]],
         node: Node | None = None, wd: Workdays | None = None) -> dict[str, Any]:
    """The folded state as a plain dict (``status``, ``needs_review``, ``due``, ``holder``…)."""
    return _as_dict(fold_state(header, events, node, wd))


def check(header: Mapping[str, Any], events: Sequence[Mapping[str, Any]],
          event: Mapping[str, Any], node: Node | None = None) -> None:
    """Raise ``schemas.errors.IllegalTransition`` when ``event`` may not follow ``events``."""
    from schemas.fold import check_transition

    check_transition(fold_state(header, events, node), dict(event))


def due_date(state: Mapping[str, Any]) -> str | None:
    """The nearest running deadline (ISO date) of a folded state, if any. The time limit
    counts while it holds (schemas.overdue): a suspended case's ``due`` is the one it had
    when its clock stopped (10.2.5), computed again at resumption; meanwhile what runs is
    its resumption deadline (10.2.5.2), unless the limit had passed before the suspension
    (late for good)."""
    from schemas.overdue import time_limit_holds
    from schemas.state import resume_by

    suspension = state.get("suspension") or {}
    dates = []
    keys = ("due", "materials_due") if time_limit_holds(
        state.get("status"), state.get("due"), suspension.get("since")) else ("materials_due",)
    for key in keys:
        # the materials period's last day (10.2.5.1 a: a weekend date runs to Monday)
        value = (state.get("materials_by") or state.get(key)) if key == "materials_due" \
            else state.get(key)
        if isinstance(value, str) and len(value) >= 10:
            dates.append(value[:10])
    if suspension.get("resumption_deadline"):
        dates.append(resume_by(suspension))  # 10.2.5.2: a weekend deadline runs to Monday
    dates += [str(v)[:10] for v in (state.get("pending_replies") or {}).values() if v]
    return min(dates) if dates else None


def index_row(header: Mapping[str, Any], events: Sequence[Mapping[str, Any]],
              node: Node | None = None, wd: Workdays | None = None) -> dict[str, Any]:
    """The cleartext row of the node-local index for one case."""
    state = fold(header, events, node, wd)
    status = str(state.get("status") or "open")
    holder = state.get("holder") or header.get("institution")
    handed_from = None
    for e in events:
        if e.get("event_type") in ("hand_up", "hand_down"):
            handed_from = e.get("from_institution")
    hlcs = [str(e.get("hlc")) for e in events if e.get("hlc")]
    updated = max([*(e.get("at") or "" for e in events), str(header.get("opened_at") or "")])
    return {
        "case_id": header["case_id"], "case_no": header.get("case_no"),
        "institution": header.get("institution"), "holder": holder,
        "service_item": state.get("service_item") or header.get("service_item"),
        "service_type": state.get("service_type") or header.get("service_type"),
        "status": status, "needs_review": bool(state.get("needs_review")),
        # Beijing wall-clock time, to compare with the "today" lists' Beijing date (an
        # opened_at with a UTC offset was still "yesterday" for 8 hours a day)
        "created": local_timestamp(str(header.get("opened_at") or "")),
        "updated": updated[:19] + "|" + (max(hlcs) if hlcs else ""),
        "due": None if status in CLOSED else due_date(state),
        "closed": status in CLOSED, "handed_from": handed_from,
        # what 已超期 reads, as the hub reads them (schemas.overdue: the time limit and the
        # day the clock stopped, 10.2.5), apart from ``due``, the nearest deadline of any kind
        "limit_due": None if status in CLOSED else state.get("due"),
        "suspended_since": (state.get("suspension") or {}).get("since"),
    }


#: inputs naming an open item of the case (the clock of its event) and the folded list it
#: is one of: 10.1.1.3 reply, 10.2.4 correction received, 11.1 complaint handled
OPEN_ITEMS = {"consultation": "pending_replies", "request": "corrections_open",
              "complaint": "complaints_open"}


def open_ids(state: Mapping[str, Any], event_type: str, name: str) -> list[str] | None:
    """The values the rules can accept for input ``name`` of a step, when the case's state
    fixes them (its open items; 10.2.4 problems not yet resolved); else None."""
    from schemas.vocab import PROBLEM_RESULTS

    if name in OPEN_ITEMS:
        return [str(h) for h in state.get(OPEN_ITEMS[name]) or []]
    if name == "problem_id" and event_type in ("problem_updated", "problem_resolved"):
        return [p for p, st in (state.get("problems") or {}).items() if st not in PROBLEM_RESULTS]
    if name == "completion" and event_type == "completion_withdrawn":  # schemas.withdraw
        return [str(w["event"]) for w in [state.get("withdrawable")] if w]
    if name == "events" and event_type == "review_resolved":  # design.md §3: the steps kept
        return [str(r["event_id"]) for r in state.get("reviews") or []]  # unapplied, open
    return None


def _choices(state: Mapping[str, Any], event_type: str, name: str) -> list[str] | None:
    """What input ``name`` can be: the case's open items, else the schema's code list."""
    from marshmallow import validate as mv

    from schemas.event_types import EVENT_SCHEMAS

    ids = open_ids(state, event_type, name)
    if ids is not None:
        return ids
    f = EVENT_SCHEMAS[event_type]().fields.get(name)
    one_of = next((v for v in getattr(f, "validators", []) if isinstance(v, mv.OneOf)), None)
    return [str(c) for c in one_of.choices] if one_of is not None else None


def _legal(state: Any, stub: dict[str, Any], depth: int = 0) -> bool:
    """Whether some input makes the step legal now. A rule that reads an input the stub
    lacks (KeyError) is probed with each value the input can take (a termination's reason,
    a reply's consultation): offered only if one passes; a free input counts as legal, the
    real one is checked on saving."""
    from schemas.errors import IllegalTransition, ValidationFailed
    from schemas.fold import check_transition

    try:
        check_transition(state, stub)
    except IllegalTransition:
        return False
    except ValidationFailed as exc:  # the rules name a missing input as a malformed event
        missing = [p.field for p in exc.problems if p.rule == "malformed_event"]
        name = missing[0] if missing else ""
        choices = _choices(_as_dict(state), stub["event_type"], name) \
            if name and name not in stub else None
        if choices is None or depth > 2:
            return True
        return any(_legal(state, {**stub, name: c}, depth + 1) for c in choices)
    except (KeyError, TypeError, ValueError):
        pass
    return True


def allowed_steps(header: Mapping[str, Any], events: Sequence[Mapping[str, Any]],
                  steps: Sequence[str], node: Node) -> list[str]:
    """The steps the rules allow next, for the case page's buttons (each probed with
    ``check_transition`` on a stub event, see :func:`_legal`)."""
    state = fold_state(header, events, node)
    now = dt.datetime.now().astimezone().isoformat(timespec="seconds")
    out = []
    for step in steps:
        stub = {"event_type": step, "case_id": header["case_id"], "institution": node.institution,
                "device": node.device_id, "hlc": "~", "at": now}
        if step == "review_resolved":  # only while a step waits for review (design.md §3)
            if not state.reviews:
                continue
            stub["events"] = [state.reviews[0].event_id]
        if step in ("hand_up", "hand_down"):
            stub.update(_handover_probe(node, step == "hand_up") or {})
            if "to_institution" not in stub:
                continue  # 4.3: no institution that way (nothing below a village)
        if _legal(state, stub):
            out.append(step)
    return out


def _handover_probe(node: Node, up: bool) -> dict[str, Any] | None:
    """The hand-over members of a probe: this institution, and its parent (up) or a child
    code one tier below (down); None when there is none (4.3: city–county–town–village)."""
    from schemas.errors import SchemaError
    from schemas.ids import institution_tier

    me = node.institution
    path = node.institution_path()
    # a child one tier down: a county's or a town's code and three digits; the city's is a
    # county, six digits sharing its first four (schemas.ids), not the city's code and 001,
    # a town the rules refuse, which hid the city's 下派
    try:
        below = f"{me[:4]}01" if institution_tier(me) == "city" else f"{me}001"
        target = (path[-2] if len(path) >= 2 else None) if up else below
        tiers = (institution_tier(me), institution_tier(target)) if target else None
    except SchemaError:
        tiers = None
    if tiers is None:
        return None
    return {"from_institution": me, "from_tier": tiers[0], "to_institution": target,
            "to_tier": tiers[1]}
