"""The 清单 (6.2.4) changed in the middle of the year while a station was offline for two
weeks: what the station promised by the list it held reaches the hub; what is stated
after the change is judged by the new list."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest

from hub import admin
from schemas import sample
from schemas.eligibility import check_catalog
from schemas.errors import IllegalTransition
from schemas.written import stamp

from .conftest import VILLAGE_A, open_world


def _event_ids(store: Any, case_id: str) -> list[str]:
    rows = store.all_docs(startkey=f"event:{case_id}:", endkey=f"event:{case_id}:\ufff0")["rows"]
    return [r["id"] for r in rows]


def test_a_time_limit_shortened_while_the_station_was_offline_keeps_its_cases(
        tmp_path: Path) -> None:
    """10.1.3, 5 a): form A promised the item's 20 working days on 2 March, the laptop
    offline since; the city cut the item to 1 day. The hub refused that acceptance by
    today's list, and every later step of the case (base unknown)."""
    with open_world(tmp_path) as world:
        a = world.node(VILLAGE_A)
        case_id = a.new_case()
        code = a.store.get(f"case:{case_id}")["service_item"]
        item = next(i for i in sample.catalog() if i["code"] == code)
        promised = [e for e in (a.store.get(i) for i in _event_ids(a.store, case_id))
                    if e.get("event_type") == "acceptance"][0]["time_limit_days"]
        assert promised > 1
        admin.import_catalog(world.hub, [{**item, "time_limit_days": 1, "promised_days": 1,
                                          "resumption_period_days": 1}])
        assert a.sync()["refused"] == 0
        assert _event_ids(world.hub.stores.main, case_id) == _event_ids(a.store, case_id)


def test_a_promise_stated_after_the_limit_was_shortened_is_refused() -> None:
    written = stamp(None, "410600-HUB", int(time.time() * 1000))
    item = {**next(i for i in sample.catalog() if i["proxy"]), "time_limit_days": 1,
            "resumption_period_days": 1, "written": written}
    accept = {"event_type": "acceptance", "time_limit_days": 20,
              "at": "2026-03-02T09:00:00+08:00"}
    suspend = {"event_type": "suspension", "at": "2026-03-02T09:00:00+08:00",
               "resumption_deadline": "2026-03-20"}
    check_catalog(accept, item)  # stated before the write: the station's list judged it
    check_catalog(suspend, item)
    later = time.strftime("%Y-%m-%dT%H:%M:%S+00:00", time.gmtime(time.time() + 60))
    with pytest.raises(IllegalTransition) as e:
        check_catalog({**accept, "at": later}, item)
    assert e.value.rule == "time_limit_days_over_statutory"
    with pytest.raises(IllegalTransition) as e:
        check_catalog({**suspend, "at": later, "resumption_deadline": "2099-01-01"}, item)
    assert e.value.rule == "resumption_deadline_over_period"


def test_a_station_offline_since_the_change_is_judged_by_the_list_it_holds(
        tmp_path: Path) -> None:
    """Two weeks offline: the city cut an item's time limit, then the station, still
    holding the old list, accepted a case with the old limit. The hub refused it by
    today's list, and every later step of the case. Once the station has pulled the new
    list, what it states after is judged by it."""
    from tests.hub.test_view import _stepper, view

    from .conftest import TOWN

    with open_world(tmp_path) as world:
        a = world.node(VILLAGE_A)
        (case_id,) = a.sample_cases(1, town=TOWN, seed=5, scenarios=("consult_reply",))
        a.sync()
        code = a.store.get(f"case:{case_id}")["service_item"]
        item = next(i for i in sample.catalog() if i["code"] == code)
        assert item["time_limit_days"] > 1 and item["proxy"]
        admin.import_catalog(world.hub, [{**item, "time_limit_days": 1, "promised_days": 1}])
        time.sleep(1.1)  # `at` has whole seconds: stated after the write
        step = _stepper(a, case_id)
        entrusted = step("entrustment", a.last_event(case_id),
                         private={"scope": "代为申报", "applicant_signature": "s.png"},
                         channel="offline", service_item=code, mode="nearby",
                         ledger_no="DB-1", period_end="2099-12-31")
        accepted = step("acceptance", entrusted["hlc"], zone="assisted_zone",
                        time_limit_days=item["time_limit_days"])
        a.store.bulk_docs([entrusted, accepted])
        assert a.sync()["refused"] == 0
        assert _event_ids(world.hub.stores.main, case_id) == _event_ids(a.store, case_id)
        # pulled the new list with that sync: a promise stated after it is held to it
        time.sleep(1.1)
        again = step("acceptance", entrusted["hlc"], zone="assisted_zone",  # concurrent
                     time_limit_days=item["time_limit_days"])
        (row,) = view(world, VILLAGE_A).bulk_docs([again])
        assert row["error"] == "forbidden" and "time_limit_days_over_statutory" in row["reason"]



