"""A village clerk's odd days and odd input (Flask test client): deadlines in a year whose
holidays are not published, input pasted or typed the way people write it."""

from __future__ import annotations

import html
import re
import subprocess
from pathlib import Path
from typing import Any

import pytest

from tests.node.test_clerk_day import _case_id, _consult, _step


def _accepted(client: Any) -> str:
    """An assisted case applied for and accepted with the item's 1 working day."""
    from schemas.sample import catalog

    case_id = _case_id(_consult(client, service_type="assist"))
    assert _step(client, case_id, "application", channel="offline", mode="nearby",
                 service_item=catalog()[0]["code"]).status_code == 302
    assert _step(client, case_id, "acceptance", zone="assisted_zone",
                 time_limit_days="1").status_code == 302
    return case_id


@pytest.mark.parametrize("published", [False, True])
def test_a_time_limit_counted_on_an_unpublished_calendar_is_said_to_be_estimated(
        unlocked: Any, monkeypatch: pytest.MonkeyPatch, published: bool) -> None:
    """A case accepted in late December runs into a year whose 调休 the State Council has
    not published: its working days are counted Monday–Friday (schemas.workdays) and the
    fold flags ``calendar_estimated``, but the case page showed the date as certain, and
    the clerk promised it to the applicant. The node here has no calendar document and
    chinesecalendar is made to know no year (or every year: no note then)."""
    from schemas import workdays

    monkeypatch.setattr(workdays, "CHINESECALENDAR_YEARS", range(1900, 3000) if published
                        else range(0))
    case_id = _accepted(unlocked)
    due = unlocked.application.extensions["bangban_node"].index.get(case_id)["due"]
    page = unlocked.get(f"/cases/{case_id}").data.decode()
    assert f'class="deadline">{due}' in page
    if published:
        assert 'id="due-estimated"' not in page
    else:
        assert 'id="due-estimated"' in page
        assert f"办理时限 {due} 是预计日期：{due[:4]} 年的法定节假日安排尚未公布" in page


