"""Steps entered later from the paper ledger (补录): a station going live brings its open
paper cases in with the dates the paper bears.

A station that switches from its paper ledger (台账) has cases in progress: accepted on
various days with form A signed (10.1.3), some suspended with form D (10.2.5), one past
its time limit. Entered with the day they are typed, their time limits would count from
the switch (10.1.3, 10.2.5: a later due date, the overdue one not overdue), their forms
would print another date than the signed paper, and oversight would count them as new
cases of that week (11.1). So such a step states the paper's date in ``at``, the date every
rule, deadline and form reads (schemas.state.event_date).

The declaration needs no new member (no schema version: older hubs and nodes take such an
event as it is). An event's ``hlc``, part of its id and signed with it, is the laptop's
clock when the step was **typed** (node.casework.next_clock); ``at`` is when it
**happened**. A live step states the second it is typed; a step whose ``at`` is the
paper's noon (:data:`PAPER_TIME`) of an earlier Beijing day than its ``hlc`` says, by
itself, "entered later" (:func:`entered_later`), and the hub's receipt time
(hub/receipts.py) confirms when it arrived. A laptop clock set back moves both together on
a new case; on a case with a later clock the hlc follows the case (node.casework.
next_clock) and the stated time stays the laptop's, which is not noon on the dot (a second
later if it would be: :func:`live_at`): neither is mistaken for a paper step
(hub/oversight/clocks.py).

What keeps it honest (:func:`check_paper_day`; the node refuses the rest, naming
``paper_date``, and the hub again on receipt, both judged by the day the step's hlc says
it was typed: :func:`typed_refusal`, node.paper, hub.transitions.paper_refusal):

* only the steps of a case's paper history (:data:`PAPER_STEPS`): no completion,
  termination, refusal, rating or complaint is back-dated (those are what oversight
  measures: 5 a, 11.1 b, 11.2.1); the case is finished live;
* a case's paper steps come first: none after a step entered live (a live case cannot have
  a suspension slipped in before its deadline);
* a case's paper history is typed in the day the case is brought in (the Beijing day of its
  first step's hlc): a paper case left without a live step is running all the same, and a
  suspension typed in weeks later, dated before its deadline, would stop a clock that had
  run out (10.2.5) with nothing live to refuse it;
* steps in order: a paper date not before the case's previous step's date;
* none today or in the future (a step of today is entered live), none more than
  :data:`MAX_PAPER_DAYS` back (the ledger's open cases; the institution record keeps no
  founding date, so this is the bound that stands for "before the station existed").
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from typing import Any

from schemas.state import LOCAL_TZ, event_date

#: the steps of a case's paper history that may be entered later with their paper date
PAPER_STEPS = frozenset({
    "consultation", "reply", "application", "entrustment", "acceptance", "notification",
    "material_received", "reminder", "correction_requested", "correction_received",
    "submitted", "suspension", "resumption", "work_log"})
#: how far back a paper date may go (days): a paper case still open after a year is an
#: exception for the town to look at, not for the window to type in
MAX_PAPER_DAYS = 366
#: the Beijing time of day a paper step states: the paper bears a date, not a time
PAPER_TIME = dt.time(12, 0)


def hlc_day(event: Mapping[str, Any]) -> dt.date | None:
    """The Beijing date of an event's hybrid logical clock (when it was typed), or None."""
    from schemas.hlc import unpack

    try:
        wall = unpack(str(event.get("hlc") or "")).wall_ms
    except Exception:  # a malformed clock is the schema's to refuse, not ours
        return None
    return dt.datetime.fromtimestamp(wall / 1000, LOCAL_TZ).date()


def stated_later(at: dt.datetime, typed_ms: int) -> bool:
    """Whether a step stating ``at``, its hlc's wall time ``typed_ms``, declares itself
    entered later from paper: ``at`` is the paper's time (:data:`PAPER_TIME`, Beijing) of
    an earlier Beijing day than it was typed on. A live step states when it was typed, to
    the second; on a laptop whose clock is behind its case's newest clock that is an
    earlier day than its hlc too (node.casework.next_clock follows the case: a dead CMOS
    battery, a clock set back), but not noon on the dot: such a step is no paper step, and
    the hub's clock checks see its clock behind (hub/oversight/clocks.py)."""
    local = at.astimezone(LOCAL_TZ)
    typed = dt.datetime.fromtimestamp(typed_ms / 1000, LOCAL_TZ).date()
    return local.time() == PAPER_TIME and local.date() < typed


