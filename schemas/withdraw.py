"""撤销办结: a completion recorded on the wrong case, withdrawn with a trace.

A village clerk who clicks 办结 (10.1.5, 10.2.6) on the wrong case could not undo it: the case
read completed for good, counted as completed on time (5 a) and the applicant's real case had
to be completed beside it. A real office corrects such a slip the same day, in writing; so
does this, kept narrow so that it cannot rewrite a case's history:

* the ``completion_withdrawn`` event names the completion it withdraws (``completion``, its
  hlc), a reason code in clear (``reason``: :data:`schemas.vocab.WITHDRAWAL_REASONS`, for the
  supervisors, who read cleartext only) and the clerk's words sealed (``details``, required:
  free text may name the applicant, docs/CONVENTIONS.md);
* only while that completion is the case's last step (no 好差评 rating, no hand-over, no
  archiving, nothing but access-log entries after it: a later step was taken on the word
  that the case was completed);
* only by the institution that recorded the completion (which holds the case: the
  completion is a holder's step and nothing followed it);
* only until the end of :data:`WITHDRAW_WORKING_DAYS` working day(s) after the day the
  completion was *typed* (its hlc, Beijing date), the withdrawal's own day read from its
  hlc and its ``at`` alike (the later one), so neither a back-dated ``at`` nor a laptop's
  slow clock stretches it.

The case returns to the state it had before the completion (``handling``, the only state a
completion follows), its time limit running on as if the completion had never been: the
withdrawal stops no clock (5 a). Both events stay in the case; the fold lists the
withdrawal in ``state.withdrawals`` for the supervisors (11.1 b, e).

As if it had never been for the other laptops' steps too. Laptop B, offline, records a
step of the case (a material received, a suspension, the real completion) while laptop A
completes it by mistake; in clock order B's step follows A's completion and the fold keeps
it for review (design.md §3: refused, the case 需复核), though B acted on a case in handling,
which it was. When A withdraws the completion, the steps refused while it stood
(``state.held``, :func:`hold`: nothing but refused steps and reads can follow a completion
still withdrawable) are judged again in their clock order against the case in handling
(schemas.fold._release): one legal now applies and leaves the reviews, one refused for
another reason (a second acceptance, a step of an institution not holding the case) stays
a review, its reason the one that holds now (:func:`rejudge`). So is a 补录 step
(schemas.paper_fold) typed by B not having pulled a completion that was the case's first
step recorded live: judged as the case stood before it (:func:`withdraw` makes the case
paper again, ``state.live_from``), it is the case's paper history. The fold then equals the
fold without the completion and its withdrawal, in any arrival order, whatever the
replica: the office sees B's work counted and no 需复核 left over from a slip of A's. One
exception: a 补录 step *after* the withdrawal in clock order stays a review
(``paper_after_live``), though without the pair it would apply. The withdrawal is itself
a step recorded live, and paper steps come first (schemas.paper.check_paper_day: the node and the hub
refuse such a step from a writer who has the withdrawal, 10.2.5, 11.1 b); taking the pair
for no step there would let a clerk who slipped bring a live case back to paper. A
clerk who had already settled such a step by 冲突复核 made no clash either
(schemas.state.resettles). ``state.completion`` names the completion that stands, for
the oversight's late-receipt check (hub.oversight.clocks).

The rule (:func:`check`) is called by :mod:`schemas.rules`; the fold's two state changes
(:func:`complete`, :func:`withdraw`) and the bookkeeping of the last step (:func:`settle`,
:func:`hold`, :func:`rejudge`) by :mod:`schemas.fold`. Pure, like them.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from schemas.errors import IllegalTransition
from schemas.events import EventSchema
from schemas.fields import HlcStr, Part, Str, one_of
from schemas.paper import hlc_day
from schemas.state import event_date
from schemas.vocab import WITHDRAWAL_REASONS

if TYPE_CHECKING:
    from schemas.state import CaseState, Review
    from schemas.workdays import Workdays

Event = Mapping[str, Any]

EVENT_TYPE = "completion_withdrawn"
#: How long a completion can be withdrawn: to the end of the next working day after the
#: day it was typed. A slip is found that day or at the next morning's look over the case
#: list (or when the applicant whose case it really was comes back); the oversight's
#: monthly figures (5 a on-time rate, hub/oversight) are printed from completions, and a
#: longer window would let a completion that counted in a printed report be taken back.
#: Working days, not hours: a completion typed on Friday afternoon stays correctable on
#: Monday, one typed on a door-to-door Saturday visit too.
WITHDRAW_WORKING_DAYS = 1
#: Steps that do not end the window: an access-log entry is no step of the process
#: (design.md §5), and printing form B after the completion logs one.
NOT_STEPS = frozenset({"access"})
#: what leaves a completion withdrawable: no step, another completion (refused or, released
#: by a withdrawal, the case's own), the withdrawal (its refusals are released, not dropped)
_KEEPS = NOT_STEPS | {"completion", "completion_withdrawn"}
#: the longest reason a clerk types
DETAILS_MAX = 500


class CompletionWithdrawnPrivate(Part):
    details = Str(required=True, max_len=DETAILS_MAX)


class CompletionWithdrawn(EventSchema):
    """撤销办结: the completion ``completion`` was recorded in error (see the module)."""

    EVENT_TYPE, CLAUSE, LABEL_ZH = EVENT_TYPE, "10.1.5", "撤销办结"
    PRIVATE = CompletionWithdrawnPrivate
    completion = HlcStr(required=True)
    reason = Str(required=True, validate=one_of(WITHDRAWAL_REASONS, "撤销原因"))


def _deny(rule: str, en: str, zh: str, ev: Event) -> IllegalTransition:
    return IllegalTransition("10.1.5", rule, en, zh, event_id=ev.get("hlc"))


def step_day(ev: Event) -> dt.date:
    """The day a withdrawal is made: the later of its hlc's Beijing date and its ``at``."""
    typed = hlc_day(ev)
    stated = event_date(ev)
    return max(stated, typed) if typed is not None else stated


