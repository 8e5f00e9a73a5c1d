"""The clerk's and the coordinator's pages in a real browser (Playwright, Debian's chromium),
as an inspector tries them (GB/T 37668-2019, the MIIT 适老化 rules): a step form done with
the keyboard alone, and the town page on a 360 px phone without the page scrolling sideways."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import pytest
from werkzeug.serving import make_server

from schemas.state import local_today
from tests.e2e.test_node_browser import CHROMIUM_ARGS
from tests.node.conftest import PASSPHRASE, csrf, serving
from tests.node.test_clerk_day import _case_id, _consult
from tests.node.test_town_boards import VILLAGE_1, VILLAGE_2, _board, town
from tests.node.test_window_staff import ROSTER, _choose, _docs, _roster, _staff_of

pytestmark = [pytest.mark.browser]
__all__ = ["town"]  # the fixture


def _browser(app: Any, width: int) -> Iterator[tuple[Any, str]]:
    """A page of chromium ``width`` px wide, unlocked on ``app`` served on loopback."""
    from playwright.sync_api import sync_playwright

    with serving(make_server("127.0.0.1", 0, app, threaded=True)) as base, \
            sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        try:
            page = browser.new_context(locale="zh-CN", viewport={"width": width, "height": 740}
                                       ).new_page()
            page.goto(base + "/")
            page.fill("#passphrase", PASSPHRASE)
            with page.expect_navigation():
                page.keyboard.press("Enter")
            yield page, base
        finally:
            browser.close()


def _tab_to(page: Any, selector: str, limit: int = 40) -> None:
    for _ in range(limit):
        page.keyboard.press("Tab")
        if page.evaluate(f"document.activeElement === document.querySelector('{selector}')"):
            return
    raise AssertionError(f"{selector} not reached with Tab")


@pytest.mark.timeout(180)
def test_a_work_log_is_recorded_with_the_keyboard_alone(app: Any) -> None:
    """A clerk with no working mouse picks the staff member at the window and records a work
    log (7.3.2) with Tab, the arrows, typing and Enter. Before, the first arrow press on the
    staff picker sent the page away with the first name: the second name on the roster
    could not be chosen from the keyboard."""
    _roster(app, ROSTER)
    client = app.test_client()
    client.post("/unlock", data={"passphrase": PASSPHRASE, "csrf": csrf(client)})
    _choose(client, "S1")
    case_id = _case_id(_consult(client))
    for page, base in _browser(app, 1366):
        # the lists fit the laptop's screen: their scroll boxes are no Tab stops
        assert page.locator("div.scroll").count() == 5
        assert page.locator("div.scroll[tabindex]").count() == 0
        _tab_to(page, "#window-staff")
        page.keyboard.press("ArrowDown")
        page.keyboard.press("ArrowDown")
        assert page.url == base + "/" and page.input_value("#window-staff") == "S2"
        with page.expect_navigation():
            page.keyboard.press("Enter")
        assert page.input_value("#window-staff") == "S2"
        page.goto(f"{base}/cases/{case_id}/steps/work_log")
        _tab_to(page, "#kind")
        page.keyboard.press("ArrowDown")  # 跟踪 -> 协调
        _tab_to(page, "#save", 3)  # the content forgotten: refused
        with page.expect_navigation():
            page.keyboard.press("Enter")
        # the focus waits on the input the refusal names (it was at the page's top)
        assert page.evaluate("document.activeElement.id") == "text"
        assert page.get_attribute("#text", "aria-describedby") == "text-err"
        page.keyboard.type("电话联系审批部门，材料已转交")
        _tab_to(page, "#save", 3)
        with page.expect_navigation():
            page.keyboard.press("Enter")
        assert page.url == f"{base}/cases/{case_id}"
    logs = [e for e in _docs(app, case_id)[1] if e["event_type"] == "work_log"]
    assert [e["kind"] for e in logs] == ["coordination"]
    assert _staff_of(_docs(app, case_id)[1], "work_log") == {"S2"}


@pytest.mark.timeout(180)
def test_the_town_page_fits_a_phone(town: Any) -> None:
    """The coordinator checks the town page on a phone (360 px): its tables widened the
    whole page to 431 px, the page scrolled sideways and cut the header off. Each table
    scrolls in its own box now."""
    past = (local_today() - dt.timedelta(days=2)).isoformat()
    rows = [{"case": f"c-{k}", "no": f"DC-2026-{k:04d}", "status": "handling", "due": past,
             "staff": "staff-201-1"} for k in range(5)]
    town.extensions["bangban_node"].store.bulk_docs([_board(VILLAGE_1, rows),
                                                     _board(VILLAGE_2, rows[:2])])
    for page, base in _browser(town, 360):
        for url in ("/", "/cases/", "/town/"):
            page.goto(base + url)
            assert page.evaluate("document.documentElement.scrollWidth") <= 360, url
        assert page.locator("#board-rows tbody tr").count() == 5 + 2
        # the wide table is there to be scrolled, from the keyboard too
        box = page.locator("div.scroll:has(#board-rows)")
        assert box.get_attribute("tabindex") == "0" and box.get_attribute("role") == "region"
