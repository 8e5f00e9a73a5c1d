"""Transition and deadline rules of DB4106/T 101—2023, one test per rule, clause in the name."""

from __future__ import annotations

import pytest

from schemas.errors import IllegalTransition, ValidationFailed
from schemas.fold import fold
from schemas.rules import check_transition
from tests.schemas.helpers import (
    CITY,
    COUNTY,
    OTHER_VILLAGE,
    SIGNED,
    TOWN,
    VILLAGE,
    CaseBuilder,
)


def _refused(c: CaseBuilder, event_type: str, at: str, clause: str, rule: str,
             **kw: object) -> IllegalTransition:
    doc = c.make(event_type, at, **kw)  # type: ignore[arg-type]
    with pytest.raises(IllegalTransition) as e:
        check_transition(c.state(), doc)
    assert e.value.clause == clause, e.value.as_json()
    assert e.value.rule == rule, e.value.as_json()
    assert e.value.status == 403 and e.value.error == "forbidden"
    assert e.value.message_zh and clause in e.value.reason
    return e.value


# -- 10.1.1 consultation ------------------------------------------------------------------------

def test_10_1_1_case_starts_with_consultation_application_or_entrustment() -> None:
    c = CaseBuilder()
    _refused(c, "acceptance", "2026-03-02T09:00", "10.1.1", "first_event",
             zone="assisted_zone", time_limit_days=5)


def test_10_1_1_3_reply_due_within_one_working_day() -> None:
    """Unanswered on Friday 2026-03-06 → due Monday 2026-03-09; overdue from the 10th."""
    c = CaseBuilder()
    q = c.consult("2026-03-06T15:00", answered=False, referred_to="民政局")
    s = c.state()
    assert s.pending_replies == {q["hlc"]: "2026-03-09"}
    assert c.state(as_of="2026-03-09").overdue == []
    assert c.state(as_of="2026-03-10").overdue == ["reply"]
    c.ev("reply", "2026-03-10T09:00", consultation=q["hlc"], channel="phone",
         private={"answer": "可以办理"})
    s = c.state(as_of="2026-03-10")
    assert s.replies == 1 and s.replies_late == 1 and s.overdue == [] and not s.pending_replies


def test_10_1_1_3_reply_due_on_spring_festival_makeup_saturday() -> None:
    """2026-02-13 (Fri) + 1 working day = 2026-02-14, a make-up workday (调休上班)."""
    c = CaseBuilder("2026-02-13T08:00")
    q = c.consult("2026-02-13T16:00", answered=False)
    assert c.state().pending_replies[q["hlc"]] == "2026-02-14"


def test_10_1_1_3_reply_needs_a_pending_consultation() -> None:
    c = CaseBuilder()
    q = c.consult("2026-03-02T09:00", answered=True)
    _refused(c, "reply", "2026-03-02T10:00", "10.1.1.3", "reply_without_pending_consultation",
             consultation=q["hlc"], channel="phone", private={"answer": "x"})


# -- 10.1.2 / 10.2.2 / 10.1.3 application, entrustment, acceptance, refusal ---------------------

def test_10_1_3_acceptance_needs_application_and_starts_time_limit() -> None:
    c = CaseBuilder()
    c.consult("2026-03-02T09:00")
    _refused(c, "acceptance", "2026-03-02T09:10", "10.1.3", "status",
             zone="assisted_zone", time_limit_days=5)
    c.apply_assist("2026-03-02T09:20")
    c.accept("2026-03-02T09:30", days=5)
    s = c.state()
    assert (s.status, s.service_type, s.due) == ("handling", "assist", "2026-03-09")


def test_10_1_3_refusal_with_reasons_then_new_application_allowed() -> None:
    c = CaseBuilder()
    c.apply_assist("2026-03-02T09:00")
    c.ev("refusal", "2026-03-02T09:30", reason_codes=["not_eligible"],
         private={"reasons": "不符合条件"})
    assert c.state().status == "refused"
    c.apply_assist("2026-03-03T09:00")
    assert c.state().status == "applied"


