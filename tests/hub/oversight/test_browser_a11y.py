"""The public pages and the dashboard in a real browser (Playwright, Debian's chromium) on a
360 px phone, as an inspector tries them (GB/T 37668-2019 reflow; MIIT 适老化): no page
scrolls sideways, the large-text switch is reached from the keyboard."""

from __future__ import annotations

from typing import Any

import pytest
from werkzeug.serving import make_server

from tests.e2e.test_node_browser import CHROMIUM_ARGS
from tests.hub.oversight.scenario import V1
from tests.hub.oversight.test_web import Q, app
from tests.node.conftest import serving

pytestmark = [pytest.mark.browser]
__all__ = ["app"]  # the fixture: test_web's hub with the scenario's cases


@pytest.mark.timeout(180)
def test_the_public_pages_and_the_dashboard_fit_a_phone(app: Any) -> None:
    """The complaint form's 60-column box made the page 522 px wide, the dashboard's tables
    676 px: an applicant on a phone scrolled sideways to read the form's end."""
    from playwright.sync_api import sync_playwright

    with serving(make_server("127.0.0.1", 0, app, threaded=True)) as base, \
            sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        try:
            page = browser.new_context(locale="zh-CN", viewport={"width": 360, "height": 740}
                                       ).new_page()
            page.goto(f"{base}/oversight/public/{V1}/complaint")
            assert page.evaluate("document.documentElement.scrollWidth") <= 360
            # the keyboard: the skip link, then the large-text switch
            page.keyboard.press("Tab")
            page.keyboard.press("Tab")
            assert page.evaluate("document.activeElement.id") == "text-size"
            with page.expect_navigation():
                page.keyboard.press("Enter")
            assert page.evaluate("getComputedStyle(document.body).fontSize") == "22px"
            assert page.evaluate("document.documentElement.scrollWidth") <= 360
            page.goto(f"{base}/oversight/public/{V1}")
            assert page.evaluate("document.documentElement.scrollWidth") <= 360
            page.goto(f"{base}/oversight/login")
            page.fill("#login", "city")
            page.fill("#password", "city-pass-1")
            with page.expect_navigation():
                page.keyboard.press("Enter")
            for url in ("/", "/complaints", "/checks", "/staff"):
                page.goto(f"{base}/oversight{url}?{Q}")
                assert page.evaluate("document.documentElement.scrollWidth") <= 360, url
        finally:
            browser.close()
