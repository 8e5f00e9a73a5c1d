"""Issue 8 in a real browser (Playwright driving Debian's chromium) against a real
``bangban hub serve`` process: a supervisor logs in, reads the indicators and charts,
drills down, reads staff indicators and the 11.1 report, uses the complaint form,
downloads the XLSX export; the public disclosure page needs no login.

Set ``BANGBAN_SCREENSHOTS=1`` to also write the screens to ``docs/screenshots/``.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from ops.pouchdb_server import reserve_port
from tests.node.net import wait_http

pytestmark = [pytest.mark.e2e, pytest.mark.browser]

ROOT = Path(__file__).resolve().parents[2]
SHOTS = ROOT / "docs" / "screenshots"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
Q = "from=2026-02&to=2026-03&as_of=2026-03-20"




@pytest.fixture(scope="module")
def hub_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    from hub.oversight.supervisors import add_supervisor
    from schemas.sample_cases import case_histories
    from tests.hub.oversight.conftest import make_hub, stored
    from tests.hub.oversight.scenario import scenario, stored_histories

    folder = tmp_path_factory.mktemp("oversight-e2e")
    hub = make_hub(folder)
    docs = [d for h in stored_histories(scenario()) for d in h]
    docs += [stored(d) for h in case_histories(seed=5, n=200) for d in h]
    hub.stores.main.bulk_docs(docs)
    add_supervisor(hub, "city", "city-pass-1", institution="410600", name="市监督员")
    add_supervisor(hub, "county", "county-pass-1", institution="410621", name="浚县监督员")
    hub_dir = hub.settings.hub_dir
    hub.close()
    reserved = reserve_port()  # held while the hub runs: nobody else is given the port
    port = reserved.getsockname()[1]
    log = open(folder / "hub.log", "wb")
    proc = subprocess.Popen(
        [sys.executable, "-m", "ops.cli", "hub", "--hub-dir", hub_dir, "serve",
         "--host", "127.0.0.1", "--port", str(port), "--no-workers"],
        cwd=ROOT, stdout=log, stderr=subprocess.STDOUT,
        env={**os.environ, "BANGBAN_SCRYPT_N": "1024"})
    url = f"http://127.0.0.1:{port}"
    try:
        # Until it answers (it went on after 150 tries of at most 1.2 s without saying so,
        # and the browser met a refused connection; a loaded machine's first answer is slow)
        wait_http(f"{url}/_hub/health", proc=proc)
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=10)
        log.close()
        reserved.close()


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        try:
            yield b
        finally:
            b.close()


def shot(page: Any, name: str) -> None:
    if os.environ.get("BANGBAN_SCREENSHOTS"):
        SHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SHOTS / f"oversight-{name}.png"), full_page=True)


def test_supervisor_dashboard(hub_url: str, browser: Any, tmp_path: Path) -> None:
    page = browser.new_page(viewport={"width": 1366, "height": 900}, locale="zh-CN",
                            accept_downloads=True)
    requests: list[str] = []
    page.on("request", lambda r: requests.append(r.url))
    page.goto(f"{hub_url}/oversight/?{Q}")
    assert "/oversight/login" in page.url
    shot(page, "login")
    page.fill("#login", "city")
    page.fill("#password", "wrong-password")
    page.click("button[type=submit]")
    assert "密码错误" in page.inner_text("[role=alert]")
    page.fill("#login", "city")
    page.fill("#password", "city-pass-1")
    page.click("button[type=submit]")
    page.wait_for_selector("#kpi-on-time")
    assert page.url.endswith(f"/oversight/?{Q}")
    assert page.locator("svg.chart").count() == 4
    assert page.locator("#units tbody tr").count() == 6  # 5 counties + total
    rate = page.inner_text("#kpi-on-time b")
    assert rate.endswith("%") and rate != "—"
    assert int(page.inner_text("#kpi-overdue b")) >= 1
    shot(page, "dashboard")
    page.click("#units a:has-text('浚县')")
    page.wait_for_selector("h2:has-text('浚县政务服务中心')")
    assert page.locator("#units tbody tr").count() > 2  # towns of the county + total
    assert "善堂镇便民服务中心" in page.inner_text("#units")
    page.click("nav a:has-text('工作人员')")
    page.wait_for_selector("#staff")
    assert "s9" in page.inner_text("#staff")
    shot(page, "staff")
    page.click("nav a:has-text('监督检查')")
    for clause in "abcde":
        assert page.locator(f"#check-{clause}").is_visible()
    shot(page, "checks")
    page.click("nav a:has-text('投诉受理')")
    page.fill("#intake input[name=case]", "410602101201-2026-A1-99999")
    page.fill("#intake textarea[name=text]", "窗口无人")
    page.click("#intake button[type=submit]")
    assert "不存在" in page.inner_text("[role=alert]")
    page.goto(f"{hub_url}/oversight/complaints?{Q}&scope=410600")
    assert page.locator("#complaints tbody tr").count() >= 2
    shot(page, "complaints")
    page.goto(f"{hub_url}/oversight/?{Q}")
    with page.expect_download() as dl:
        page.click("a:has-text('Excel (XLSX)')")
    path = tmp_path / "export.xlsx"
    dl.value.save_as(path)
    assert path.read_bytes()[:2] == b"PK"
    page.emulate_media(media="print")
    assert not page.locator("header nav").is_visible()  # printable: no navigation
    assert all(u.startswith(hub_url) for u in requests)  # nothing from the internet
    page.close()


def test_public_disclosure_page(hub_url: str, browser: Any) -> None:
    page = browser.new_page(viewport={"width": 1100, "height": 800}, locale="zh-CN")
    page.goto(f"{hub_url}/oversight/public/410621101201")
    assert "善堂村便民服务站" in page.inner_text("h1")
    assert page.locator("#items tbody tr").count() > 5
    assert page.locator("#process li").count() == 7
    shot(page, "public")
    page.close()


def log_in(page: Any, url: str, login: str, password: str) -> None:
    page.goto(url)
    page.fill("#login", login)
    page.fill("#password", password)
    page.click("button[type=submit]")
    page.wait_for_load_state()


def county_page(browser: Any, url: str) -> tuple[Any, Any]:
    """A browser (context) of its own at a laptop's size, the county supervisor logged in
    at ``url``: its context and its first tab."""
    context = browser.new_context(viewport={"width": 1366, "height": 768}, locale="zh-CN")
    page = context.new_page()
    log_in(page, url, "county", "county-pass-1")
    return context, page


def log_out_in_another_tab(context: Any, hub_url: str) -> Any:
    other = context.new_page()
    other.goto(f"{hub_url}/oversight/?{Q}")
    other.click("header button:has-text('退出')")
    other.wait_for_url("**/oversight/login")
    return other


def test_a_form_sent_after_the_login_ended_says_it_was_not_saved(hub_url: str,
                                                                 browser: Any) -> None:
    """The complaint form open in one tab, the supervisor logged out in another: sending
    it led to the bare login page and, once logged in, to an empty form, nothing said the
    complaint was not recorded."""
    context, form = county_page(browser, f"{hub_url}/oversight/complaints?{Q}")
    other = log_out_in_another_tab(context, hub_url)
    assert not other.locator("#form-lost").count()  # a plain logout is not a lost form
    form.fill("#intake input[name=case]", "410621101201-2026-A1-00001")
    form.fill("#intake textarea[name=text]", "窗口无人")
    form.click("#intake button[type=submit]")
    form.wait_for_load_state()
    assert "/oversight/login" in form.url
    notice = form.inner_text("#form-lost")
    assert "没有保存" in notice and "重新填写" in notice and "not saved" in notice
    form.fill("#login", "county")
    form.fill("#password", "county-pass-1")
    form.click("button[type=submit]")
    form.wait_for_load_state()
    assert "/oversight/complaints?" in form.url
    context.close()


def test_a_refused_complaint_comes_back_as_it_was_typed(hub_url: str, browser: Any) -> None:
    """A complaint taken down on the phone and refused (a case number of another county,
    a typo) came back as an empty form: the complainant, the contact and the text were
    lost with the error."""
    context, page = county_page(browser, f"{hub_url}/oversight/complaints?{Q}")
    typed = {"case": "410602101201-2026-A1-00001", "complainant": "王五",
             "contact": "0392-1234567"}
    for name, value in typed.items():
        page.fill(f"#intake input[name={name}]", value)
    page.fill("#intake textarea[name=text]", "窗口无人，等了一个小时")
    page.select_option("#intake select[name=intake]", "phone")
    page.select_option("#intake select[name=category]", "attitude")
    page.click("#intake button[type=submit]")
    page.wait_for_load_state()
    assert "办件编号 410602101201-2026-A1-00001" in page.inner_text("[role=alert]")
    for name, value in typed.items():
        assert page.input_value(f"#intake input[name={name}]") == value
    assert page.input_value("#intake textarea[name=text]") == "窗口无人，等了一个小时"
    assert page.input_value("#intake select[name=intake]") == "phone"
    assert page.input_value("#intake select[name=category]") == "attitude"
    # the handling of an open complaint, refused (this hub holds no keyring of the case):
    # its row keeps what was typed, the intake form is empty again
    row = page.locator("#complaints tbody tr:has(form)").first
    complaint = row.locator("input[name=complaint]").input_value()
    row.locator("select[name=result]").select_option("partly_upheld")
    row.locator("textarea[name=text]").fill("已电话回访")
    row.locator("button").click()
    page.wait_for_load_state()
    refusal = page.inner_text("[role=alert]")  # in words: not the internal case id
    assert "同步后再试" in refusal and not re.search(r"[0-9a-f]{12}-0000-", refusal)
    row = page.locator(f"#complaints tr:has(input[name=complaint][value='{complaint}'])")
    assert row.locator("textarea[name=text]").input_value() == "已电话回访"
    assert row.locator("select[name=result]").input_value() == "partly_upheld"
    assert page.input_value("#intake textarea[name=text]") == ""
    context.close()


@pytest.mark.parametrize("path", ["cases/overdu", "export.pdf", "dashboard", "logout"])
def test_an_address_edited_by_hand_gets_a_page_in_words(hub_url: str, browser: Any,
                                                        path: str) -> None:
    """A list's name or an export's format mistyped answered the stations' JSON
    ({"error": "not_found", "reason": "missing"}); any other address under /oversight/
    (GET /oversight/logout too) the replication endpoint's 401 asking for "HTTP Basic
    with device id and secret"."""
    context, page = county_page(browser, f"{hub_url}/oversight/?{Q}")
    answer = page.goto(f"{hub_url}/oversight/{path}?{Q}")
    assert answer is not None and answer.status == 404
    assert answer.headers["content-type"].startswith("text/html")
    said = page.inner_text("#refusal")
    assert "请" in said and "{" not in said and "HTTP Basic" not in said
    page.click("a:has-text('返回总览')")  # and the way back
    page.wait_for_selector("#kpi-on-time")
    context.close()


