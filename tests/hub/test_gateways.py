"""Several gateways over one hub directory share the scope indexer's feed position
(hub.index_cursor): each write is indexed once, a device reads its own write through
any gateway, hand-overs route across gateways, and a crashed indexer is resumed."""

from __future__ import annotations

import json
import multiprocessing
import os
import signal
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from hub.auth import Device
from hub.core import Hub
from hub.index_cursor import FileCursor
from sync.errors import ServiceUnavailable

from .conftest import TOWN, VILLAGE_A, World, open_world


@pytest.fixture
def two(tmp_path: Path) -> Iterator[tuple[World, Hub]]:
    """A world whose nodes push through gateway A (``world.hub``), and a gateway B: a second
    :class:`Hub` on the same directory, as ``hub serve --processes 2`` runs one per process."""
    with open_world(tmp_path) as world:
        other = Hub(world.hub.settings)
        try:
            yield world, other
        finally:
            other.close()


def through(hub: Hub, world: World, code: str) -> Any:
    """The device view of ``code``'s node on gateway ``hub``; the node pushes there from now."""
    node = world.node(code)
    node._remote = hub.view(Device(node.device_id, code, {}))
    return node._remote


def indexed(hub: Hub, scope: str) -> set[str]:
    return {r["id"] for r in hub.stores.scope(scope).all_docs()["rows"]}


def ratings(world: World, n: int) -> list[dict[str, Any]]:
    """``n`` documents of a village case written straight into the main database (as the
    hub's workers write), so they wait for an indexer pass."""
    case_id = world.node(VILLAGE_A).new_case()  # only for a real case id; not pushed
    docs = [{"_id": f"rating:{case_id}:r{i}", "type": "rating", "case_id": case_id}
            for i in range(n)]
    world.hub.stores.main.bulk_docs(docs)
    return docs


def test_each_write_is_indexed_once_and_read_back_through_either_gateway(two):
    world, b = two
    a = world.hub
    a.indexer.catch_up()
    assert b.indexer.catch_up() == 0  # the set-up's rows were indexed by gateway A already
    node = world.node(VILLAGE_A)
    case_a = node.new_case()
    world.sync(VILLAGE_A)
    assert b.indexer.catch_up() == 0 and a.indexer.catch_up() == 0
    view_b = through(b, world, VILLAGE_A)
    case_b = node.new_case()
    world.sync(VILLAGE_A)  # pushed through B; B indexed it before answering
    assert a.indexer.catch_up() == 0 and b.indexer.catch_up() == 0
    view_a = world.hub.view(Device(node.device_id, VILLAGE_A, {}))
    for view in (view_a, view_b):  # the device reads its own writes on either gateway
        ids = {r["id"] for r in view.changes()["results"]}
        assert {f"case:{case_a}", f"case:{case_b}"} <= ids
    # every main row is in the index, each entry written once (revision 1)
    main_ids = {r["id"] for r in a.stores.main.all_docs(startkey="case:", endkey="case:\ufff0")
                ["rows"]}
    assert main_ids <= indexed(a, VILLAGE_A)
    revs = [r["value"]["rev"] for r in a.stores.scope(VILLAGE_A).all_docs()["rows"]]
    assert revs and all(r.startswith("1-") for r in revs)


def test_a_hand_over_indexed_by_one_gateway_routes_the_others_later_rows(two):
    world, b = two
    a = world.hub
    village = world.node(VILLAGE_A)
    case_id = village.new_case()
    world.sync(VILLAGE_A)  # through A: A's route cache holds this case, handed to no one
    assert TOWN not in a.indexer.case_scopes(case_id)
    through(b, world, VILLAGE_A)
    village.hand_up(case_id, TOWN)
    world.sync(VILLAGE_A)  # the hand-up is indexed (and routed) by gateway B
    assert f"case:{case_id}" in indexed(a, TOWN)
    # A later row of the case reaches the main database (as the hub's workers write) and
    # gateway A indexes it: A's cached route is stale, the row must still reach the town.
    late = f"rating:{case_id}:late"
    a.stores.main.bulk_docs([{"_id": late, "type": "rating", "case_id": case_id}])
    assert a.indexer.catch_up() == 1
    assert late in indexed(a, TOWN)


def test_an_indexer_that_fails_mid_pass_is_resumed_by_the_other_gateway(two, monkeypatch):
    world, b = two
    a = world.hub
    a.indexer.catch_up()
    docs = ratings(world, 3)

    def busy(*args: Any, **kwargs: Any) -> None:
        raise ServiceUnavailable("database busy")

    monkeypatch.setattr(a.indexer, "_write", busy)
    with pytest.raises(ServiceUnavailable):
        a.indexer.catch_up()  # wrote nothing, so the position must not have moved
    monkeypatch.undo()
    assert b.indexer.catch_up() == 3
    assert a.indexer.catch_up() == 0
    assert {d["_id"] for d in docs} <= indexed(a, VILLAGE_A)


def _hold_and_wait(path: str, ready: Any) -> None:
    with FileCursor(path).held() as held:
        assert held
        ready.set()
        signal.pause()