def _entrusted_and_accepted(a: Any, case_id: str, item: dict[str, Any]) -> list[dict[str, Any]]:
    """Form C and form A of ``case_id`` at village A, stated now, promising ``item``'s
    statutory limit as the list the station holds says (signed, not stored)."""
    from tests.hub.test_view import _stepper

    step = _stepper(a, case_id)
    entrusted = step("entrustment", a.last_event(case_id),
                     private={"scope": "代为申报", "applicant_signature": "s.png"},
                     channel="offline", service_item=item["code"], mode="nearby",
                     ledger_no="DB-1", period_end="2099-12-31")
    return [entrusted, step("acceptance", entrusted["hlc"], zone="assisted_zone",
                            time_limit_days=item["time_limit_days"])]


def _cut_limits(world: Any, n: int) -> tuple[Any, list[str], list[dict[str, Any]]]:
    """Village A with ``n`` open cases, synced by network once; then the city cuts their
    items' limits to 1 day (the station has not pulled since: a USB station gets the hub's
    documents by stick from now on)."""
    from .conftest import TOWN

    a = world.node(VILLAGE_A)
    cases = a.sample_cases(n, town=TOWN, seed=5, scenarios=("consult_reply",))
    a.sync()  # by network, before the change; by stick from now on
    by_code = {i["code"]: i for i in sample.catalog()}
    items = [by_code[a.store.get(f"case:{c}")["service_item"]] for c in cases]
    assert all(i["time_limit_days"] > 1 and i["proxy"] for i in items)
    admin.import_catalog(world.hub, [{**i, "time_limit_days": 1, "promised_days": 1}
                                     for i in {i["code"]: i for i in items}.values()])
    time.sleep(1.1)  # `at` has whole seconds
    return a, cases, items


def test_a_station_that_takes_the_list_by_usb_is_judged_from_the_file_that_carried_it(
        tmp_path: Path) -> None:
    """A village with no link gets the hub's documents on a stick (``hub bundle export``)
    and pulls nothing over the network. From the file made after the change it can hold
    the change (the hub cannot know when the stick arrived); before, by the list it holds."""
    from hub.bundles import export_bundle
    from tests.hub.test_view import view

    with open_world(tmp_path) as world:
        a, cases, items = _cut_limits(world, 2)
        held = _entrusted_and_accepted(a, cases[0], items[0])  # before any file came
        export_bundle(world.hub, a.device_id)  # the stick carries the new list
        time.sleep(1.1)
        after = _entrusted_and_accepted(a, cases[1], items[1])
        rows = view(world, VILLAGE_A).bulk_docs([*held, *after])
        assert [r.get("error") for r in rows[:3]] == [None, None, None]
        assert rows[3]["error"] == "forbidden"
        assert "time_limit_days_over_statutory" in rows[3]["reason"]


def test_a_usb_station_whose_checkpoints_at_the_hub_are_full_is_still_judged(
        tmp_path: Path) -> None:
    """Each ``hub bundle export --since-last`` file leaves a ``_local`` checkpoint of its
    own at the hub (its ids are part of the replication id), and a device keeps at most
    ``LOCAL_MAX_DOCS``: after a hundred files no file's session was recorded, the hub saw
    the station pull nothing after any later change, and judged it by none of them again.
    The hub's own log of the files it made says when each left."""
    from hub.bundles import export_bundle
    from hub.replication.local import LOCAL_MAX_DOCS, LocalDocs
    from tests.hub.test_view import view

    with open_world(tmp_path) as world:
        a, (case_id,), (item,) = _cut_limits(world, 1)
        local = LocalDocs(world.hub.stores.private, a.device_id)
        for n in range(LOCAL_MAX_DOCS - local.count()):  # what earlier files left
            local.put({"_id": f"_local/earlier-file-{n}", "history": []})
        export_bundle(world.hub, a.device_id)
        time.sleep(1.1)
        rows = view(world, VILLAGE_A).bulk_docs(_entrusted_and_accepted(a, case_id, item))
        assert rows[1]["error"] == "forbidden", rows
        assert "time_limit_days_over_statutory" in rows[1]["reason"]


def test_the_list_imported_again_keeps_the_changes_the_station_already_held(
        tmp_path: Path) -> None:
    """An item left out of the file is not withdrawn, so the officer imports the whole
    list again to add one item: every item was written again, its ``written`` clock moved,
    and the hub judged every earlier change only from each station's next pull. A station
    that had held a cut limit for weeks promised the old one, and the hub took it."""
    from tests.hub.test_view import view

    with open_world(tmp_path) as world:
        a, (case_id,), (item,) = _cut_limits(world, 1)
        cut = {**item, "time_limit_days": 1, "promised_days": 1}
        world.pull_list(VILLAGE_A)  # the station holds the cut, then goes offline
        added = sample.catalog()[5]
        assert added["code"] not in world.hub.stores.service_items(max_age=0)
        admin.import_catalog(world.hub, [cut, added])
        time.sleep(1.1)
        rows = view(world, VILLAGE_A).bulk_docs(_entrusted_and_accepted(a, case_id, item))
        assert rows[1].get("error") == "forbidden", rows
        assert "time_limit_days_over_statutory" in rows[1]["reason"]
        assert added["code"] in world.hub.stores.service_items(max_age=0)
