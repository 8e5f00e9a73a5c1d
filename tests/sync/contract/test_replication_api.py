"""The endpoints a replicator uses: ``_revs_diff``, ``_bulk_get``, ``_local`` checkpoints.

CouchDB docs, "Replication Protocol" 2.4.2.3-2.4.2.5 and "_bulk_get".
"""

from __future__ import annotations

import pytest

from sync import errors
from sync.store import DocumentStore
from tests.sync.contract.conftest import pouchdb_deviation
from tests.sync.contract.helpers import graft, history, rev


def test_revs_diff_reports_only_missing(store: DocumentStore) -> None:
    graft(store, "a", 2, ["b", "a"])
    res = store.revs_diff({"a": [rev(2, "b")], "new": [rev(1, "n")]})
    assert res == {"new": {"missing": [rev(1, "n")]}}
    assert store.revs_diff({"a": [rev(2, "b")]}) == {}


def test_revs_diff_missing_revs_of_existing_doc(store: DocumentStore) -> None:
    graft(store, "a", 2, ["b", "a"])
    res = store.revs_diff({"a": [rev(2, "b"), rev(3, "c"), rev(2, "z")]})
    assert set(res) == {"a"}
    assert sorted(res["a"]["missing"]) == sorted([rev(3, "c"), rev(2, "z")])


@pouchdb_deviation("_revs_diff has no possible_ancestors")
def test_revs_diff_possible_ancestors(store: DocumentStore) -> None:
    graft(store, "a", 2, ["b", "a"])
    graft(store, "a", 2, ["x", "a"])
    graft(store, "a", 4, ["d", "c", "b"], deleted=True)
    res = store.revs_diff({"a": [rev(3, "q")]})
    # couch_db:find_possible_ancestors: every leaf with a lower pos than a missing rev
    assert sorted(res["a"]["possible_ancestors"]) == sorted([rev(2, "x")])
    res = store.revs_diff({"a": [rev(5, "e")]})
    assert sorted(res["a"]["possible_ancestors"]) == sorted([rev(2, "x"), rev(4, "d")])
    res = store.revs_diff({"a": [rev(1, "q")]})
    assert "possible_ancestors" not in res["a"]


def test_bulk_get_with_revs(store: DocumentStore) -> None:
    graft(store, "a", 3, ["c", "b", "a"], v=3)
    r = store.put({"_id": "b", "v": 1})["rev"]
    res = store.bulk_get([{"id": "a", "rev": rev(3, "c")}, {"id": "b", "rev": r}], revs=True)
    rows = res["results"]
    assert [row["id"] for row in rows] == ["a", "b"]
    doc_a = rows[0]["docs"][0]["ok"]
    assert doc_a["v"] == 3 and doc_a["_revisions"] == history(3, ["c", "b", "a"])
    assert rows[1]["docs"][0]["ok"]["_rev"] == r


def test_bulk_get_answers_each_request_when_an_id_is_named_twice(store: DocumentStore) -> None:
    """One result per request, in order (CouchDB 3): PouchDB Server answered one per id, and
    the hub's device view, counting on the former, was a 500 for a device naming an id twice."""
    graft(store, "a", 2, ["b", "a"], v=2)
    r = store.put({"_id": "b", "v": 1})["rev"]
    rows = store.bulk_get([{"id": "a", "rev": rev(2, "b")}, {"id": "b", "rev": r},
                           {"id": "a", "rev": rev(2, "b")}, {"id": "b"}], revs=True)["results"]
    assert [row["id"] for row in rows] == ["a", "b", "a", "b"]
    assert [row["docs"][0]["ok"]["_rev"] for row in rows] == [rev(2, "b"), r, rev(2, "b"), r]


def test_bulk_get_missing_rev_and_missing_doc(store: DocumentStore) -> None:
    graft(store, "a", 2, ["b", "a"])
    res = store.bulk_get([{"id": "a", "rev": rev(9, "z")}, {"id": "nope", "rev": rev(1, "a")}],
                         revs=True)
    err_a = res["results"][0]["docs"][0]["error"]
    assert err_a["id"] == "a" and err_a["rev"] == rev(9, "z") and err_a["error"] == "not_found"
    err_n = res["results"][1]["docs"][0]["error"]
    assert err_n["id"] == "nope" and err_n["error"] == "not_found"


def test_bulk_get_deleted_leaf(store: DocumentStore) -> None:
    r = graft(store, "a", 2, ["b", "a"], deleted=True)
    doc = store.bulk_get([{"id": "a", "rev": r}], revs=True)["results"][0]["docs"][0]["ok"]
    assert doc["_deleted"] is True and doc["_revisions"] == history(2, ["b", "a"])


@pouchdb_deviation("_bulk_get without a rev returns only the winner, not every leaf")
def test_bulk_get_without_rev_returns_all_leaves(store: DocumentStore) -> None:
    graft(store, "a", 2, ["b", "a"])
    graft(store, "a", 2, ["x", "a"])
    docs = store.bulk_get([{"id": "a"}])["results"][0]["docs"]
    assert {d["ok"]["_rev"] for d in docs} == {rev(2, "b"), rev(2, "x")}


def test_local_doc_lifecycle(store: DocumentStore) -> None:
    r1 = store.put_local({"_id": "_local/ck", "seq": 1})
    assert r1["ok"] and r1["id"] == "_local/ck" and r1["rev"] == "0-1"
    assert store.get_local("ck") == {"_id": "_local/ck", "_rev": "0-1", "seq": 1}
    assert store.get_local("_local/ck")["seq"] == 1
    r2 = store.put_local({"_id": "_local/ck", "_rev": "0-1", "seq": 2})
    assert r2["rev"] == "0-2"
    with pytest.raises(errors.Conflict):
        store.put_local({"_id": "_local/ck", "_rev": "0-1", "seq": 3})
    with pytest.raises(errors.Conflict):
        store.put_local({"_id": "_local/ck", "seq": 3})
    assert store.get_local("ck")["seq"] == 2
    store.delete_local("ck", "0-2")
    with pytest.raises(errors.NotFound):
        store.get_local("ck")


def test_local_docs_are_not_listed_or_counted(store: DocumentStore) -> None:
    store.put_local({"_id": "_local/x", "a": 1})
    assert store.all_docs()["rows"] == []
    assert store.info()["doc_count"] == 0
    assert store.changes()["results"] == []


def test_local_doc_via_get(store: DocumentStore) -> None:
    store.put_local({"_id": "_local/x", "a": 1})
    assert store.get("_local/x")["a"] == 1


def test_missing_local_doc(store: DocumentStore) -> None:
    with pytest.raises(errors.NotFound):
        store.get_local("nope")
