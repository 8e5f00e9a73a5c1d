"""The sync badge (every page's header, and 状态 on /sync) says who said no: 离线 only when
nothing answered. It said 离线，自动重试 for a hub that answered 409, 400, 507 or refused the
device too, while the page's line below said the hub had answered: the station looked at a
network that worked instead of calling the hub's operator."""

from __future__ import annotations

from pathlib import Path

import pytest

from node.syncstate import TWIN_CHECKPOINT, SyncState, offline_words
from sync.errors import CheckpointConflict, Conflict
from tests.node.test_sync_honest import _label, _round_against


def _badge(state: SyncState) -> str:
    """The badge of ``state`` (a node's, as the pages show it)."""
    from types import SimpleNamespace

    return _label(SimpleNamespace(syncer=SimpleNamespace(state=state)))  # type: ignore[arg-type]


@pytest.mark.parametrize(("status", "body"), [
    (409, {"error": "conflict", "reason": "Document update conflict."}),
    (400, {"error": "bad_request", "reason": "invalid UTF-8 JSON"}),
    (507, {"error": "insufficient_storage", "reason": "the hub's disk is full"}),
    (503, {"error": "service_unavailable", "reason": "the hub's database does not answer"}),
])
def test_a_hub_that_answers_an_error_is_not_called_offline(
        tmp_path: Path, status: int, body: dict[str, str]) -> None:
    node, st = _round_against(tmp_path / "n", status, body)
    try:
        label = _label(node)
        assert "离线" not in label, label
        assert label.startswith("平台出错") and "平台管理员" in label and "自动重试" in label
    finally:
        node.close()


def test_a_hub_that_refuses_the_device_says_so_on_the_badge(tmp_path: Path) -> None:
    node, st = _round_against(tmp_path / "n", 401, {
        "error": "unauthorized", "reason": "Name or password is incorrect."})
    try:
        assert st.status == "error"
        assert _label(node).startswith("平台拒绝本设备") and "联系管理员" in _label(node)
    finally:
        node.close()


def test_no_answer_is_still_offline() -> None:
    from node.syncstate import OFFLINE

    label = _badge(SyncState(status="offline", last_error=f"{OFFLINE}（transport_error）",
                             pending=2))
    assert label.startswith("离线，自动重试") and "待上传" in label


def test_a_checkpoint_two_laptops_write_says_the_folder_was_copied() -> None:
    """Two copies of one node folder replicate under one checkpoint id (``_local/<repid>``):
    the 409 that keeps coming back was said as "the hub failed this round (HTTP 409): tell
    the hub's operator", who could find nothing wrong with the hub."""
    said = offline_words(CheckpointConflict("checkpoint _local/abc keeps conflicting"))
    assert said.startswith(TWIN_CHECKPOINT) and "复制" in said and "停用其中一台" in said
    assert "HTTP 409" not in said
    # a hub's plain 409 (a refused request of the round) stays the hub's error
    assert "HTTP 409" in offline_words(Conflict("Document update conflict."))


def test_the_badge_of_a_copied_folders_checkpoint_says_what_to_do() -> None:
    label = _badge(SyncState(status="offline", last_error=offline_words(CheckpointConflict("x"))))
    assert "复制" in label and "离线" not in label


def test_a_checkpoint_that_keeps_conflicting_is_its_own_error() -> None:
    """The replicator re-reads the checkpoint's rev after a 409 (its own earlier write may
    have landed); one that conflicts every time is another writer of the same id."""
    from sync.replicate.checkpoint import Checkpointer

    class Racing:
        def put_local(self, doc: dict[str, object]) -> dict[str, str]:
            raise Conflict("Document update conflict.")

        def get_local(self, doc_id: str) -> dict[str, str]:
            return {"_id": doc_id, "_rev": "0-1"}

    racing = Racing()
    cp = Checkpointer(source=racing, target=racing, rep_id="abc")  # type: ignore[arg-type]
    with pytest.raises(CheckpointConflict):
        cp.record(1, {})
