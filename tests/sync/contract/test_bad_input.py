"""Bad input gets CouchDB's error class with a reason, and nothing is stored.

CouchDB 3 checks every doc of a ``_bulk_docs`` request before writing any
(chttpd_db: ``couch_db:doc_from_json_obj_validate`` over the whole list), so a
bad doc fails the whole request with 400 and its good neighbours are not stored.
"""

from __future__ import annotations

from typing import Any

import pytest

from sync import errors
from sync.store import DocumentStore
from tests.sync.contract.conftest import pouchdb_deviation

GOOD = {"_id": "good", "v": 1}


def _assert_untouched(store: DocumentStore, seq: Any) -> None:
    assert store.info()["doc_count"] == 0
    assert store.changes(since=seq)["results"] == []
    with pytest.raises(errors.NotFound):
        store.get("good")


def _rejects(store: DocumentStore, doc: Any, *, new_edits: bool = True) -> errors.SyncError:
    seq = store.info()["update_seq"]
    with pytest.raises(errors.BadRequest) as ei:
        store.bulk_docs([dict(GOOD), doc], new_edits=new_edits)
    assert ei.value.status == 400 and ei.value.reason
    _assert_untouched(store, seq)
    return ei.value


@pytest.mark.parametrize("docid", ["_reserved", "_foo/bar"])
def test_reserved_ids(store: DocumentStore, docid: str) -> None:
    _rejects(store, {"_id": docid})


@pouchdb_deviation("bare '_design' and '_local' ids are accepted")
@pytest.mark.parametrize("docid", ["_design", "_local"])
def test_bare_prefix_ids(store: DocumentStore, docid: str) -> None:
    # couch_doc:validate_docid: only "_design/..." and "_local/..." may start with "_"
    _rejects(store, {"_id": docid})


@pytest.mark.parametrize("docid", [123, ["a"], {"a": 1}, True])
def test_id_of_wrong_type(store: DocumentStore, docid: Any) -> None:
    _rejects(store, {"_id": docid})


@pytest.mark.parametrize("rev", ["bad", "1", "x-abc", "-1-abc", 7])
def test_bad_rev_format(store: DocumentStore, rev: Any) -> None:
    _rejects(store, {"_id": "a", "_rev": rev})


@pouchdb_deviation("a list as _rev crashes the handler (500)")
def test_list_rev(store: DocumentStore) -> None:
    _rejects(store, {"_id": "a", "_rev": ["1-a"]})


@pytest.mark.parametrize("rev", ["bad", "0-abc", "1-", 5])
def test_bad_rev_format_new_edits_false(store: DocumentStore, rev: Any) -> None:
    _rejects(store, {"_id": "a", "_rev": rev}, new_edits=False)


@pytest.mark.parametrize("revisions", [
    {"start": "x", "ids": ["a" * 32]},
    {"start": 1, "ids": "abc"},
])
def test_bad_revisions(store: DocumentStore, revisions: Any) -> None:
    _rejects(store, {"_id": "a", "_rev": "1-" + "a" * 32, "_revisions": revisions},
             new_edits=False)


@pouchdb_deviation("a _revisions without ids, or not an object, crashes the handler (500)")
@pytest.mark.parametrize("revisions", [{"start": 1}, "1-abc"])
def test_malformed_revisions(store: DocumentStore, revisions: Any) -> None:
    _rejects(store, {"_id": "a", "_rev": "1-" + "a" * 32, "_revisions": revisions},
             new_edits=False)


def test_new_edits_false_needs_a_rev(store: DocumentStore) -> None:
    _rejects(store, {"_id": "a", "v": 1}, new_edits=False)


def test_doc_is_a_list(store: DocumentStore) -> None:
    _rejects(store, ["_id", "a"])


@pouchdb_deviation("a doc that is a number, string or null crashes the handler (500)")
@pytest.mark.parametrize("doc", [1, "doc", None])
def test_doc_not_an_object(store: DocumentStore, doc: Any) -> None:
    # chttpd_db: "Document must be a JSON object" (400)
    _rejects(store, doc)


@pytest.mark.parametrize("docs", [{"docs": []}, "docs", None, 5])
def test_bulk_body_not_a_list(store: DocumentStore, docs: Any) -> None:
    with pytest.raises(errors.BadRequest):
        store.bulk_docs(docs)
    assert store.info()["doc_count"] == 0


@pouchdb_deviation("unknown _fields are doc_validation with status 500, not 400")
def test_unknown_special_field(store: DocumentStore) -> None:
    # couch_doc:transfer_fields: {doc_validation, "Bad special document member: _bogus"}
    err = _rejects(store, {"_id": "a", "_bogus": 1})
    assert err.error == "doc_validation"


@pouchdb_deviation("a non-boolean _deleted is accepted")
def test_deleted_must_be_boolean(store: DocumentStore) -> None:
    # couch_doc:transfer_fields accepts _deleted only when is_boolean/1
    _rejects(store, {"_id": "a", "_deleted": "yes"})


def test_attachment_without_data_or_stub(store: DocumentStore) -> None:
    seq = store.info()["update_seq"]
    with pytest.raises(errors.SyncError) as ei:
        store.bulk_docs([dict(GOOD), {"_id": "a", "_attachments": {
            "f": {"content_type": "text/plain", "stub": True}}}])
    assert ei.value.status in (400, 412)
    _assert_untouched(store, seq)


def test_put_conflict_stores_nothing(store: DocumentStore) -> None:
    r = store.put({"_id": "a", "v": 1})["rev"]
    with pytest.raises(errors.Conflict) as ei:
        store.put({"_id": "a", "_rev": "1-" + "0" * 32, "v": 2})
    assert ei.value.status == 409 and ei.value.reason
    assert store.get("a") == {"_id": "a", "_rev": r, "v": 1}


def test_local_doc_bad_id(store: DocumentStore) -> None:
    with pytest.raises(errors.BadRequest):
        store.put_local({"v": 1})


def test_errors_carry_couchdb_triple(store: DocumentStore) -> None:
    with pytest.raises(errors.NotFound) as ei:
        store.get("nope")
    body = ei.value.as_json()
    assert body["error"] == "not_found" and body["reason"] == "missing"
