"""What the clerk's pages say, in one language: the error page, the flashes and the sync page
showed both halves of a bilingual refusal ("页面不存在…… / page not found: use the menu"), and
a step's time in the record carried the stored UTC ISO string as its tooltip."""

from __future__ import annotations

import re
from typing import Any

import pytest

from tests.node.conftest import csrf
from tests.node.test_casework_flow import _consult


def _text(html: str) -> str:
    return re.sub(r"<[^>]*>", " ", html)


def test_the_error_page_speaks_the_page_s_language(unlocked: Any) -> None:
    c = unlocked
    r = c.get("/no-such-page")
    assert r.status_code == 404
    said = _text(r.data.decode())
    assert "页面不存在" in said and "page not found" not in said, said
    c.post("/lang", data={"csrf": csrf(c), "lang": "en", "next": "/"})
    said = _text(c.get("/no-such-page").data.decode())
    assert "page not found" in said and "页面不存在" not in said, said


def test_a_step_s_time_in_the_record_is_beijing_time_even_in_its_tooltip(unlocked: Any) -> None:
    page = unlocked.get(f"/cases/{_consult(unlocked)}").data.decode()
    assert not re.search(r"\d{4}-\d\d-\d\dT\d\d:\d\d", page)  # nor in a title=""
    assert re.search(r'<span class="when" title="\d{4}-\d\d-\d\d \d\d:\d\d:\d\d">', page)


@pytest.mark.parametrize(("en", "text", "said"), [
    (False, "页面不存在：请从菜单进入 / page not found: use the menu", "页面不存在：请从菜单进入"),
    (True, "页面不存在：请从菜单进入 / page not found: use the menu", "page not found: use the menu"),
    # the field by its label in Chinese, by its name in English
    (False, "reason: 不是可选的催办原因 / not a notice reason: 'x'", "原因：不是可选的催办原因"),
    (True, "reason: 不是可选的催办原因 / not a notice reason: 'x'", "reason: not a notice reason: 'x'"),
    # not one clean pair: shown whole, nothing dropped
    (False, "已同步 / synced: 上传 pushed 3，下载 pulled 2", "已同步 / synced: 上传 pushed 3，下载 pulled 2"),
    (False, "已上传 / 已下载", "已上传 / 已下载"),
])
def test_one_language_takes_the_half_of_a_bilingual_message(
        monkeypatch: pytest.MonkeyPatch, en: bool, text: str, said: str) -> None:
    from node import labels

    monkeypatch.setattr(labels, "_en", lambda: en)
    assert labels.one_language(text) == said


def test_the_sync_page_says_its_error_in_chinese(unlocked: Any, app: Any) -> None:
    from node.syncstate import OFFLINE

    app.extensions["bangban_node"].syncer.state.last_error = OFFLINE
    said = _text(unlocked.get("/sync/").data.decode())
    assert OFFLINE.split(" / ")[0] in said and "cannot reach the hub" not in said, said


def test_a_step_recorded_under_the_laptop_says_so_under_its_staff(unlocked: Any, app: Any) -> None:
    """With no roster a step is recorded under the device (名册为空：以设备记录); the record
    printed its code alone under 经办人, as if it were a person's."""
    device = app.extensions["bangban_node"].device_id
    page = unlocked.get(f"/cases/{_consult(unlocked)}").data.decode()
    assert f"经办人：以设备记录（{device}）" in page
    assert f"经办人：{device}<" not in page
