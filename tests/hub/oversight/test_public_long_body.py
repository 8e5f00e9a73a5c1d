"""The public complaint form sent without the page's script (nothing counts the box) and a
paste past the form's byte limit (public_views.MAX_BODY, 32 KiB: some 3,500 Chinese
characters percent-encoded): the answer was a bare 413 page, "提交内容过长", and the
citizen's text was lost with it."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import quote_plus, urlencode

import pytest
from werkzeug.serving import make_server

from hub.oversight import public_views as pv
from hub.oversight.public_complaints import MAX_TEXT
from tests.e2e.test_node_browser import CHROMIUM_ARGS
from tests.hub.oversight.scenario import V1
from tests.hub.oversight.test_web import app
from tests.node.conftest import serving

__all__ = ["app"]  # the fixture: test_web's hub with the scenario's cases

CASE = "410602101201-2026-A1-00001"


def _box(page: str) -> str:
    found = re.search(r'<textarea name="text"[^>]*>(.*?)</textarea>', page, re.S)
    assert found is not None
    return found.group(1)


def test_a_body_past_the_limit_comes_back_with_its_text_and_field(app: Any) -> None:
    """Past MAX_BODY but within what is read (GIVEN_BACK): the whole text given back, the
    other fields with it, refused by 投诉内容 and its limit."""
    text = "诉" * 4000
    body = urlencode({"csrf": "x", "case": CASE, "category": "attitude", "text": text,
                      "contact": "13900000000"})
    assert len(body) > pv.MAX_BODY  # and less than GIVEN_BACK
    resp = app.test_client().post(f"/oversight/public/{V1}/complaint", data=body,
                                  content_type="application/x-www-form-urlencoded")
    page = resp.text
    assert resp.status_code == 413
    refusal = re.search(r'id="refusal">(.*?)</p>', page, re.S)
    assert refusal is not None and f"投诉内容：不超过{MAX_TEXT}字" in refusal.group(1)
    assert _box(page) == text and 'value="13900000000"' in page and f'value="{CASE}"' in page
    assert 'aria-invalid="true"' in page.split('name="text"')[1].split(">")[0]  # tied to it


def test_a_body_past_what_is_read_gives_back_its_beginning(app: Any) -> None:
    """Past GIVEN_BACK the rest is not kept: the box holds what arrived, cut at a whole
    character (not at half a UTF-8 sequence or a %XX), and the refusal says it is only
    the beginning."""
    text = "长" * 40_000  # 360,000 bytes encoded, past GIVEN_BACK
    body = f"case={CASE}&category=attitude&text={quote_plus(text)}&contact=13900000000"
    for cut in range(3):  # the read's end falls at each place of a %E9%95%BF
        resp = app.test_client().post(
            f"/oversight/public/{V1}/complaint", data=("x" * cut + "&" + body).encode(),
            content_type="application/x-www-form-urlencoded")
        assert resp.status_code == 413
        kept = _box(resp.text)
        assert kept and text.startswith(kept) and len(kept) < len(text)
        assert "投诉内容" in resp.text and "仅为收到的开头部分" in resp.text


@pytest.mark.timeout(180)
def test_a_long_paste_without_the_script_is_given_back(app: Any) -> None:
    """In Chromium without script: 4,000 characters pasted, sent, and given back whole on
    the form, the refusal naming the box."""
    from playwright.sync_api import sync_playwright

    text = "办" * 4000
    with serving(make_server("127.0.0.1", 0, app, threaded=True)) as base, \
            sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        try:
            page = browser.new_context(locale="zh-CN", java_script_enabled=False).new_page()
            page.goto(f"{base}/oversight/public/{V1}/complaint")
            page.fill("#f-case", CASE)
            page.fill("#f-text", text)
            page.fill("#f-contact", "13900000000")
            with page.expect_navigation():
                page.click("#complaint button")
            assert "投诉内容" in page.inner_text("#refusal")
            assert page.input_value("#f-text") == text
            assert page.input_value("#f-contact") == "13900000000"
        finally:
            browser.close()
