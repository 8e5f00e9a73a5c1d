"""The unlock page, the refusals met before any work and the sync page, in a real browser (Playwright,
Debian's chromium) on the Chinese page a clerk sees: the node's app served in this process
on loopback, no hub."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.test_node_browser import CHROMIUM_ARGS
from tests.node.conftest import PASSPHRASE

pytestmark = [pytest.mark.browser]

#: An English word of a refusal's English half ("too many wrong passphrases")
ENGLISH = re.compile(r"[A-Za-z]{4,}")


@pytest.fixture
def node_dir(tmp_path: Path) -> Path:
    """conftest's node folder, with a database address the hub could serve (its default
    ``db/DEVICE`` is no legal database name: a sync was refused here, never offline)."""
    from tests.node.conftest import TOWN, VILLAGE, make_node_dir

    return make_node_dir(tmp_path / "node", institution_path=["410600", "410621", TOWN, VILLAGE],
                         db_url="http://127.0.0.1:9/bangban")


@pytest.fixture
def page(base: str) -> Iterator[Any]:
    """A Chinese browser page, still locked (``base``: the app served on loopback)."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        try:
            yield chromium.new_context(locale="zh-CN").new_page()
        finally:
            chromium.close()


def _unlock(page: Any, passphrase: str) -> None:
    page.fill("#passphrase", passphrase)
    with page.expect_navigation():
        page.keyboard.press("Enter")


@pytest.mark.timeout(180)
def test_too_many_wrong_passphrases_are_said_in_the_pages_language(page: Any, base: str) -> None:
    """After the 6th wrong passphrase the page said "口令错误次数过多，请 1 分钟后再试 / too
    many wrong passphrases: try again in 1 min": the English half of the 429 on the clerk's
    Chinese page (the other refusals were cut to one language, node.labels.one_language);
    and nothing told the clerk who forgot the passphrase not to delete or reinstall."""
    page.goto(base + "/")
    assert page.locator("#forgot").count() == 0  # a clerk who typed nothing wrong yet
    for n in range(6):
        _unlock(page, f"wrong passphrase {n}")
        assert page.inner_text("#passphrase-err") == "口令不正确，请重新输入。"
    # the clerk who forgot it is told what loses work and what does not (there was no word)
    assert page.locator("#forgot").count() == 1
    forgot = page.inner_text("#forgot")
    assert "无法找回" in forgot and "不要删除" in forgot and "自动" in forgot and "上传" in forgot
    _unlock(page, PASSPHRASE)  # the right one waits too, now
    said = page.inner_text("#passphrase-err")
    assert "分钟后再试" in said and not ENGLISH.search(said), said


@pytest.mark.timeout(180)
def test_a_restored_laptops_new_case_page_says_why_in_the_pages_language(
        app: Any, page: Any, base: str) -> None:
    """A laptop put back from its backup opens no new case before a sync (node.restore):
    the new-case page said so in Chinese, then again in English on the same line."""
    from node.restore import stamp

    node = app.extensions["bangban_node"]
    stamp(node.store, node.device_id, "2026-11-20T08:00:00+00:00")
    page.goto(base + "/")
    _unlock(page, PASSPHRASE)
    page.goto(base + "/consultations/new")
    said = page.inner_text("#restored-not-synced")
    assert "从备份恢复" in said and "与平台同步" in said
    assert "restored" not in said and "backup" not in said, said
    assert "备份时间 2026-11-20 16:00" in said  # Beijing time, not the stamp's UTC ISO
    assert page.is_disabled("#save")


@pytest.mark.timeout(180)
def test_the_sync_page_of_a_laptop_offline_shows_no_round_in_progress(
        page: Any, base: str) -> None:
    """The hub out of reach (a week without network): the page said 状态 离线，自动重试 and,
    below it, 进度 连接平台 0, the phase the failed round stopped in, as if it connected now."""
    page.goto(base + "/")
    _unlock(page, PASSPHRASE)
    page.goto(base + "/sync")
    with page.expect_navigation():
        page.click("#sync-now")  # the enrollment's hub, 127.0.0.1:9, answers nothing
    assert page.inner_text("#sync-status").startswith("离线")
    progress = page.locator("xpath=//dt[text()='进度']/following-sibling::dd[1]")
    assert progress.inner_text().strip() == "—"
