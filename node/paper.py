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

A paper date is judged on the day the step's hlc will say it was typed (:func:`typing_day`),
as the hub judges it on receipt (schemas.paper.typed_refusal), and again once that hlc is
taken (:func:`check_typed`): the laptop's calendar may be a day behind its case's clock.

Public API: :func:`check_typed`, :func:`opening_at`, :func:`step_at`, :func:`typing_day`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from node.drafts import refusal

if TYPE_CHECKING:
    from node.core import Node


def _day(raw: Any, event_type: str, events: Sequence[Mapping[str, Any]],
         typed: dt.date) -> dt.date | None:
    from schemas.paper import check_paper_day

    if raw in (None, ""):
        return None
    day, why = check_paper_day(raw, event_type, events, typed)
    if why is not None:
        raise refusal({"paper_date": why})
    return day


def typing_day(node: Node, events: Sequence[Mapping[str, Any]] = ()) -> dt.date:
    """The Beijing day a step of a case whose steps are ``events`` is typed on, as its hlc
    will say (node.casework.peek_clock: after the case's newest clock): the day the hub
    judges a paper date by (schemas.paper.typed_refusal). The laptop's calendar is a day
    behind it when a colleague's fast clock moved the case's clock on."""
    from node.casework import peek_clock
    from schemas.hlc import pack
    from schemas.paper import hlc_day

    after = max((str(e["hlc"]) for e in events), default=None)
    day = hlc_day({"hlc": pack(peek_clock(node.device_id, after))})
    assert day is not None  # a clock this laptop makes
    return day


def check_typed(doc: Mapping[str, Any], events: Sequence[Mapping[str, Any]]) -> None:
    """Refuse ``doc``, a step stating a paper date, now its hlc is taken, as the hub will
    (schemas.paper.typed_refusal): the day :func:`typing_day` foresaw may have passed
    meanwhile (midnight, a pull moving the clock on), and the hub refuses for good."""
    from schemas.paper import entered_later, typed_refusal

    if entered_later(doc) and (why := typed_refusal(doc, events)) is not None:
        raise refusal({"paper_date": why})


def opening_at(node: Node, raw: Any) -> str | None:
    """The ``at`` of a case opened from paper dated ``raw`` (its header's ``opened_at``
    and its first steps), or ``None`` for a case opened now."""
    from schemas.paper import paper_at

    day = _day(raw, "consultation", (), typing_day(node)) if raw not in (None, "") else None
    return paper_at(day) if day else None


def step_at(node: Node, case_id: str, event_type: str, raw: Any) -> tuple[str | None, dt.date]:
    """``(at, day)`` of a step of ``case_id``: a paper step's stated time and date, or
    ``(None, today)`` for a live one. ``day`` is what the step's own deadlines must not be
    before (a resumption deadline on form D is after form D's date, not after today)."""
    from schemas.paper import paper_at
    from schemas.state import local_today

    if raw in (None, ""):
        return None, local_today()
    events = node.casework.events(case_id)
    day = _day(raw, event_type, events, typing_day(node, events))
    assert day is not None
    return paper_at(day), day


__all__ = ["check_typed", "opening_at", "step_at", "typing_day"]
