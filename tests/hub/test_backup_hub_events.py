"""What the lost hub wrote itself after the backup, restored and synced again: its 10.2.5.2
terminations (docs/operations.md, Backups: "What a restore cannot bring back")."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from hub.backup import backup
from hub.oversight import Oversight
from hub.workers import Workers
from schemas.fold import fold
from tests.hub.conftest import VILLAGE_A, open_world
from tests.hub.test_backup import _restored
from tests.hub.test_deadline_rotation import _suspended_past_deadline


def _events(store: Any, case_id: str) -> list[dict[str, Any]]:
    rows = store.all_docs(startkey=f"event:{case_id}:", endkey=f"event:{case_id}:\ufff0",
                          include_docs=True)["rows"]
    return [r["doc"] for r in rows]


def test_a_termination_the_lost_hub_wrote_is_not_a_review_after_the_restore(
        tmp_path: Path) -> None:
    """The lost hub terminated a case after the backup and the station pulled it; the
    restored hub, before the station pushed it back, terminated the case again: the case
    was flagged needs_review, at the hub (the oversight's 需复核) and on the station."""
    with open_world(tmp_path / "w") as world:
        a = world.node(VILLAGE_A)
        case_id = _suspended_past_deadline(a)
        backup(world.hub, tmp_path / "bk")
        Workers(world.hub).run_once()  # the lost hub terminates it after the backup
        world.sync()
        hub = _restored(world, tmp_path / "bk")
        try:
            Workers(hub).run_once()  # before any station syncs: it terminates it again
            world.round()
            world.round()
            at_hub, on_station = _events(hub.stores.main, case_id), _events(a.store, case_id)
            assert {e["_id"] for e in at_hub} == {e["_id"] for e in on_station}
            assert sum(e["event_type"] == "termination" for e in at_hub) == 2
            for events in (at_hub, on_station):
                state = fold(events)
                assert (state.status, state.needs_review) == ("terminated", False)
            ov = Oversight(hub)
            ov.catch_up(force=True)
            fact = ov.facts.get(case_id)
            ov.facts.close()
            assert fact is not None and not fact.needs_review
            assert fact.status == "terminated" and "B" not in fact.missing
        finally:
            hub.close()


def test_a_complaint_taken_at_the_lost_hub_comes_back_from_the_station(
        tmp_path: Path) -> None:
    """A supervisor took a complaint at the hub after the backup; the station pulled it.
    Its push back to the restored hub was refused (signed by the hub, pushed by the
    station), so the complaint was gone from the hub and the oversight's figures (5 c)."""
    from hub.oversight.complaints import take_complaint

    with open_world(tmp_path / "w") as world:
        a = world.node(VILLAGE_A)
        case_id = a.new_case()
        world.round()
        backup(world.hub, tmp_path / "bk")
        taken = take_complaint(world.hub, case_id, intake="phone", category="inaction",
                               text="三天无人处理")
        world.sync()
        hub = _restored(world, tmp_path / "bk")
        try:
            world.round()
            stored = hub.stores.main.get(taken["_id"])
            assert stored["sealed"] == taken["sealed"]
            ring = hub.stores.main.get(f"keyring:{case_id}")
            assert stored["sealed"]["kid"] in {g["kid"] for g in ring["data_keys"]}
            ov = Oversight(hub)
            ov.catch_up(force=True)
            fact = ov.facts.get(case_id)
            ov.facts.close()
            assert fact is not None and [c.complaint_id for c in fact.complaints] == \
                [taken["hlc"]]
        finally:
            hub.close()


def test_a_conflict_the_lost_hub_resolved_ends_resolved_everywhere(tmp_path: Path) -> None:
    """The lost hub resolved a header conflict after the backup and the stations pulled its
    resolution; the restored hub resolves the conflict again before they sync. The merge
    and the hub's Ed25519 signature are deterministic, so it writes the very same revision
    (no second resolution to conflict with the first on the stations): the runbook relies
    on this (docs/operations.md, Backups)."""
    from tests.hub.conftest import TOWN

    with open_world(tmp_path / "w") as world:
        a, town = world.node(VILLAGE_A), world.node(TOWN)
        case_id = a.new_case()
        a.hand_up(case_id, TOWN)
        world.round()
        town.edit_header(case_id, labels=["town"])
        a.edit_header(case_id, labels=["village"])
        world.sync()  # the conflict reaches the hub, not yet resolved
        backup(world.hub, tmp_path / "bk")
        world.round()  # the lost hub resolves it; the stations pull the resolution
        hub = _restored(world, tmp_path / "bk")
        try:
            Workers(hub).run_once()  # before the stations sync: resolved again
            for _ in range(3):
                world.round()
            docid = f"case:{case_id}"
            winner = hub.stores.main.get(docid, conflicts=True)
            assert "_conflicts" not in winner
            for node in (a, town):
                held = node.store.get(docid, conflicts=True)
                assert "_conflicts" not in held and held["_rev"] == winner["_rev"]
        finally:
            hub.close()


def test_a_restore_records_the_window_whose_receipt_times_are_lost(tmp_path: Path) -> None:
    """The checks page (hub/oversight/clocks.py) marks the completions received again
    after a restore; it reads the restore's window, which the restore records."""
    import json

    from hub.oversight.clocks import _ms, restores

    with open_world(tmp_path / "w") as world:
        backup(world.hub, tmp_path / "bk")
        taken = json.loads((tmp_path / "bk" / "manifest.json").read_text())["taken_at"]
        hub = _restored(world, tmp_path / "bk")
        try:
            [(since, restored)] = restores(hub.stores)
            assert since == _ms(taken) and since <= restored
        finally:
            hub.close()
