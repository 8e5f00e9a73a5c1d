"""The node's "today" is Beijing's date, whatever the laptop's time zone (schemas.state.
local_today). It was ``local_today()``, the machine's date: on a laptop or CI machine
set to UTC, from 00:00 to 08:00 Beijing time the resumption form offered yesterday as the
day the cause was removed, which the rules then refused as before the suspension recorded
a minute earlier (10.2.5.1); a deadline already past in Beijing was taken as still ahead.
The whole suite failed this way when run between 16:00 and 24:00 UTC."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from schemas.state import local_timestamp, local_today
from tests.node.conftest import csrf

PNG = ("data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9Q"
       "DwADhgGAWjR9awAAAABJRU5ErkJggg==")


def _post(client: Any, path: str, **data: Any) -> Any:
    return client.post(path, data={"csrf": csrf(client), **data})


def _suspended_case(client: Any) -> str:
    from schemas.sample import catalog

    item = catalog()[0]["code"]
    r = _post(client, "/consultations/", applicant_name="王小明", phone="13800000000",
              question="怎么办理？", service_item=item, service_type="proxy", mode="nearby",
              channel="window", answered="1", outcome="已当场答复")
    assert r.status_code == 302, r.data.decode()[:2000]
    case_id = str(r.headers["Location"].rstrip("/").split("/")[-1])
    later = (local_today() + dt.timedelta(days=60)).isoformat()
    steps = {"entrustment": {"channel": "offline", "mode": "nearby", "service_item": item,
                             "ledger_no": "DB-1", "period_end": later, "scope": "代为提交",
                             "signature_data": PNG},
             "acceptance": {"zone": "assisted_zone", "time_limit_days": "5"},
             "suspension": {"reason": "c", "resumption_deadline": later, "signature_data": PNG}}
    for step, data in steps.items():
        r = _post(client, f"/cases/{case_id}/steps/{step}", **data)
        assert r.status_code == 302, (step, r.data.decode()[:2000])
    return case_id


def test_the_resumption_form_offers_beijing_today_and_it_is_accepted(
        unlocked: Any, off_beijing_tz: str) -> None:
    """10.2.5.1: the pre-filled 中止原因消除日期 is today in Beijing, the suspension's day."""
    case_id = _suspended_case(unlocked)
    form = unlocked.get(f"/cases/{case_id}/steps/resumption").data.decode()
    offered = re.search(r'name="cause_removed_on" value="([^"]*)"', form)
    assert offered and offered.group(1) == local_today().isoformat(), off_beijing_tz
    r = _post(unlocked, f"/cases/{case_id}/steps/resumption", cause_removed_on=offered.group(1),
              signature_data=PNG)
    assert r.status_code == 302, r.data.decode()[:3000]


def test_a_deadline_already_past_in_beijing_is_refused(unlocked: Any, off_beijing_tz: str) -> None:
    """10.2.5: a resumption deadline of yesterday (Beijing) is no deadline, even on a laptop
    whose own calendar still says it is yesterday."""
    case_id = _suspended_case(unlocked)
    r = _post(unlocked, f"/cases/{case_id}/steps/resumption",
              cause_removed_on=local_today().isoformat(), signature_data=PNG)
    assert r.status_code == 302, r.data.decode()[:3000]
    yesterday = (local_today() - dt.timedelta(days=1)).isoformat()
    r = _post(unlocked, f"/cases/{case_id}/steps/suspension", reason="c",
              resumption_deadline=yesterday, signature_data=PNG)
    assert r.status_code == 400 and 'id="resumption_deadline-err"' in r.data.decode()


def test_a_case_opened_now_is_today_s_and_numbered_in_beijing_s_year(
        unlocked: Any, off_beijing_tz: str) -> None:
    before = local_today()  # taken first: a test running over midnight still holds
    case_id = _suspended_case(unlocked)
    node = unlocked.application.extensions["bangban_node"]
    header = node.casework.header(case_id)
    assert int(header["case_no"].split("-")[1]) in {before.year, local_today().year}
    row = node.index.search(view="today", today=before.isoformat(), limit=5).rows
    assert [r["case_id"] for r in row] == [case_id]
    home = unlocked.get("/").data.decode()
    if local_today() == before:  # (after midnight the tile rightly counts 0)
        assert re.search(r'<div class="n">1</div>今日新登记办件', home)


def test_local_time_is_beijing_wall_clock() -> None:
    assert local_timestamp("2026-11-26T17:30:00+00:00") == "2026-11-27T01:30:00"
    assert local_timestamp("2026-11-27T01:30:00+08:00") == "2026-11-27T01:30:00"
    assert local_timestamp("2026-11-27") == "2026-11-27" and local_timestamp("") == ""
    assert local_today(dt.datetime(2026, 12, 31, 16, 0, tzinfo=dt.UTC)) == dt.date(2027, 1, 1)