def test_10_2_2_entrustment_enters_proxy_ledger() -> None:
    c = CaseBuilder()
    c.entrust("2026-03-02T09:00")
    s = c.state()
    assert (s.status, s.service_type, s.entrusted, s.ledger_no) == \
        ("applied", "proxy", True, "DB-2026-00001")


def test_4_3_only_holder_accepts() -> None:
    c = CaseBuilder()
    c.apply_assist("2026-03-02T09:00")
    _refused(c, "acceptance", "2026-03-02T09:30", "4.3", "holder_only",
             institution=OTHER_VILLAGE, zone="assisted_zone", time_limit_days=5)


# -- 10.1.4 / 10.2.4 handling ---------------------------------------------------------------------

def test_10_1_4_one_time_notification_lists_missing_materials_until_received() -> None:
    c = CaseBuilder().assist_in_handling()
    c.notify("2026-03-02T11:00", materials_due="2026-03-09")
    assert c.state().materials_missing == ["M02"]
    assert c.state(as_of="2026-03-10").overdue == ["materials"]
    c.ev("material_received", "2026-03-05T09:00", materials=["M02"])
    assert c.state(as_of="2026-03-10").materials_missing == []


def test_10_2_4_decision_needs_submission() -> None:
    c = CaseBuilder().proxy_in_handling()
    _refused(c, "decision", "2026-03-03T09:00", "10.2.4", "decision_without_submission",
             department="民政局", outcome="approved")
    c.ev("submitted", "2026-03-03T09:00", department="民政局", channel="online")
    c.ev("decision", "2026-03-04T09:00", department="民政局", outcome="approved")
    assert c.state().last_decision == "approved"


def test_10_2_4_problems_recorded_with_status_and_result() -> None:
    c = CaseBuilder().proxy_in_handling()
    c.ev("problem_opened", "2026-03-03T09:00", problem_id="P1", category="department",
         private={"description": "系统故障"})
    _refused(c, "problem_opened", "2026-03-03T09:05", "10.2.4", "problem_exists",
             problem_id="P1", category="other", private={"description": "重复"})
    c.ev("problem_updated", "2026-03-03T10:00", problem_id="P1", status="in_progress")
    assert c.state().problems_open == 1
    c.ev("problem_resolved", "2026-03-04T10:00", problem_id="P1", result="resolved")
    assert c.state().problems_open == 0 and c.state().problems == {"P1": "resolved"}
    _refused(c, "problem_updated", "2026-03-04T11:00", "10.2.4", "problem_not_open",
             problem_id="P1", status="open")


def test_10_2_4_correction_received_needs_open_request() -> None:
    c = CaseBuilder().proxy_in_handling()
    r = c.ev("correction_requested", "2026-03-03T09:00", department="民政局",
             materials=["M01"])
    assert c.state().corrections_open == [r["hlc"]]
    c.ev("correction_received", "2026-03-04T09:00", request=r["hlc"])
    _refused(c, "correction_received", "2026-03-04T10:00", "10.2.4", "correction_not_open",
             request=r["hlc"])


# -- 10.1.4.3 conversion ---------------------------------------------------------------------------

def test_10_1_4_3_assist_converts_to_proxy() -> None:
    c = CaseBuilder().assist_in_handling()
    c.ev("conversion", "2026-03-03T09:00", ledger_no="DB-2026-00009", period_end="2026-06-30",
         private={"reason": "年老不便", **SIGNED})
    s = c.state()
    assert (s.service_type, s.converted, s.entrusted, s.status) == ("proxy", True, True,
                                                                     "handling")


def test_10_1_4_3_proxy_cannot_convert_again() -> None:
    c = CaseBuilder().proxy_in_handling()
    _refused(c, "conversion", "2026-03-03T09:00", "10.1.4.3", "conversion_from_assist",
             ledger_no="DB-1", period_end="2026-06-30", private=SIGNED)


# -- 10.2.5.1 suspension a–d, resumption; 10.2.5.2 termination ------------------------------------