def test_the_staff_table_fits_a_laptop_and_scrolls_by_keyboard(hub_url: str,
                                                               browser: Any) -> None:
    """At 1366x768 the staff table (30-odd columns) made the whole page wider than the
    window: the header, the filter and the headings moved off screen with it."""
    context, page = county_page(browser, f"{hub_url}/oversight/staff?{Q}")
    page.wait_for_selector("#staff")
    wide = page.evaluate("document.documentElement.scrollWidth")
    assert wide <= page.evaluate("document.documentElement.clientWidth")
    box = page.locator("#staff").evaluate_handle("t => t.parentElement")
    assert box.evaluate("b => b.scrollWidth > b.clientWidth")  # the table does not fit
    for _ in range(40):  # the keyboard reaches the table's box and scrolls it
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.contains(document.getElementById('staff'))"):
            break
    assert page.evaluate("document.activeElement.className") == "scroll"
    page.keyboard.press("ArrowRight")
    # a function, not an expression: Playwright evals an expression's text, which the
    # oversight's Content-Security-Policy (script-src 'none') refuses
    page.wait_for_function("() => document.getElementById('staff').parentElement.scrollLeft > 0")
    assert box.evaluate("b => b.scrollLeft") > 0
    context.close()


def test_logging_out_of_a_page_left_open_logs_out(hub_url: str, browser: Any) -> None:
    """退出 on a tab whose login had already ended (logged out in another tab, or after
    12 hours) answered "the form has expired, reload the page and send it again"."""
    context, left = county_page(browser, f"{hub_url}/oversight/?{Q}")
    log_out_in_another_tab(context, hub_url)
    left.click("header button:has-text('退出')")
    left.wait_for_load_state()
    assert left.url.endswith("/oversight/login") and left.locator("#login").is_visible()
    assert not left.locator("[role=alert]").count()
    context.close()


