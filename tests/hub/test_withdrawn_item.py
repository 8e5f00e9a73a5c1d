"""A 清单 item withdrawn while a station was offline (6.2.4): the cases the station took
while the item was listed reach the hub when the laptop comes back; what it writes for the
item after the withdrawal is refused.

Before, the hub judged the station's entrustment, signed weeks earlier, by today's list:
refused as 'no longer on the list', and every later step of the case with it (their base
unknown), so the case never reached supervision."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from hub import admin
from schemas import sample
from schemas.eligibility import check_catalog
from schemas.errors import IllegalTransition
from schemas.written import stamp

from .conftest import VILLAGE_A, open_world


def _withdraw(hub: Any, code: str) -> None:
    item = next(i for i in sample.catalog() if i["code"] == code)
    admin.import_catalog(hub, [{**item, "active": False}])


def test_cases_taken_offline_before_the_item_was_withdrawn_reach_the_hub(
        tmp_path: Path) -> None:
    with open_world(tmp_path) as world:
        a = world.node(VILLAGE_A)
        case_id = a.new_case()  # entrusted and accepted on 2 March, offline since
        code = a.store.get(f"case:{case_id}")["service_item"]
        _withdraw(world.hub, code)
        result = a.sync()
        assert result["refused"] == 0
        held = world.hub.stores.main.all_docs(startkey=f"event:{case_id}:",
                                              endkey=f"event:{case_id}:\ufff0")["rows"]
        mine = a.store.all_docs(startkey=f"event:{case_id}:",
                                endkey=f"event:{case_id}:\ufff0")["rows"]
        assert [r["id"] for r in held] == [r["id"] for r in mine]


def test_an_entrustment_stated_after_the_withdrawal_is_refused() -> None:
    item = {**next(i for i in sample.catalog() if i["proxy"]), "active": False,
            "written": stamp(None, "410600-HUB", int(time.time() * 1000))}
    before = {"event_type": "entrustment", "at": "2026-03-02T09:00:00+08:00"}
    check_catalog(before, item)
    for at in (time.strftime("%Y-%m-%dT%H:%M:%S+00:00", time.gmtime(time.time() + 60)),
               "2099-01-01T09:00:00+08:00"):
        try:
            check_catalog({**before, "at": at}, item)
        except IllegalTransition as exc:
            assert exc.rule == "item_inactive"
        else:
            raise AssertionError(f"an entrustment at {at} was taken for a withdrawn item")
    # an item withdrawn with no written clock (older revisions): refused as before
    unstamped = {k: v for k, v in item.items() if k != "written"}
    try:
        check_catalog(before, unstamped)
    except IllegalTransition as exc:
        assert exc.rule == "item_inactive"
    else:
        raise AssertionError("refused before, taken now")