@pytest.mark.parametrize("reason", ["a", "b", "c", "d"])
def test_10_2_5_1_suspension_reasons_a_to_d_and_resumption(reason: str) -> None:
    c = CaseBuilder().proxy_in_handling()
    if reason == "a":  # a) materials not submitted in the set period: they must be notified
        c.notify("2026-03-02T11:00", materials_due="2026-03-06")
    c.suspend("2026-03-09T09:00", reason=reason, deadline="2026-03-20")
    s = c.state()
    assert s.status == "suspended" and s.suspension and s.suspension["reason"] == reason
    c.resume("2026-03-16T09:00", removed="2026-03-13")
    s = c.state()
    assert s.status == "handling" and s.suspended_days == 5  # 9th..13th March
    # 10 working days from 2 March = 16 March, plus 5 suspended working days = 23 March
    assert s.due == "2026-03-23"


def test_10_2_5_1_reason_a_needs_notified_missing_materials() -> None:
    c = CaseBuilder().proxy_in_handling()
    _refused(c, "suspension", "2026-03-09T09:00", "10.2.5.1",
             "reason_a_needs_missing_materials", reason="a", resumption_deadline="2026-03-20")


def test_10_2_5_1_reason_a_after_the_period_or_a_reminder() -> None:
    """a) materials not submitted within the set period, or still not after reminders."""
    c = CaseBuilder().proxy_in_handling()
    c.notify("2026-03-02T11:00", materials_due="2026-03-13")
    _refused(c, "suspension", "2026-03-09T09:00", "10.2.5.1", "reason_a_period_or_reminder",
             reason="a", resumption_deadline="2026-03-20")
    c.ev("reminder", "2026-03-09T10:00", materials=["M02"])
    c.suspend("2026-03-10T09:00", reason="a", deadline="2026-03-20")
    assert c.state().suspension["reason"] == "a"  # type: ignore[index]


def test_10_2_5_2_termination_closes_the_suspension() -> None:
    c = CaseBuilder().proxy_in_handling()
    c.suspend("2026-03-09T09:00", deadline="2026-03-13")
    c.ev("termination", "2026-03-14T02:00", institution=CITY, short="HB",
         reason="resumption_deadline_passed")
    s = c.state(as_of="2026-04-01")
    assert s.suspension is None and s.suspended_days == 5
    assert s.suspensions[0]["until"] == "2026-03-13" and s.overdue == []


def test_10_2_5_2_a_late_termination_is_dated_the_day_after_the_deadline() -> None:
    """Deemed terminated once the resumption deadline passed: a hub that wrote the event a
    month late must not move the termination into another month's report (11.1 a)."""
    c = CaseBuilder().proxy_in_handling()
    c.suspend("2026-03-09T09:00", deadline="2026-03-13")
    c.ev("termination", "2026-04-20T02:00", institution=CITY, short="HB",
         reason="resumption_deadline_passed")
    s = c.state(as_of="2026-05-01")
    assert s.terminated_on == "2026-03-14"
    assert s.suspensions[0]["until"] == "2026-03-13" and s.suspended_days == 5
    # another reason ends the case on the day it is recorded
    d = CaseBuilder().proxy_in_handling()
    d.suspend("2026-03-09T09:00", deadline="2026-03-13")
    d.ev("termination", "2026-03-11T10:00", reason="applicant_withdrew")
    assert d.state().terminated_on == "2026-03-11"


def test_10_2_5_1_suspension_is_for_proxy_handling() -> None:
    c = CaseBuilder().assist_in_handling()
    _refused(c, "suspension", "2026-03-09T09:00", "10.2.5.1", "suspension_proxy_only",
             reason="c", resumption_deadline="2026-03-20")


def test_10_2_5_1_resumption_needs_suspension() -> None:
    c = CaseBuilder().proxy_in_handling()
    _refused(c, "resumption", "2026-03-09T09:00", "10.2.5.1", "status",
             cause_removed_on="2026-03-09", private=SIGNED)