def test_a_complaint_form_older_than_the_login_comes_back_to_send_again(
        hub_url: str, browser: Any) -> None:
    """The complaint form open in one tab, a logout and login in another: sending it
    answered "the form has expired, reload the page and send it again" on a page of its
    own, and reloading that page sent the same stale form again, the same answer."""
    context, page = county_page(browser, f"{hub_url}/oversight/complaints?{Q}")
    other = log_out_in_another_tab(context, hub_url)
    log_in(other, f"{hub_url}/oversight/?{Q}", "county", "county-pass-1")
    page.fill("#intake input[name=case]", "410602101201-2026-A1-00001")
    page.fill("#intake textarea[name=text]", "窗口无人")
    page.click("#intake button[type=submit]")
    page.wait_for_load_state()
    assert "内容已保留" in page.inner_text("[role=alert]")
    assert page.input_value("#intake textarea[name=text]") == "窗口无人"
    page.click("#intake button[type=submit]")  # sent again as it says: past the token now
    page.wait_for_load_state()
    assert "办件编号 410602101201-2026-A1-00001" in page.inner_text("[role=alert]")
    context.close()


def test_a_case_history_names_its_steps_in_chinese(hub_url: str, browser: Any) -> None:
    """赵敏 follows a complained-about case from the complaints list to its history: the
    环节 column said ``acceptance``, ``hand_up``, ``complaint`` (the event codes), a page in
    Chinese otherwise; each step is named as the standard names it (schemas LABEL_ZH)."""
    from schemas.event_types import EVENT_SCHEMAS

    context, page = county_page(browser, f"{hub_url}/oversight/complaints?{Q}")
    no = re.search(r"\d{12}-\d{4}-A1-\d{5}", page.inner_text("#complaints tbody"))
    assert no, page.inner_text("#complaints")
    page.click("nav a:has-text('办件档案')")
    page.fill("#f-no", no.group(0))
    page.select_option("#f-why", "complaint")
    with page.expect_navigation():
        page.click("main form button")
    steps = page.locator("#steps tbody tr td:nth-child(3)").all_inner_texts()
    assert steps and "受理" in steps and "投诉" in steps, steps
    codes = set(EVENT_SCHEMAS)
    assert not [s for s in steps if s.split()[0] in codes], steps
    shot(page, "case-history")
    context.close()


