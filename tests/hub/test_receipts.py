"""The hub records when it received each event (hub/receipts.py, design.md §6): one
receipt per accepted batch, none for a refused document, and a write stands even when its
receipt cannot be written."""

from __future__ import annotations

import time
from typing import Any

import pytest

from sync.errors import ServiceUnavailable

from .conftest import VILLAGE_A, VILLAGE_B, World


def _receipts(world: World) -> list[dict[str, Any]]:
    feed = world.hub.stores.receipts.changes(include_docs=True)["results"]
    return [r["doc"] for r in feed]


def _received(world: World) -> dict[str, dict[str, Any]]:
    return {e[0]: r for r in _receipts(world) for e in r["events"]}


def test_a_stations_events_get_the_hubs_receipt_time(world: World) -> None:
    a = world.node(VILLAGE_A)
    before = int(time.time() * 1000)
    case_id = a.new_case()
    world.sync(VILLAGE_A)
    after = int(time.time() * 1000)
    events = [r["id"] for r in a.store.changes()["results"]
              if r["id"].startswith(f"event:{case_id}:")]
    received = _received(world)
    assert events and all(e in received for e in events)
    r = received[events[0]]
    assert r["device"] == a.device_id and r["institution"] == VILLAGE_A
    assert before <= r["received_ms"] <= after and r["via"] == "replication"
    assert not any(e[0].startswith(("case:", "keyring:")) for x in _receipts(world)
                   for e in x["events"])  # only events carry a business time


def test_a_refused_event_gets_no_receipt(world: World) -> None:
    b = world.node(VILLAGE_B)
    case_id = b.new_case()
    world.sync(VILLAGE_B)
    event = next(r["doc"] for r in b.store.changes(include_docs=True)["results"]
                 if r["id"].startswith(f"event:{case_id}:"))
    forged = {**event, "_id": event["_id"][:-2] + "Z9", "_rev": "1-" + "b" * 32}
    result = b.remote.bulk_docs([forged], new_edits=False)
    assert result and result[0]["error"] == "forbidden"
    assert forged["_id"] not in _received(world)


def test_a_write_stands_when_its_receipt_cannot_be_written(
        world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    from hub.storage import HubStores

    def broken(self: HubStores) -> Any:
        raise ServiceUnavailable("receipts database down")

    monkeypatch.setattr(HubStores, "receipts", property(broken))
    a = world.node(VILLAGE_A)
    case_id = a.new_case()
    result = a.sync()
    assert result["refused"] == 0
    assert world.hub.stores.main.get(f"case:{case_id}")


def test_a_replayed_event_gets_no_second_receipt(world: World) -> None:
    a = world.node(VILLAGE_A)
    case_id = a.new_case()
    world.sync(VILLAGE_A)
    before = len(_receipts(world))
    docs = [r["doc"] for r in a.store.changes(include_docs=True, style="all_docs")["results"]
            if r["id"].startswith(f"event:{case_id}:")]
    replay = [{**d, "_revisions": {"start": 1, "ids": [d["_rev"].split("-", 1)[1]]}}
              for d in docs]
    assert a.remote.bulk_docs(replay, new_edits=False) == []  # accepted, nothing new
    assert len(_receipts(world)) == before


def test_a_receipt_a_full_disk_refused_is_written_later_with_its_time(world: World) -> None:
    """The batch was stored and only its receipt found no room: the device had its answer
    and sends nothing again, so that receipt time was lost for good (hub.receipts). It
    waits in the gateway with the hub's time now, and goes with the next receipt written,
    another station's, once there is room."""
    from hub.receipts import waiting_receipts
    from tests.diskfull import full_disk

    a, b = world.node(VILLAGE_A), world.node(VILLAGE_B)
    b.new_case()
    world.sync(VILLAGE_B)  # P-receipts exists (it is made on first use)
    stores = world.hub.stores
    case_ids = a.sample_cases(30, town=a.institution[:9], seed=7,  # receipts over a page
                              scenarios=("in_handling",))
    before = int(time.time() * 1000)
    with full_disk(stores.receipts):
        result = a.sync()
    after = int(time.time() * 1000)
    assert result["refused"] == 0
    assert all(stores.main.get(f"case:{c}") for c in case_ids)  # the batches stand
    events = [r["id"] for r in a.store.changes()["results"]
              if r["id"].startswith("event:") and r["id"].split(":")[1] in case_ids]
    assert set(events) - set(_received(world))  # the disk was full for one receipt at least
    assert waiting_receipts(stores) >= 1
    b.new_case()
    world.sync(VILLAGE_B)  # room again: the next receipt takes those that waited
    received = _received(world)
    assert set(events) <= set(received) and waiting_receipts(stores) == 0
    assert all(before <= received[e]["received_ms"] <= after for e in events)
    assert {received[e]["device"] for e in events} == {a.device_id}
