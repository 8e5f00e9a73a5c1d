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
