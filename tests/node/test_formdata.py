"""What the printed forms say, built from hand-made case histories (node.formdata, no PDF):
the periods as they really run, and what the applicant signs for."""

from __future__ import annotations

from typing import Any

from node.formdata import build
from node.state import fold
from tests.hub.oversight.cases import HUB_DEVICE, CaseBuilder

VILLAGE = "410621100201"


def _case(b: CaseBuilder) -> dict[str, Any]:
    return {"header": b.header, "private": {}, "events": b.events,
            "state": fold(b.header, b.events)}


def _form_d_deadline(serial: str, deadline: str) -> str:
    """The 续办期限 printed on form D of a case suspended on Thu 5 Mar until ``deadline``."""
    b = CaseBuilder(VILLAGE, serial, "2026-03-02", service_type="proxy")
    b.accepted("2026-03-02", 40, proxy=True)
    b.ev("suspension", "2026-03-05", reason="c", resumption_deadline=deadline,
         private={"details": "申请人要求暂停"})
    return str(dict(build("D", _case(b)).rows)["续办期限"])


def test_form_d_prints_the_working_day_a_sunday_resumption_deadline_runs_to() -> None:
    """10.2.5.2: the case page and the hub count a Sunday deadline to the Monday, but form D,
    the paper the applicant keeps, printed only the Sunday typed: read alone, it told the
    applicant to come back on a day the station is closed, a day earlier than the rule."""
    assert _form_d_deadline("s3", "2026-03-22") == "2026-03-22（遇休息日、节假日顺延至 2026-03-23）"
    # on a working day the typed date is the last day: printed alone
    assert _form_d_deadline("s4", "2026-03-20") == "2026-03-20"


def test_form_n_prints_the_working_day_a_sunday_materials_period_runs_to() -> None:
    """10.2.5.1 a: the same for the one-time notification's materials period."""
    b = CaseBuilder(VILLAGE, "s5", "2026-03-02")
    b.ev("application", "2026-03-02", channel="offline", service_item="MS-001", mode="nearby")
    b.ev("notification", "2026-03-02", materials=[{"code": "M1", "name": "身份证", "how_to_obtain": "本人携带"}],
         materials_due="2026-03-15")  # a Sunday
    assert dict(build("N", _case(b)).rows)["材料提交期限"] \
        == "2026-03-15（遇休息日、节假日顺延至 2026-03-16）"


def test_form_b_says_handed_over_only_what_it_lists() -> None:
    """10.1.5 / 10.2.6: form B read "以上材料及审批结果文件已全部移交服务对象" under 交还材料 无
    and 审批结果文件 无 (a case ended before anything was received): the applicant signed
    for papers that never existed."""
    def note(**private: list[str]) -> str:
        b = CaseBuilder(VILLAGE, "s6", "2026-03-02").accepted("2026-03-02", 5)
        b.ev("completion", "2026-03-04", private={"applicant_signature": "b.png", **private})
        return build("B", _case(b)).note

    assert "移交" not in note(materials_returned=[], documents=[])
    assert "本次没有需要交还的材料或审批结果文件（10.1.5）" in note(materials_returned=[],
                                                       documents=[])
    assert "以上所列材料及审批结果文件已移交服务对象（10.1.5）" in note(
        materials_returned=["身份证原件"], documents=["营业执照"])


def test_form_d_reprinted_after_the_resumption_is_the_paper_signed() -> None:
    """Form D reprinted once the case resumed (node.views.forms passes the fold as it stood
    after the suspension, ``step_state``): its 续办期限 lost the working day a Sunday
    deadline runs to, read from the case's fold now (no suspension any more), and was
    another paper than the one the applicant signed."""
    b = CaseBuilder(VILLAGE, "s9", "2026-03-02", service_type="proxy")
    b.accepted("2026-03-02", 40, proxy=True)
    b.ev("suspension", "2026-03-05", reason="c", resumption_deadline="2026-03-22",
         private={"details": "申请人要求暂停"})
    at_step = fold(b.header, b.events)
    b.ev("resumption", "2026-03-10", cause_removed_on="2026-03-10",
         private={"applicant_signature": "e.png"})
    rows = dict(build("D", _case(b), step_state=at_step).rows)
    assert rows["续办期限"] == "2026-03-22（遇休息日、节假日顺延至 2026-03-23）"


