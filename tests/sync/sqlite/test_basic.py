"""Smoke tests of the SQLite store: writes, reads, feed, replication endpoints, local docs."""

from __future__ import annotations

import pytest

from sync.errors import Conflict, NotFound
from sync.sqlite import SQLiteStore


def test_create_update_get(store: SQLiteStore) -> None:
    r1 = store.put({"_id": "a", "x": 1})
    assert r1["rev"].startswith("1-")
    r2 = store.put({"_id": "a", "_rev": r1["rev"], "x": 2})
    assert r2["rev"].startswith("2-")
    doc = store.get("a", revs=True)
    assert doc["x"] == 2
    assert doc["_revisions"]["ids"] == [r2["rev"][2:], r1["rev"][2:]]
    with pytest.raises(Conflict):
        store.put({"_id": "a", "_rev": r1["rev"], "x": 3})
    with pytest.raises(Conflict):
        store.put({"_id": "a", "x": 3})
    with pytest.raises(NotFound):
        store.get("nope")


def test_changes_revs_diff_bulk_get(store: SQLiteStore) -> None:
    store.bulk_docs([{"_id": "a"}, {"_id": "b"}])
    feed = store.changes()
    assert [r["id"] for r in feed["results"]] == ["a", "b"]
    assert feed["last_seq"] == 2
    rev_a = feed["results"][0]["changes"][0]["rev"]
    diff = store.revs_diff({"a": [rev_a, "2-x"], "c": ["1-y"]})
    assert diff == {"a": {"missing": ["2-x"], "possible_ancestors": [rev_a]},
                    "c": {"missing": ["1-y"]}}
    got = store.bulk_get([{"id": "a", "rev": rev_a}], revs=True)
    assert got["results"][0]["docs"][0]["ok"]["_revisions"]["start"] == 1


def test_local_docs(store: SQLiteStore) -> None:
    r = store.put_local({"_id": "_local/cp", "seq": 1})
    assert r["rev"] == "0-1"
    with pytest.raises(Conflict):
        store.put_local({"_id": "_local/cp", "seq": 2})
    assert store.put_local({"_id": "_local/cp", "_rev": "0-1", "seq": 2})["rev"] == "0-2"
    assert store.get_local("cp")["seq"] == 2
    assert store.changes()["results"] == []
    store.delete_local("cp", "0-2")
    with pytest.raises(NotFound):
        store.get_local("cp")
