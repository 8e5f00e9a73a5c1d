"""撤销办结 (schemas.withdraw): a completion recorded on the wrong case is withdrawn, with a trace,
only while it is the case's last step, by its institution, within a working day."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from hypothesis import HealthCheck, assume, example, given, settings
from hypothesis import strategies as st

from schemas.build import make_event
from schemas.errors import IllegalTransition, ValidationFailed
from schemas.fold import FoldCache, check_received, fold, order_key
from schemas.hlc import HLC
from schemas.paper_fold import RULE as PAPER_RULE
from schemas.paper_fold import is_paper_step
from schemas.registry import validate_open
from schemas.sample_cases import case_histories
from schemas.state import LOCAL_TZ
from schemas.steps import next_steps
from schemas.workdays import Workdays
from tests.schemas.helpers import PAPER, SIGNED, STEPS, TOWN, VILLAGE, CaseBuilder, random_events

WHY = {"details": "点错了办件，应为邻居家的申请"}


def _completed(at: str = "2026-03-05T10:00") -> tuple[CaseBuilder, dict[str, Any]]:
    c = CaseBuilder().assist_in_handling()  # accepted 2026-03-02, 10 working days: due 03-16
    return c, c.complete(at)


def _withdraw(c: CaseBuilder, done: dict[str, Any], at: str, **kw: Any) -> dict[str, Any]:
    return c.ev("completion_withdrawn", at, completion=done["hlc"], reason="wrong_case",
                private=WHY, **kw)


def _refused(c: CaseBuilder, ev: dict[str, Any]) -> str:
    with pytest.raises(IllegalTransition) as exc:
        check_received(c.events, ev)
    return exc.value.rule


def test_a_withdrawn_completion_returns_the_case_to_handling_with_its_clock_running() -> None:
    c, done = _completed()
    assert c.state().status == "completed" and c.state().on_time is True
    w = _withdraw(c, done, "2026-03-05T15:00")
    s = c.state(as_of="2026-03-17")
    assert (s.status, s.completed_on, s.on_time) == ("handling", None, None)
    assert s.due == "2026-03-16" and "time_limit" in s.overdue  # the withdrawal stops no clock
    assert s.withdrawals == [{"event": w["hlc"], "completion": done["hlc"], "reason": "wrong_case",
                              "on": "2026-03-05", "institution": VILLAGE}]
    assert s.events == s.applied == len(c.events)  # both steps kept
    again = c.complete("2026-03-06T09:00")  # the real completion, later
    assert c.state().status == "completed"
    assert (c.state().withdrawable or {}).get("event") == again["hlc"]


def test_only_the_last_step_can_be_withdrawn() -> None:
    steps: dict[str, dict[str, Any]] = {
        "rating": {"level": "satisfied", "channel": "window"},
        "archived": {"archive_no": "GD-1"},
        "work_log": {"kind": "tracking", "private": {"text": "回访"}}}
    for later, fields in steps.items():
        c, done = _completed()
        c.ev(later, "2026-03-05T11:00", **fields)
        ev = c.make("completion_withdrawn", "2026-03-05T12:00", completion=done["hlc"],
                    reason="wrong_case", private=WHY)
        # an archived case refuses every step (10.1.6), this one too
        assert _refused(c, ev) == ("archived" if later == "archived"
                                   else "withdraw_not_last_step"), later
    c, done = _completed()
    c.ev("access", "2026-03-05T10:05", purpose="printing")  # printing form B is no step
    _withdraw(c, done, "2026-03-05T10:30")
    c = CaseBuilder().assist_in_handling()  # nothing completed
    ev = c.make("completion_withdrawn", "2026-03-05T12:00", completion=c.events[-1]["hlc"],
                reason="other", private=WHY)
    assert _refused(c, ev) == "withdraw_not_last_step"


def test_it_names_the_completion_and_is_made_by_its_institution() -> None:
    c, done = _completed()
    ev = c.make("completion_withdrawn", "2026-03-05T12:00", completion=c.events[-2]["hlc"],
                reason="wrong_case", private=WHY)
    assert _refused(c, ev) == "withdraw_other_completion"
    ev = c.make("completion_withdrawn", "2026-03-05T12:00", completion=done["hlc"],
                reason="wrong_case", private=WHY, institution=TOWN)
    assert _refused(c, ev) == "withdraw_institution"


@pytest.mark.parametrize(("completed", "withdrawn", "legal"), [
    ("2026-03-05T16:00", "2026-03-06T17:59", True),   # Thursday: until Friday
    ("2026-03-05T16:00", "2026-03-07T09:00", False),  # Saturday is past it
    ("2026-03-06T16:00", "2026-03-09T11:00", True),   # Friday: until Monday
    ("2026-03-06T16:00", "2026-03-10T08:00", False),
])
def test_the_window_is_one_working_day_from_the_completion(completed: str, withdrawn: str,
                                                          legal: bool) -> None:
    c, done = _completed(completed)
    ev = c.make("completion_withdrawn", withdrawn, completion=done["hlc"], reason="wrong_case",
                private=WHY)
    if legal:
        check_received(c.events, ev)
    else:
        assert _refused(c, ev) == "withdraw_window"
    day = dt.date.fromisoformat(withdrawn[:10])
    offered = "completion_withdrawn" in next_steps(c.state(), institution=VILLAGE, on=day)
    assert offered == legal


def test_a_back_dated_withdrawal_is_judged_by_when_it_was_typed() -> None:
    c, done = _completed("2026-03-05T16:00")
    typed = dt.datetime(2026, 3, 10, 9, 0, tzinfo=LOCAL_TZ)
    ev = make_event("completion_withdrawn", case_id=c.case_id,
                    clock=HLC(int(typed.timestamp() * 1000), 0, f"{VILLAGE}-A1"),
                    at="2026-03-05T17:00:00+08:00", institution=VILLAGE, staff="staff-1",
                    completion=done["hlc"], reason="wrong_case", private=WHY)
    assert _refused(c, ev) == "withdraw_window"


def test_the_reason_is_required_bounded_and_coded() -> None:
    c, done = _completed()
    base = dict(completion=done["hlc"], reason="wrong_case", private=WHY)
    validate_open(c.make("completion_withdrawn", "2026-03-05T12:00", **base))
    for bad, field in ((dict(base, private={}), "private.details"),
                       (dict(base, private={"details": "x" * 501}), "private.details"),
                       (dict(base, reason="tidy_up"), "reason"),
                       ({k: v for k, v in base.items() if k != "completion"}, "completion")):
        with pytest.raises(ValidationFailed) as exc:
            validate_open(c.make("completion_withdrawn", "2026-03-05T12:00", **bad))
        assert field in {p.field for p in exc.value.problems}, bad


_SKIP = {"events", "applied", "last_hlc", "withdrawals"}  # bookkeeping: both steps are kept
HISTORIES = list(case_histories(seed=5, n=40, scenarios=("assist_completed",
                                                                "proxy_completed")))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(HISTORIES), st.integers(0, 600), st.sampled_from(
    [None, "2026-02-20", "2026-04-01", "2026-06-30"]))
def test_a_withdrawal_leaves_the_state_before_the_completion(history: list[dict[str, Any]],
                                                            minutes: int,
                                                            as_of: str | None) -> None:
    """Never a state no step sequence reaches: the fold of the steps before the completion."""
    events = history[1:]
    i = next(n for n, e in enumerate(events) if e["event_type"] == "completion")
    before, done = events[:i], events[i]
    moment = dt.datetime.fromisoformat(done["at"]) + dt.timedelta(minutes=minutes)
    dev = done["device"]
    w = make_event("completion_withdrawn", case_id=done["case_id"],
                   clock=HLC(int(moment.timestamp() * 1000), 1, dev), at=moment.isoformat(),
                   institution=done["institution"], staff=done.get("staff"),
                   completion=done["hlc"], reason="not_finished", private=WHY)
    check_received(before + [done], w)
    after = fold([*before, done, w], as_of=as_of).as_dict()
    expected = fold(before, as_of=as_of).as_dict()
    assert {k: v for k, v in after.items() if k not in _SKIP} == \
        {k: v for k, v in expected.items() if k not in _SKIP}
    assert [x["completion"] for x in after["withdrawals"]] == [done["hlc"]]


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.tuples(st.sampled_from([*STEPS, "completion", "completion"]),
                          st.integers(2, 5999), st.integers(1, 2)), min_size=1, max_size=25),
       st.lists(st.tuples(st.integers(0, 9), st.one_of(st.integers(0, 59),
                                                       st.integers(0, 90_000)),
                          st.integers(1, 2)), min_size=1, max_size=3), PAPER)
# a case brought in from paper, completed live, a 补录 step held by it (not always drawn)
@example([("completion", 2, 1), ("work_log", 3, 2)], [(0, 100, 1)], {0, 1, 3})
# ... and one after a withdrawal held by it, then released (schemas.paper_fold._relive)
@example([("completion", 2, 1), ("completion", 3, 2), ("work_log", 4, 2)],
         [(0, 200, 1), (1, 0, 2)], {0, 1, 4})
def test_withdrawals_anywhere_leave_a_state_the_other_steps_reach(
        spec: list[tuple[str, int, int]], picks: list[tuple[int, int, int]],
        paper: set[int]) -> None:
    """Withdrawals dropped anywhere into arbitrary (mostly illegal) sequences from two
    laptops, 补录 steps among them: the fold equals the fold without each applied
    withdrawal and its completion, i.e. a sequence of real steps reaches it; the steps
    refused between the two included, judged again as if the completion had never been
    (schemas.withdraw, fold._release), a paper step too. But for a paper step typed after
    an applied withdrawal: that is a step recorded live, so such a step is refused
    (paper_after_live, as the node and hub refuse it from a writer who saw it)."""
    # applied and accepted first (minutes 0 and 1), so that completions often hold
    events = random_events([("application", 0, 1), ("acceptance", 1, 1), *spec], paper)
    completions = [e for e in events if e["event_type"] == "completion"]
    assume(completions)
    withdrawals = []
    for k, (i, seconds, device) in enumerate(picks):  # often at once, else within a day
        done = completions[i % len(completions)]
        moment = dt.datetime.fromisoformat(done["at"]) + dt.timedelta(seconds=1 + seconds)
        withdrawals.append(make_event(
            "completion_withdrawn", case_id=done["case_id"],
            clock=HLC(int(moment.timestamp() * 1000), 100 + k, f"{VILLAGE}-A{device}"),
            at=moment.isoformat(), institution=VILLAGE, staff="staff-1",
            completion=done["hlc"], reason="other", private=WHY))
    everything = events + withdrawals
    s = fold(everything, as_of="2026-05-01")
    applied = [w for w in withdrawals if str(w["_id"]) in s.applied_ids]
    taken_back = {w["completion"] for w in applied}  # a repeat of one is the same act
    # (not one typed before the completion: the clock the completion took, following its
    # laptop's later step, can be after its ``at`` and the withdrawal's: refused alike)
    gone = {w["_id"] for w in withdrawals
            if w["completion"] in taken_back and w["hlc"] > w["completion"]} | \
        {f"event:{w['case_id']}:{w['completion']}" for w in applied}
    first = min((order_key(w) for w in applied), default=None)
    late = {e["_id"] for e in events if first and order_key(e) > first and is_paper_step(e)}
    assert late <= {f"event:{events[0]['case_id']}:{r.event_id}" for r in s.reviews
                    if r.rule == PAPER_RULE}
    if late:  # the exception shown: the rest of the property holds without them
        s = fold([e for e in everything if e["_id"] not in late], as_of="2026-05-01")
    reduced = fold([e for e in everything if e["_id"] not in gone | late], as_of="2026-05-01")
    skip = _SKIP | {"went_live"}  # the withdrawal is a step recorded live, as said
    assert {k: v for k, v in s.as_dict().items() if k not in skip} == \
        {k: v for k, v in reduced.as_dict().items() if k not in skip}
    assert len(s.withdrawals) == len(applied)


def test_a_step_refused_only_for_the_completion_applies_once_it_is_withdrawn() -> None:
    c, done = _completed()
    base = c.events[-2]["hlc"]  # A2 had the case in handling: its base is the acceptance
    got = c.ev("material_received", "2026-03-05T10:20", short="A2", check=False,
               materials=["M02"], base_hlc=base)
    check_received(c.events[:-1], got)  # the hub takes it (concurrent with the completion)
    held = c.ev("submitted", "2026-03-05T10:40", short="A2", check=False,
                department="民政局", channel="online", base_hlc=got["hlc"])
    s = c.state()
    assert [r.event_id for r in s.reviews] == [got["hlc"], held["hlc"]]
    assert {r.rule for r in s.reviews} == {"status"}
    w = _withdraw(c, done, "2026-03-05T15:00")
    s = c.state()
    assert s.reviews == [] and not s.needs_review  # B's work counts; no 需复核 of A's slip
    assert (s.status, s.submissions, s.materials_missing) == ("handling", 1, [])
    assert {f"event:{c.case_id}:{e['hlc']}" for e in (got, held, w)} <= s.applied_ids
    assert s.withdrawals[0]["completion"] == done["hlc"]
    # the same as if A had never completed it (nor withdrawn it)
    without = fold([e for e in c.events if e["hlc"] not in (done["hlc"], w["hlc"])])
    assert (s.status, s.submissions, s.applied_ids - without.applied_ids) == \
        (without.status, without.submissions, {f"event:{c.case_id}:{e['hlc']}" for e in (done, w)})


def test_a_step_refused_for_another_reason_stays_refused_with_the_reason_that_holds() -> None:
    c, done = _completed()
    again = c.ev("acceptance", "2026-03-05T10:20", short="A2", check=False,
                 zone="assisted_zone", time_limit_days=3)
    town = c.ev("submitted", "2026-03-05T10:30", institution=TOWN, check=False,
                department="民政局", channel="online")  # not the holder's: refused anyway
    assert "办结" in c.state().reviews[0].message_zh
    _withdraw(c, done, "2026-03-05T15:00")
    s = c.state()
    assert [(r.event_id, r.rule) for r in s.reviews] == \
        [(again["hlc"], "status"), (town["hlc"], "holder_only")] and s.needs_review
    assert "办理中" in s.reviews[0].message_zh  # refused as the case stands: in handling
    assert s.due == "2026-03-16"  # the second acceptance's 3 days did not count


def test_a_completion_refused_for_the_slip_stands_once_the_slip_is_withdrawn() -> None:
    """A1 completes the wrong case; A2 completes it for real, offline: once A1 withdraws
    its completion, A2's is the case's, and is A2's to withdraw in its turn."""
    c, done = _completed()
    real = c.ev("completion", "2026-03-05T11:00", short="A2", check=False, private=SIGNED)
    _withdraw(c, done, "2026-03-05T15:00")
    s = c.state()
    assert (s.status, s.completed_on, s.reviews) == ("completed", "2026-03-05", [])
    assert (s.withdrawable or {}).get("event") == real["hlc"]


