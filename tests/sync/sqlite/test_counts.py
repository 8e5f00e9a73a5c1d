"""The kept document counts (``total_rows``, ``doc_count``, ``doc_del_count``) and the
``offset=False`` range read: the counters must always equal a full count, whatever the
mix of edits, deletions, resurrections and replicated conflicts (sync.sqlite._db)."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from sync.sqlite import SQLiteStore

IDS = ["a", "b", "c", "d"]


def _counted(store: SQLiteStore) -> tuple[int, int]:
    conn = sqlite3.connect(store.path)
    try:
        live = conn.execute("SELECT count(*) FROM docs WHERE deleted=0").fetchone()[0]
        dead = conn.execute("SELECT count(*) FROM docs WHERE deleted=1").fetchone()[0]
    finally:
        conn.close()
    return int(live), int(dead)


def _kept(store: SQLiteStore) -> tuple[int, int]:
    info = store.info()
    assert store.all_docs(limit=0)["total_rows"] == info["doc_count"]
    return info["doc_count"], info["doc_del_count"]


_ops = st.lists(st.tuples(st.sampled_from(["put", "delete", "branch", "branch_delete"]),
                          st.sampled_from(IDS)), max_size=40)


@settings(max_examples=60, deadline=None)
@given(ops=_ops)
def test_counters_equal_a_full_count_after_any_edits(tmp_path_factory, ops) -> None:
    store = SQLiteStore(tmp_path_factory.mktemp("counts") / "c.sqlite")
    try:
        n = 0
        for op, docid in ops:
            n += 1
            try:
                current = store.get(docid)["_rev"]
            except Exception:  # missing or deleted
                current = None
            if op == "put":
                store.bulk_docs([{"_id": docid, "n": n, **({"_rev": current} if current else {})}])
            elif op == "delete" and current:
                store.delete(docid, current)
            elif op in ("branch", "branch_delete"):
                # a replicated leaf of another branch: may become the winner, or a tombstone
                rev = f"{n}-{n:032x}"
                store.bulk_docs([{"_id": docid, "_rev": rev, "n": n,
                                  **({"_deleted": True} if op == "branch_delete" else {})}],
                                new_edits=False)
            assert _kept(store) == _counted(store)
    finally:
        store.close()


def test_a_file_written_before_the_counters_gets_them_at_open(tmp_path: Path) -> None:
    path = tmp_path / "old.sqlite"
    store = SQLiteStore(path)
    store.bulk_docs([{"_id": f"d{i}"} for i in range(7)])
    store.delete("d0", store.get("d0")["_rev"])
    store.close()
    conn = sqlite3.connect(path)
    conn.execute("DELETE FROM meta WHERE key IN ('doc_count', 'doc_del_count')")
    conn.commit()
    conn.close()
    reopened = SQLiteStore(path)
    try:
        assert _kept(reopened) == (6, 1) == _counted(reopened)
    finally:
        reopened.close()


def test_a_range_read_without_offset_gives_the_same_rows(tmp_path: Path) -> None:
    store = SQLiteStore(tmp_path / "r.sqlite")
    try:
        store.bulk_docs([{"_id": f"event:c{i % 3}:{i:03d}"} for i in range(30)])
        full = store.all_docs(startkey="event:c1:", endkey="event:c1:\ufff0", include_docs=True)
        bare = store.all_docs(startkey="event:c1:", endkey="event:c1:\ufff0", include_docs=True,
                              offset=False)
        assert full["offset"] == 10 and bare["offset"] is None
        assert bare["rows"] == full["rows"] and bare["total_rows"] == full["total_rows"] == 30
    finally:
        store.close()