def test_10_2_5_2_no_resumption_after_deadline() -> None:
    c = CaseBuilder().proxy_in_handling()
    c.suspend("2026-03-09T09:00", deadline="2026-03-20")
    _refused(c, "resumption", "2026-03-23T09:00", "10.2.5.2", "resumption_deadline_passed",
             cause_removed_on="2026-03-23", private=SIGNED)


def test_10_2_5_2_hub_terminates_after_deadline_only() -> None:
    c = CaseBuilder().proxy_in_handling()
    c.suspend("2026-03-09T09:00", deadline="2026-03-20")
    assert c.state(as_of="2026-03-20").overdue == []
    assert c.state(as_of="2026-03-21").overdue == ["resumption_deadline"]
    _refused(c, "termination", "2026-03-20T23:00", "10.2.5.2", "resumption_deadline_not_passed",
             institution=CITY, short="HB", reason="resumption_deadline_passed")
    c.ev("termination", "2026-03-21T02:00", institution=CITY, short="HB",
         reason="resumption_deadline_passed")
    s = c.state()
    assert (s.status, s.termination_reason) == ("terminated", "resumption_deadline_passed")
    # 10.2.5.2: the applicant must entrust again from the start (a new case)
    _refused(c, "entrustment", "2026-03-23T09:00", "10.2.5.2", "entrust_again",
             channel="offline", service_item="MS-004", mode="door", ledger_no="DB-2",
             period_end="2026-06-30", private={"scope": "x", **SIGNED})


def test_10_1_5_no_completion_while_suspended() -> None:
    c = CaseBuilder().proxy_in_handling()
    c.suspend("2026-03-09T09:00")
    refused = _refused(c, "completion", "2026-03-10T09:00", "10.1.5", "status", private=SIGNED)
    # the status as the clerk's list names it: the refusal said 状态为“suspended”
    assert "状态为“中止”" in refused.message_zh and "suspended" not in refused.message_zh


def test_10_1_5_termination_by_holder_with_form_b() -> None:
    c = CaseBuilder().assist_in_handling()
    c.ev("termination", "2026-03-05T09:00", reason="applicant_withdrew",
         private={**SIGNED, "reasons": "申请人撤回"})
    assert c.state().status == "terminated"


def test_10_1_5_on_time_completion_is_measured() -> None:
    c = CaseBuilder().assist_in_handling()  # 10 working days from 2 March → 16 March
    c.complete("2026-03-16T17:00")
    assert c.state().on_time is True
    late = CaseBuilder().assist_in_handling()
    late.complete("2026-03-17T09:00")
    assert late.state().on_time is False


def test_10_1_6_archive_only_after_end() -> None:
    c = CaseBuilder().assist_in_handling()
    _refused(c, "archived", "2026-03-05T09:00", "10.1.6", "status", archive_no="GD-1")
    c.complete("2026-03-05T10:00")
    c.ev("archived", "2026-03-06T09:00", archive_no="GD-1")
    _refused(c, "work_log", "2026-03-07T09:00", "10.1.6", "archived", kind="other",
             private={"text": "x"})
    # 11.2.1: once rated, the follow-up of the rating is logged on the archived case
    c.ev("rating", "2026-03-08T09:00", level="dissatisfied", channel="haochaping")
    c.ev("work_log", "2026-03-09T09:00", kind="contact", private={"text": "回访"})
    assert c.state().work_log_entries == 1 and not c.state().needs_review
    _refused(c, "completion", "2026-03-10T09:00", "10.1.6", "archived",
             private={**SIGNED, "materials_returned": [], "documents": []})


# -- 4.3 hand-up / hand-down ------------------------------------------------------------------------

def test_4_3_hand_up_village_town_county_and_down_again() -> None:
    c = CaseBuilder().proxy_in_handling()
    c.hand("hand_up", "2026-03-03T09:00", VILLAGE, TOWN)
    assert c.state().holder == TOWN
    _refused(c, "submitted", "2026-03-03T10:00", "4.3", "holder_only",
             department="民政局", channel="online")
    c.hand("hand_up", "2026-03-03T11:00", TOWN, COUNTY)
    c.hand("hand_down", "2026-03-04T09:00", COUNTY, TOWN)
    s = c.state()
    assert s.holder == TOWN and s.institutions == [VILLAGE, TOWN, COUNTY] and s.handovers == 3


