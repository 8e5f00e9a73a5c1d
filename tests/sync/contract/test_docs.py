"""Documents with ``new_edits=true``: create, update, conflicts, delete, resurrect.

CouchDB docs, "API Reference / Databases / Documents" and "_bulk_docs".
"""

from __future__ import annotations

import pytest

from sync import errors
from sync.store import DocumentStore
from tests.sync.contract.conftest import pouchdb_deviation
from tests.sync.contract.helpers import REV


def test_create_returns_rev_1(store: DocumentStore) -> None:
    res = store.bulk_docs([{"_id": "a", "v": 1}])
    assert res[0]["ok"] is True and res[0]["id"] == "a"
    assert REV.match(res[0]["rev"]) and res[0]["rev"].startswith("1-")
    doc = store.get("a")
    assert doc == {"_id": "a", "_rev": res[0]["rev"], "v": 1}


def test_update_with_current_rev(store: DocumentStore) -> None:
    r1 = store.put({"_id": "a", "v": 1})["rev"]
    r2 = store.put({"_id": "a", "_rev": r1, "v": 2})["rev"]
    assert r2.startswith("2-") and r2 != r1
    assert store.get("a")["v"] == 2
    assert store.get("a", rev=r1)["v"] == 1  # not compacted: old body still there


def test_stale_rev_is_409_and_nothing_changes(store: DocumentStore) -> None:
    r1 = store.put({"_id": "a", "v": 1})["rev"]
    r2 = store.put({"_id": "a", "_rev": r1, "v": 2})["rev"]
    res = store.bulk_docs([{"_id": "a", "_rev": r1, "v": 3}])
    assert res[0]["error"] == "conflict" and res[0]["id"] == "a"
    with pytest.raises(errors.Conflict) as ei:
        store.put({"_id": "a", "_rev": r1, "v": 3})
    assert ei.value.status == 409
    assert store.get("a") == {"_id": "a", "_rev": r2, "v": 2}


def test_missing_rev_on_existing_doc_is_409(store: DocumentStore) -> None:
    store.put({"_id": "a", "v": 1})
    with pytest.raises(errors.Conflict):
        store.put({"_id": "a", "v": 2})
    assert store.get("a")["v"] == 1


def test_rev_on_new_doc_is_409(store: DocumentStore) -> None:
    res = store.bulk_docs([{"_id": "nope", "_rev": "1-" + "0" * 32}])
    assert res[0]["error"] == "conflict"
    with pytest.raises(errors.NotFound):
        store.get("nope")


def test_bulk_mixed_results_keep_order(store: DocumentStore) -> None:
    r = store.put({"_id": "b"})["rev"]
    res = store.bulk_docs([{"_id": "a"}, {"_id": "b"}, {"_id": "c"}, {"_id": "b", "_rev": r}])
    assert [x["id"] for x in res] == ["a", "b", "c", "b"]
    assert res[0]["ok"] and res[2]["ok"] and res[3]["ok"]
    assert res[1]["error"] == "conflict"


def test_same_doc_twice_in_one_batch_conflicts(store: DocumentStore) -> None:
    res = store.bulk_docs([{"_id": "a", "v": 1}, {"_id": "a", "v": 2}])
    assert "ok" in res[0] and res[1]["error"] == "conflict"
    assert store.get("a")["v"] == 1


def test_generated_id_when_missing(store: DocumentStore) -> None:
    res = store.bulk_docs([{"v": 1}])
    docid = res[0]["id"]
    assert isinstance(docid, str) and docid
    assert store.get(docid)["v"] == 1


def test_missing_doc_is_404_missing(store: DocumentStore) -> None:
    with pytest.raises(errors.NotFound) as ei:
        store.get("nope")
    assert ei.value.status == 404 and ei.value.reason == "missing"


def test_delete_leaves_a_tombstone(store: DocumentStore) -> None:
    r1 = store.put({"_id": "a", "v": 1})["rev"]
    res = store.delete("a", r1)
    assert res["ok"] and res["rev"].startswith("2-")
    with pytest.raises(errors.NotFound):
        store.get("a")
    tomb = store.get("a", rev=res["rev"])
    assert tomb["_deleted"] is True and tomb["_rev"] == res["rev"]
    rows = store.changes()["results"]
    assert rows == [{"seq": rows[0]["seq"], "id": "a", "changes": [{"rev": res["rev"]}],
                     "deleted": True}]


