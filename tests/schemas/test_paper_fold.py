"""A 补录 step behind another laptop's live step of its case (concurrent: its laptop had not
pulled it) is kept for review and not applied, the case 需复核 (schemas.paper_fold). The
hub takes such a step (judged by its writer's view, hub.transitions.paper_refusal); before,
the fold applied it and nothing but the 补录 audit told anyone."""

from __future__ import annotations

import datetime as dt
from typing import Any

from schemas.build import make_event
from schemas.fold import fold
from schemas.hlc import HLC, pack
from schemas.paper import paper_at
from schemas.paper_fold import RULE, is_paper_step
from schemas.state import LOCAL_TZ
from tests.schemas.helpers import SIGNED

INST = "410621101201"
A, B = f"{INST}-A1", f"{INST}-A2"
TYPED = dt.datetime(2026, 11, 30, 9, 0, tzinfo=LOCAL_TZ)  # the day the station went live
PAPER = dt.date(2026, 11, 20)
CASE = pack(HLC(int(TYPED.timestamp() * 1000) - 1, 0, A))


def _ev(event_type: str, device: str, minute: int, base: str | None, *, paper: bool,
        **fields: Any) -> dict[str, Any]:
    """A step of the case typed at 09:``minute`` on ``device``: stating the paper's date
    (补录) or the minute it is typed (live)."""
    typed = TYPED + dt.timedelta(minutes=minute)
    at = paper_at(PAPER) if paper else typed.isoformat(timespec="seconds")
    return make_event(event_type, case_id=CASE, clock=HLC(int(typed.timestamp() * 1000), 0, device),
                      at=at, institution=INST, staff="staff-201-1", base_hlc=base, **fields)


def _consultation() -> dict[str, Any]:
    return _ev("consultation", A, 0, None, paper=True, channel="window", answered=False,
               private={"question": "高龄津贴怎么申请？"})


def _log(device: str, minute: int, base: str, *, paper: bool) -> dict[str, Any]:
    return _ev("work_log", device, minute, base, paper=paper, kind="tracking",
               private={"text": "跟踪"})


def test_a_paper_step_behind_a_live_one_is_kept_for_review() -> None:
    first = _consultation()
    live = _log(A, 5, first["hlc"], paper=False)  # laptop A goes on live
    late = _log(B, 9, first["hlc"], paper=True)  # B had the case as brought in, not A's step
    assert is_paper_step(late) and not is_paper_step(live)
    state = fold([first, live, late])
    assert state.needs_review
    assert [(r.event_id, r.rule) for r in state.reviews] == [(late["hlc"], RULE)]
    assert state.work_log_entries == 1  # not applied: the paper step counts for nothing yet
    assert "纸质台账" in state.reviews[0].message_zh


def test_a_paper_step_before_a_live_one_is_the_case_s_history() -> None:
    """Typed (hlc) before the live step, it comes first in the fold as the rule wants: no
    review, whichever laptop had seen what; nor after a read (7.2.2.2), which is no step."""
    first = _consultation()
    paper = _log(B, 3, first["hlc"], paper=True)
    live = _log(A, 5, first["hlc"], paper=False)
    state = fold([live, paper, first])
    assert not state.needs_review and state.work_log_entries == 2
    read = _ev("access", A, 1, first["hlc"], paper=False, purpose="printing",
               fields_read=["applicant_name"], private={"note": "打印"})
    assert not fold([first, read, paper]).needs_review


def _paper_case_completed_live() -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """A case brought in from paper (applied, accepted) and completed live on laptop A."""
    first = _ev("application", A, 0, None, paper=True, channel="offline",
                service_item="MS-004", mode="nearby")
    accepted = _ev("acceptance", A, 1, first["hlc"], paper=True, zone="assisted_zone",
                   time_limit_days=10)
    done = _ev("completion", A, 5, accepted["hlc"], paper=False, private=SIGNED)
    return [first, accepted, done], done


def test_a_paper_step_held_by_a_withdrawn_completion_is_judged_as_if_it_had_never_been() -> None:
    """B types a 补录 step not having pulled A's completion (a slip): it follows the
    completion in the fold and is refused; once A withdraws the completion it is the case's
    paper history, as without the pair (schemas.withdraw). A paper step typed after the
    withdrawal stays a review: the withdrawal is a step recorded live (paper_after_live)."""
    events, done = _paper_case_completed_live()
    late = _log(B, 9, events[1]["hlc"], paper=True)
    assert [r.rule for r in fold([*events, late]).reviews] == [RULE]
    w = _ev("completion_withdrawn", A, 15, done["hlc"], paper=False, completion=done["hlc"],
            reason="wrong_case", private={"details": "点错了办件"})
    s = fold([*events, late, w])
    assert (s.reviews, s.needs_review, s.work_log_entries) == ([], False, 1)
    without = fold([*events[:2], late])
    assert (s.status, s.work_log_entries, s.due) == (without.status, 1, without.due)
    after = _log(B, 20, w["hlc"], paper=True)
    assert [(r.event_id, r.rule) for r in fold([*events, late, w, after]).reviews] == \
        [(after["hlc"], RULE)]


def test_a_withdrawal_released_by_another_is_a_live_step_for_the_paper_steps_after_it() -> None:
    """A's slip held B's completion and B's withdrawal of it, and two 补录 steps of a third
    laptop, one typed before B's completion and one after B's withdrawal. Once A withdraws
    the slip, the first is paper history; the second follows B's steps, recorded live, and
    stays a review, as a paper step after the withdrawal that released them does."""
    events, done = _paper_case_completed_live()
    c3 = f"{INST}-A3"
    early = _log(c3, 6, events[1]["hlc"], paper=True)
    real = _ev("completion", B, 7, events[1]["hlc"], paper=False, private=SIGNED)
    why = {"details": "点错了办件"}
    back = _ev("completion_withdrawn", B, 8, real["hlc"], paper=False, completion=real["hlc"],
               reason="wrong_case", private=why)
    late = _log(c3, 9, back["hlc"], paper=True)
    w = _ev("completion_withdrawn", A, 15, done["hlc"], paper=False, completion=done["hlc"],
            reason="wrong_case", private=why)
    s = fold([*events, early, real, back, late, w])
    assert [(r.event_id, r.rule) for r in s.reviews] == [(late["hlc"], RULE)]
    assert (s.status, s.work_log_entries, len(s.withdrawals)) == ("handling", 1, 2)