def live_at(now: dt.datetime, typed_ms: int) -> str:
    """The ``at`` of a step recorded live at ``now`` (to the second), its hlc's wall time
    ``typed_ms``: ``now``, a second later when it would read as a paper step
    (:func:`stated_later`). A laptop whose hlc follows a case clock a day ahead
    (node.casework.next_clock) and types at 12:00:00 would otherwise state a 补录 by
    chance (~1 step in 86,400 on such cases), which the hub refuses for good when it is
    not a paper step (hub.transitions.paper_refusal: a completion) and the 补录 audit
    lists."""
    if stated_later(now, typed_ms):
        now += dt.timedelta(seconds=1)
    return now.isoformat(timespec="seconds")


def entered_later(event: Mapping[str, Any]) -> bool:
    """Whether ``event`` states an earlier day than the one it was typed on (补录):
    :func:`stated_later`."""
    from schemas.hlc import unpack

    try:
        wall = unpack(str(event.get("hlc") or "")).wall_ms
        return stated_later(dt.datetime.fromisoformat(str(event["at"])), wall)
    except Exception:  # a malformed clock or time is the schema's to refuse, not ours
        return False


def paper_at(day: dt.date) -> str:
    """The ``at`` of a step entered from paper dated ``day``."""
    return dt.datetime.combine(day, PAPER_TIME, LOCAL_TZ).isoformat()


def check_paper_day(raw: Any, event_type: str, events: Iterable[Mapping[str, Any]],
                    today: dt.date) -> tuple[dt.date | None, str | None]:
    """``(the paper date, None)`` when ``raw`` (``YYYY-MM-DD``) may date a step
    ``event_type`` of a case whose steps so far are ``events``, else ``(None, why)``:
    the rule broken, in Chinese and English (module docstring)."""
    try:
        day = dt.date.fromisoformat(str(raw))
    except ValueError:
        return None, "应为日期 YYYY-MM-DD / must be a date YYYY-MM-DD"
    if event_type not in PAPER_STEPS:
        return None, (f"“{event_type}”不能补录，须当日登记（5 a、11.1 b）/ a {event_type} is not "
                      "entered later from paper: record it on the day it happens")
    if day >= today:
        return None, (f"补录日期须早于今天（{today}）；今天的步骤直接登记 / a paper date must be "
                      f"before today ({today}): record today's steps as usual")
    if day < (earliest := today - dt.timedelta(days=MAX_PAPER_DAYS)):
        # the earliest date named: ``today`` is the step's clock (typed_refusal), which a
        # colleague's fast clock may have put a day after the laptop's calendar
        return None, (f"补录日期不能早于 {MAX_PAPER_DAYS} 天前（{earliest}）/ a paper date goes "
                      f"back at most {MAX_PAPER_DAYS} days ({earliest})")
    steps = [e for e in events if e.get("event_type") != "access"]
    live = [e for e in steps if not entered_later(e)]
    if live:
        return None, ("本案已有当日登记的步骤，不能再补录 / this case has steps recorded live: "
                      "paper steps come before them")
    brought = min((d for e in steps if (d := hlc_day(e)) is not None), default=None)
    if brought is not None and brought != today:
        return None, (f"本案于 {brought} 补录，其纸质步骤须当天录完；此后的步骤当日登记 / this case "
                      f"was brought in from paper on {brought}: its paper steps are entered that "
                      "day, later ones are recorded on the day they happen")
    last = max((event_date(e) for e in steps), default=None)
    if last is not None and day < last:
        return None, (f"补录日期不能早于本案上一步骤的日期（{last}）/ a paper date must not be "
                      f"before the case's previous step ({last})")
    return day, None


def typed_refusal(event: Mapping[str, Any], before: Iterable[Mapping[str, Any]]) -> str | None:
    """Why ``event``, a step entered later (:func:`entered_later`), may not follow
    ``before`` (the case's steps its writer had seen), or ``None``: :func:`check_paper_day`
    judged on the Beijing day of its hlc (:func:`hlc_day`), the one judgement the node
    makes before it writes (node.paper) and the hub makes on receipt (hub.transitions.
    paper_refusal). Not the laptop's calendar: a step's hlc follows its case's newest
    clock (node.casework.next_clock), a day ahead of the calendar after a colleague's fast
    clock, and what the step signs is all the hub can read. Counted from the calendar,
    the node took a paper date at the exact :data:`MAX_PAPER_DAYS` bound that the hub,
    counting from the hlc a day later, refused for good, and refused its own second paper
    step of a case it had brought in "on" its hlc's day."""
    typed = hlc_day(event)
    if typed is None:  # a malformed clock is the schema's to refuse
        return None
    _day, why = check_paper_day(event_date(event).isoformat(), str(event.get("event_type")),
                                before, typed)
    return why


__all__ = ["MAX_PAPER_DAYS", "PAPER_STEPS", "check_paper_day", "entered_later", "hlc_day",
           "live_at", "paper_at", "stated_later", "typed_refusal"]