def test_a_review_resolved_of_a_released_step_is_the_same_act_not_a_clash() -> None:
    """A clerk who saw B's step 需复核 (the withdrawal not yet synced) and resolved it: no
    review of its own once the withdrawal released the step (schemas.state.resettles)."""
    c, done = _completed()
    got = c.ev("material_received", "2026-03-05T10:20", short="A2", check=False,
               materials=["M02"])
    _withdraw(c, done, "2026-03-05T15:00")
    c.ev("review_resolved", "2026-03-05T16:00", short="A2", check=False,
         events=[got["hlc"]], decision="kept_as_record", private={"note": "已核对"})
    s = c.state()
    assert s.reviews == [] and not s.needs_review


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.tuples(st.sampled_from([*STEPS, "completion"]), st.integers(2, 1199),
                          st.integers(1, 2)), min_size=1, max_size=14),
       st.integers(0, 9), st.integers(1, 40_000), st.randoms(use_true_random=False),
       st.integers(0, 30), PAPER)
def test_replicas_fold_the_same_events_to_the_same_state_in_any_arrival_order(
        spec: list[tuple[str, int, int]], pick: int, seconds: int, rnd: Any,
        cut: int, paper: set[int]) -> None:
    """The steps held by a completion and released by its withdrawal converge: the fold of
    one set of events is the same whatever order they arrived in, and a replica that folded
    part of them first and extends its fold (the hub's FoldCache) reaches it too; 补录
    steps among them."""
    events = random_events([("application", 0, 1), ("acceptance", 1, 1), *spec], paper)
    completions = [e for e in events if e["event_type"] == "completion"]
    assume(completions)
    done = completions[pick % len(completions)]
    moment = dt.datetime.fromisoformat(done["at"]) + dt.timedelta(seconds=seconds)
    events.append(make_event("completion_withdrawn", case_id=done["case_id"],
                             clock=HLC(int(moment.timestamp() * 1000), 100, f"{VILLAGE}-A1"),
                             at=moment.isoformat(), institution=VILLAGE, staff="staff-1",
                             completion=done["hlc"], reason="other", private=WHY))
    expected = fold(events, as_of="2026-04-01").as_dict()
    shuffled = list(events)
    rnd.shuffle(shuffled)
    assert fold(shuffled + shuffled[:3], as_of="2026-04-01").as_dict() == expected
    ordered = sorted(events, key=order_key)
    cache, wd = FoldCache(), Workdays()
    cache.fold(done["case_id"], ordered[:cut], wd)
    extended = cache.fold(done["case_id"], ordered, wd)
    assert extended.as_dict() == fold(events, workdays=wd).as_dict()


