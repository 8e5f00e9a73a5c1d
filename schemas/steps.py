"""Which steps a case can take next: for the node's buttons and the hub's hints.

:func:`next_steps` probes every event type with a minimal event against the very same
rules (:func:`schemas.rules.check_transition`), so the UI never offers a step the rules
would refuse (and never hides one they allow), without a second table to keep in sync.
Steps whose legality depends on what the user types (dates, deadlines, targets) are
probed with the most permissive plausible values; the real event is checked again when
it is recorded.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

from schemas.errors import IllegalTransition
from schemas.event_types import EVENT_SCHEMAS
from schemas.ids import institution_tier
from schemas.rules import check_transition
from schemas.state import CaseState

_PROBE_CLOCK = "000000000000-0000-000000-PR"


def _parent(code: str) -> str:
    tier = institution_tier(code)
    return {"village": code[:9], "town": code[:6], "county": code[:4] + "00"}.get(tier, code)


def _child(code: str) -> str | None:
    tier = institution_tier(code)
    return {"town": code + "201", "county": code + "101", "city": code[:4] + "21"}.get(tier)


def first(xs: Iterable[Any]) -> Any:
    return next(iter(xs), None)


def _probe(event_type: str, s: CaseState, institution: str, on: dt.date) -> dict[str, Any] | None:
    day = on.isoformat()
    later = (on + dt.timedelta(days=30)).isoformat()
    ev: dict[str, Any] = {"event_type": event_type, "case_id": s.case_id or _PROBE_CLOCK,
                          "hlc": _PROBE_CLOCK, "institution": institution,
                          "at": f"{day}T12:00:00+08:00"}
    extra: dict[str, Any] = {
        "reply": {"consultation": first(s.pending_replies)},
        "correction_received": {"request": first(s.corrections_open)},
        "problem_opened": {"problem_id": f"P{len(s.problems) + 1}"},
        "problem_updated": {"problem_id": first(p for p, st in s.problems.items()
                                                if st in ("open", "in_progress"))},
        "complaint_handled": {"complaint": first(s.complaints_open)},
        "review_resolved": {"events": [r.event_id for r in s.reviews][:1]},
        "suspension": {"reason": "c", "resumption_deadline": later},
        "resumption": {"cause_removed_on": day},
        "termination": {"reason": "other"},
        "completion_withdrawn": {"completion": (s.withdrawable or {}).get("event"),
                                 "reason": "other"},
        "entrustment": {"period_end": later}, "conversion": {"period_end": later},
    }.get(event_type, {})
    if event_type == "problem_resolved":
        extra = {"problem_id": first(p for p, st in s.problems.items()
                                     if st in ("open", "in_progress"))}
    if event_type in ("hand_up", "hand_down"):
        holder = s.holder or institution
        target = _parent(holder) if event_type == "hand_up" else _child(holder)
        if target is None or target == holder:
            return None
        extra = {"from_institution": holder, "to_institution": target,
                 "from_tier": institution_tier(holder), "to_tier": institution_tier(target)}
    if any(v is None or v == [] for v in extra.values()):
        return None  # nothing to refer to (no pending consultation, no open problem, …)
    ev.update(extra)
    return ev


def next_steps(state: CaseState, *, institution: str, on: dt.date | str) -> list[str]:
    """Event types ``institution`` may record next on day ``on`` (in process order)."""
    day = on if isinstance(on, dt.date) else dt.date.fromisoformat(on)
    out = []
    for event_type in EVENT_SCHEMAS:
        probe = _probe(event_type, state, institution, day)
        if probe is None:
            continue
        probes = [probe]
        if event_type == "termination":  # 10.2.5.2: also open to the hub past the deadline
            probes.append(dict(probe, reason="resumption_deadline_passed"))
        for p in probes:
            try:
                check_transition(state, p)
            except IllegalTransition:
                continue
            out.append(event_type)
            break
    return out
