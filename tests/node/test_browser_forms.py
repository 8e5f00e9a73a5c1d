"""The step forms in a real browser (Playwright, Debian's chromium) on a clerk's 1366×768
laptop screen: what only a browser shows. The node's app is served in this process on
loopback (no hub: the station works offline)."""

from __future__ import annotations

from collections.abc import Iterator
from types import SimpleNamespace
from typing import Any

import pytest

from tests.e2e.test_node_browser import CHROMIUM_ARGS, sign
from tests.node.conftest import PASSPHRASE

pytestmark = [pytest.mark.browser]


@pytest.fixture
def page(base: str) -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        try:
            pg = browser.new_context(locale="zh-CN", viewport={"width": 1366, "height": 768}).new_page()
            pg.goto(base + "/")
            pg.fill("#passphrase", PASSPHRASE)
            pg.keyboard.press("Enter")
            pg.wait_for_url(base + "/")
            yield pg
        finally:
            browser.close()


def _sign(page: Any) -> None:
    page.locator("canvas.sigpad").scroll_into_view_if_needed()  # below the fold at 768 px
    sign(page)


INK = """() => { const c = document.querySelector('canvas.sigpad');
  const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
  let n = 0; for (let i = 3; i < d.length; i += 4) if (d[i] > 0) n++; return n; }"""


@pytest.mark.timeout(180)
def test_a_signature_survives_a_refusal_of_another_input(page: Any, base: str) -> None:
    """10.2.2: the applicant signs form C; the clerk's mistake elsewhere (here the ledger
    number cleared) must not blank the pad (before: the hidden field kept the signature
    but the pad showed empty, so the applicant was asked to sign again)."""
    page.goto(base + "/consultations/new")
    page.fill("#applicant_name", "孙桂芝")
    page.select_option("#service_type", "proxy")
    page.select_option("#service_item", index=1)
    page.fill("#question", "请村里代办")
    page.fill("#outcome", "已当场答复")
    page.click("#save")
    page.wait_for_url("**/cases/*")
    page.click("#step-entrustment")
    page.fill("#ledger_no", "")
    page.fill("#period_end", "")
    _sign(page)
    signed = page.input_value("#signature_data")
    assert signed.startswith("data:image/png;base64,") and page.evaluate(INK) > 0
    with page.expect_navigation():
        page.click("#save")
    assert page.locator("#period_end-err").count() == 1
    assert page.input_value("#signature_data") == signed
    page.wait_for_function("() => document.querySelector('canvas.sigpad') !== null")
    page.wait_for_timeout(200)  # the image decodes asynchronously
    assert page.evaluate(INK) > 0, "the pad is blank although the signature was kept"
    assert page.evaluate("document.documentElement.scrollWidth") <= 1366
    page.fill("#period_end", "2099-12-31")
    page.fill("#ledger_no", "DB-7")
    with page.expect_navigation():
        page.click("#save")
    assert "printed=C" in page.url, page.locator(".error-box").inner_text()


@pytest.mark.timeout(120)
def test_an_idle_lock_takes_the_page_to_the_unlock_screen(page: Any, base: str,
                                                        app: Any, monkeypatch: Any) -> None:
    """7.2.2.2: an open page whose laptop was left alone past idle_lock_minutes goes to the
    unlock screen by itself at the badge's next poll (before: the poll kept the keys open
    and the applicant's data stayed on screen)."""
    from node import core

    page.goto(base + "/consultations/new")
    later = core.time.monotonic() + 31 * 60  # the node's clock only, not the browser's
    monkeypatch.setattr(core, "time", SimpleNamespace(monotonic=lambda: later))
    page.wait_for_url("**/unlock?next=%2Fconsultations%2Fnew", timeout=30_000)
    assert not app.extensions["bangban_node"].unlocked


