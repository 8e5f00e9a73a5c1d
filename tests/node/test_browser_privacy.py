"""What a stolen laptop's browser profile tells without the passphrase (design.md §5: no
plaintext personal data at rest; 7.2.2.2). Chromium keeps what was typed into a form's text
fields (its "Web Data" file, table ``autofill``) to offer it again, and a page's form state
(to fill the form again on Back, or when tabs are restored) in its "Sessions" files: the
applicant's name, ID number and phone, in clear, beside the sealed store. The node's forms
say ``autocomplete="off"``."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import pytest
from werkzeug.serving import make_server

from tests.e2e.test_node_browser import CHROMIUM_ARGS
from tests.node.conftest import PASSPHRASE, serving

pytestmark = [pytest.mark.browser]

NAME, ID_NUMBER, PHONE = "孙桂芝", "410621195003120029", "13812345678"


def _typed_values(profile: Path) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    for path in profile.rglob("Web Data"):
        db = sqlite3.connect(path)
        try:
            out += db.execute("SELECT name, value FROM autofill").fetchall()
        finally:
            db.close()
    return out


@pytest.mark.timeout(180)
def test_the_browser_keeps_no_applicant_data_typed_into_the_forms(app: Any,
                                                                 tmp_path: Path) -> None:
    from playwright.sync_api import sync_playwright

    profile = tmp_path / "profile"
    with serving(make_server("127.0.0.1", 0, app, threaded=True)) as base, \
            sync_playwright() as p:
        ctx = p.chromium.launch_persistent_context(
            str(profile), executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS,
            locale="zh-CN")
        try:
            page = ctx.new_page()
            page.goto(base + "/")
            page.fill("#passphrase", PASSPHRASE)
            page.keyboard.press("Enter")
            page.wait_for_url(base + "/")
            page.goto(base + "/consultations/new")
            page.fill("#applicant_name", NAME)
            page.fill("#id_number", ID_NUMBER)
            page.fill("#phone", PHONE)
            page.select_option("#service_type", "proxy")
            page.select_option("#service_item", index=1)
            page.fill("#question", "请村里代办")
            page.fill("#outcome", "已当场答复")
            page.click("#save")
            page.wait_for_url(base + "/cases/*")
            page.go_back()  # the form again: its state went to the profile's Sessions files
            page.wait_for_url(base + "/consultations/new")
            page.goto(base + "/cases/")  # the search by name (a POST, kept out of history)
            page.fill("input[name=q]", NAME)
            page.keyboard.press("Enter")
            page.wait_for_url(base + "/cases/?s=*")  # the search's answer
        finally:
            ctx.close()  # Chromium writes its profile's files as it closes
    assert _typed_values(profile) == []
    assert _files_holding(profile, NAME, ID_NUMBER, PHONE) == []


def _files_holding(profile: Path, *values: str) -> list[str]:
    """The profile's files holding any of ``values``, in UTF-8 or UTF-16 (Chromium's
    session files keep a page's form state in UTF-16)."""
    needles = [v.encode(enc) for v in values for enc in ("utf-8", "utf-16-le")]
    return [str(p.relative_to(profile)) for p in profile.rglob("*")
            if p.is_file() and any(n in p.read_bytes() for n in needles)]