def test_4_3_hand_up_one_tier_to_own_parent_only() -> None:
    c = CaseBuilder().proxy_in_handling()
    from schemas.build import handover_fields
    _refused(c, "hand_up", "2026-03-03T09:00", "4.3", "handover_adjacent_tier",
             **handover_fields(VILLAGE, COUNTY, "other"))
    _refused(c, "hand_up", "2026-03-03T09:00", "4.3", "handover_adjacent_tier",
             **handover_fields(VILLAGE, "410622101", "other"))  # another county's town
    _refused(c, "hand_down", "2026-03-03T09:00", "4.3", "handover_adjacent_tier",
             **handover_fields(VILLAGE, TOWN, "other"))


def test_4_3_hand_over_stays_inside_the_county() -> None:
    """A county code is 6 digits like its city's: the check compared only the city's 4
    digits for a county too, so a town of 浚县 handed up to 鹤山区 (another county, which then
    saw the case, design.md §5) and a county handed down to another county's town."""
    from schemas.build import handover_fields
    c = CaseBuilder().proxy_in_handling()
    c.hand("hand_up", "2026-03-03T09:00", VILLAGE, TOWN)
    _refused(c, "hand_up", "2026-03-03T10:00", "4.3", "handover_adjacent_tier",
             institution=TOWN, **handover_fields(TOWN, "410602", "other"))
    c.hand("hand_up", "2026-03-03T11:00", TOWN, COUNTY)
    _refused(c, "hand_down", "2026-03-03T12:00", "4.3", "handover_adjacent_tier",
             institution=COUNTY, **handover_fields(COUNTY, "410602101", "other"))
    c.hand("hand_up", "2026-03-03T13:00", COUNTY, CITY)
    c.hand("hand_down", "2026-03-03T14:00", CITY, "410602")  # the city: any of its counties
    assert c.state().holder == "410602"


def test_4_3_hand_over_tiers_are_the_codes_tiers() -> None:
    from schemas.build import handover_fields
    c = CaseBuilder().proxy_in_handling()
    # a village "declaring" itself a town hands up to the county, skipping its town
    _refused(c, "hand_up", "2026-03-03T09:00", "4.3", "handover_tier",
             **{**handover_fields(VILLAGE, COUNTY, "other"), "from_tier": "town"})


# -- 11.2.1 rating after completion; 11.1 complaints once the case is opened ------------------------

def test_11_2_1_rating_only_after_completion_and_once() -> None:
    c = CaseBuilder().assist_in_handling()
    _refused(c, "rating", "2026-03-04T09:00", "11.2.1", "status", level="satisfied",
             channel="haochaping")
    c.complete("2026-03-05T09:00")
    c.ev("rating", "2026-03-05T10:00", level="very_satisfied", channel="haochaping")
    assert c.state().rating == "very_satisfied"
    _refused(c, "rating", "2026-03-06T09:00", "11.2.1", "rated_once", level="dissatisfied",
             channel="haochaping")


def test_11_1_c_complaint_during_handling_accepted_rating_still_refused() -> None:
    """11.1 c: inaction, misconduct, 吃拿卡要 are complained about while the case stalls."""
    _refused(CaseBuilder(), "complaint", "2026-03-02T08:00", "10.1.1", "first_event",
             channel="phone", category="inaction", private={"text": "x"})  # no case yet
    c = CaseBuilder().assist_in_handling()
    k = c.ev("complaint", "2026-03-04T09:00", channel="written", category="inaction",
             private={"text": "材料交了一周没人办"})
    assert c.state(as_of="2026-03-04").overdue == ["complaint"]
    assert c.state().status == "handling"
    _refused(c, "rating", "2026-03-04T10:00", "11.2.1", "status", level="dissatisfied",
             channel="haochaping")
    c.ev("complaint_handled", "2026-03-05T09:00", complaint=k["hlc"], result="upheld",
         private={"text": "已督促承办人当日办理"})
    s = c.state(as_of="2026-03-05")
    assert s.complaints == 1 and not s.complaints_open and s.status == "handling"


