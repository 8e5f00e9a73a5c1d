"""A complaint box (投诉内容: the public form, a supervisor's intake) and a paste longer
than its limit, in Chromium: the box's ``maxlength`` cut it silently, the end of the
citizen's text lost without a word."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from werkzeug.serving import make_server

from hub.oversight.public_complaints import MAX_TEXT
from tests.e2e.test_node_browser import CHROMIUM_ARGS
from tests.hub.oversight.scenario import V1
from tests.hub.oversight.test_web import app
from tests.node.conftest import serving

__all__ = ["app"]  # the fixture: test_web's hub with the scenario's cases


@contextmanager
def _chromium(app: Any) -> Iterator[tuple[str, Any]]:
    """The hub's app served on loopback, and a headless Chromium: ``(base URL, browser)``."""
    from playwright.sync_api import sync_playwright

    with serving(make_server("127.0.0.1", 0, app, threaded=True)) as base, \
            sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        try:
            yield base, browser
        finally:
            browser.close()


@pytest.mark.timeout(180)
def test_a_long_paste_is_counted_not_cut(app: Any) -> None:
    """With the page's script the box keeps the whole paste and says by how much it is too
    long; without it the server refuses the text by name and gives it back whole."""
    text = "办" * (MAX_TEXT + 50)
    with _chromium(app) as (base, browser):
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


def _complaints_page(browser: Any, base: str, login: str, script: bool) -> Any:
    """The complaints page of a supervisor logged in, with or without the page's script."""
    page = browser.new_context(locale="zh-CN", java_script_enabled=script).new_page()
    page.goto(f"{base}/oversight/login")
    page.fill("#login", login)
    page.fill("#password", f"{login}-pass-1")
    with page.expect_navigation():
        page.click("button[type=submit]")
    page.goto(f"{base}/oversight/complaints")
    return page


@pytest.mark.timeout(180)
def test_the_intake_box_counts_a_long_paste_too(app: Any) -> None:
    """A supervisor's intake of a complaint taken by phone or letter (投诉内容, 8000
    characters in the schema) was cut by maxlength alike; counted now, and kept from being
    sent; without the script the schema refuses it by name and the form comes back whole."""
    from hub.oversight.complaints import MAX_TEXT as INTAKE_MAX

    text = "信" * (INTAKE_MAX + 7)
    ov = app.extensions["bangban_oversight"]
    ov.catch_up(force=True)
    (no,) = ov.facts.reader().execute(  # a case of the town's: refused for its text alone
        f"SELECT case_no FROM facts WHERE case_no LIKE '{V1}-%' LIMIT 1").fetchone()
    with _chromium(app) as (base, browser):
        for script in (True, False):
            page = _complaints_page(browser, base, "town", script)
            page.fill("#intake input[name=case]", no)
            page.fill("#f-text", text)
            assert page.input_value("#f-text") == text
            if script:
                assert "已超出 7 字" in page.inner_text("#text-count")
                page.click("#intake button[type=submit]")  # kept on the page
                assert page.evaluate("document.activeElement.id") == "f-text"
                continue
            with page.expect_navigation():
                page.click("#intake button[type=submit]")
            assert "投诉内容" in page.inner_text("[role=alert]")
            assert page.input_value("#f-text") == text


@pytest.mark.timeout(180)
def test_the_handling_box_counts_a_long_paste_too(app: Any) -> None:
    """Each open complaint's 处理情况 (8000 characters in the schema) was an input with
    maxlength: a supervisor's report pasted in was cut at 8000 without a word and recorded
    so. It is counted as the complaint boxes are, and kept from being sent; without the
    script the schema refuses it by its name and the row's box gives it back whole."""
    from hub.oversight.complaints import MAX_HANDLED

    text = "处" * (MAX_HANDLED + 7)
    box = "#complaints textarea[name=text]"
    with _chromium(app) as (base, browser):
        for script in (True, False):
            page = _complaints_page(browser, base, "city", script)
            page.fill(box, text)
            assert page.input_value(box) == text  # nothing cut
            row = page.locator("#complaints form").first
            if script:
                said = row.locator("[role=status]").inner_text()
                assert "已超出 7 字" in said and "处理情况" in said, said
                row.locator("button").click()  # kept on the page, the box to cut down
                assert page.evaluate("document.activeElement.name") == "text"
                assert page.input_value(box) == text
                continue
            with page.expect_navigation():
                row.locator("button").click()
            refused = page.inner_text("[role=alert]")
            assert "处理情况" in refused and str(MAX_HANDLED) in refused, refused
            assert page.input_value(box) == text
