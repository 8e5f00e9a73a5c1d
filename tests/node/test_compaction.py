"""The node's store is compacted once a day after a pull (node.syncer.after_pull): a
replaced revision's body stays until then (sync.sqlite, as CouchDB), and nothing compacted
a laptop's store, so a town's coordination boards, rewritten by the hub all day, kept
every version (up to revs_limit, 1,000 each)."""

from __future__ import annotations

from typing import Any

from node.settings import Settings
from sync.sqlite import SQLiteStore


def _bodies(store: Any, docid: str) -> int:
    with store._db.read() as conn:
        return int(conn.execute("SELECT count(*) FROM revs WHERE doc_id = ?",
                                (docid,)).fetchone()[0])


def test_a_pull_compacts_the_store_once_a_day(unlocked: Any) -> None:
    node = unlocked.application.extensions["bangban_node"]
    store = node.store
    assert isinstance(store, SQLiteStore)
    rev = None
    for n in range(20):  # the hub's board of a village, as pulled version after version
        rev = store.put({"_id": "x:board", "n": n, **({"_rev": rev} if rev else {})})["rev"]
    assert _bodies(store, "x:board") == 20
    node.syncer.after_pull()
    assert _bodies(store, "x:board") == 1
    assert store.get("x:board")["n"] == 19
    for n in range(3):
        rev = store.put({"_id": "x:board", "n": 20 + n, "_rev": rev})["rev"]
    node.syncer.after_pull()  # compacted less than a day ago: not again
    assert _bodies(store, "x:board") == 4
    assert store.compact_if_due(0)
    assert _bodies(store, "x:board") == 1


def test_compact_hours_0_leaves_the_store_alone(unlocked: Any) -> None:
    # an operator who backs the folder up by copying replaced revisions too (or whose laptop is
    # too slow to compact during the working day) turns it off: BANGBAN_COMPACT_HOURS=0
    node = unlocked.application.extensions["bangban_node"]
    node.settings = Settings({**node.settings, "compact_hours": 0})
    store = node.store
    rev = None
    for n in range(5):
        rev = store.put({"_id": "x:board", "n": n, **({"_rev": rev} if rev else {})})["rev"]
    node.syncer.after_pull()
    assert _bodies(store, "x:board") == 5
