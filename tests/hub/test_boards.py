"""Coordination boards (design.md §5: a town sees the cleartext of its subtree).

The hub publishes ``board:{village}`` from the oversight facts; the scope indexer sends it to
the institutions above the village only; devices may not write one; a rebuild that changes
nothing writes nothing; a hand-up moves the case off the village's board."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.hub.conftest import TOWN, VILLAGE_A, VILLAGE_B, World, open_world

ROW_KEYS = {"case", "no", "item", "kind", "status", "staff", "opened", "due", "reply_due",
            "resume_by", "review", "complaints_open"}


@pytest.fixture
def world(tmp_path: Path) -> Iterator[World]:
    with open_world(tmp_path) as w:
        yield w


def _publish(world: World, folder: Path, **kw: Any) -> Any:
    from hub.oversight import Oversight

    ov = Oversight(world.hub, folder / "facts.sqlite")
    ov.boards.interval = kw.get("interval", 0.0)
    return ov


def _pass(world: World, ov: Any) -> int:
    ov.catch_up(force=True)
    written = int(ov.boards.run_once())
    world.hub.indexer.catch_up()
    world.sync()
    return written


def _board(node: Any, code: str) -> dict[str, Any] | None:
    from sync.errors import NotFound

    try:
        return dict(node.store.get(f"board:{code}"))
    except NotFound:
        return None


def _folded_case_at_a(world: World, tmp_path: Path) -> Any:
    """A new case of village A, synced and folded into a fresh oversight's facts."""
    world.node(VILLAGE_A).new_case()
    world.round()
    ov = _publish(world, tmp_path)
    ov.catch_up(force=True)
    return ov


def _cases_on(world: World, code: str) -> set[str]:
    return {r["case"] for r in world.hub.stores.main.get(f"board:{code}")["cases"]}


def test_the_town_sees_its_villages_open_cases_and_no_village_sees_another(
        world: World, tmp_path: Path) -> None:
    a, b, town = world.node(VILLAGE_A), world.node(VILLAGE_B), world.node(TOWN)
    kept, handed, other = a.new_case(), a.new_case(), b.new_case()
    a.hand_up(handed, TOWN)
    world.round()
    ov = _publish(world, tmp_path)
    assert _pass(world, ov) >= 2

    board_a = _board(town, VILLAGE_A)
    assert board_a is not None and board_a["audience"][0] == TOWN
    cases = {r["case"] for r in board_a["cases"]}
    # the handed-up case is the town's own now: it left the village's board
    assert kept in cases and handed not in cases and other not in cases
    assert board_a["counts"]["open"] == len(board_a["cases"])
    board_b = _board(town, VILLAGE_B)
    assert board_b is not None and {r["case"] for r in board_b["cases"]} == {other}
    # boards go up only: neither village receives the other's, nor its own
    for node, code in ((b, VILLAGE_A), (a, VILLAGE_B), (a, VILLAGE_A), (b, VILLAGE_B)):
        assert _board(node, code) is None
    # cleartext facts only: no sealed part, no member beyond the row's declared ones
    text = json.dumps(board_a, ensure_ascii=False)
    assert "sealed" not in text and "private" not in text
    assert all(set(r) <= ROW_KEYS for r in board_a["cases"])


def test_a_hand_down_moves_the_case_back_to_the_village_board(world: World, tmp_path: Path) -> None:
    a, town = world.node(VILLAGE_A), world.node(TOWN)
    case_id = a.new_case()
    a.hand_up(case_id, TOWN)
    world.round()
    ov = _publish(world, tmp_path)
    _pass(world, ov)
    assert case_id in _cases_on(world, TOWN) and case_id not in _cases_on(world, VILLAGE_A)
    town.hand_down(case_id, VILLAGE_A)
    world.round()
    _pass(world, ov)
    # the old holder's board is rebuilt too (the fact store marks old and new holder)
    assert case_id not in _cases_on(world, TOWN) and case_id in _cases_on(world, VILLAGE_A)
    assert _board(town, VILLAGE_A) is not None


