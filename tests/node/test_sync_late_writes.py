"""What the clerk writes while a round is under way waits for the next push, and the sync
page and the case list say so (design.md §4: the clerk works on during a sync). The push
reads the store's feed once; a step saved after that read is not in it. The round then
said "nothing waiting" and cleared the case's 待上传 mark; with the link gone right after,
the page said "已同步" for days while the step was on this laptop only."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from node.core import Node
from node.errors import SyncFailed
from sync.sqlite import SQLiteStore
from tests.node.test_sync_honest import _consult, _dir, _node


def _hub_in(path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A hub database in a local file (no network in a unit test): every replication
    step against it is real."""
    monkeypatch.setattr("sync.open.open_db",
                        lambda url, timeout=None: SQLiteStore(path, create=True))


def _written_after_the_push(node: Node, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The clerk saves a case once the push has read the feed to its end: deterministic
    (after the real push returns), and the same as a save a moment before it returns."""
    from sync.replicate import replicate as real

    late: list[str] = []

    def replicate(src: Any, dst: Any, opts: Any) -> Any:
        res = real(src, dst, opts)
        if opts.target_location == "hub" and not late:
            late.append(_consult(node))
        return res

    monkeypatch.setattr("sync.replicate.replicate", replicate)
    return late


def test_a_case_saved_during_the_push_still_waits_for_upload(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    folder = _dir(tmp_path / "n")
    node = _node(folder)
    first = _consult(node)
    _hub_in(tmp_path / "hub.sqlite", monkeypatch)
    late = _written_after_the_push(node, monkeypatch)
    node.syncer.sync_once()
    st = node.syncer.state
    assert st.status == "ok" and late
    assert st.pending >= 2, st  # the late case's header and consultation
    assert node.index.pending_ids() == {late[0]}  # the first case went, the late one waits
    assert first not in node.index.pending_ids()
    node.close()

    node = _node(folder)  # a restart (or the link gone) does not forget it either
    assert node.syncer.state.pending >= 2
    monkeypatch.undo()
    _hub_in(tmp_path / "hub.sqlite", monkeypatch)
    node.syncer.sync_once()  # the next round takes it
    assert node.syncer.state.pending == 0 and node.index.pending_ids() == set()
    hub = SQLiteStore(tmp_path / "hub.sqlite")
    try:
        ids = {r["id"] for r in hub.all_docs()["rows"]}
    finally:
        hub.close()
    assert any(late[0] in i for i in ids), ids
    node.close()


def test_once_documents_go_up_the_badge_no_longer_says_offline(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """After an offline round, the next round that reaches the hub said "离线，自动重试"
    all through its push: the offline words of the round before stayed until the round
    ended (a laptop back from weeks offline: minutes of uploading shown as offline)."""
    from sync.replicate import replicate as real
    from tests.node.test_sync_honest import _label

    node = _node(_dir(tmp_path / "n"))
    for _ in range(3):
        _consult(node)
    with pytest.raises(SyncFailed):  # nothing listens at the hub's address
        node.syncer.sync_once()
    assert "离线" in _label(node)
    _hub_in(tmp_path / "hub.sqlite", monkeypatch)
    seen: list[tuple[int, str]] = []

    def replicate(src: Any, dst: Any, opts: Any) -> Any:
        told = opts.progress

        def progress(p: Any) -> None:
            told(p)
            seen.append((node.syncer.state.docs_done, _label(node)))

        opts.progress, opts.batch_size = progress, 2  # several batches: several reports
        return real(src, dst, opts)

    monkeypatch.setattr("sync.replicate.replicate", replicate)
    node.syncer.sync_once()
    moved = [label for done, label in seen if done]
    assert moved and all("同步中" in label and "离线" not in label for label in moved), seen
    node.close()


@pytest.mark.parametrize("words", ["HUB_FULL", "HUB_NO_DB", "HUB_ERROR"])
def test_a_hub_that_answered_no_is_not_probed_into_a_round_every_few_seconds(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, words: str) -> None:
    """The probe between rounds (sync_probe_interval) looks for the *link* coming back.
    A full hub (507 on every upload) or one without this laptop's database (404) answers
    the probe's GET all the same, so the next round started at the first probe, every
    ~5 s instead of every sync_interval: the whole push up the village link each time,
    for as long as the hub stayed full. Such a round waits for the interval."""
    import node.syncstate as words_of
    from node.settings import load

    node = Node(load({"node_dir": str(_dir(tmp_path / "n")), "sync_interval": 3600,
                      "sync_probe_interval": 0.01}))
    st = node.syncer.state
    st.status, st.last_error = "offline", f"{getattr(words_of, words).format(status=500)}（x）"
    asked: list[float] = []

    def hub_answers(timeout: float) -> bool:
        asked.append(timeout)
        return True

    monkeypatch.setattr(node.syncer, "hub_answers", hub_answers)
    node.syncer._pause(0.3)  # the interval passes: no probe ends it
    assert asked == []
    st.last_error = f"{words_of.OFFLINE}（transport_error）"  # the link down: probed
    node.syncer._pause(3600)
    assert len(asked) == 1
    node.close()


@pytest.mark.parametrize("status", [500, 400, 413])
def test_a_hub_that_answers_an_error_is_not_said_unreachable(tmp_path: Path,
                                                             status: int) -> None:
    """The hub answered, with an error of its own (a 500 of a bug there, a request it
    refused): the page said "网络中断或平台未运行" (the network is down or the hub is not
    running), and the station looked at its cables instead of calling the hub's operator."""
    from tests.node.test_sync_honest import _round_against

    node, st = _round_against(tmp_path / "n", status, {"error": "x", "reason": "broken"})
    assert st.last_error and "网络中断" not in st.last_error, st.last_error
    assert "平台有应答" in st.last_error and f"HTTP {status}" in st.last_error
    assert "operator" in st.last_error and "自动重试" in st.last_error
    node.close()


def test_a_laptop_without_root_keys_is_told_so_not_that_the_network_is_down() -> None:
    from node.pull import NoRootKeys
    from node.syncstate import offline_words

    words = offline_words(NoRootKeys("pull: 本机没有固定的根公钥 / no pinned root key"))
    assert words.startswith("pull: 本机没有固定的根公钥") and "网络中断" not in words


def test_a_round_cancelled_by_shutting_down_blames_neither_the_hub_nor_the_link(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """`node serve` stopping (the laptop shut down) cancels the round under way: its
    Cancelled (499) is no answer of the hub's, nor a broken link; what it left waits."""
    folder = _dir(tmp_path / "n")
    node = _node(folder)
    _consult(node)
    _hub_in(tmp_path / "hub.sqlite", monkeypatch)
    node.syncer._cancel.set()  # what stop() does, here before the push's first step
    with pytest.raises(SyncFailed):
        node.syncer.sync_once()
    st = node.syncer.state
    assert st.last_error and "已停止" in st.last_error and "stopped" in st.last_error
    assert "平台有应答" not in st.last_error and "网络中断" not in st.last_error
    assert st.last_ok is None and st.pending >= 3
    node.close()


def test_what_waits_for_upload_goes_down_as_the_push_goes(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """"待上传 792" stood still through a ten-minute push of a laptop back from weeks
    offline, and stayed after a push the link cut short though most had gone up."""
    from sync.replicate import replicate as real

    node = _node(_dir(tmp_path / "n"))
    for _ in range(4):
        _consult(node)
    start = node.syncer.state.pending
    _hub_in(tmp_path / "hub.sqlite", monkeypatch)
    seen: list[int] = []

    def replicate(src: Any, dst: Any, opts: Any) -> Any:
        told = opts.progress

        def progress(p: Any) -> None:
            told(p)
            if opts.target_location == "hub":
                seen.append(node.syncer.state.pending)

        opts.progress, opts.batch_size, opts.pipeline = progress, 2, False
        return real(src, dst, opts)

    monkeypatch.setattr("sync.replicate.replicate", replicate)
    node.syncer.sync_once()
    assert start >= 12 and seen == sorted(seen, reverse=True) and len(set(seen)) >= 3, seen
    assert seen[0] < start and seen[-1] == 0, seen
    node.close()
