"""A document the hub refused is sent again in the next rounds until it is taken
(node.repush): the replicator moved its checkpoint past it, so it never reached the hub
even after the operator fixed the cause (`hub device keys`), and the sync page forgot it
after the next round."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import pytest

from node.core import Node
from node.settings import load
from sync.sqlite import SQLiteStore
from tests.node.conftest import PASSPHRASE, make_node_dir


class Refusing(SQLiteStore):
    """The hub's device view, refusing the ids in ``refuse`` as the hub refuses a document
    signed by a key it does not know yet."""

    refuse: set[str] = set()

    def bulk_docs(self, docs: Sequence[Mapping[str, Any]], *,
                  new_edits: bool = True) -> list[Any]:
        out: list[Any] = [{"id": d["_id"], "rev": d.get("_rev"), "error": "forbidden",
                           "reason": "signature: unknown device"}
                          for d in docs if d["_id"] in self.refuse]
        rest = [d for d in docs if d["_id"] not in self.refuse]
        return out + (super().bulk_docs(rest, new_edits=new_edits) if rest else [])

    def close(self) -> None:  # the same "hub" serves every round of the test
        pass


@contextlib.contextmanager
def syncing_with(hub: SQLiteStore, folder: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Node]:
    """An unlocked node of ``folder`` whose rounds go to ``hub`` (a store standing for the
    hub's device view); the node and the hub closed at the end."""
    node = Node(load({"node_dir": str(folder), "sync_timeout": 2.0, "sync_interval": 0}))
    try:
        node.unlock(PASSPHRASE)
        monkeypatch.setattr("sync.open.open_db", lambda url, **kw: hub)
        yield node
    finally:
        node.close()
        SQLiteStore.close(hub)


def held(store: Any, docid: str) -> bool:
    return docid in {r["id"] for r in store.all_docs()["rows"]}


def test_a_refused_document_is_sent_again_once_the_hub_takes_it(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    hub = Refusing(str(tmp_path / "hub.sqlite"))
    Refusing.refuse = {"event:C1:0001"}
    try:
        with syncing_with(hub, make_node_dir(tmp_path / "node"), monkeypatch) as node:
            node.store.put({"_id": "event:C1:0001", "type": "note", "n": 1})
            node.store.put({"_id": "event:C2:0001", "type": "note", "n": 2})
            node.syncer.sync_once()
            assert held(hub, "event:C2:0001") and not held(hub, "event:C1:0001")
            node.store.put({"_id": "event:C3:0001", "type": "note", "n": 3})
            node.syncer.sync_once()  # still refused: the sync page still names it
            assert [r["id"] for r in node.syncer.state.refused] == ["event:C1:0001"]
            assert held(hub, "event:C3:0001") and not held(hub, "event:C1:0001")
            Refusing.refuse = set()  # the cause fixed at the hub
            node.syncer.sync_once()
            assert held(hub, "event:C1:0001")
            assert node.syncer.state.refused == []
            node.syncer.sync_once()  # nothing left to send again
            assert node.syncer.state.refused == []
    finally:
        Refusing.refuse = set()


def test_a_refused_revision_of_a_hub_document_is_not_sent_again(tmp_path: Path) -> None:
    """After a hub restore a station's push offers the lost hub's revisions of the reference
    documents it pulled; the hub refuses them for good (read-only for devices), and kept
    they were sent again, and refused again, every round."""
    from node.repush import kept, remember

    store = SQLiteStore(str(tmp_path / "station.sqlite"))
    try:
        reason = {"error": "forbidden", "reason": "reference data ... is read-only for devices"}
        remember(store, [{"id": docid, "rev": "6-ab", **reason} for docid in (
            "directory", "institution:410602101201", "device:410602101201-A1",
            "service_item:X1", "calendar:2031", "board:410602101201", "event:C1:0001")])
        assert kept(store) == ["event:C1:0001"]
    finally:
        store.close()
    from hub.scope import BOARD_PREFIX, REFERENCE_PREFIXES
    from schemas.written import HUB_ONLY_PREFIXES

    # the same documents as the hub refuses from devices
    assert all(p.startswith(HUB_ONLY_PREFIXES) for p in (*REFERENCE_PREFIXES, BOARD_PREFIX))


class RefusingOnce(SQLiteStore):
    """The hub refusing the ids in ``once`` the first time each is offered only: an event
    whose base event another gateway stores a moment later (base_unknown)."""

    once: set[str] = set()
    offered: set[str] = set()

    def bulk_docs(self, docs: Sequence[Mapping[str, Any]], *,
                  new_edits: bool = True) -> list[Any]:
        now = {d["_id"] for d in docs if d["_id"] in self.once} - self.offered
        self.offered |= now
        out: list[Any] = [{"id": d["_id"], "rev": d.get("_rev"), "error": "forbidden",
                           "reason": "transition: base_unknown"} for d in docs if d["_id"] in now]
        rest = [d for d in docs if d["_id"] not in now]
        return out + (super().bulk_docs(rest, new_edits=new_edits) if rest else [])

    def close(self) -> None:
        pass


def test_a_document_refused_for_a_moment_is_taken_in_the_same_round(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The sync page said 平台拒收 after a round whose push had an event refused only because
    its base event went through another gateway a moment later: the refusal stood until the
    next round (the browser test met it)."""
    node = Node(load({"node_dir": str(make_node_dir(tmp_path / "node")), "sync_timeout": 2.0,
                      "sync_interval": 0}))
    hub = RefusingOnce(str(tmp_path / "hub.sqlite"))
    RefusingOnce.once = {"event:C1:0002"}
    try:
        node.unlock(PASSPHRASE)
        monkeypatch.setattr("sync.open.open_db", lambda url, **kw: hub)
        for n in (1, 2):
            node.store.put({"_id": f"event:C1:000{n}", "type": "note", "n": n})
        node.syncer.sync_once()
        assert held(hub, "event:C1:0001") and held(hub, "event:C1:0002")
        assert node.syncer.state.refused == []
        assert "event:C1:0002" in RefusingOnce.offered  # it was refused once
    finally:
        RefusingOnce.once, RefusingOnce.offered = set(), set()
        node.close()
        SQLiteStore.close(hub)