def test_a_gateway_killed_while_indexing_releases_the_position(two, tmp_path):
    world, b = two
    a = world.hub
    a.indexer.catch_up()
    path = str(a.indexer.cursor.path)  # type: ignore[attr-defined]
    ctx = multiprocessing.get_context("fork")
    ready = ctx.Event()
    holder = ctx.Process(target=_hold_and_wait, args=(path, ready))
    holder.start()
    try:
        assert ready.wait(60)  # a forked process starting on a loaded machine
        ratings(world, 1)
        assert a.indexer.catch_up(wait=False) == 0  # a reader does not wait for it
        # nor does a gateway shutting down: a flush that waited would wait for ever (the
        # holder pauses until killed), so "done within 30 s" tells the two apart; "< 1 s"
        # also failed when a loaded machine merely ran the flush slowly
        flush = threading.Thread(target=a.indexer.flush, daemon=True)
        flush.start()
        flush.join(30)
        assert not flush.is_alive()
        os.kill(holder.pid, signal.SIGKILL)  # dies holding the lock
        holder.join(10)
        assert a.indexer.catch_up() == 1
    finally:
        if holder.is_alive():
            holder.kill()


def test_a_cursor_file_of_another_store_is_not_trusted(two):
    world, b = two
    a = world.hub
    a.indexer.catch_up()
    path = Path(b.indexer.cursor.path)  # type: ignore[attr-defined]
    path.write_text(json.dumps({"seq": 10**9, "epoch": "another store"}))
    fresh = Hub(world.hub.settings)
    try:
        # From the durable checkpoint (saved at most CHECKPOINT_EVERY s ago, or at start):
        # rows are read again, never skipped.
        (doc,) = ratings(world, 1)
        assert fresh.indexer.catch_up() >= 1
        assert doc["_id"] in indexed(a, VILLAGE_A)
        assert json.loads(path.read_text())["epoch"] != "another store"
    finally:
        fresh.close()


def test_a_hand_over_whose_pass_died_after_its_route_is_back_filled_by_the_next(two,
                                                                                monkeypatch):
    world, b = two
    a = world.hub
    village = world.node(VILLAGE_A)
    case_id = village.new_case()
    world.sync(VILLAGE_A)  # through A
    through(b, world, VILLAGE_A)

    def busy(*args: Any, **kwargs: Any) -> None:
        raise ServiceUnavailable("database busy")

    # Gateway B records the route, then its index writes fail (as if it died there); the
    # push still stands (indexing is retried at the next pass).
    monkeypatch.setattr(b.indexer, "_write", busy)
    village.hand_up(case_id, TOWN)
    world.sync(VILLAGE_A)
    monkeypatch.undo()
    assert TOWN in b.indexer.route(case_id) and f"case:{case_id}" not in indexed(a, TOWN)
    routed = a.indexer.routed
    assert a.indexer.catch_up() >= 2  # the keyring and the hand-up, again
    assert f"case:{case_id}" in indexed(a, TOWN)  # the case's earlier documents too
    assert a.indexer.routed == routed  # the route was not new


def test_a_batch_waits_for_its_case_written_through_the_other_gateway(tmp_path: Path) -> None:
    """A replicator writes two batches at once (sync.replicate's pipeline); with `hub serve
    --processes 2` they can reach two gateway processes. The batch holding a case's later
    event was refused for good ("transition: ... earlier events missing") when its case's
    first batch was still being written by the other process, which this one cannot see
    (found after a restore: five events of a station never reached the hub). Several
    gateways: a refusal for a missing dependency is checked again for a while."""
    from hub.settings import Settings

    with open_world(tmp_path) as world:
        a = world.node(VILLAGE_A)
        case_id = a.new_case()
        ids = sorted(r["id"] for r in a.store.all_docs()["rows"] if case_id in r["id"])
        docs = [leaf["ok"] for i in ids for leaf in a.store.open_revs(i, "all") if "ok" in leaf]
        events = sorted((d for d in docs if d["_id"].startswith("event:")), key=lambda d: d["hlc"])
        last, first = events[-1], [d for d in docs if d is not events[-1]]
        other = Hub(Settings.load({**dict(world.hub.settings), "hub_processes": 2}, environ={}))
        try:
            device = Device(a.device_id, VILLAGE_A, {})
            answer: list[Any] = []
            # Gateway B has checked the later batch and found its case missing before A
            # writes the case (after a fixed 0.5 s, a loaded machine could start B's check
            # after A's write, and the test passed without the wait it is about).
            check, refused = other.validator.check_batch, threading.Event()

            def checked(*args: Any, **kwargs: Any) -> Any:
                refusals = check(*args, **kwargs)
                if any(refusals):
                    refused.set()
                return refusals

            other.validator.check_batch = checked  # type: ignore[method-assign]
            late = threading.Thread(target=lambda: answer.append(
                other.view(device).bulk_docs([last], new_edits=False)))
            late.start()
            assert refused.wait(60)
            assert world.hub.view(device).bulk_docs(first, new_edits=False) == []
            late.join(60)
            assert answer == [[]], answer
            assert world.hub.stores.main.get(last["_id"])["_rev"] == last["_rev"]
        finally:
            other.close()
