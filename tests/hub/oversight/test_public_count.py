"""The public complaint box (投诉) and a paste longer than its limit, in Chromium: the box's
``maxlength`` cut it silently, the end of the citizen's text lost without a word."""

from __future__ import annotations

from typing import Any

import pytest
from werkzeug.serving import make_server

from hub.oversight.public_complaints import MAX_TEXT
from tests.e2e.test_node_browser import CHROMIUM_ARGS
from tests.hub.oversight.scenario import V1
from tests.hub.oversight.test_web import app
from tests.node.conftest import serving

__all__ = ["app"]  # the fixture: test_web's hub with the scenario's cases


@pytest.mark.timeout(180)
def test_a_long_paste_is_counted_not_cut(app: Any) -> None:
    """With the page's script the box keeps the whole paste and says by how much it is too
    long; without it the server refuses the text by name and gives it back whole."""
    from playwright.sync_api import sync_playwright

    text = "办" * (MAX_TEXT + 50)
    with serving(make_server("127.0.0.1", 0, app, threaded=True)) as base, \
            sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        try:
            page = browser.new_context(locale="zh-CN").new_page()
            page.goto(f"{base}/oversight/public/{V1}/complaint")
            page.fill("#f-text", "办" * 10)
            assert f"还可输入 {MAX_TEXT - 10} 字" in page.inner_text("#text-count")
            page.fill("#f-text", text)
            assert page.evaluate("document.getElementById('f-text').value.length") == len(text)
            said = page.inner_text("#text-count")
            assert "已超出 50 字" in said and str(MAX_TEXT) in said, said
            page.fill("#f-case", "410602101201-2026-A1-00001")
            page.fill("#f-contact", "13900000000")
            page.click("#complaint button")  # kept on the page, the box to cut down
            assert page.evaluate("document.activeElement.id") == "f-text"
            assert page.input_value("#f-text") == text and not page.query_selector("#receipt")
            page.fill("#f-text", "办" * MAX_TEXT)
            assert "还可输入 0 字" in page.inner_text("#text-count")
            quiet = browser.new_context(locale="zh-CN", java_script_enabled=False).new_page()
            quiet.goto(f"{base}/oversight/public/{V1}/complaint")
            quiet.fill("#f-case", "410602101201-2026-A1-00001")
            quiet.fill("#f-text", text)
            quiet.fill("#f-contact", "13900000000")
            with quiet.expect_navigation():
                quiet.click("#complaint button")
            assert "投诉内容" in quiet.inner_text("#refusal")
            assert quiet.input_value("#f-text") == text  # nothing of it lost
        finally:
            browser.close()
