"""Printed forms: A–E and the one-time notification, Chinese text extractable, the TTF
embedded (or the CID fallback when no TTF exists), laid out with 编号 and signature lines."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import pytest

from node import formdata, pdf, pdffonts

CASE: dict[str, Any] = {
    "header": {"case_no": "410621100201-2026-A1-00007", "institution": "410621100201",
               "service_item": "MS-001", "service_type": "proxy", "mode": "door", "staff": "s1"},
    "private": {"applicant_name": "赵桂芳", "id_type": "resident_id",
                "id_number": "410621195001011232", "phone": "13700001111", "address": "一组3号"},
    "item": {"name": "城乡居民基本养老保险参保登记", "department": "人力资源和社会保障局",
             "time_limit_days": 5,
             "materials": [{"code": "M01", "name": "居民身份证", "how_to_obtain": "本人携带"}]},
    "events": [
        {"event_type": "entrustment", "at": "2026-11-20T09:00:00+08:00", "ledger_no": "DB-7",
         "period_end": "2026-12-31", "private": {"scope": "代为提交申请", "materials_received": ["身份证复印件"]}},
        {"event_type": "acceptance", "at": "2026-11-20T09:10:00+08:00", "zone": "assisted_zone",
         "time_limit_days": 5, "private": {}},
        {"event_type": "suspension", "at": "2026-11-21T09:00:00+08:00", "reason": "c",
         "resumption_deadline": "2026-12-20", "private": {"details": "申请人外出"}},
        {"event_type": "resumption", "at": "2026-11-24T09:00:00+08:00",
         "cause_removed_on": "2026-11-24", "new_time_limit_days": 3, "private": {}},
        {"event_type": "completion", "at": "2026-11-26T09:00:00+08:00", "documents": ["参保凭证"],
         "materials_returned": [], "private": {}},
    ],
}
EXPECT = {"A": ["帮办代办受理单", "帮办代办系统办理区"], "B": ["帮办代办办结（终止）单", "参保凭证"],
          "C": ["代办服务委托书", "代为提交申请", "DB-7"], "D": ["代办服务中止单", "服务对象要求暂停办理", "2026-12-20"],
          "E": ["代办服务续办委托书", "2026-11-24"], "N": ["一次性告知单", "居民身份证", "本人携带"]}


def _text(data: bytes, tmp_path: Path) -> str:
    path = tmp_path / "f.pdf"
    path.write_bytes(data)
    return subprocess.run(["pdftotext", str(path), "-"], capture_output=True, text=True,
                          check=True).stdout


@pytest.mark.parametrize("letter", sorted(EXPECT))
def test_each_form_prints_its_content(letter: str, tmp_path: Path) -> None:
    data = pdf.render(formdata.build(letter, CASE, institution_name="城关镇某村便民服务站"))
    text = _text(data, tmp_path)
    for phrase in [*EXPECT[letter], "410621100201-2026-A1-00007", "赵桂芳", "城关镇某村便民服务站"]:
        assert phrase in text.replace("\n", ""), (letter, phrase)
    assert "签字" in text or "签收" in text


def test_ttf_is_embedded(tmp_path: Path) -> None:
    path = tmp_path / "a.pdf"
    path.write_bytes(pdf.render(formdata.build("A", CASE)))
    fonts = subprocess.run(["pdffonts", str(path)], capture_output=True, text=True).stdout
    line = next(ln for ln in fonts.splitlines() if "WenQuanYi" in ln or "Noto" in ln)
    assert " yes " in line  # emb column


def test_cid_fallback_without_ttf(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setattr(pdffonts, "KNOWN_FONTS", (("/nonexistent/font.ttc", 0),))
    monkeypatch.setattr(pdffonts, "_registered", None)
    data = pdf.render(formdata.build("B", CASE))
    assert pdffonts._registered == pdffonts.CID_FALLBACK
    assert "帮办代办办结（终止）单" in _text(data, tmp_path)
    monkeypatch.setattr(pdffonts, "_registered", None)  # later renders pick the TTF again


def test_a_form_dates_its_step_in_beijing_time() -> None:
    """Form A's 受理日期 (10.1.3) is the Beijing date of the acceptance: a laptop on UTC
    wrote at 01:10 Beijing time as "2026-11-26T17:10:00+00:00", and the form printed 26."""
    case = {**CASE, "events": [{"event_type": "acceptance", "at": "2026-11-26T17:10:00+00:00",
                                "zone": "assisted_zone", "time_limit_days": 5, "private": {}}]}
    assert ("受理日期", "2026-11-27") in formdata.build("A", case).rows


def test_form_e_without_a_new_period_says_what_runs_on() -> None:
    """10.2.5: a resumption that sets no new period keeps the time limit, less the
    suspension. Form E printed "新的办理时限： 个工作日", a blank the applicant signed."""
    events = [*CASE["events"][:3], {"event_type": "resumption", "at": "2026-11-24T09:00:00+08:00",
                                    "cause_removed_on": "2026-11-24", "private": {}}]
    case = {**CASE, "events": events, "state": {"status": "handling", "due": "2026-12-01"}}
    rows = dict(formdata.build("E", case).rows)
    assert rows["新的办理时限"] == "原时限扣除中止期间"
    assert rows["预计办结日期"] == "2026-12-01"
    with_days = dict(formdata.build("E", {**CASE, "state": {"due": "2026-11-27"}}).rows)
    assert with_days["新的办理时限"] == "3 个工作日"


def test_a_drawn_signature_is_dated_on_the_form(tmp_path: Path) -> None:
    """The applicant signs forms B–E on the pad at the step; the printed form carried the
    signature beside an empty "年 月 日" (the standard's forms: signature and date)."""
    from tests.node.test_clerk_day import PNG

    signed = pdf.render(formdata.build("C", CASE, signature_png=PNG))
    said = _text(signed, tmp_path)
    # the date as the form's other dates are written, not "2026 年 11 月 20 日"
    assert "2026年11月20日" in said and "2026 年 11 月" not in said
    blank = _text(pdf.render(formdata.build("C", CASE)), tmp_path)  # printed to sign by hand
    assert "2026 年" not in blank


def test_a_rare_character_of_a_name_is_never_printed_as_a_blank(tmp_path: Path) -> None:
    """An applicant named 𠮷㐀林 (CJK extensions B and A, which WenQuanYi lacks): form A
    printed "林" after two blanks, a name the applicant signed under. Either the font draws
    the characters, or each is marked 〓 and the note under the table names its code point
    for the clerk to write it in by hand."""
    case = {**CASE, "private": {**CASE["private"], "applicant_name": "𠮷㐀林"}}
    text = _text(pdf.render(formdata.build("A", case)), tmp_path).replace("\n", "")
    from reportlab.pdfbase import pdfmetrics

    face = getattr(pdfmetrics.getFont(pdffonts.register_font()), "face", None)
    if {0x20BB7, 0x3400} <= set(getattr(face, "charToGlyph", None) or ()):
        assert "𠮷㐀林" in text
    else:
        assert "〓〓林" in text and "U+20BB7、U+3400" in text and "手工补写" in text, text
    assert "赵桂芳" not in text and "410621195001011232" in text


def test_a_very_long_free_text_runs_on_to_the_next_page(tmp_path: Path) -> None:
    """A scope of entrustment (10.2.2) as long as a page: form C could not be printed at
    all, a 500 with reportlab's words (Flowable <Table…> too large on page 2). It prints
    over two pages, every word of it."""
    import copy

    case = copy.deepcopy(CASE)
    case["events"][0]["private"]["scope"] = "代为办理参保登记、领取审批结果。" * 300
    text = _text(pdf.render(formdata.build("C", case)), tmp_path).replace("\n", "")
    assert text.count("代为办理参保登记、领取审批结果。") == 300
    assert "\x0c" in text and "委托人（签字）" in text


def test_the_signatures_stay_together_and_every_page_says_which_form_it_is(
        tmp_path: Path) -> None:
    """Form A with a checklist just long enough printed the applicant's signature line at
    the foot of page 1 and the staff's alone on page 2, and page 2 said nothing of the form
    it belonged to. Whatever the checklist's length, both lines are on one page with the
    note they confirm, and every page carries the 编号 and 第 n 页，共 N 页."""
    path = tmp_path / "a.pdf"
    spilled = False
    for n in range(12):
        mats = [{"code": f"M{i}", "name": f"材料{i}", "how_to_obtain": "本人携带"} for i in range(n)]
        path.write_bytes(pdf.render(formdata.build("A", {**CASE, "item": {**CASE["item"],
                                                                         "materials": mats}})))
        pages = [subprocess.run(["pdftotext", "-f", str(p), "-l", str(p), str(path), "-"],
                                capture_output=True, text=True).stdout  # none: ""
                 for p in (1, 2, 3)]
        total = sum(1 for t in pages if t.strip())
        holding = [i for i, t in enumerate(pages) if "经办人（签字）" in t]
        assert holding and "服务对象（签字）" in pages[holding[0]], n
        assert "免费" in pages[holding[0]], n  # the note goes with them
        for i in range(total):
            assert f"编号：{CASE['header']['case_no']}" in pages[i].replace("\n", "")
            assert f"第 {i + 1} 页，共 {total} 页" in pages[i], (n, i)
        spilled = spilled or total > 1
    assert spilled  # the range reached a second page
