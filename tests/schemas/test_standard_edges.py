"""Edge cases a literal reading of DB4106/T 101—2023 raises (schemas/README.md, "Rules the
other packages rely on"): deadlines on weekends and holidays, same-day suspensions, a
resumption on the deadline day, acceptance on a non-working day, 即办件, a hand-up after
part of the time limit ran, an entrustment whose validity ends before the case does, and
what the 清单 (6.2.4) allows."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from schemas.errors import IllegalTransition
from schemas.rules import check_transition
from schemas.workdays import Workdays
from tests.schemas.helpers import CITY, SIGNED, TOWN, VILLAGE, CaseBuilder

WD = Workdays()
D = dt.date


def _refused(c: CaseBuilder, event_type: str, at: str, rule: str, **kw: object) -> None:
    doc = c.make(event_type, at, **kw)  # type: ignore[arg-type]
    with pytest.raises(IllegalTransition) as e:
        check_transition(c.state(), doc)
    assert e.value.rule == rule, e.value.as_json()


def _proxy(days: int = 200) -> CaseBuilder:
    """A proxy case in handling since 2 March 2026 whose time limit outlasts the tests."""
    c = CaseBuilder()
    c.consult("2026-03-02T09:00")
    c.entrust("2026-03-02T09:30")
    c.accept("2026-03-02T10:00", days=days)
    return c


def _hub_termination(c: CaseBuilder, at: str) -> dict[str, object]:
    return c.make("termination", at, institution=CITY, short="HB",
                  reason="resumption_deadline_passed")


# -- 10.2.5.2: a resumption deadline on a weekend or holiday -----------------------------------

def test_10_2_5_2_a_sunday_resumption_deadline_runs_to_monday() -> None:
    c = CaseBuilder().proxy_in_handling()
    c.suspend("2026-03-09T09:00", deadline="2026-03-22")  # a Sunday
    assert c.state().suspension["resume_by"] == "2026-03-23"  # type: ignore[index]
    assert c.state(as_of="2026-03-23").overdue == []  # the hub does not terminate yet
    _refused(c, "termination", "2026-03-23T23:00", "resumption_deadline_not_passed",
             institution=CITY, short="HB", reason="resumption_deadline_passed")
    c.resume("2026-03-23T09:00")  # the applicant signs form E on Monday
    assert c.state().status == "handling"


def test_10_2_5_2_a_holiday_deadline_terminated_the_day_after_the_holidays() -> None:
    """National Day 2026: 1–7 October off; a deadline of 1 October ends on 8 October."""
    c = _proxy()
    c.suspend("2026-09-21T09:00", deadline="2026-10-01")
    assert c.state(as_of="2026-10-08").overdue == []
    assert c.state(as_of="2026-10-09").overdue == ["resumption_deadline"]
    c.events.append(_hub_termination(c, "2026-10-20T02:00"))  # written late
    s = c.state()
    assert (s.status, s.terminated_on) == ("terminated", "2026-10-09")
    assert s.suspensions[0]["until"] == "2026-10-08"


@settings(max_examples=120, deadline=None)
@given(st.dates(min_value=D(2026, 3, 10), max_value=D(2026, 12, 20)))
def test_10_2_5_2_the_last_day_to_resume_is_the_first_working_day_from_the_deadline(
        deadline: dt.date) -> None:
    """Whatever the date on form D: resumable through its last day (the deadline, or the
    next working day when it is a day off), terminated by the hub only after it; the
    overdue mark, the rules and the termination date agree on that one day."""
    last = WD.last_day(deadline)
    assert WD.is_workday(last) and last >= deadline
    assert not any(WD.is_workday(deadline + dt.timedelta(days=k))
                   for k in range((last - deadline).days))
    after = last + dt.timedelta(days=1)
    c = _proxy()
    c.suspend("2026-03-09T09:00", deadline=deadline.isoformat())
    assert c.state(as_of=last).overdue == []
    assert c.state(as_of=after).overdue == ["resumption_deadline"]
    check_transition(c.state(), c.make("resumption", f"{last}T16:00",
                                       cause_removed_on=f"{last}", private=SIGNED))
    _refused(c, "resumption", f"{after}T09:00", "resumption_deadline_passed",
             cause_removed_on=f"{after}", private=SIGNED)
    _refused(c, "termination", f"{last}T23:00", "resumption_deadline_not_passed",
             institution=CITY, short="HB", reason="resumption_deadline_passed")
    c.events.append(_hub_termination(c, f"{after + dt.timedelta(days=9)}T02:00"))
    assert c.state().terminated_on == after.isoformat()


def test_10_2_5_2_resumption_on_the_deadline_day_itself() -> None:
    c = CaseBuilder().proxy_in_handling()
    c.suspend("2026-03-09T09:00", deadline="2026-03-20")  # a Friday
    c.resume("2026-03-20T17:30")
    assert c.state(as_of="2026-03-21").overdue == []


def test_10_2_5_1_a_a_materials_period_ending_on_a_sunday_runs_to_monday() -> None:
    """a) "未在规定期限内提交": the applicant had Monday too, so a reason-a suspension
    (without a reminder) comes on Tuesday at the earliest, and the mark with it."""
    c = _proxy()
    c.notify("2026-03-02T11:00", materials_due="2026-03-15")  # a Sunday
    assert c.state(as_of="2026-03-16").overdue == []
    assert c.state(as_of="2026-03-17").overdue == ["materials"]
    _refused(c, "suspension", "2026-03-16T16:00", "reason_a_period_or_reminder",
             reason="a", resumption_deadline="2026-03-31")
    c.suspend("2026-03-17T09:00", reason="a", deadline="2026-03-31")


# -- 10.2.5: suspended time ------------------------------------------------------------------

def test_10_2_5_a_suspension_ending_the_day_it_started_stops_no_day() -> None:
    """The clock stops for the days a case ends suspended; suspended and resumed on one
    day, it never stopped: the time limit and the suspended days are unchanged."""
    plain = CaseBuilder().proxy_in_handling()
    c = CaseBuilder().proxy_in_handling()
    c.suspend("2026-03-04T09:00", deadline="2026-03-20")
    c.resume("2026-03-04T15:00")
    s = c.state(as_of="2026-03-05")
    assert s.due == plain.state().due == "2026-03-16"
    assert s.suspended_days == 0 and s.suspensions[0]["until"] == "2026-03-03"


# -- 10.1.3 / 5 a): when the time limit starts -------------------------------------------------

@settings(max_examples=60, deadline=None)
@given(st.dates(min_value=D(2026, 1, 5), max_value=D(2026, 11, 30)), st.integers(0, 20))
def test_10_1_3_acceptance_on_a_day_off_counts_from_the_next_working_day(
        day: dt.date, days: int) -> None:
    """The acceptance day is not counted (《行政许可法》's periods), worked or not: the
    limit ends on the n-th working day after it, so a Saturday acceptance is due as the
    Friday's would be, and a 即办件 (0 days) is due the day it was accepted."""
    c = CaseBuilder(f"{day}T08:00")
    c.consult(f"{day}T09:00")
    c.apply_assist(f"{day}T09:30")
    c.accept(f"{day}T10:00", days=days)
    s = c.state()
    assert s.limit_start == s.accepted_on == day.isoformat()
    assert s.due == WD.add_working_days(day, days).isoformat()
    assert WD.working_days_between(day, s.due) == days
    if days:
        assert WD.is_workday(s.due)


def test_10_1_3_a_case_done_on_the_spot_is_due_that_day() -> None:
    c = CaseBuilder("2026-03-07T08:00")  # a Saturday (door-to-door)
    c.consult("2026-03-07T09:00")
    c.apply_assist("2026-03-07T09:30")
    c.accept("2026-03-07T10:00", days=0)
    assert c.state().due == "2026-03-07"
    c.complete("2026-03-07T11:00")
    assert c.state().on_time is True
    late = CaseBuilder("2026-03-07T08:00")
    late.consult("2026-03-07T09:00")
    late.apply_assist("2026-03-07T09:30")
    late.accept("2026-03-07T10:00", days=0)
    late.complete("2026-03-09T09:00")
    assert late.state().on_time is False


# -- 4.3: a hand-up after part of the time limit ran ---------------------------------------------

def test_4_3_a_case_handed_up_keeps_its_time_limit_and_its_acceptance() -> None:
    """The limit promised on form A is the applicant's (4.2 whole-process tracking): the
    town that takes the case over inherits the days already run, and cannot accept anew
    to restart them."""
    c = CaseBuilder().proxy_in_handling()  # accepted 2 March, 10 working days: 16 March
    c.hand("hand_up", "2026-03-10T09:00", VILLAGE, TOWN)
    s = c.state(as_of="2026-03-17")
    assert (s.holder, s.due, s.overdue) == (TOWN, "2026-03-16", ["time_limit"])
    _refused(c, "acceptance", "2026-03-10T10:00", "status", institution=TOWN,
             zone="assisted_zone", time_limit_days=10)
    c.ev("completion", "2026-03-16T16:00", institution=TOWN, private=SIGNED)
    assert c.state().on_time is True


# -- 10.2.2 / 10.2.3: the entrustment's period (form C 委托期限) ------------------------------------

def test_10_2_2_an_entrustment_period_cannot_end_before_it_is_signed() -> None:
    c = CaseBuilder()
    c.consult("2026-03-02T09:00")
    _refused(c, "entrustment", "2026-03-02T09:30", "period_end_before_signing",
             channel="offline", service_item="MS-004", mode="door", ledger_no="DB-1",
             period_end="2026-03-01", private={"scope": "代为申报", **SIGNED})
    c.entrust("2026-03-02T09:30", period_end="2026-03-02")  # the same day is a period
    d = CaseBuilder().assist_in_handling()
    _refused(d, "conversion", "2026-03-04T09:00", "period_end_before_signing",
             ledger_no="DB-2", period_end="2026-03-03", private=SIGNED)


def test_10_2_3_no_acceptance_on_a_lapsed_entrustment_refuse_and_entrust_again() -> None:
    ok = CaseBuilder()
    ok.consult("2026-03-02T09:00")
    ok.entrust("2026-03-02T09:30", period_end="2026-03-06")
    ok.accept("2026-03-06T16:00")  # its last day: still in time
    c = CaseBuilder()
    c.consult("2026-03-02T09:00")
    c.entrust("2026-03-02T09:30", period_end="2026-03-06")
    _refused(c, "acceptance", "2026-03-09T09:00", "entrustment_expired",
             zone="assisted_zone", time_limit_days=10)
    c.ev("refusal", "2026-03-09T09:00", reason_codes=["other"],
         private={"reasons": "委托期限已届满"})
    c.entrust("2026-03-09T09:30", period_end="2026-06-30")
    c.accept("2026-03-09T10:00")
    assert c.state().status == "handling"


def test_11_1_a_a_proxy_case_that_outlives_its_entrustment_is_flagged_not_stranded() -> None:
    c = CaseBuilder()
    c.consult("2026-03-02T09:00")
    c.entrust("2026-03-02T09:30", period_end="2026-03-13")
    c.accept("2026-03-02T10:00", days=20)
    assert c.state(as_of="2026-03-13").warnings == []
    assert c.state(as_of="2026-03-16").warnings == ["entrustment_expired"]
    c.ev("submitted", "2026-03-16T09:00", department="民政局", channel="online")
    c.complete("2026-03-17T09:00")  # form B: the materials handed back all the same
    assert c.state(as_of="2026-03-18").warnings == []


# -- 6.2.4: the 清单 -------------------------------------------------------------------------------

def test_6_2_4_application_and_entrustment_need_an_item_listed_for_them() -> None:
    from schemas.eligibility import check_catalog, item_code
    from schemas.sample import catalog

    assist_only = next(i for i in catalog() if not i["proxy"])
    both = next(i for i in catalog() if i["assist"] and i["proxy"])
    entrust = {"event_type": "entrustment", "service_item": assist_only["code"], "hlc": "h"}
    with pytest.raises(IllegalTransition) as e:
        check_catalog(entrust, assist_only)
    assert (e.value.clause, e.value.rule) == ("10.2.2", "item_not_proxy")
    assert assist_only["code"] in e.value.message_zh
    check_catalog({"event_type": "application", "service_item": assist_only["code"]},
                  assist_only)
    check_catalog(dict(entrust, service_item=both["code"]), both)
    check_catalog(entrust, None)  # item not synced yet: the hub judges
    with pytest.raises(IllegalTransition) as e:
        check_catalog({"event_type": "application"}, dict(both, active=False))
    assert e.value.rule == "item_inactive"
    with pytest.raises(IllegalTransition) as e:  # the time limit check still runs
        check_catalog({"event_type": "acceptance", "time_limit_days": 400}, both)
    assert e.value.rule == "time_limit_days_over_statutory"
    assert item_code(entrust, {"service_item": "X"}) == assist_only["code"]
    assert item_code({"event_type": "acceptance"}, {"service_item": "X"}) == "X"


def test_a_step_is_judged_against_the_item_the_application_chose() -> None:
    """6.2.4 / 10.1.3: the header keeps the item asked about at the consultation (or none,
    暂不确定); the application chose another. The acceptance's time limit (and its tier) were
    judged against the consultation's item: refused for a limit the chosen item allows, or
    let through one over its statutory limit."""
    from schemas.eligibility import item_code

    applied = {"event_type": "application", "service_item": "B", "hlc": "0002"}
    again = {"event_type": "entrustment", "service_item": "C", "hlc": "0004"}
    accept = {"event_type": "acceptance", "hlc": "0003"}
    assert item_code(accept, {"service_item": "A"}, [applied]) == "B"
    assert item_code(accept, {"service_item": None}, [applied]) == "B"
    # only what came before the step: a later conversion's item does not judge it
    assert item_code(accept, {"service_item": "A"}, [applied, again]) == "B"
    assert item_code(dict(accept, hlc="0005"), {"service_item": "A"}, [applied, again]) == "C"
    assert item_code(accept, {"service_item": "A"}, []) == "A"


def test_10_2_5_2_a_resumption_deadline_stays_within_the_items_period() -> None:
    """The 清单's resumption period (working days from the suspension) bounds form D's
    deadline, as the statutory limit bounds form A's: the clock stops while suspended."""
    from schemas.eligibility import check_catalog
    from schemas.sample import catalog

    item = dict(next(i for i in catalog() if i["proxy"]), resumption_period_days=20)
    c = _proxy()
    latest = WD.add_working_days(D(2026, 3, 9), 20)  # 6 April: Qingming (4–6 April) skipped
    assert latest == D(2026, 4, 7)

    def suspension(deadline: dt.date) -> dict[str, object]:
        return c.make("suspension", "2026-03-09T09:00", reason="c",
                      resumption_deadline=deadline.isoformat(), private={"details": "x"})

    check_catalog(suspension(latest), item)
    with pytest.raises(IllegalTransition) as e:
        check_catalog(suspension(latest + dt.timedelta(days=1)), item)
    assert (e.value.clause, e.value.rule) == ("10.2.5.2", "resumption_deadline_over_period")
    assert "2026-04-07" in e.value.message_zh
    check_catalog(suspension(D(2027, 1, 1)), None)  # item unknown here: the hub judges


def test_6_2_4_only_a_tier_listed_for_the_item_accepts_it() -> None:
    """4.3 / 10.1.3: a case a station cannot handle goes up. 企业设立登记 is listed for the
    county and the city (the public pages say so); a village issued form A for it."""
    from schemas.eligibility import check_catalog
    from schemas.sample import catalog

    county_only = next(i for i in catalog() if i["tiers"] == ["county", "city"])
    every = next(i for i in catalog() if "village" in i["tiers"])
    accept = {"event_type": "acceptance", "hlc": "h", "institution": "410621100201",
              "time_limit_days": 1}
    with pytest.raises(IllegalTransition) as e:
        check_catalog(accept, county_only)
    assert (e.value.clause, e.value.rule) == ("6.2.4", "item_not_for_tier")
    assert "村（社区）便民服务站" in e.value.message_zh and "请上报" in e.value.message_zh
    with pytest.raises(IllegalTransition):  # and so is a town
        check_catalog(dict(accept, institution="410621100"), county_only)
    check_catalog(dict(accept, institution="410621"), county_only)  # the county accepts it
    with pytest.raises(IllegalTransition) as e:  # one listed below only: the county hands down
        check_catalog(dict(accept, institution="410621"), dict(every, tiers=["village", "town"]))
    assert "请下派" in e.value.message_zh and "hand the case down" in e.value.message_en
    check_catalog(accept, every)
    # consulted and entrusted anywhere (the village's proxy carries it up, 4.3)
    check_catalog({"event_type": "entrustment", "institution": "410621100201",
                   "service_item": county_only["code"]}, county_only)
