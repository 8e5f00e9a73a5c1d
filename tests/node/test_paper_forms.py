"""The forms read as paper (printer15): what a blank form leaves for the hand, who the
station and the 经办人 are called on it, the date a reprint promises, and a short form on
one sheet."""

from __future__ import annotations

import copy
import subprocess
from pathlib import Path
from typing import Any

import pytest

from node import formdata, pdf
from schemas.state import local_today
from tests.node.test_clerk_day import SIG, _case_id, _consult, _step
from tests.node.test_pdf import CASE


def _rows(letter: str, case: dict[str, Any], **kw: Any) -> dict[str, str]:
    return dict(formdata.build(letter, case, **kw).rows)


def _pdf_text(data: bytes, tmp_path: Path) -> str:
    path = tmp_path / "f.pdf"
    path.write_bytes(data)
    text = subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True,
                          text=True, check=True).stdout
    return " ".join(text.split())


def test_a_blank_form_leaves_its_lines_for_the_hand() -> None:
    """Printed before the step, a form is filled in by hand: form D said "中止原因 ）", C
    "已收材料 无" and B "交还材料 无" (above "以上所列材料…已移交") with no line for a
    termination's reason, E "原时限扣除中止期间" and had no line for the due date at all."""
    blank = {**CASE, "events": []}
    assert _rows("D", blank)["中止原因"] == ""
    assert _rows("C", blank)["已收材料"] == ""
    b = _rows("B", blank)
    assert b["交还材料"] == b["审批结果文件"] == b["终止原因"] == ""
    e = _rows("E", blank)
    assert e["新的办理时限"] == "" and e["预计办结日期"] == ""
    # recorded, the same lines say what happened
    assert _rows("D", CASE)["中止原因"] == "c）服务对象要求暂停办理"
    assert _rows("B", CASE)["交还材料"] == "无"


def test_a_new_period_of_no_days_is_printed_as_one() -> None:
    """10.2.5.1: a resumption may set a new period of 0 working days (a 即办件; the schema
    allows 0 and the fold counts it); form E printed "原时限扣除中止期间" for it."""
    case = copy.deepcopy(CASE)
    case["events"][3]["new_time_limit_days"] = 0
    assert _rows("E", case)["新的办理时限"] == "0 个工作日"


@pytest.mark.parametrize("letter", sorted(formdata.TITLES))
def test_every_form_names_its_staff_by_name_alone(letter: str) -> None:
    """8.1.2: only form A had a 经办人 line, and it printed "蒋思远（staff-201-1）" (the id
    the events carry, an English word on the applicant's paper) or, with no roster entry,
    the device id. Every form has the line; a blank form leaves it to the hand."""
    refused = {"event_type": "refusal", "at": "2026-11-20T09:00:00+08:00",
               "reason_codes": ["not_eligible"], "private": {}}
    case = {**CASE, "events": [*CASE["events"], refused]}
    assert _rows(letter, case, staff_name="蒋思远")["经办人"] == "蒋思远"
    assert _rows(letter, case)["经办人"] == ""
    if letter != "N":  # printed from the item before any notification is recorded
        assert _rows(letter, {**CASE, "events": []}, staff_name="蒋思远")["经办人"] == ""


def test_a_station_not_yet_synced_prints_its_own_name(unlocked: Any, tmp_path: Path) -> None:
    """A station offline from its first day has no institution document yet (reference
    data comes with a pull): its forms read "服务机构 410621100201" although the
    enrollment names it (测试村便民服务站, tests.node.conftest)."""
    case_id = _case_id(_consult(unlocked))
    resp = unlocked.get(f"/cases/{case_id}/forms/N.pdf")
    assert resp.status_code == 200
    text = _pdf_text(resp.data, tmp_path)
    assert "服务机构 测试村便民服务站" in text and "410621100201 " not in text.split("编号")[1]


def test_form_a_reprinted_after_a_resumption_keeps_the_date_it_promised(
        unlocked: Any, tmp_path: Path) -> None:
    """10.1.3: form A promises a date; a case later suspended and resumed with a new
    period of 1 working day printed that period's date under "承诺办理时限 5 个工作日",
    another paper than the one signed at the acceptance. Form E gives the new date."""
    from schemas.sample import catalog

    node = unlocked.application.extensions["bangban_node"]
    case_id = _case_id(_consult(unlocked))
    t = local_today().isoformat()
    assert _step(unlocked, case_id, "entrustment", channel="offline", mode="nearby",
                 service_item=catalog()[0]["code"], ledger_no="DB-1", scope="代为提交",
                 period_end="2099-12-31", signature_data=SIG).status_code == 302
    assert _step(unlocked, case_id, "acceptance", zone="assisted_zone",
                 time_limit_days="5").status_code == 302
    promised = node.index.get(case_id)["limit_due"]
    first = _pdf_text(unlocked.get(f"/cases/{case_id}/forms/A.pdf").data, tmp_path)
    assert f"预计办结日期 {promised}" in first
    assert _step(unlocked, case_id, "suspension", reason="c", resumption_deadline="2099-12-31",
                 signature_data=SIG).status_code == 302
    assert _step(unlocked, case_id, "resumption", cause_removed_on=t,
                 new_time_limit_days="1", signature_data=SIG).status_code == 302
    now = node.index.get(case_id)["limit_due"]
    assert now != promised  # 1 working day from today, not 5
    again = _pdf_text(unlocked.get(f"/cases/{case_id}/forms/A.pdf").data, tmp_path)
    assert again == first
    e = _pdf_text(unlocked.get(f"/cases/{case_id}/forms/E.pdf").data, tmp_path)
    assert "新的办理时限 1 个工作日" in e and f"预计办结日期 {now}" in e