@pytest.mark.timeout(120)
def test_a_double_click_on_save_records_one_consultation(page: Any, base: str) -> None:
    """A clerk double-clicks 保存 while the laptop is slow to answer: the browser sent the
    form twice and the node opened two cases, two case numbers for one applicant's visit
    (10.1.1). The answer is held back a second, as a slow laptop's would be; the node
    receives each request that leaves the browser."""
    import time

    def slow(route: Any) -> None:
        answer = route.fetch(max_redirects=0)  # the node stores it now, whatever the browser does next
        time.sleep(1.0)
        try:
            route.fulfill(response=answer)
        except Exception:  # the browser gave this request up for a second one
            pass

    page.route("**/consultations/", slow)
    page.goto(base + "/consultations/new")
    page.fill("#applicant_name", "双击测试")
    page.fill("#question", "高龄津贴怎么申请")
    page.fill("#outcome", "已当场答复")
    box = page.locator("#save").bounding_box()
    page.mouse.click(box["x"] + 10, box["y"] + 10)
    page.wait_for_timeout(250)  # the second click of a slow double-click
    page.mouse.click(box["x"] + 10, box["y"] + 10)
    page.wait_for_url("**/cases/*", timeout=10_000)
    page.unroute("**/consultations/")
    page.goto(base + "/cases")
    assert page.locator("table tbody tr", has_text="帮办").count() == 1, \
        page.locator("table").inner_text()


@pytest.mark.timeout(120)
def test_a_lock_while_typing_says_the_entry_was_not_saved(page: Any, base: str, app: Any) -> None:
    """The keys lock while the clerk is half-way through a consultation (the idle lock, or
    node serve restarted): the badge's poll takes the page to the unlock screen, and what
    was typed is gone. It went without a word; the unlock page now says it was not saved."""
    page.goto(base + "/consultations/new")
    page.fill("#applicant_name", "孙桂芝")
    page.fill("#question", "低保怎么申请，要带什么材料")
    page.fill("#outcome", "已当场答复")
    app.extensions["bangban_node"].lock()
    page.wait_for_url("**/unlock?next=%2Fconsultations%2Fnew&unsaved=1", timeout=30_000)
    assert "刚才填写的内容没有保存" in page.locator("#unsaved").inner_text()
    page.fill("#passphrase", PASSPHRASE)
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert page.url == base + "/consultations/new"


@pytest.mark.timeout(120)
def test_a_pasted_web_address_does_not_widen_the_case_page(page: Any, base: str) -> None:
    """A clerk pastes the government portal's address into the question (or a work log):
    one unbroken run of 180 Latin characters. The case page grew wider than the laptop's
    1366 px screen, its actions and record scrolled sideways."""
    address = "https://zwfw.henan.gov.cn/" + "abcdefghij0123456789" * 8
    page.goto(base + "/consultations/new")
    page.fill("#applicant_name", "Aisha" + "x" * 60)
    page.fill("#question", "网上怎么办？" + address)
    page.fill("#outcome", "已当场答复")
    with page.expect_navigation():
        page.click("#save")
    assert "/cases/" in page.url
    assert page.locator(".timeline", has_text=address[:40]).count() == 1
    assert page.evaluate("document.documentElement.scrollWidth") <= 1366


@pytest.mark.timeout(120)
def test_back_after_saving_then_save_again_records_one_case(page: Any, base: str) -> None:
    """The clerk saves a consultation, presses the browser's Back to check it, finds the
    form as they typed it (the browser restores it) and presses 保存 again: the node
    opened a second case with a second number for the same visit (10.1.1). Now the
    second save leads to the first one's case, saying it was saved already. The browser
    keeps nothing typed (autocomplete="off": its form state was written to the profile's
    Sessions files, the applicant's name in clear; test_browser_privacy), so the clerk
    types the visit again; the form's one-save token is the tab's own (sessionStorage)."""
    page.goto(base + "/consultations/new")
    page.fill("#applicant_name", "回退测试")
    page.fill("#question", "养老保险怎么交")
    page.fill("#outcome", "已当场答复")
    with page.expect_navigation():
        page.click("#save")
    first = page.url
    page.go_back()
    assert page.input_value("#applicant_name") == ""  # not kept by the browser
    page.fill("#applicant_name", "回退测试")
    page.fill("#question", "养老保险怎么交")
    page.fill("#outcome", "已当场答复")
    with page.expect_navigation():
        page.click("#save")
    assert page.url == first
    assert "已经保存过" in page.locator(".flash").inner_text()
    page.goto(base + "/cases")
    assert page.locator("table tbody tr", has_text="帮办").count() == 1, \
        page.locator("table").inner_text()
    # Back again, and the form typed over for the applicant's husband: a new consultation
    page.go_back()
    page.go_back()
    page.fill("#applicant_name", "回退测试的丈夫")
    page.fill("#question", "养老保险怎么交")
    page.fill("#outcome", "已当场答复")
    with page.expect_navigation():
        page.click("#save")
    assert "/cases/" in page.url and page.url != first
    assert page.locator(".flash", has_text="已经保存过").count() == 0