def test_a_reply_due_in_an_unpublished_year_is_said_to_be_estimated(
        unlocked: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """A question not answered on the spot on 31 December is due one working day later
    (10.1.1.3): 1 January, counted Monday–Friday as the next year's holidays are not
    published. The case page showed the date as certain. (chinesecalendar is made to know
    no year, as the next one is not known.)"""
    from schemas import workdays

    monkeypatch.setattr(workdays, "CHINESECALENDAR_YEARS", range(0))
    case_id = _case_id(_consult(unlocked, answered=None))
    due = unlocked.application.extensions["bangban_node"].index.get(case_id)["due"]
    page = unlocked.get(f"/cases/{case_id}").data.decode()
    assert f"咨询答复期限 {due} 是预计日期：{due[:4]} 年的法定节假日安排尚未公布" in page


def test_a_form_sent_after_the_keys_locked_is_said_unsaved(unlocked: Any) -> None:
    """The laptop locked while the clerk typed a consultation (idle lock, or 锁定 in another
    tab): 保存 went to the unlock page, which said nothing of the lost form, and after the
    passphrase the browser opened the post's address, a 405 (此地址不能直接打开). Now the
    unlock page says the entry was not saved and leads back to the form."""
    from tests.node.conftest import PASSPHRASE, csrf

    unlocked.application.extensions["bangban_node"].lock()
    resp = unlocked.post(
        "/consultations/", data={"csrf": csrf(unlocked), "applicant_name": "王小明",
                                 "question": "怎么办理？"},
        headers={"Referer": "http://localhost/consultations/new"})
    assert resp.status_code == 302 and "unsaved=1" in resp.headers["Location"]
    page = unlocked.get(resp.headers["Location"]).data.decode()
    assert 'id="unsaved"' in page and "刚才填写的内容没有保存" in page
    # the unlock form's next= (the header's language forms carry the page's own)
    nxt = re.search(r'name="next" value="([^"]*)">\s*<input type="hidden" name="unsaved"', page)
    assert nxt, page
    back = unlocked.post("/unlock", data={"csrf": csrf(unlocked), "passphrase": PASSPHRASE,
                                          "next": html.unescape(nxt.group(1))})
    assert back.headers["Location"].endswith("/consultations/new")
    assert unlocked.get(back.headers["Location"]).status_code == 200


def test_a_pasted_full_width_phone_and_id_number_are_read_as_digits(unlocked: Any) -> None:
    """Digits pasted from a WeChat message or typed with a Chinese input method's full-width
    mode look right on screen: they were refused as 'digits only' and '18 characters'.
    They are read as the digits they are, and stored (and printed, and found) as ASCII."""
    resp = _consult(unlocked, phone="＋８６ １３８ ００００ ００００",
                    id_number="４１０６２１１９８００１０１１０５ｘ")
    case_id = _case_id(resp)
    page = unlocked.get(f"/cases/{case_id}").data.decode()
    assert '<dd id="phone">+86 138 0000 0000</dd>' in page
    assert '<dd id="id-number">41062119800101105X</dd>' in page
    rows = unlocked.get("/api/cases?q=41062119800101105X").get_json()["rows"]
    assert [r["case_id"] for r in rows] == [case_id]


def _pdf_text(client: Any, case_id: str, letter: str, tmp_path: Path) -> str:
    out = tmp_path / f"{letter}.pdf"
    out.write_bytes(client.get(f"/cases/{case_id}/forms/{letter}.pdf").data)
    return subprocess.run(["pdftotext", "-layout", str(out), "-"], capture_output=True,
                          text=True, check=True).stdout


def test_the_item_and_mode_the_application_chose_are_the_case_s(unlocked: Any,
                                                                 tmp_path: Path) -> None:
    """A consultation may leave the item open (（暂不确定）); the application then chose
    高龄津贴申领 and 上门办 (10.1.2). The case page still said （未定） with no department,
    form A printed no item, no department, no checklist and 就近办 (the consultation's
    mode), and a one-time notification picked from the offered checklist recorded none."""
    from schemas.sample import catalog

    item = next(i for i in catalog() if i["code"] == "MS-004")
    case_id = _case_id(_consult(unlocked, service_type="assist", service_item=""))
    assert _step(unlocked, case_id, "application", channel="offline", mode="door",
                 service_item=item["code"]).status_code == 302
    page = unlocked.get(f"/cases/{case_id}").data.decode()
    assert f"<dd>{item['name']}</dd>" in page and f"<dd>{item['department']}</dd>" in page
    assert item["materials"][0]["name"] in unlocked.get(
        f"/cases/{case_id}/steps/notification").data.decode()
    assert _step(unlocked, case_id, "notification",
                 materials=item["materials"][0]["code"]).status_code == 302
    assert _step(unlocked, case_id, "acceptance", zone="assisted_zone",
                 time_limit_days="5").status_code == 302
    text = _pdf_text(unlocked, case_id, "A", tmp_path)
    assert f"{item['name']}（MS-004）" in text and item["department"] in text
    assert "上门办" in text and "就近办" not in text
    assert "材料清单" in text and item["materials"][0]["name"] in text
    notice = _pdf_text(unlocked, case_id, "N", tmp_path)
    assert "需要准备（补齐）的材料" in notice and item["materials"][0]["name"] in notice


def test_a_hand_up_without_its_institution_names_only_that_input(unlocked: Any) -> None:
    """上报 saved before the receiving institution was chosen (4.3): the clerk was told
    接收机构 and 接收层级 were missing, and the page has no 接收层级 to fill (the tier
    follows from the institution)."""
    case_id = _accepted(unlocked)
    resp = _step(unlocked, case_id, "hand_up", to_institution="", reason_code="beyond_authority")
    page = resp.data.decode()
    assert resp.status_code == 400 and 'id="to_institution-err"' in page
    assert "请选择接收机构" in page and "接收层级" not in page


def _form_values(page: str) -> dict[str, str]:
    """The inputs a browser would send back from the applicant form as the page shows them."""
    form = page[page.index('<form method="post" action="/cases/'):]
    form = form[:form.index("</form>")]
    values = {name: html.unescape(value) for name, value in
              re.findall(r'<input[^>]*?name="([^"]+)"[^>]*?value="([^"]*)"', form)}
    values.update(re.findall(r'<select[^>]*name="([^"]+)"[^>]*>.*?<option value="([^"]*)"[^>]*'
                             r'selected', form, flags=re.S))
    return values


def test_two_tabs_correcting_one_applicant_keep_both_corrections(unlocked: Any) -> None:
    """Tab A opens 更正 on a case, tab B corrects the phone and saves, tab A corrects the
    name and saves: tab A's form still held the old phone, and its save put it back
    (tab B's correction gone, unsaid). Now an input tab A left alone keeps what is stored;
    an input both tabs changed is refused on its field, naming what it is now."""
    case_id = _case_id(_consult(unlocked))
    url = f"/cases/{case_id}/applicant/"
    tab_a = _form_values(unlocked.get(url).data.decode())
    tab_b = _form_values(unlocked.get(url).data.decode())
    assert tab_a["phone"] == "13800000000"
    assert unlocked.post(url, data={**tab_b, "phone": "13911112222"}).status_code == 302
    assert unlocked.post(url, data={**tab_a, "applicant_name": "王晓明"}).status_code == 302
    page = unlocked.get(f"/cases/{case_id}").data.decode()
    assert '<span id="applicant">王晓明</span>' in page and '<dd id="phone">13911112222</dd>' in page
    clash = unlocked.post(url, data={**tab_a, "phone": "13700000000"})
    text = clash.data.decode()
    assert clash.status_code == 409 and 'id="phone-err"' in text and "13911112222" in text
    assert '<dd id="phone">13911112222</dd>' in unlocked.get(f"/cases/{case_id}").data.decode()
    again = _form_values(text)  # saved again from the refused page: the clerk's phone now
    assert unlocked.post(url, data=again).status_code == 302
    assert '<dd id="phone">13700000000</dd>' in unlocked.get(f"/cases/{case_id}").data.decode()


def test_a_step_sent_twice_from_one_form_is_recorded_once(unlocked: Any) -> None:
    """The same 工作日志 form sent twice (a double-click without the page's script, or
    Back then 保存): two identical logs. The second is answered with the first one's page;
    the same form typed over with other content is a new log."""
    case_id = _accepted(unlocked)
    page = unlocked.get(f"/cases/{case_id}/steps/work_log").data.decode()
    token = re.search(r'name="once" value="([^"]+)"', page)
    assert token
    log = {"once": token.group(1), "kind": "tracking", "text": "已电话联系申请人"}
    first, second = (_step(unlocked, case_id, "work_log", **log) for _ in range(2))
    assert first.status_code == second.status_code == 302
    assert second.headers["Location"] == first.headers["Location"]
    assert "已经保存过" in unlocked.get(second.headers["Location"]).data.decode()
    assert _step(unlocked, case_id, "work_log", **{**log, "text": "已上门核实"}).status_code == 302
    events = unlocked.application.extensions["bangban_node"].casework.events(case_id)
    assert [e["event_type"] for e in events].count("work_log") == 2


def test_another_scan_after_back_is_another_step(unlocked: Any) -> None:
    """Back to 材料接收, another scan chosen and saved: a new receipt with that scan, not
    the first one's page (the scans chosen are the form's content too)."""
    import io

    case_id = _accepted(unlocked)
    page = unlocked.get(f"/cases/{case_id}/steps/material_received").data.decode()
    token = re.search(r'name="once" value="([^"]+)"', page)
    assert token
    from tests.node.conftest import csrf

    for name in ("hukou-1.png", "hukou-2.png"):
        resp = unlocked.post(f"/cases/{case_id}/steps/material_received", data={
            "csrf": csrf(unlocked), "once": token.group(1), "materials": "户口簿",
            "scans": (io.BytesIO(b"\x89PNG\r\n\x1a\n" + name.encode()), name, "image/png")},
            content_type="multipart/form-data")
        assert resp.status_code == 302
    events = unlocked.application.extensions["bangban_node"].casework.events(case_id)
    assert [e["event_type"] for e in events].count("material_received") == 2


@pytest.mark.parametrize(("written", "typed"), [("+86 138 1234 5678", "13812345678"),
                                                 ("0086-138-1234-5678", "13812345678"),
                                                 ("(0392) 123-4567", "03921234567")])
def test_a_phone_written_with_its_country_code_is_found_by_its_digits(
        unlocked: Any, written: str, typed: str) -> None:
    """A phone recorded as the applicant gave it, +86 and spaces, or brackets round the
    area code: the clerk looking the applicant up types the digits and found nothing."""
    case_id = _case_id(_consult(unlocked, phone=written))
    rows = unlocked.get("/api/cases", query_string={"q": typed}).get_json()["rows"]
    assert [r["case_id"] for r in rows] == [case_id]


@pytest.mark.parametrize(("name", "given"), [("李㐀明", "㐀明"), ("王𠮷", None), ("𠮷㐀林", "㐀林")])
def test_a_name_with_a_rare_character_is_found_like_any_name(unlocked: Any, name: str,
                                                             given: str | None) -> None:
    """A given name is a search token of a Chinese name (张三丰 by 三丰); one with a rare
    character (CJK extension A or B) had none: 李㐀明 was not found by 㐀明."""
    case_id = _case_id(_consult(unlocked, applicant_name=name))
    for q in (name, given):
        if q:
            rows = unlocked.get("/api/cases", query_string={"q": q}).get_json()["rows"]
            assert [r["case_id"] for r in rows] == [case_id], q
    page = unlocked.get(f"/cases/{case_id}").data.decode()
    assert f'<span id="applicant">{name}</span>' in page


def test_a_lock_button_pressed_after_the_lock_says_nothing_was_lost(unlocked: Any) -> None:
    """Another tab had locked the laptop; 锁定 (or a search, or the staff choice) pressed
    here goes to the unlock page without claiming that typed input was lost."""
    from tests.node.conftest import csrf

    unlocked.application.extensions["bangban_node"].lock()
    resp = unlocked.post("/lock", data={"csrf": csrf(unlocked)},
                         headers={"Referer": "http://localhost/cases"})
    assert resp.status_code == 302 and "unsaved" not in resp.headers["Location"]
    assert "/unlock" in resp.headers["Location"]


def test_a_case_number_pasted_in_full_width_is_found(unlocked: Any) -> None:
    """A case number copied from a document typed with a Chinese input method's full-width
    mode (４１０…-２０２６-Ａ１-０００１): the search found nothing."""
    case_id = _case_id(_consult(unlocked))
    case_no = unlocked.application.extensions["bangban_node"].index.get(case_id)["case_no"]
    wide = "".join(chr(ord(c) + 0xFEE0) if "!" <= c <= "~" else c for c in case_no)
    rows = unlocked.get("/api/cases", query_string={"q": wide}).get_json()["rows"]
    assert [r["case_id"] for r in rows] == [case_id]


def test_the_header_switches_of_a_refused_form_lead_back_to_the_form(unlocked: Any) -> None:
    """A consultation refused (its page is the POST's answer), then 大字模式 or English
    in the header: they came back to the POST's address, 此地址不能直接打开 (405)."""
    from tests.node.conftest import csrf

    refused = unlocked.post("/consultations/", data={"csrf": csrf(unlocked), "question": "q"},
                            headers={"Referer": "http://localhost/consultations/new"})
    assert refused.status_code == 400
    nexts = set(re.findall(r'name="next" value="([^"]*)"', refused.data.decode()))
    assert nexts == {"/consultations/new"}
    back = unlocked.post("/large-text", data={"csrf": csrf(unlocked), "next": nexts.pop()})
    assert unlocked.get(back.headers["Location"]).status_code == 200


def test_an_unexpected_error_is_said_in_the_clerk_s_words(app: Any, unlocked: Any,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    """A fault the app did not foresee (here the case list's query failing) showed
    '500 Internal Server Error', English only, nothing on what to do."""
    from node.index import CaseIndex

    def broken(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("disk I/O error")

    monkeypatch.setattr(CaseIndex, "search", broken)
    app.config["PROPAGATE_EXCEPTIONS"] = False  # as node serve runs it, not as a test
    page = unlocked.get("/cases/")
    text = page.data.decode()
    assert page.status_code == 500 and "出错了：刚才的操作可能没有完成" in text
    assert "Internal Server Error" not in text and "disk I/O error" not in text


def test_a_step_the_store_refuses_is_said_in_the_clerk_s_words(
        unlocked: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """The laptop's store refused a write (a conflict: another tab or a pull wrote the same
    document meanwhile): the clerk read 'the local store refused keyring:…: Document
    update conflict.', English only, on an error page."""
    case_id = _accepted(unlocked)
    store = unlocked.application.extensions["bangban_node"].store

    def refusing(docs: Any, **kw: Any) -> Any:
        return [{"id": d.get("_id"), "error": "conflict", "reason": "Document update conflict."}
                for d in docs]

    monkeypatch.setattr(store, "bulk_docs", refusing)
    resp = _step(unlocked, case_id, "work_log", kind="tracking", text="已电话联系")
    text = resp.data.decode()
    assert resp.status_code == 409 and "本机未能保存这一步" in text and "再试一次" in text
    assert "已电话联系" in text  # the form is shown again with what was typed


def test_a_scan_not_on_this_laptop_is_said_in_the_clerk_s_words(unlocked: Any) -> None:
    """A scan's address that holds none here (a link kept from elsewhere, a scan not synced
    yet): the page read "no attachment 'scan-1.png' on event:…", English only."""
    case_id = _case_id(_consult(unlocked))
    event = unlocked.application.extensions["bangban_node"].casework.events(case_id)[0]["_id"]
    resp = unlocked.get(f"/cases/{case_id}/steps/attachment/{event}/scan-1.png")
    assert resp.status_code == 404 and "本机没有这份扫描件" in resp.data.decode()



def test_an_index_of_fold_2_is_refolded_at_unlock(unlocked: Any, node_dir: Path) -> None:
    """FOLD_VERSION 3 (node.index): a deadline whose suspension spans 1 January counts the
    new year's holidays now (schemas.workdays, 10.2.5); an index written by fold 2 kept
    its rows, due dates included, until each case changed again."""
    import sqlite3

    from node.core import INDEX
    from node.index import FOLD_VERSION
    from tests.node.conftest import PASSPHRASE, opened

    case_id = _case_id(_consult(unlocked))
    node = unlocked.application.extensions["bangban_node"]
    row = node.index.get(case_id)
    node.close()
    db = sqlite3.connect(node_dir / INDEX, isolation_level=None)
    db.execute("UPDATE cases SET due = '1999-01-01', updated = '1999-01-01'")  # fold 2's
    db.execute("UPDATE meta SET v = '2' WHERE k = 'fold'")
    db.close()
    with opened(node_dir) as again:
        client = again.test_client()
        assert client.post("/api/unlock", json={"passphrase": PASSPHRASE}).status_code == 200
        refolded = again.extensions["bangban_node"].index.get(case_id)
        assert (refolded["due"], refolded["updated"]) == (row["due"], row["updated"])
        assert again.extensions["bangban_node"].index.get_meta("fold") == FOLD_VERSION