def test_a_station_without_cases_says_so_in_its_charts(hub_url: str, browser: Any) -> None:
    """赵敏 chooses a village station and a month without cases: the three rate charts and
    the ratings chart were empty boxes, a dotted target line their only mark."""
    context, page = county_page(
        browser, f"{hub_url}/oversight/?from=2025-01&to=2025-01&scope=410621101204")
    charts = page.locator("svg.chart")
    assert charts.count() == 4
    for i in range(4):
        assert "本期无数据" in (charts.nth(i).text_content() or ""), charts.nth(i).inner_html()
    shot(page, "no-cases")
    context.close()


def test_a_case_history_shows_cleartext_in_words(hub_url: str, browser: Any) -> None:
    """The 明文内容 column of a case history showed ``channel=window; department=…``, the
    documents' keys and codes, on a page in Chinese: each field reads as the station's forms
    label it (渠道：窗口), a code by its vocabulary's label; the codes stay in the title."""
    context, page = county_page(browser, f"{hub_url}/oversight/complaints?{Q}")
    no = re.search(r"\d{12}-\d{4}-A1-\d{5}", page.inner_text("#complaints tbody"))
    assert no, page.inner_text("#complaints")
    page.goto(f"{hub_url}/oversight/case?no={no.group(0)}&why=complaint")
    cells = page.locator("#steps tbody tr td:nth-child(7)")
    shown = cells.all_inner_texts()
    titles = [cells.nth(i).get_attribute("title") or "" for i in range(cells.count())]
    assert any("channel=" in t for t in titles), titles  # the codes, on hover
    assert not [s for s in shown if "=" in s or "channel" in s], shown
    for text, title in zip(shown, titles, strict=True):
        if "channel=window" in title:
            assert "渠道：窗口" in text or "渠道：窗口提交" in text, (text, title)
    assert any("渠道：" in s for s in shown), shown
    context.close()