def test_form_n_reprinted_after_the_materials_came_is_the_paper_signed() -> None:
    """The same for the one-time notification once the materials it asked for arrived."""
    b = CaseBuilder(VILLAGE, "s10", "2026-03-02")
    b.ev("application", "2026-03-02", channel="offline", service_item="MS-001", mode="nearby")
    b.ev("notification", "2026-03-02", materials=[{"code": "M1", "name": "身份证",
                                                   "how_to_obtain": "本人携带"}],
         materials_due="2026-03-15")  # a Sunday
    at_step = fold(b.header, b.events)
    b.ev("material_received", "2026-03-04", materials=["M1"])
    rows = dict(build("N", _case(b), step_state=at_step).rows)
    assert rows["材料提交期限"] == "2026-03-15（遇休息日、节假日顺延至 2026-03-16）"


def test_form_b_of_the_hubs_termination_lists_what_the_station_holds() -> None:
    """10.2.6: a case terminated for any reason hands all materials back. The hub writes the
    10.2.5.2 termination without a list (it cannot read what the station holds): its form B
    said 交还材料 无 and "本次没有需要交还的材料" while form C of the same case listed the ID
    and the 户口簿 received (the demo network's terminated case)."""
    b = CaseBuilder(VILLAGE, "s9", "2026-03-02", service_type="proxy")
    b.ev("entrustment", "2026-03-02", channel="offline", service_item="MS-001", mode="nearby",
         ledger_no="DB-9", period_end="2026-12-31",
         private={"scope": "代办", "applicant_signature": "s.png",
                  "materials_received": ["申请人身份证明", "户口簿"]})
    b.ev("acceptance", "2026-03-02", zone="assisted_zone", time_limit_days=20)
    b.ev("suspension", "2026-03-05", reason="c", resumption_deadline="2026-03-13",
         private={"details": "申请人要求暂停", "applicant_signature": "d.png"})
    b.ev("termination", "2026-03-17", device=HUB_DEVICE, institution="410600",
         reason="resumption_deadline_passed",
         private={"reasons": "超过续办期限，视为终止（10.2.5.2） / resumption deadline passed"})
    form = build("B", _case(b))
    assert dict(form.rows)["交还材料"] == "申请人身份证明、户口簿"
    assert "以上所列材料及审批结果文件已移交服务对象（10.2.6）" in form.note


def test_the_proxy_forms_of_an_assisted_case_say_proxy() -> None:
    """10.1.4.3: form C printed blank for an assisted case is the paper of its conversion to
    proxy handling (D and E exist only for proxy handling, 10.2.5): it read 服务类型 帮办 under
    the title 代办服务委托书, the paper the applicant signs to hand the case over."""
    b = CaseBuilder(VILLAGE, "s10", "2026-03-02").accepted("2026-03-02", 10)
    for letter in "CDE":
        assert dict(build(letter, _case(b)).rows)["服务类型"] == "代办", letter
    assert dict(build("A", _case(b)).rows)["服务类型"] == "帮办"


def test_form_a_says_its_due_date_is_an_estimate_over_an_unpublished_year() -> None:
    """design.md §6: a due date counted over a year whose holidays are not published is an
    estimate (Monday to Friday), and the paper the applicant keeps must say so."""
    def due(day: str) -> str:
        b = CaseBuilder(VILLAGE, "s8", day).accepted(day, 10)
        return str(dict(build("A", _case(b)).rows)["预计办结日期"])

    assert due("2026-03-02") == "2026-03-16"  # 2026: chinesecalendar knows it
    assert due("2026-12-28") == "2027-01-11（预计，节假日安排公布后可能调整）"
