"""What the applicant takes home (the printed forms), read as the applicant reads them: the
date the promise falls on, who acted for them, why they were refused or the case ended and
what they can do next, whom to call, and who has the case after it went up to the town."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

from schemas.state import local_today
from tests.node.conftest import TOWN, VILLAGE
from tests.node.test_clerk_day import SIG, _case_id, _consult, _step


def _text(client: Any, case_id: str, letter: str, tmp_path: Path) -> str:
    resp = client.get(f"/cases/{case_id}/forms/{letter}.pdf")
    assert resp.status_code == 200, (letter, resp.status_code)
    out = tmp_path / f"{letter}.pdf"
    out.write_bytes(resp.data)
    text = subprocess.run(["pdftotext", "-layout", str(out), "-"], capture_output=True,
                          text=True, check=True).stdout
    return " ".join(text.split())


def _applied(client: Any, **extra: str) -> str:
    from schemas.sample import catalog

    case_id = _case_id(_consult(client, service_type="assist", **extra))
    assert _step(client, case_id, "application", channel="offline", mode="nearby",
                 service_item=catalog()[0]["code"]).status_code == 302
    return case_id


def test_form_a_gives_the_date_the_time_limit_falls_on(unlocked: Any, tmp_path: Path) -> None:
    """10.1.3: form A promised "5 个工作日" and no date: the applicant cannot count working
    days over weekends and 调休, and had no date to hold the station to."""
    case_id = _applied(unlocked)
    assert _step(unlocked, case_id, "acceptance", zone="assisted_zone",
                 time_limit_days="5").status_code == 302
    due = unlocked.application.extensions["bangban_node"].index.get(case_id)["limit_due"]
    assert due and due > local_today().isoformat()
    assert f"预计办结日期 {due}" in _text(unlocked, case_id, "A", tmp_path)


def test_an_agent_acting_for_the_applicant_is_named_and_signs_as_such(
        unlocked: Any, tmp_path: Path) -> None:
    """A firm's 经办人 or an old person's son comes to the window: the consultation form
    had nowhere to write him (schemas.case has ``agent_name``), so forms named only the
    applicant and the line he signed read 服务对象（签字）, as if the applicant had signed."""
    case_id = _applied(unlocked, applicant_name="鹤壁市某某商贸有限公司", agent_name="张三",
                       id_type="uscc", id_number="91410600MA44XXXX85")
    assert 'id="agent">张三<' in unlocked.get(f"/cases/{case_id}").data.decode()
    for letter, signs in (("N", "代理人（签收）"), ("A", "代理人（签字）")):
        text = _text(unlocked, case_id, letter, tmp_path)
        assert "服务对象 鹤壁市某某商贸有限公司 代理人 张三" in text, letter
        assert signs in text and "服务对象（签" not in text, letter
    # corrected on the case page like the other particulars, the old value kept sealed
    page = unlocked.get(f"/cases/{case_id}/applicant/").data.decode()
    assert 'name="agent_name"' in page and 'value="张三"' in page


def test_a_refused_applicant_is_given_the_reasons_and_the_next_step_on_paper(
        unlocked: Any, tmp_path: Path) -> None:
    """10.1.3 / 10.2.3: not eligible → tell the applicant *with reasons*. Every other
    outcome has its paper; a refusal had none (no form, no print button, R was a 404)."""
    case_id = _applied(unlocked)
    resp = _step(unlocked, case_id, "refusal", reason_codes="materials_insufficient",
                 reasons="缺少股东身份证明")
    assert resp.status_code == 302 and "printed=R" in resp.headers["Location"]
    page = unlocked.get(resp.headers["Location"]).data.decode()
    assert 'id="print-now"' in page and "不予受理告知单" in page and 'id="print-R"' in page
    text = _text(unlocked, case_id, "R", tmp_path)
    assert "不予受理告知单" in text and "不予受理原因 基本材料不足：缺少股东身份证明" in text
    assert "请按一次性告知单补齐材料后，再来申请" in text and "投诉" in text


def test_a_termination_says_what_the_applicant_can_do_next(unlocked: Any,
                                                          tmp_path: Path) -> None:
    """10.1.5: form B of a terminated case gave the reason and stopped there."""
    case_id = _applied(unlocked)
    assert _step(unlocked, case_id, "acceptance", zone="assisted_zone",
                 time_limit_days="5").status_code == 302
    assert _step(unlocked, case_id, "termination", reason="applicant_withdrew",
                 signature_data=SIG).status_code == 302
    text = _text(unlocked, case_id, "B", tmp_path)
    assert "终止原因 服务对象撤回" in text and "后续办理 已按您的要求终止。如需再办，可随时重新申请。" in text


def test_form_d_says_the_time_limit_stops_while_suspended(unlocked: Any, tmp_path: Path) -> None:
    """10.2.5: the applicant signing form D was told only that missing the resumption
    deadline ends the service, not that the days suspended do not count against them."""
    case_id = _case_id(_consult(unlocked))
    text = _text(unlocked, case_id, "D", tmp_path)
    assert "中止期间不计入办理时限" in text and "续办期限内签订续办委托书" in text


def test_forms_say_how_to_reach_the_institution(app: Any, unlocked: Any,
                                                tmp_path: Path) -> None:
    """8.1.2 / 4.2: the applicant goes home with form A and a question; the paper named the
    station and gave no address or phone (the institution document has both)."""
    node = app.extensions["bangban_node"]
    node.store.put({"_id": f"institution:{VILLAGE}", "type": "institution", "code": VILLAGE,
                    "name": "某村便民服务站", "tier": "village", "parent": TOWN,
                    "schema_version": 1, "address": "某村村委会一楼", "phone": "0392-1234567"})
    node._names.clear()
    case_id = _applied(unlocked)
    text = _text(unlocked, case_id, "N", tmp_path)
    assert "服务机构 某村便民服务站 机构地址及电话 地址：某村村委会一楼；电话：0392-1234567" in text


def test_a_case_handed_up_names_who_handles_it_now(app: Any) -> None:
    """4.3: after a hand-up the town holds the case; a paper the village prints (the
    notification again, form A) named the village alone, which no longer has it."""
    from node import formdata
    from node.views.forms import issuer

    accepted = {"event_type": "acceptance", "institution": VILLAGE, "at": "2026-11-20T09:00:00+08:00",
                "zone": "assisted_zone", "time_limit_days": 5, "private": {}}
    case: dict[str, Any] = {"header": {"institution": VILLAGE, "case_no": "X"},
                            "private": {"applicant_name": "王小明"}, "events": [accepted],
                            "state": {"holder": TOWN, "status": "handling"}}
    assert issuer(case, accepted) == (VILLAGE, TOWN)
    assert issuer(case, None) == (TOWN, None)  # nothing recorded here: the holder's paper
    assert issuer({**case, "state": {"holder": TOWN, "status": "completed"}}, accepted) \
        == (VILLAGE, None)
    form = formdata.build("A", case, institution_name="某村便民服务站",
                          handled_by="某镇便民服务中心；电话：0392-7654321")
    assert ("现办理机构", "某镇便民服务中心；电话：0392-7654321") in form.rows


def test_a_termination_written_by_the_hub_names_the_station_and_says_its_reason_once(
        app: Any) -> None:
    """10.2.5.2: the hub terminates a case past its resumption deadline, as the city's
    device. Form B named 鹤壁市政务服务中心 (the event's institution), which the applicant
    never dealt with, and printed the reason twice, the second time with English."""
    from node import formdata
    from node.views.forms import issuer

    ended = {"event_type": "termination", "institution": "410621", "reason":
             "resumption_deadline_passed", "at": "2026-11-27T00:00:00+08:00",
             "private": {"reasons": "超过续办期限，视为终止（10.2.5.2） / resumption deadline passed"}}
    case: dict[str, Any] = {"header": {"institution": VILLAGE, "case_no": "X"},
                            "private": {"applicant_name": "王小明"}, "events": [ended],
                            "state": {"holder": VILLAGE, "status": "terminated"}}
    assert issuer(case, ended) == (VILLAGE, None)
    rows = dict(formdata.build("B", case).rows)
    assert rows["终止原因"] == "超过续办期限，视为终止（10.2.5.2）"
    assert rows["后续办理"].endswith("如需继续办理，须重新委托（10.2.5.2）。")
    ended["private"] = {"reasons": "材料甲 / 材料乙 逾期未交"}  # a clerk's own words stay whole
    assert dict(formdata.build("B", case).rows)["终止原因"].endswith("：材料甲 / 材料乙 逾期未交")


def test_form_b_asks_for_the_rating_and_says_where_to_complain(unlocked: Any,
                                                               tmp_path: Path) -> None:
    """11.2.1: the applicant rates the service after completion (好差评); form B, the
    paper they hold then, did not say so, nor where to take a complaint (11.1)."""
    case_id = _applied(unlocked)
    assert _step(unlocked, case_id, "acceptance", zone="assisted_zone",
                 time_limit_days="5").status_code == 302
    assert _step(unlocked, case_id, "completion", documents="参保凭证",
                 signature_data=SIG).status_code == 302
    text = _text(unlocked, case_id, "B", tmp_path).replace(" ", "")  # lines wrap anywhere
    assert "办理结果办结" in text and "“好差评”对本次服务作出评价" in text
    assert "可以向本机构或其上级机构投诉" in text


def test_a_firm_s_address_is_not_called_a_residence(unlocked: Any, tmp_path: Path) -> None:
    case_id = _applied(unlocked, applicant_name="鹤壁市某某商贸有限公司", applicant_kind="enterprise",
                       address="淇滨区某路1号")
    text = _text(unlocked, case_id, "N", tmp_path)
    assert "地址 淇滨区某路1号" in text and "住址" not in text


def test_form_c_of_a_conversion_is_not_a_blank_power_of_attorney() -> None:
    """10.1.4.3: the applicant finds assisted handling too hard and signs form C for proxy
    handling. The conversion records no scope nor materials of its own, and its form C
    printed 委托事项及权限 blank and 已收材料 无 over the applicant's signature."""
    from node import formdata
    from tests.node.test_pdf import CASE

    item = {**CASE["item"], "materials": [{"code": "M01", "name": "居民身份证"},
                                          {"code": "M02", "name": "户口簿"}]}
    case = {**CASE, "item": item, "state": {"materials_missing": ["M02"]}, "events": [
        {"event_type": "conversion", "at": "2026-11-21T09:00:00+08:00", "ledger_no": "DB-9",
         "period_end": "2026-12-31", "private": {"reason": "老人行动不便"}}]}
    rows = dict(formdata.build("C", case).rows)
    assert rows["委托事项及权限"] == ("代为办理上述服务事项（由帮办转为代办，10.1.4.3）。"
                                "转为代办的原因：老人行动不便")
    assert rows["已收材料"] == "居民身份证" and rows["委托期限至"] == "2026-12-31"


def test_a_notification_before_the_item_is_known_promises_no_blank_time_limit(
        unlocked: Any, tmp_path: Path) -> None:
    """A consultation whose item is left open (暂不确定): form N printed 法定办理时限
    " 个工作日", a number left out of a promise."""
    case_id = _case_id(_consult(unlocked, service_item=""))
    text = _text(unlocked, case_id, "N", tmp_path)
    assert "法定办理时限 待确定服务事项后告知" in text and " 个工作日" not in text


def test_an_agent_added_later_is_kept_with_the_other_particulars(unlocked: Any,
                                                                  tmp_path: Path) -> None:
    """The son comes back for his mother: the agent is written in on the case page (更正),
    the phone another tab corrected meanwhile is not put back, and the forms name him."""
    from tests.node.conftest import csrf

    case_id = _applied(unlocked, applicant_name="赵桂芳")
    form = {"csrf": csrf(unlocked), "applicant_name": "赵桂芳", "agent_name": "赵大伟",
            "phone": "13800000000", "id_type": "resident_id", "id_number": "", "address": "",
            "was_applicant_name": "赵桂芳", "was_agent_name": "", "was_phone": "13800000000",
            "was_id_type": "", "was_id_number": "", "was_address": ""}
    assert unlocked.post(f"/cases/{case_id}/applicant/", data=form).status_code == 302
    text = _text(unlocked, case_id, "N", tmp_path)
    assert "服务对象 赵桂芳 代理人 赵大伟" in text and "代理人（签收）" in text


def test_a_bad_rating_asks_the_station_to_call_the_applicant_back(unlocked: Any) -> None:
    """11.2.1: a 不满意 rating is to be followed up; the hub counts a later work-log entry
    as the follow-up (差评已回访), but the case page never said one was due."""
    case_id = _applied(unlocked)
    assert _step(unlocked, case_id, "acceptance", zone="assisted_zone",
                 time_limit_days="5").status_code == 302
    assert _step(unlocked, case_id, "completion", signature_data=SIG).status_code == 302
    assert 'id="rating-follow-up"' not in unlocked.get(f"/cases/{case_id}").data.decode()
    assert _step(unlocked, case_id, "rating", level="dissatisfied",
                 channel="haochaping").status_code == 302
    assert 'id="rating-follow-up"' in unlocked.get(f"/cases/{case_id}").data.decode()
    # a note on the case's progress is no call-back: the reminder stays
    assert _step(unlocked, case_id, "work_log", kind="tracking",
                 text="审批结果已送达").status_code == 302
    assert 'id="rating-follow-up"' in unlocked.get(f"/cases/{case_id}").data.decode()
    assert _step(unlocked, case_id, "work_log", kind="contact",
                 text="电话回访，已说明原因").status_code == 302
    assert 'id="rating-follow-up"' not in unlocked.get(f"/cases/{case_id}").data.decode()


def test_a_termination_written_by_the_hub_names_no_staff(app: Any) -> None:
    """10.2.5.2: the hub ends the case, no clerk does; form B named the clerk who opened it
    as its 经办人 (node.views.forms._staff fell back to the header)."""
    from node.views.forms import _staff

    ended = {"event_type": "termination", "institution": "410621", "reason":
             "resumption_deadline_passed", "at": "2026-11-27T00:00:00+08:00"}
    case: dict[str, Any] = {"header": {"institution": VILLAGE, "case_no": "X", "staff": "S1"},
                            "events": [ended], "state": {"holder": VILLAGE}}
    with app.test_request_context():
        assert _staff(case, ended) == ("", "")
        assert _staff(case, None)[0] == "S1"  # a blank or header-only paper: the opener


def test_form_b_of_a_termination_by_the_hub_says_the_platform_ended_it(
        app: Any, unlocked: Any, monkeypatch: Any) -> None:
    """10.2.5.2, 8.1.2: form B of a case the hub terminated printed an empty 经办人, read by
    the applicant as a clerk who would not sign. It names the platform, in words, never the
    hub's device id; a station's step with no staff named (no roster) stays blank."""
    from types import SimpleNamespace

    from node import formdata
    from node.views.common import node
    from node.views.forms import _staff

    ended = {"event_type": "termination", "institution": "410621", "reason":
             "resumption_deadline_passed", "at": "2026-11-27T00:00:00+08:00",
             "device": "410600-HB", "private": {}}
    case: dict[str, Any] = {"header": {"institution": VILLAGE, "case_no": "X", "staff": "S1"},
                            "private": {}, "events": [ended], "state": {"holder": VILLAGE}}
    said = "平台自动终止（续办期限已过，10.2.5.2）"
    with app.test_request_context():
        # the provisional directory (before a first sync) names no hub: the naming convention
        assert _staff(case, ended) == ("", said)
        _, name = _staff(case, ended)
        rows = dict(formdata.build("B", case, staff_name=name).rows)
        assert rows["经办人"] == said and "410600" not in rows["经办人"]
        station = {**ended, "device": "410621100201-A1"}  # a station's, no roster: no one
        assert _staff(case, station) == ("", "")
        # the signed directory names the hub's device: it, not the name's shape, decides
        monkeypatch.setattr(node().reading, "directory", lambda: SimpleNamespace(hub="410600-H2"))
        assert _staff(case, ended) == ("", "")
        assert _staff(case, {**ended, "device": "410600-H2"}) == ("", said)


def test_the_case_record_names_the_platform_for_a_step_the_hub_recorded(app: Any,
                                                                        unlocked: Any) -> None:
    """The case page's record listed a 10.2.5.2 termination with no 经办人 at all while form B
    named the platform: the clerk reading the record could not tell who ended the case. It
    says 平台自动终止 as the form does; a station's step without staff stays without."""
    from node.views.cases import _staff_labels

    ended = {"_id": "ev-hub", "type": "event", "event_type": "termination",
             "reason": "resumption_deadline_passed", "device": "410600-HB"}
    station = {"_id": "ev-st", "type": "event", "event_type": "work_log",
               "device": "410621100201-A1"}
    case: dict[str, Any] = {"header": {"_id": "case-1", "institution": VILLAGE},
                            "events": [ended, station]}
    with app.test_request_context():
        labels = _staff_labels(case)
    assert labels == {"ev-hub": "平台自动终止（续办期限已过，10.2.5.2）"}