def check(s: CaseState, ev: Event) -> None:
    """Raise :class:`IllegalTransition` unless ``ev`` may withdraw the case's completion."""
    last = s.withdrawable
    if last is None:
        raise _deny("withdraw_not_last_step",
                    "only a completion that is the case's last step can be withdrawn",
                    "只能撤销作为本件最后一步的办结（其后已有评价、移交、归档等步骤的不能撤销）", ev)
    if ev["completion"] != last["event"]:
        raise _deny("withdraw_other_completion",
                    f"the completion to withdraw is {last['event']}, not {ev['completion']}",
                    f"可撤销的办结是 {last['event']}，不是 {ev['completion']}", ev)
    if ev["institution"] not in (last["institution"], s.holder):
        raise _deny("withdraw_institution",
                    f"only the institution that recorded the completion ({last['institution']}) "
                    "can withdraw it", f"只有办结该件的机构（{last['institution']}）可以撤销办结",
                    ev)
    if step_day(ev).isoformat() > last["until"]:
        raise _deny("withdraw_window",
                    f"a completion can be withdrawn until {last['until']} only "
                    f"({WITHDRAW_WORKING_DAYS} working day after it was recorded)",
                    f"办结只能在登记后 {WITHDRAW_WORKING_DAYS} 个工作日内（至 {last['until']}）撤销",
                    ev)


def complete(s: CaseState, ev: Event, today: str, wd: Workdays) -> None:
    """The fold's completion (10.1.5): completed, on time or not (5 a); withdrawable."""
    s.status, s.completed_on, s.completion = "completed", today, str(ev["hlc"])
    s.on_time = s.due is None or today <= s.due
    typed = hlc_day(ev) or event_date(ev)
    until = wd.add_working_days(typed, WITHDRAW_WORKING_DAYS)
    s.withdrawable = {"event": str(ev["hlc"]), "institution": str(ev["institution"]),
                      "until": until.isoformat()}


def withdraw(s: CaseState, ev: Event) -> None:
    """The fold's withdrawal: back to handling (the only state a completion follows, see
    schemas.rules._completion), no completion date, no on-time mark; listed for supervision."""
    s.status, s.completed_on, s.on_time, s.withdrawable = "handling", None, None, None
    s.completion = None
    if s.live_from == ev["completion"]:  # it made the case live: the steps it held are
        s.went_live, s.live_from = False, None  # judged as before it (fold._release)
    s.withdrawals = [*s.withdrawals, {"event": str(ev["hlc"]), "completion": ev["completion"],
                                      "reason": ev["reason"], "on": step_day(ev).isoformat(),
                                      "institution": str(ev["institution"])}]


def settle(s: CaseState, ev: Event) -> None:
    """After any applied step but a completion (or an access entry) the completion before
    it is no longer the last step: it stays, and so do the refusals it caused (a
    withdrawal leaves them to schemas.fold._release)."""
    if s.withdrawable is not None and ev.get("event_type") not in _KEEPS:
        s.withdrawable, s.held = None, []


def hold(s: CaseState, ev: Event) -> None:
    """Keep ``ev``, just refused, to be judged again if the completion standing as the
    case's last step is withdrawn (the module docstring)."""
    if s.withdrawable is not None:
        s.held = [*s.held, ev]


def rejudge(s: CaseState, ev: Event, why: Review | None) -> None:
    """``ev``'s review after its completion was withdrawn: gone (``why`` None: it applies
    now) or ``why``, the reason it is refused now (the old one named a completed case)."""
    hlc = str(ev.get("hlc"))
    i = next((k for k, r in enumerate(s.reviews) if r.event_id == hlc), None)
    if i is not None:
        s.reviews = [*s.reviews[:i], *([why] if why else []), *s.reviews[i + 1:]]
    s.needs_review = bool(s.reviews)
