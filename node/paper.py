"""Bringing the paper ledger's open cases in (补录) at the window: a step typed now that
states the date on the signed paper (schemas.paper says why and what keeps it honest).

The clerk gives ``paper_date`` (``YYYY-MM-DD``, the date on the form) with a consultation
that opens a case (``POST /api/consultations``, the new-case page) or with a step
(``POST /api/cases/ID/events/TYPE``, the step page). The event then states that day
(``at``, noon Beijing time: the paper has no hour), so the time limit counts from the real
acceptance (10.1.3) and the suspended days from the real form D (10.2.5), the forms print
the paper's dates, and oversight files the case under the days it happened. Its ``hlc`` is
still this laptop's clock now: the event says by itself that it was entered later, and
the hub's receipt time confirms when it came.

Without ``paper_date`` nothing changes: the step states now, as every live step.

Public API: :func:`opening_at`, :func:`step_at`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from node.drafts import refusal

if TYPE_CHECKING:
    from node.core import Node


def _day(raw: Any, event_type: str, events: Sequence[Mapping[str, Any]]) -> dt.date | None:
    from schemas.paper import check_paper_day
    from schemas.state import local_today

    if raw in (None, ""):
        return None
    day, why = check_paper_day(raw, event_type, events, local_today())
    if why is not None:
        raise refusal({"paper_date": why})
    return day


def opening_at(raw: Any) -> str | None:
    """The ``at`` of a case opened from paper dated ``raw`` (its header's ``opened_at``
    and its first steps), or ``None`` for a case opened now."""
    from schemas.paper import paper_at

    day = _day(raw, "consultation", ())
    return paper_at(day) if day else None


def step_at(node: Node, case_id: str, event_type: str, raw: Any) -> tuple[str | None, dt.date]:
    """``(at, day)`` of a step of ``case_id``: a paper step's stated time and date, or
    ``(None, today)`` for a live one. ``day`` is what the step's own deadlines must not be
    before (a resumption deadline on form D is after form D's date, not after today)."""
    from schemas.paper import paper_at
    from schemas.state import local_today

    if raw in (None, ""):
        return None, local_today()
    day = _day(raw, event_type, node.casework.events(case_id))
    assert day is not None
    return paper_at(day), day


__all__ = ["opening_at", "step_at"]
