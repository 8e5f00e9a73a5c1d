"""10.1.1: a consultation answered on the spot (or by the reply 10.1.1.3 asks for) is done.
A case that is only consultations is ``consulting`` (open) while a reply is due and
``consulted`` (not open) once none is; the visitor may still come back and apply."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from schemas.build import handover_fields
from schemas.errors import IllegalTransition
from schemas.rules import check_transition
from schemas.state import OPEN, STATUS_LABELS, STATUSES
from tests.schemas.helpers import COUNTY, TOWN, VILLAGE, CaseBuilder


def test_answered_consultation_is_consulted_and_not_open() -> None:
    c = CaseBuilder()
    c.consult("2026-03-02T09:00", answered=True)
    s = c.state(as_of="2026-06-01")
    assert s.status == "consulted" and s.status not in OPEN
    assert s.overdue == [] and s.pending_replies == {}
    assert "consulted" in STATUSES and STATUS_LABELS["consulted"][0] == "咨询已答复"


def test_unanswered_consultation_is_consulting_until_its_reply() -> None:
    c = CaseBuilder()
    q = c.consult("2026-03-02T09:00", answered=False, referred_to="县人社局")
    assert c.state().status == "consulting" and "consulting" in OPEN
    c.ev("reply", "2026-03-03T09:00", consultation=q["hlc"], channel="phone",
         private={"answer": "已答复"})
    s = c.state()
    assert (s.status, s.replies, s.replies_late) == ("consulted", 1, 0)


def test_reply_clearing_one_of_two_keeps_it_open_the_last_closes_it() -> None:
    c = CaseBuilder()
    q1 = c.consult("2026-03-02T09:00", answered=False)
    q2 = c.consult("2026-03-02T10:00", answered=False)
    c.ev("reply", "2026-03-03T09:00", consultation=q1["hlc"], channel="phone",
         private={"answer": "a"})
    assert c.state().status == "consulting"
    c.ev("reply", "2026-03-03T10:00", consultation=q2["hlc"], channel="phone",
         private={"answer": "b"})
    assert c.state().status == "consulted"


def test_a_further_unanswered_consultation_reopens_it() -> None:
    c = CaseBuilder()
    c.consult("2026-03-02T09:00")
    assert c.state().status == "consulted"
    c.consult("2026-03-09T09:00")  # answered on the spot again: still done
    assert c.state().status == "consulted"
    c.consult("2026-03-10T09:00", answered=False)
    assert c.state().status == "consulting"


@pytest.mark.parametrize("step", ["application", "entrustment"])
def test_the_visitor_comes_back_and_applies(step: str) -> None:
    c = CaseBuilder()
    c.consult("2026-03-02T09:00")
    if step == "application":
        c.apply_assist("2026-03-20T09:00")
    else:
        c.entrust("2026-03-20T09:00")
    s = c.state()
    assert s.status == "applied" and not s.needs_review
    c.accept("2026-03-20T10:00")
    assert c.state().status == "handling"


def test_what_a_consulting_case_allowed_a_consulted_one_allows() -> None:
    c = CaseBuilder()
    c.consult("2026-03-02T09:00")
    c.notify("2026-03-02T09:05")  # 10.1.4.2: one-time notification of what to bring
    c.ev("material_received", "2026-03-02T09:10", materials=["M02"])
    c.ev("work_log", "2026-03-02T09:20", kind="contact", private={"text": "电话回访"})
    c.ev("access", "2026-03-02T09:30", purpose="handling")
    c.ev("complaint", "2026-03-02T09:40", channel="phone", category="attitude",
         private={"text": "态度不好"})
    c.hand("hand_up", "2026-03-02T10:00", VILLAGE, TOWN)
    s = c.state()
    assert (s.status, s.holder, s.needs_review) == ("consulted", TOWN, False)
    with pytest.raises(IllegalTransition):  # 10.1.3: acceptance still needs an application
        check_transition(s, c.make("acceptance", "2026-03-02T11:00", institution=TOWN,
                                   zone="assisted_zone", time_limit_days=5))


def test_applied_or_handled_cases_keep_their_status_when_consulted() -> None:
    c = CaseBuilder().assist_in_handling()
    q = c.consult("2026-03-03T09:00", answered=False)
    assert c.state().status == "handling"
    c.ev("reply", "2026-03-04T09:00", consultation=q["hlc"], channel="phone",
         private={"answer": "a"})
    assert c.state().status == "handling"
    c.complete("2026-03-05T09:00")
    c.consult("2026-03-06T09:00")
    assert c.state().status == "completed"


def test_a_handover_between_tiers_needs_the_holder_still() -> None:
    c = CaseBuilder()
    c.consult("2026-03-02T09:00")
    with pytest.raises(IllegalTransition):
        check_transition(c.state(), c.make("hand_up", "2026-03-02T10:00", institution=TOWN,
                                           **handover_fields(TOWN, COUNTY,
                                                             "beyond_authority")))


@settings(max_examples=120, deadline=None)
@given(st.lists(st.tuples(st.booleans(), st.integers(0, 3)), min_size=1, max_size=12))
def test_a_consultation_only_case_is_open_exactly_while_a_reply_is_due(
        spec: list[tuple[bool, int]]) -> None:
    """Random consultations (answered or not), each followed by the reply to the ``k``-th
    pending one when ``k`` names one: the status is ``consulting`` iff a reply is due,
    ``consulted`` otherwise, and an application may always follow."""
    c = CaseBuilder()
    pending: list[str] = []
    for i, (answered, k) in enumerate(spec):
        at = f"2026-03-{2 + i:02d}T09:00"
        q = c.consult(at, answered=answered)
        if not answered:
            pending.append(q["hlc"])
        if k < len(pending) and k % 2 == 0:
            c.ev("reply", f"2026-03-{2 + i:02d}T15:00", consultation=pending.pop(k),
                 channel="phone", private={"answer": "a"})
        s = c.state()
        assert s.status == ("consulting" if pending else "consulted")
        assert (s.status in OPEN) == bool(pending) == bool(s.pending_replies)
    check_transition(c.state(), c.make("application", "2026-03-30T09:00", channel="offline",
                                       service_item="MS-004", mode="nearby"))