def test_11_1_c_complaint_while_suspended() -> None:
    c = CaseBuilder().proxy_in_handling()
    c.suspend("2026-03-09T09:00", reason="c", deadline="2026-03-20")
    c.ev("complaint", "2026-03-10T09:00", channel="phone", category="misconduct",
         private={"text": "x"})
    assert c.state().complaints == 1 and c.state().status == "suspended"


def test_11_1_complaint_channel_written_and_unknown_channel_refused() -> None:
    c = CaseBuilder().assist_in_handling()
    with pytest.raises(ValidationFailed) as exc:
        c.ev("complaint", "2026-03-04T09:00", channel="fax", category="inaction",
             private={"text": "x"})
    assert [(p.field, p.rule) for p in exc.value.problems] == [("channel", "one_of")]
    assert "written（书面）" in exc.value.problems[0].message_zh


def test_11_2_1_complaint_after_completion_and_handled() -> None:
    c = CaseBuilder().assist_in_handling()
    c.complete("2026-03-05T09:00")
    k = c.ev("complaint", "2026-03-06T09:00", channel="phone", category="overdue",
             private={"text": "太慢"})
    assert c.state(as_of="2026-03-06").overdue == ["complaint"]
    c.ev("complaint_handled", "2026-03-07T09:00", complaint=k["hlc"], result="rejected",
         private={"text": "已核实"})
    s = c.state(as_of="2026-03-07")
    assert s.complaints == 1 and not s.complaints_open and s.overdue == []


def test_7_2_2_2_access_is_logged_in_any_state() -> None:
    c = CaseBuilder().assist_in_handling()
    c.complete("2026-03-05T09:00")
    c.ev("archived", "2026-03-06T09:00", archive_no="GD-1")
    c.ev("access", "2026-03-09T09:00", institution=COUNTY, purpose="supervision")
    assert c.state().accesses == 1


def test_7_2_2_2_access_before_first_event_does_not_make_a_holder() -> None:
    """An access entry whose clock sorts before the case's first event (skew) is applied
    without deciding who holds the case (4.3)."""
    c = CaseBuilder()
    c.ev("access", "2026-03-02T08:00", institution=COUNTY, purpose="supervision")
    c.consult("2026-03-02T09:00")
    s = c.state()
    assert (s.origin, s.holder, s.accesses, s.status) == (VILLAGE, VILLAGE, 1, "consulted")


# -- the remaining status rules, one row each: (setup, event, fields, clause, rule) -------------

def _suspended() -> CaseBuilder:
    c = CaseBuilder().proxy_in_handling()
    c.suspend("2026-03-05T09:00")
    return c


def _completed() -> CaseBuilder:
    c = CaseBuilder().assist_in_handling()
    c.complete("2026-03-05T09:00")
    return c


STATUS_RULES = [
    (lambda: CaseBuilder().proxy_in_handling(), "entrustment",
     dict(channel="offline", service_item="MS-004", mode="door", ledger_no="DB-9",
          period_end="2026-06-30", private={"scope": "s", **SIGNED}), "10.2.2", "status"),
    (lambda: CaseBuilder().proxy_in_handling(), "application",
     dict(channel="offline", service_item="MS-004", mode="door"), "10.1.2", "status"),
    (_completed, "notification",
     dict(materials=[{"code": "M1", "name": "n", "how_to_obtain": "h"}]), "10.1.4.2", "status"),
    (_completed, "material_received", dict(materials=["M1"]), "10.1.4", "status"),
    (lambda: CaseBuilder().proxy_in_handling(), "reminder", dict(materials=["M1"]), "10.2.5.1", None),
    (_suspended, "correction_requested", dict(department="民政局", materials=["M1"]), "10.2.4",
     "status"),
    (_suspended, "submitted", dict(department="民政局", channel="online"), "10.2.4", "status"),
    (_completed, "problem_opened", dict(problem_id="P9", category="other",
                                        private={"description": "d"}), "10.2.4", "status"),
    (_completed, "complaint_handled", dict(complaint="019cb4f0b2a0-0000-410621101201-A1",
                                           result="upheld", private={"text": "t"}), "11.1",
     "complaint_not_open"),
    (_completed, "termination", dict(reason="other"), "10.1.5", "status"),
    (_suspended, "suspension", dict(reason="c", resumption_deadline="2026-03-30"), "10.2.5.1",
     "status"),
    (_completed, "hand_up", dict(from_institution=VILLAGE, to_institution=TOWN,
                                 from_tier="village", to_tier="town", reason_code="other"),
     "4.3", "status"),
]


