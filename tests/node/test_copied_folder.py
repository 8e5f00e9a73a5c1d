"""A station laptop's node folder copied onto another laptop (a USB stick, a cloned disk) and
worked on there as well, against an in-process hub (tests/node/test_restore.py's). Both
give out the same case numbers to different cases, and the hub cannot tell their signatures
apart: before, nothing said so on either laptop."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from node.app import create_app
from node.core import Node
from tests.node.conftest import PASSPHRASE, csrf
from tests.node.test_restore import _backup, _node, _open, hub, no_scripted_passphrase, station

__all__ = ["hub", "no_scripted_passphrase", "station"]  # the fixtures, shared


@pytest.fixture
def twins(station: Node, tmp_path: Path) -> Iterator[tuple[Node, Node]]:
    """``station`` and a second laptop opened on a copy of its folder."""
    folder = station.dir
    station.close()
    shutil.copytree(folder, tmp_path / "usb-copy")
    first, second = _node(folder), _node(tmp_path / "usb-copy")
    try:
        yield first, second
    finally:
        first.close()
        second.close()


def _served(folder: Path) -> tuple[Node, Any]:
    """``node serve`` started on ``folder`` (its app), and a browser that unlocked it."""
    app = create_app({"node_dir": str(folder), "sync_interval": 0, "secret_key": "test",
                      "TESTING": True})
    client = app.test_client()
    assert client.post("/unlock", data={"passphrase": PASSPHRASE,
                                        "csrf": csrf(client)}).status_code == 302
    return app.extensions["bangban_node"], client


def test_a_copied_folder_working_as_a_second_laptop_is_said_on_both(
        twins: tuple[Node, Node]) -> None:
    first, second = twins
    mine, theirs = _open(first), _open(second)
    assert mine[1] == theirs[1] == 1  # one number, two cases: what the warning is about
    first.syncer.sync_once()
    assert first.syncer.state.twin is None  # nothing of the other laptop at the hub yet
    second.syncer.sync_once()  # pushes its case, pulls the first's
    first.syncer.sync_once()
    for node, other_case in ((second, mine[0]), (first, theirs[0])):
        twin = node.syncer.state.twin
        assert twin is not None and twin["device"] == node.device_id and twin["count"] >= 2
        assert f"case:{other_case}" in twin["ids"]
        assert "复制到了另一台电脑" in node.syncer.state.round_words()
    first.syncer.sync_once()  # a round bringing nothing new keeps the warning
    assert first.syncer.state.twin is not None


def test_every_page_says_it(twins: tuple[Node, Node]) -> None:
    first, second = twins
    _open(second)
    second.syncer.sync_once()
    folder = first.dir
    first.close()
    node, client = _served(folder)
    try:
        assert 'id="twin-warning"' not in client.get("/sync").text
        node.syncer.sync_once()
        page = client.get("/").text
        assert 'id="twin-warning"' in page and "请立即停用其中一台" in page
    finally:
        node.close()


def test_a_laptop_restored_from_its_backup_pulling_its_own_cases_is_not_a_copy(
        station: Node, tmp_path: Path) -> None:
    """What a restored laptop pulls back (the cases it opened after the backup) is signed by
    itself and new to its store too, and expected (node.restore): no warning."""
    _open(station)
    station.syncer.sync_once()
    _backup(station, tmp_path / "backup")
    _open(station)
    station.syncer.sync_once()
    folder = station.dir
    station.close()
    from ops.cli import main

    assert main(["node", "restore", str(tmp_path / "backup"), "--dir", str(folder)]) == 0
    restored = _node(folder)
    try:
        restored.syncer.sync_once()
        assert restored.syncer.state.pulled >= 1 and restored.syncer.state.twin is None
        _open(restored)
        restored.syncer.sync_once()
        assert restored.syncer.state.twin is None
    finally:
        restored.close()
    again = _node(folder)  # restarted: nothing kept in the folder either
    try:
        assert again.syncer.state.twin is None
    finally:
        again.close()




def test_the_warning_outlives_a_restart_until_it_is_dealt_with(
        twins: tuple[Node, Node]) -> None:
    """The warning was kept in memory only: `node serve` restarted (the laptop switched off
    for the night) said nothing more until the other copy's next document arrived. It is kept
    in the node folder now, and the sync page says how to deal with it and clears it."""
    first, second = twins
    _open(second)
    second.syncer.sync_once()
    first.syncer.sync_once()
    assert first.syncer.state.twin is not None
    folder = first.dir
    first.close()
    node, client = _served(folder)
    try:
        assert node.syncer.state.twin is not None  # no round since the restart
        page = client.get("/sync/").text
        assert 'id="twin-warning"' in page and 'id="twin-how"' in page
        assert "重新登记为新设备" in page and "重启本程序不会清除" in page
        assert client.post("/sync/twin-resolved",
                           data={"csrf": csrf(client)}).status_code == 302
        assert 'id="twin-warning"' not in client.get("/").text
    finally:
        node.close()
    again = _node(folder)  # and the folder says so too
    try:
        assert again.syncer.state.twin is None
        again.syncer.sync_once()  # nothing new of the other copy: no warning again
        assert again.syncer.state.twin is None
    finally:
        again.close()



def test_the_warning_cleared_while_a_round_saves_its_state_is_cleared(
        twins: tuple[Node, Node], monkeypatch: pytest.MonkeyPatch) -> None:
    """已处理 is a request's thread, a round's end the sync thread: both read, change and
    write the folder's sync state (a _local document, written over its _rev). The click
    landing between the round's read and write made one of the two a 409 (the round
    failed after its work, or the click a 500 page); they now take turns."""
    import threading

    from node import syncer as syncer_mod

    first, second = twins
    _open(second)
    second.syncer.sync_once()
    first.syncer.sync_once()
    assert first.syncer.state.twin is not None
    store, real_get = first.store, first.store.get_local
    clicked: list[threading.Thread] = []

    def get_local(docid: str) -> Any:
        doc = real_get(docid)
        if docid == syncer_mod.STATE_DOC and not clicked:  # the round's read: the click
            clicked.append(threading.Thread(target=first.syncer.twin_resolved))
            clicked[0].start()
            clicked[0].join(0.5)  # done, unless it waits for the round's write
        return doc

    monkeypatch.setattr(store, "get_local", get_local)
    first.syncer._remember()  # the round's end
    clicked[0].join(10)
    monkeypatch.undo()
    assert first.syncer.state.twin is None
    assert real_get(syncer_mod.STATE_DOC).get("twin") is None