@pytest.mark.timeout(120)
def test_choosing_the_staff_after_a_refusal_keeps_the_typed_consultation(
        page: Any, base: str, monkeypatch: Any) -> None:
    """Several members on duty and none chosen: 保存 is refused with 请先在页首选择当前经办人
    (8.1.2). Choosing one in the header then sent the browser to the refused page's own
    address (a POST's: 此地址不能直接打开) and the typed consultation was gone. Now the
    choice is made in place and 保存 saves what was typed, under that member."""
    from node import window

    roster = [{"id": "s-1", "name": "唐思琪", "on_duty": True},
              {"id": "s-2", "name": "曾嘉豪", "on_duty": True}]
    monkeypatch.setattr(window, "roster", lambda node: roster)  # as the hub's document has it
    page.goto(base + "/consultations/new")
    page.fill("#applicant_name", "孙桂芝")
    page.fill("#question", "低保怎么申请")
    page.fill("#outcome", "已当场答复")
    with page.expect_navigation():
        page.click("#save")
    refusal = page.locator(".error-box").inner_text()
    assert "请先在页首选择当前经办人" in refusal and "曾嘉豪（s-2）" in refusal
    page.select_option("#window-staff", "s-2")
    page.wait_for_timeout(1500)  # the choice's answer (before: a page change)
    page.wait_for_load_state()
    assert page.locator("#applicant_name").count() == 1, page.locator("main").inner_text()
    assert page.input_value("#applicant_name") == "孙桂芝"
    assert "曾嘉豪" in page.locator("#window-staff-said").inner_text()
    with page.expect_navigation():
        page.click("#save")
    assert "/cases/" in page.url, page.locator("main").inner_text()
    assert page.locator("#opened-by").get_attribute("data-staff") == "s-2"


@pytest.mark.timeout(180)
def test_materials_ticked_for_another_item_are_not_taken_as_brought(page: Any, base: str) -> None:
    """10.1.4: the one-time notification lists every material of the item the applicant
    did not bring. A clerk ticked two materials of one item, then chose the right item:
    the first item's checklist, hidden, was still posted, and the new item's materials of
    the same codes (M01, M02: 个体工商户登记申请书, 申请人身份证明) were left off the
    notification though nobody ticked them. After a refusal every item's material of a
    ticked code came back ticked."""
    from schemas.sample import catalog

    first, chosen = (next(i for i in catalog() if i["code"] == c) for c in ("QY-001", "QY-002"))

    page.goto(base + "/consultations/new")
    page.fill("#applicant_name", "孙桂芝")
    page.fill("#question", "想开个小卖部")
    page.fill("#outcome", "已当场答复")
    page.select_option("#service_item", first["code"])
    shown = page.locator(f"[data-item-checklist='{first['code']}'] input[name=have]")
    shown.nth(0).check()
    shown.nth(1).check()
    page.select_option("#service_item", chosen["code"])  # the item was the other one
    with page.expect_navigation():
        page.click("#save")
    record = page.inner_text(".timeline")
    assert "一次性告知" in record
    for m in chosen["materials"]:
        assert m["name"] in record, (m["name"], record)
    # refused (the phone), the form comes back with what was ticked for the chosen item;
    # the first item's material of that code (M03) is not ticked, should she go back to it
    page.goto(base + "/consultations/new")
    page.fill("#applicant_name", "孙桂芝")
    page.fill("#phone", "电话")
    page.fill("#question", "想开个小卖部")
    page.fill("#outcome", "已当场答复")
    page.select_option("#service_item", chosen["code"])
    page.check(f"#have-{chosen['code']}-M03")
    with page.expect_navigation():
        page.click("#save")
    assert page.locator("#phone-err").count() == 1
    assert page.is_checked(f"#have-{chosen['code']}-M03")
    page.select_option("#service_item", first["code"])
    assert page.locator(f"[data-item-checklist='{first['code']}'] input:checked").count() == 0