@pouchdb_deviation("a deleted doc's 404 says reason 'missing', CouchDB says 'deleted'")
def test_deleted_doc_404_reason(store: DocumentStore) -> None:
    store.delete("a", store.put({"_id": "a"})["rev"])
    with pytest.raises(errors.NotFound) as ei:
        store.get("a")
    assert ei.value.reason == "deleted"


def test_delete_with_stale_rev_is_409(store: DocumentStore) -> None:
    r1 = store.put({"_id": "a"})["rev"]
    store.put({"_id": "a", "_rev": r1, "v": 2})
    with pytest.raises(errors.Conflict):
        store.delete("a", r1)
    assert store.get("a")["v"] == 2


def test_deleted_doc_keeps_body_fields_given(store: DocumentStore) -> None:
    r1 = store.put({"_id": "a"})["rev"]
    r2 = store.put({"_id": "a", "_rev": r1, "_deleted": True, "why": "gone"})["rev"]
    assert store.get("a", rev=r2) == {"_id": "a", "_rev": r2, "_deleted": True, "why": "gone"}


def test_resurrection_extends_the_tombstone(store: DocumentStore) -> None:
    r1 = store.put({"_id": "a", "v": 1})["rev"]
    r2 = store.delete("a", r1)["rev"]
    r3 = store.put({"_id": "a", "v": 3})["rev"]  # no _rev: the doc is deleted
    assert r3.startswith("3-")
    doc = store.get("a", revs=True)
    assert doc["v"] == 3 and doc["_rev"] == r3
    assert doc["_revisions"]["start"] == 3
    assert doc["_revisions"]["ids"][1:] == [r2.split("-")[1], r1.split("-")[1]]


@pouchdb_deviation("a PUT with the tombstone's _rev resurrects the doc; CouchDB 3 answers 409")
def test_edit_from_tombstone_rev_is_conflict(store: DocumentStore) -> None:
    # couch_db_updater:merge_rev_tree: on a deleted doc only a recreation without
    # _rev (rev depth 1, not deleted) is accepted; anything else is a conflict.
    r1 = store.put({"_id": "a"})["rev"]
    r2 = store.delete("a", r1)["rev"]
    with pytest.raises(errors.Conflict):
        store.put({"_id": "a", "_rev": r2, "v": 3})
    with pytest.raises(errors.Conflict):
        store.delete("a", r2)
    r3 = store.put({"_id": "a", "v": 3})["rev"]
    assert r3.startswith("3-") and store.get("a")["v"] == 3


def test_info_counts(store: DocumentStore) -> None:
    info0 = store.info()
    assert info0["doc_count"] == 0
    r = store.put({"_id": "a"})["rev"]
    store.put({"_id": "b"})
    store.delete("a", r)
    info = store.info()
    assert info["doc_count"] == 1
    assert info["db_name"] == store.name
    assert info["update_seq"] != info0["update_seq"]


@pouchdb_deviation("GET /db has no doc_del_count")
def test_info_counts_deleted(store: DocumentStore) -> None:
    r = store.put({"_id": "a"})["rev"]
    store.delete("a", r)
    assert store.info()["doc_del_count"] == 1


def test_revs_and_revs_info(store: DocumentStore) -> None:
    r1 = store.put({"_id": "a"})["rev"]
    r2 = store.put({"_id": "a", "_rev": r1})["rev"]
    doc = store.get("a", revs=True, revs_info=True)
    assert doc["_revisions"] == {"start": 2, "ids": [r2[2:], r1[2:]]}
    assert doc["_revs_info"] == [{"rev": r2, "status": "available"},
                                 {"rev": r1, "status": "available"}]


def test_local_seq_free_body_roundtrip(store: DocumentStore) -> None:
    body = {"_id": "u", "s": "帮办代办", "n": 1.5, "l": [1, {"x": None}], "t": True}
    r = store.put(body)["rev"]
    assert store.get("u") == dict(body, _rev=r)


def test_design_doc_roundtrip(store: DocumentStore) -> None:
    r = store.put({"_id": "_design/x", "v": 1})["rev"]
    assert store.get("_design/x")["_rev"] == r
    assert "_design/x" in [row["id"] for row in store.all_docs()["rows"]]