@pytest.mark.parametrize("setup,event_type,fields,clause,rule", STATUS_RULES,
                         ids=[f"{r[3]}-{r[1]}" for r in STATUS_RULES])
def test_status_rules(setup: object, event_type: str, fields: dict, clause: str,
                      rule: str | None) -> None:
    c = setup()  # type: ignore[operator]
    if rule is None:  # allowed here: a reminder in handling (10.2.5.1 a)
        c.ev(event_type, "2026-03-09T09:00", **fields)
        return
    _refused(c, event_type, "2026-03-09T09:00", clause, rule, **fields)


def test_suspension_deadline_must_follow_the_suspension() -> None:
    """10.2.5.2: a resumption deadline on or before the suspension date is refused."""
    c = CaseBuilder().proxy_in_handling()
    _refused(c, "suspension", "2026-03-09T09:00", "10.2.5.2", "resumption_deadline_future",
             reason="d", resumption_deadline="2026-03-09")


def test_resumption_cause_removed_between_suspension_and_resumption() -> None:
    c = CaseBuilder().proxy_in_handling()
    c.suspend("2026-03-09T09:00")
    _refused(c, "resumption", "2026-03-12T09:00", "10.2.5.1", "cause_removed_on",
             cause_removed_on="2026-03-13", private=SIGNED)


def test_event_of_another_case_is_refused() -> None:
    c = CaseBuilder().assist_in_handling()
    other = CaseBuilder("2026-03-01T09:00")
    doc = other.make("consultation", "2026-03-02T09:00", channel="window", answered=True,
                     private={"question": "q"})
    with pytest.raises(IllegalTransition) as e:
        check_transition(c.state(), doc)
    assert e.value.rule == "case_id"


def test_form_e_new_period_restarts_the_time_limit() -> None:
    """10.2.5.1 (form E): a new period counts from the resumption."""
    c = CaseBuilder().proxy_in_handling()
    c.suspend("2026-03-05T09:00")
    c.resume("2026-03-10T09:00", removed="2026-03-10", new_time_limit_days=3)
    assert c.state().due == "2026-03-13"


def test_next_steps_follow_the_rules() -> None:
    """The node's buttons: probed against the same rules (10.1.3, 10.2.5.1, 10.2.5.2, 11.2.1)."""
    from schemas.steps import next_steps

    c = CaseBuilder()
    assert set(next_steps(c.state(), institution=VILLAGE, on="2026-03-02")) == \
        {"consultation", "application", "entrustment", "access"}
    c.consult("2026-03-02T09:00", answered=False)
    c.entrust("2026-03-02T09:30")
    steps = next_steps(c.state(), institution=VILLAGE, on="2026-03-02")
    assert {"reply", "acceptance", "refusal", "hand_up"} <= set(steps)
    assert "completion" not in steps and "rating" not in steps
    c.accept("2026-03-02T10:00")
    c.suspend("2026-03-03T09:00", deadline="2026-03-10")
    steps = next_steps(c.state(), institution=VILLAGE, on="2026-03-09")
    assert "resumption" in steps and "completion" not in steps and "suspension" not in steps
    steps = next_steps(c.state(), institution=CITY, on="2026-03-11")  # the hub, past deadline
    assert "termination" in steps and "resumption" not in steps
    assert "resumption" not in next_steps(c.state(), institution=VILLAGE, on="2026-03-11")
    assert "acceptance" not in next_steps(c.state(), institution=TOWN, on="2026-03-09")