def test_a_board_is_signed_by_the_hub_and_checked_like_any_pulled_document(
        world: World, tmp_path: Path) -> None:
    from node.verify import check_documents

    a, town = world.node(VILLAGE_A), world.node(TOWN)
    a.new_case()
    world.round()
    _pass(world, _publish(world, tmp_path))
    board = _board(town, VILLAGE_A)
    assert board is not None and board["sig"]["device"] == world.hub.identity["device_id"]
    # stamped, so a station takes the hub's latest board after a restore (schemas.written)
    assert board["written"].endswith("-" + world.hub.identity["device_id"])
    root_keys = town.enrollment["root_keys"]
    accepted, refused = check_documents([board], town.directory(), root_keys)
    assert len(accepted) == 1 and not refused
    forged = {**board, "counts": {**board["counts"], "open": 0}}
    accepted, refused = check_documents([forged], town.directory(), root_keys)
    assert not accepted and refused[0]["reason"].startswith("signature")
    unsigned = {k: v for k, v in board.items() if k != "sig"}
    accepted, refused = check_documents([unsigned], town.directory(), root_keys)
    assert not accepted and refused


def test_devices_may_not_write_a_board(world: World) -> None:
    from schemas.vocab import SCHEMA_VERSION

    a = world.node(VILLAGE_A)
    fake = {"_id": f"board:{VILLAGE_A}", "_rev": "1-" + "a" * 32, "type": "board",
            "schema_version": SCHEMA_VERSION, "institution": VILLAGE_A, "audience": [TOWN],
            "as_of": "2026-11-26T10:00:00+08:00", "counts": {"open": 0}, "cases": []}
    result = a.remote.bulk_docs([fake], new_edits=False)
    assert result and result[0]["error"] == "forbidden"
    assert "hub only" in result[0]["reason"]
    from sync.errors import NotFound

    with pytest.raises(NotFound):
        world.hub.stores.main.get(fake["_id"])


def test_a_rebuild_that_changes_nothing_writes_nothing_and_the_interval_holds(
        world: World, tmp_path: Path) -> None:
    a = world.node(VILLAGE_A)
    a.new_case()
    world.round()
    ov = _publish(world, tmp_path)
    assert _pass(world, ov) >= 1
    rev = world.hub.stores.main.get(f"board:{VILLAGE_A}")["_rev"]
    # nothing changed: the dirty list is empty, and a forced rebuild is skipped as equal
    assert _pass(world, ov) == 0
    names = ov.institutions()
    assert ov.boards.publish(VILLAGE_A, names) == 0
    assert world.hub.stores.main.get(f"board:{VILLAGE_A}")["_rev"] == rev
    # a new case within the interval waits; after it, the board carries the case
    ov.boards.interval = 3600.0
    later = a.new_case()
    world.round()
    assert _pass(world, ov) == 0
    assert later not in _cases_on(world, VILLAGE_A)
    ov.boards.interval = 0.0
    assert _pass(world, ov) == 1
    assert later in _cases_on(world, VILLAGE_A)


def test_a_fact_file_from_before_boards_gets_every_board_once(world: World, tmp_path: Path) -> None:
    ov = _folded_case_at_a(world, tmp_path)
    # as if folded by an older hub: the dirty marks are gone, no seed mark yet
    ov.facts.unmark_boards(ov.facts.board_marks())
    assert ov.boards.run_once() >= 1
    assert ov.facts.meta("boards_seeded") is True


def test_an_institution_not_yet_in_the_directory_keeps_its_mark(world: World, tmp_path: Path) -> None:
    ov = _folded_case_at_a(world, tmp_path)
    known = dict(ov.institutions())
    ov.boards.institutions = lambda: {k: v for k, v in known.items() if k != VILLAGE_A}
    ov.boards.run_once()
    assert VILLAGE_A in ov.facts.board_marks()
    ov.boards.institutions = lambda: known
    assert ov.boards.run_once() >= 1
    assert _cases_on(world, VILLAGE_A)
