"""The SQLite changes feed: one row per doc, options, filters, longpoll wake-up."""

from __future__ import annotations

import sqlite3
import threading
from typing import Any

import pytest

from sync.errors import BadRequest
from sync.sqlite import SQLiteStore


@pytest.fixture
def filled(store: SQLiteStore) -> SQLiteStore:
    store.bulk_docs([{"_id": f"d{i}", "n": i, "kind": "odd" if i % 2 else "even"} for i in range(5)])
    store.put({"_id": "d1", "_rev": store.get("d1")["_rev"], "n": 10, "kind": "odd"})
    store.delete("d3", store.get("d3")["_rev"])
    return store


def test_one_row_per_doc_at_latest_seq(filled: SQLiteStore) -> None:
    feed = filled.changes()
    assert [(r["seq"], r["id"]) for r in feed["results"]] == [
        (1, "d0"), (3, "d2"), (5, "d4"), (6, "d1"), (7, "d3")]
    assert feed["results"][-1]["deleted"] is True
    assert feed["last_seq"] == 7 and feed["pending"] == 0


def test_since_limit_descending_pending(filled: SQLiteStore) -> None:
    feed = filled.changes(since=3, limit=2)
    assert [r["id"] for r in feed["results"]] == ["d4", "d1"]
    assert feed["last_seq"] == 6 and feed["pending"] == 1
    assert filled.changes(since="now")["results"] == []
    assert filled.changes(since="now")["last_seq"] == 7
    assert filled.changes(since="5")["results"][0]["id"] == "d1"
    desc = filled.changes(descending=True, limit=2)
    assert [r["id"] for r in desc["results"]] == ["d3", "d1"] and desc["last_seq"] == 6
    with pytest.raises(BadRequest):
        filled.changes(since="abc")



def test_pending_is_an_upper_bound_from_seqs_without_counting_rows(
        store: SQLiteStore, monkeypatch: pytest.MonkeyPatch) -> None:
    """``pending`` is ``max(seq) - last_seq`` (CouchDB: approximate on a cluster), never less
    than the rows left, 0 exactly at the end, and read without visiting the rows left."""
    store.bulk_docs([{"_id": f"d{i:03d}"} for i in range(300)])
    for i in range(0, 300, 3):  # a third updated: their old seqs become gaps in the feed
        store.put({"_id": f"d{i:03d}", "_rev": store.get(f"d{i:03d}")["_rev"], "v": 1})
    since: object = 0
    while True:
        feed = store.changes(since=since, limit=50)
        left = len(store.changes(since=feed["last_seq"])["results"])
        assert feed["pending"] >= left
        assert (feed["pending"] == 0) == (left == 0)
        if not feed["results"]:
            break
        since = feed["last_seq"]
    assert store.changes(since=10**6)["pending"] == 0  # a since beyond the end
    # No query counts the rows left (that cost grew with the feed): trace a fresh reader.
    queries: list[str] = []
    real_connect = sqlite3.connect

    def traced(*args: Any, **kwargs: Any) -> sqlite3.Connection:
        conn = real_connect(*args, **kwargs)
        conn.set_trace_callback(queries.append)
        return conn

    store._db._idle.clear()
    monkeypatch.setattr(sqlite3, "connect", traced)
    first = store.changes(since=0, limit=1)  # d001 at seq 2 (d000 moved to seq 301)
    assert first["last_seq"] == 2 and first["pending"] == 400 - 2
    assert queries and not [q for q in queries if "count(" in q.lower()], queries

def test_style_all_docs_include_docs_conflicts(store: SQLiteStore) -> None:
    store.bulk_docs([{"_id": "c", "_revisions": {"start": 2, "ids": ["b", "a"]}, "v": "b"},
                     {"_id": "c", "_revisions": {"start": 2, "ids": ["c", "a"]}, "v": "c"}],
                    new_edits=False)
    row = store.changes(style="all_docs", include_docs=True, conflicts=True)["results"][0]
    assert row["changes"] == [{"rev": "2-c"}, {"rev": "2-b"}]
    assert row["doc"] == {"_id": "c", "_rev": "2-c", "v": "c", "_conflicts": ["2-b"]}
    assert store.changes()["results"][0]["changes"] == [{"rev": "2-c"}]


def test_doc_ids_and_selector_filters(filled: SQLiteStore) -> None:
    feed = filled.changes(doc_ids=["d4", "d0", "zz"])
    assert [r["id"] for r in feed["results"]] == ["d0", "d4"] and feed["last_seq"] == 7
    sel = filled.changes(selector={"kind": "odd", "n": {"$gt": 2}}, include_docs=True)
    assert [r["id"] for r in sel["results"]] == ["d1"]
    assert [r["id"] for r in filled.changes(selector={"_id": {"$regex": "^d[02]$"}})["results"]] == [
        "d0", "d2"]
    with pytest.raises(BadRequest):
        filled.changes(selector={"n": {"$bogus": 1}})


def test_local_docs_never_in_feed(store: SQLiteStore) -> None:
    store.put_local({"_id": "_local/cp", "x": 1})
    store.bulk_docs([{"_id": "_local/other"}])
    assert store.changes()["results"] == [] and store.info()["update_seq"] == 0
    assert store.all_docs()["rows"] == []


def test_longpoll_times_out_empty(store: SQLiteStore) -> None:
    store.put({"_id": "a"})
    feed = store.changes(feed="longpoll", since=1, timeout=0.2)
    assert feed["results"] == [] and feed["last_seq"] == 1


def test_longpoll_wakes_on_write(store: SQLiteStore) -> None:
    out: dict[str, object] = {}
    since = store.info()["update_seq"]

    def wait() -> None:
        out["feed"] = store.changes(feed="longpoll", since=since, timeout=30)

    t = threading.Thread(target=wait)
    t.start()
    store.put({"_id": "woke"})
    t.join(timeout=30)
    assert not t.is_alive()
    feed = out["feed"]
    assert isinstance(feed, dict) and [r["id"] for r in feed["results"]] == ["woke"]


def test_longpoll_with_filter_waits_for_a_match(store: SQLiteStore) -> None:
    out: dict[str, object] = {}

    def wait() -> None:
        out["feed"] = store.changes(feed="longpoll", doc_ids=["target"], timeout=30)

    t = threading.Thread(target=wait)
    t.start()
    store.put({"_id": "other"})
    store.put({"_id": "target"})
    t.join(timeout=30)
    feed = out["feed"]
    assert isinstance(feed, dict) and [r["id"] for r in feed["results"]] == ["target"]


def test_selector_matches_each_leaf_with_style_all_docs(store: SQLiteStore) -> None:
    # couch_changes:filter/3 with a selector opens every rev of the style and
    # keeps the ones that match; the row still carries the winner's doc.
    store.bulk_docs([{"_id": "c", "_revisions": {"start": 2, "ids": ["b", "a"]}, "k": "blue"},
                     {"_id": "c", "_revisions": {"start": 2, "ids": ["c", "a"]}, "k": "red"}],
                    new_edits=False)
    rows = store.changes(style="all_docs", selector={"k": "blue"}, include_docs=True)["results"]
    assert rows[0]["changes"] == [{"rev": "2-b"}] and rows[0]["doc"]["_rev"] == "2-c"
    assert store.changes(selector={"k": "blue"})["results"] == []  # main_only: the winner is red
    assert store.changes(selector={"_conflicts": {"$exists": True}}, conflicts=True)["results"] == []