def test_a_review_resolved_of_a_released_step_and_a_refused_one_resolves_the_refused_one() -> None:
    """A2's laptop saw two of its steps 需复核 behind A1's slip and resolved both in one
    冲突复核, A1's withdrawal not yet synced: the withdrawal settled one of them (released),
    the 冲突复核 settles the other; neither it nor the step is left for review."""
    c, done = _completed()
    got = c.ev("material_received", "2026-03-05T10:20", short="A2", check=False,
               materials=["M02"])
    again = c.ev("acceptance", "2026-03-05T10:30", short="A2", check=False,
                 zone="assisted_zone", time_limit_days=3)
    _withdraw(c, done, "2026-03-05T15:00")
    assert [r.event_id for r in c.state().reviews] == [again["hlc"]]
    r = c.ev("review_resolved", "2026-03-05T16:00", short="A2", check=False,
             events=[got["hlc"], again["hlc"]], decision="kept_as_record",
             private={"note": "已核对"})
    s = c.state()
    assert s.reviews == [] and not s.needs_review
    assert [x.event_id for x in s.resolved_reviews] == [again["hlc"]]
    assert f"event:{c.case_id}:{r['hlc']}" in s.applied_ids


def test_two_clerks_withdrawing_one_completion_offline_is_one_act() -> None:
    """A1's slip is withdrawn on A1 and, before either synced, on A2 too: the same act
    twice, not a clash (as a second 冲突复核, schemas.state.resettles); no 需复核, and the
    real completion recorded since stays the case's, withdrawable."""
    c, done = _completed()
    first = _withdraw(c, done, "2026-03-05T15:00")
    _withdraw(c, done, "2026-03-05T15:05", short="A2", check=False)
    s = c.state()
    assert (s.status, s.reviews, s.needs_review) == ("handling", [], False)
    assert [w["event"] for w in s.withdrawals] == [first["hlc"]]
    real = c.complete("2026-03-05T16:00")
    _withdraw(c, done, "2026-03-05T16:30", short="A3", check=False)  # its slip synced late
    s = c.state()
    assert (s.status, s.reviews, (s.withdrawable or {}).get("event")) == \
        ("completed", [], real["hlc"])


def test_a_repeat_withdrawal_held_behind_a_slip_is_one_act_once_released() -> None:
    """A1 completes by mistake; A2, offline, completes for real and withdraws its own
    completion twice (two clerks of A2's office, say): all held behind A1's slip. Once A1
    withdraws the slip, A2's completion and withdrawal apply and the repeat is the same act
    (schemas.state.resettles), as it is outside a release, not a 需复核."""
    c, done = _completed()
    real = c.ev("completion", "2026-03-05T11:00", short="A2", check=False, private=SIGNED)
    _withdraw(c, real, "2026-03-05T11:10", short="A2", check=False)
    _withdraw(c, real, "2026-03-05T11:20", short="A2", check=False)
    _withdraw(c, done, "2026-03-05T15:00")
    s = c.state()
    assert (s.status, s.reviews, s.needs_review) == ("handling", [], False)
    assert [w["completion"] for w in s.withdrawals] == [done["hlc"], real["hlc"]]