def test_form_a_of_an_item_with_four_materials_fits_one_sheet(tmp_path: Path) -> None:
    """Form A of the sample 最低生活保障申请 (four materials, one still missing) ran onto a
    second sheet holding only the note and the two signature lines, a quarter of the
    first left empty: the applicant signed a page with nothing on it to sign for."""
    case = copy.deepcopy(CASE)
    case["private"]["address"] = "鹤山区鹤壁集镇鹤壁集村11组48号"
    case["item"]["materials"] = [
        {"code": "M01", "name": "申请人身份证明", "original": True},
        {"code": "M02", "name": "户口簿", "original": True},
        {"code": "M03", "name": "家庭经济状况核对授权书"},
        {"code": "M04", "name": "收入证明", "how_to_obtain": "所在单位或村（居）委会出具"}]
    case["state"] = {"materials_missing": ["M04"], "due": "2026-12-09"}
    data = pdf.render(formdata.build("A", case, institution_name="鹤壁集村便民服务站",
                                     staff_name="曾嘉豪"))
    text = _pdf_text(data, tmp_path)
    assert "第 1 页，共 1 页" in text and "经办人（签字）" in text


def test_a_checklist_over_pages_leaves_no_sliver_of_a_row(tmp_path: Path) -> None:
    """25 materials over three sheets: each sheet but the last ended with the list's
    repeated head over an empty sliver of the next row (reportlab split a one-line row
    at 1 pt, the least its ``splitInRow`` allowed), the row itself on the next sheet."""
    case = copy.deepcopy(CASE)
    case["item"]["materials"] = [
        {"code": f"M{i:02}", "name": f"第{i}项材料名称比较长的证明文件",
         "how_to_obtain": "到所在村（居）委会开具证明并加盖公章后提交原件及复印件"}
        for i in range(1, 26)]
    case["state"] = {"materials_missing": [f"M{i:02}" for i in range(1, 26, 2)]}
    path = tmp_path / "a.pdf"
    path.write_bytes(pdf.render(formdata.build("A", case)))
    pages = subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True,
                           text=True, check=True).stdout.rstrip("\f").split("\f")
    assert len(pages) > 1
    for n, page in enumerate(pages, 1):  # the head once, at the top of the list's part
        assert page.count("收取情况") == ("项材料" in page), n
    text = " ".join("".join(pages).split())
    assert all(f"第{i}项材料" in text for i in range(1, 26))


def test_a_character_the_main_font_lacks_is_drawn_from_another_installed_one(
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """The first installed font was the only one: with WenQuanYi and Noto CJK both
    installed, 𠮷 (which Noto draws) printed as 〓. Here DejaVu Sans, the one other font on
    a test machine, stands in for Noto: Ə of a name in Latin script, which WenQuanYi lacks,
    is printed from it, embedded, and not marked for the clerk's hand."""
    from node import pdffonts

    dejavu = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"
    monkeypatch.setattr(pdffonts, "KNOWN_FONTS", (*pdffonts.KNOWN_FONTS, (dejavu, 0)))
    for name in ("_registered", "_main", "_others"):
        monkeypatch.setattr(pdffonts, name, None)
    case = {**CASE, "private": {**CASE["private"], "applicant_name": "Əli·林"}}
    path = tmp_path / "a.pdf"
    path.write_bytes(pdf.render(formdata.build("A", case)))
    text = _pdf_text(path.read_bytes(), tmp_path)
    assert "服务对象 Əli·林" in text and "〓" not in text and "U+018F" not in text
    fonts = subprocess.run(["pdffonts", str(path)], capture_output=True, text=True,
                           check=True).stdout
    assert any("DejaVuSans" in ln and " yes " in ln for ln in fonts.splitlines())


def test_a_notification_before_the_item_is_chosen_has_lines_for_the_materials(
        tmp_path: Path) -> None:
    """A consultation may leave the item open (暂不确定): its one-time notification, to be
    filled in by hand, printed the list's title and no table under it, nowhere to write
    the materials and how to obtain them."""
    case = {**CASE, "item": None, "events": []}
    text = _pdf_text(pdf.render(formdata.build("N", case)), tmp_path)
    assert "所需材料清单： 序号 材料 获取方式 1 2 3 4 5 6 以上为一次性告知" in text


def test_forms_b_and_d_carry_the_time_limit_and_b_whether_it_was_kept() -> None:
    """The appendices' common fields include the time limit promised: form D (the clock
    stops, 10.2.5) and form B (the case ends; 11.2.1 the applicant is asked to rate it)
    did not say what it was, nor B whether it was kept."""
    late = {**CASE, "state": {"time_limit_days": 5, "on_time": False}}
    b = _rows("B", late)
    assert b["承诺办理时限"] == "5 个工作日" and b["是否按时办结"] == "否"
    assert _rows("D", late)["承诺办理时限"] == "5 个工作日"
    # as at the step: a resumption's new period after the suspension is not form D's
    assert _rows("D", late, step_state={"time_limit_days": 3})["承诺办理时限"] == "3 个工作日"
    blank = _rows("B", {**late, "state": {"time_limit_days": 5, "on_time": True},
                        "events": []})
    assert blank["承诺办理时限"] == blank["是否按时办结"] == ""
    ended = {"event_type": "termination", "at": "2026-11-26T09:00:00+08:00",
             "reason": "applicant_withdrew", "private": {}}
    assert "是否按时办结" not in _rows("B", {**late, "events": [*CASE["events"][:4], ended]})
