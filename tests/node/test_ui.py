"""UI behaviour: language switch, large text, keyboard access keys, local assets only."""

from __future__ import annotations

import re
from typing import Any

from tests.node.conftest import csrf


def test_chinese_by_default_english_on_request(unlocked: Any) -> None:
    html = unlocked.get("/").data.decode()
    assert 'lang="zh-CN"' in html and "登记咨询" in html
    unlocked.post("/lang", data={"csrf": csrf(unlocked), "lang": "en", "next": "/"})
    html = unlocked.get("/").data.decode()
    assert 'lang="en"' in html and "New consultation" in html and "Open cases" in html


def test_large_text_mode_toggles(unlocked: Any) -> None:
    assert 'class="large-text"' not in unlocked.get("/").data.decode()
    unlocked.post("/large-text", data={"csrf": csrf(unlocked), "next": "/"})
    assert 'class="large-text"' in unlocked.get("/").data.decode()


def test_access_keys_and_no_external_assets(unlocked: Any) -> None:
    html = unlocked.get("/consultations/new").data.decode()
    keys = re.findall(r'accesskey="(\w)"', html)
    assert len(keys) == len(set(keys)) and {"h", "n", "c", "y", "s"} <= set(keys)
    assert not re.search(r'(src|href)="(https?:)?//', html)  # every asset is served locally
    css = unlocked.get("/static/bangban.css").data.decode()
    assert ":focus-visible" in css and "large-text" in css


def test_post_without_csrf_is_refused(unlocked: Any) -> None:
    assert unlocked.post("/lock").status_code == 400


def test_wrong_passphrase_says_so(client: Any) -> None:
    resp = client.post("/unlock", data={"csrf": csrf(client), "passphrase": "nope"})
    assert resp.status_code == 401 and "口令不正确" in resp.data.decode()