def test_10_2_5_2_dates_are_beijing_dates_whatever_the_writer_offset() -> None:
    """A hub server in UTC writes 2026-03-13T18:00Z = 14 March in Hebi: past a 13 March
    deadline."""
    c = CaseBuilder().proxy_in_handling()
    c.suspend("2026-03-09T09:00", deadline="2026-03-13")
    ev = c.make("termination", "2026-03-14T02:00", institution=CITY, short="HB",
                reason="resumption_deadline_passed")
    ev["at"] = "2026-03-13T18:00:00+00:00"
    check_transition(c.state(), ev)


def test_10_1_3_a_promised_time_limit_stays_within_the_statutory_one() -> None:
    from schemas.rules import check_time_limit

    item = {"code": "QY-001", "time_limit_days": 3}
    check_time_limit({"event_type": "acceptance", "time_limit_days": 3}, item)  # equal: fine
    check_time_limit({"event_type": "acceptance", "time_limit_days": 1}, item)  # shorter: fine
    check_time_limit({"event_type": "acceptance", "time_limit_days": 30}, None)  # item unknown
    check_time_limit({"event_type": "work_log", "time_limit_days": 30}, item)  # no promise
    with pytest.raises(IllegalTransition) as e:
        check_time_limit({"event_type": "acceptance", "time_limit_days": 4, "hlc": "h"}, item)
    assert (e.value.clause, e.value.rule) == ("10.1.3", "time_limit_days_over_statutory")
    assert "法定时限 3" in e.value.message_zh and e.value.event_id == "h"
    with pytest.raises(IllegalTransition) as e:  # form E's new period too (10.2.5)
        check_time_limit({"event_type": "resumption", "new_time_limit_days": 9}, item)
    assert (e.value.clause, e.value.rule) == ("10.2.5", "new_time_limit_days_over_statutory")
    check_time_limit({"event_type": "resumption", "new_time_limit_days": None}, item)


def test_10_2_5_2_a_restored_hub_s_second_termination_is_the_same_act() -> None:
    """A hub restored from a backup taken before it terminated the case terminates it again
    (it cannot know of its lost event until a station pushes it back): one act, written
    twice, in either order of arrival; the case is not flagged needs_review."""
    c = CaseBuilder().proxy_in_handling()
    sus = c.suspend("2026-03-09T09:00", deadline="2026-03-13")
    lost = c.ev("termination", "2026-03-16T02:00", institution=CITY, short="HB",
                reason="resumption_deadline_passed", base_hlc=sus["hlc"])
    again = c.make("termination", "2026-03-18T02:00", institution=CITY, short="HB",
                   reason="resumption_deadline_passed", base_hlc=sus["hlc"])
    once = c.state(as_of="2026-04-01")
    for events in (c.events + [again], [again] + c.events):
        s = fold(events, as_of="2026-04-01")
        assert (s.needs_review, s.reviews) == (False, [])
        assert (s.status, s.terminated_on, s.suspensions) == \
            ("terminated", "2026-03-14", once.suspensions)
        assert s.applied == once.applied and s.events == once.events + 1
    assert lost["_id"] != again["_id"]


def test_10_2_5_2_a_termination_judged_on_a_suspension_since_resumed_still_needs_review() -> None:
    """Not the same act: the second termination's base is an earlier suspension, resumed in
    time; it judged a state that never held, and stays a review."""
    c = CaseBuilder().proxy_in_handling()
    first = c.suspend("2026-03-09T09:00", deadline="2026-03-13")
    c.resume("2026-03-12T09:00")
    c.suspend("2026-03-16T09:00", deadline="2026-03-18")
    c.ev("termination", "2026-03-20T02:00", institution=CITY, short="HB",
         reason="resumption_deadline_passed")
    stale = c.make("termination", "2026-03-23T02:00", institution=CITY, short="HB",
                   reason="resumption_deadline_passed", base_hlc=first["hlc"])
    s = fold([*c.events, stale])
    assert [r.rule for r in s.reviews] == ["status"] and s.needs_review
