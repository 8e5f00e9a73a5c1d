"""Pages show words and Beijing time, never raw codes or UTC ISO strings (issue 7)."""

from __future__ import annotations

import re
from typing import Any

from tests.node.conftest import csrf
from tests.node.test_casework_flow import PNG, _consult, _step, later


def test_local_time_is_beijing() -> None:
    from node.labels import local_time

    assert local_time("2026-11-26T04:48:47+00:00") == "2026-11-26 12:48"
    assert local_time("2026-11-26T20:05:00Z") == "2026-11-27 04:05"
    assert local_time("2026-11-26") == "2026-11-26" and local_time(None) == ""


def test_case_page_shows_labels_and_beijing_time(unlocked: Any) -> None:
    import base64

    from schemas.sample import catalog

    c = unlocked
    case_id = _consult(c)
    sig = "data:image/png;base64," + base64.b64encode(PNG).decode()
    item = catalog()[0]
    form = c.get(f"/cases/{case_id}/steps/entrustment").data.decode()
    assert ">线下<" in form  # the select offers words too
    assert _step(c, case_id, "entrustment", channel="offline", mode="nearby",
                 service_item=item["code"], ledger_no="DB-1", period_end=later(60),
                 scope="代为提交", signature_data=sig).status_code == 302
    assert _step(c, case_id, "acceptance", zone="assisted_zone",
                 time_limit_days="5").status_code == 302
    assert _step(c, case_id, "suspension", reason="c", resumption_deadline=later(20),
                 signature_data=sig).status_code == 302
    page = c.get(f"/cases/{case_id}").data.decode()
    text = re.sub(r"<[^>]+>", "", page)
    assert "渠道：线下；" in text and "渠道：offline" not in text
    assert "渠道：窗口" in text  # the consultation's channel
    assert "原因：c）服务对象要求暂停办理；" in text and "原因: c" not in text
    assert "服务方式：就近办" in text and "办理区域：帮办代办系统办理区" in text
    assert f"服务事项：{item['name']}" in text and item["code"] not in text
    assert not re.search(r"\d{4}-\d\d-\d\dT\d\d:\d\d", text)  # no ISO UTC strings shown
    assert re.search(r'<span class="when" title="[^"]+">\d{4}-\d\d-\d\d \d\d:\d\d</span>', page)
    home = re.sub(r"<[^>]+>", "", c.get("/").data.decode())
    assert "办理中" in home or "中止" in home
    assert item["name"] in home and "handling" not in home and "suspended" not in home
    c.post("/lang", data={"csrf": csrf(c), "lang": "en", "next": "/"})
    text = re.sub(r"<[^>]+>", "", c.get(f"/cases/{case_id}").data.decode())
    assert "c) applicant asked to pause" in text and "assisted-system zone" in text
