"""SQLiteStore against CouchDB 3's documented behaviour (documents, edits, validation)."""

from __future__ import annotations

import base64
from typing import Any

import pytest

from sync import revtree
from sync.errors import BadRequest, Conflict, NotFound, PreconditionFailed, RequestEntityTooLarge
from sync.sqlite import SQLiteStore


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


# -- interactive edits ---------------------------------------------------------------
def test_resurrection_extends_the_tombstone(store: SQLiteStore) -> None:
    r1 = store.put({"_id": "d", "v": 1})["rev"]
    r2 = store.delete("d", r1)["rev"]
    assert r2.startswith("2-")
    with pytest.raises(NotFound, match="deleted"):
        store.get("d")
    tomb = store.get("d", rev=r2)
    assert tomb == {"_id": "d", "_rev": r2, "_deleted": True}
    r3 = store.put({"_id": "d", "v": 3})["rev"]
    assert r3.startswith("3-")
    assert store.get("d", revs=True)["_revisions"]["ids"] == [r3[2:], r2[2:], r1[2:]]


def test_rev_on_missing_doc_and_non_leaf_rev_conflict(store: SQLiteStore) -> None:
    res = store.bulk_docs([{"_id": "x", "_rev": "1-abc"}])
    assert res == [{"id": "x", "error": "conflict", "reason": "Document update conflict."}]
    r1 = store.put({"_id": "y"})["rev"]
    store.put({"_id": "y", "_rev": r1, "v": 2})
    with pytest.raises(Conflict):
        store.put({"_id": "y", "_rev": r1, "v": 3})


def test_same_id_twice_in_one_request(store: SQLiteStore) -> None:
    res = store.bulk_docs([{"_id": "z", "v": 1}, {"_id": "z", "v": 2}])
    assert res[0]["ok"] and res[1]["error"] == "conflict"
    assert store.info()["update_seq"] == 1


def test_edit_a_deleted_conflict_leaf(store: SQLiteStore) -> None:
    store.bulk_docs([{"_id": "c", "_rev": "1-a", "v": "a"}], new_edits=False)
    store.bulk_docs([{"_id": "c", "_revisions": {"start": 2, "ids": ["b", "a"]}, "v": "b"},
                     {"_id": "c", "_revisions": {"start": 2, "ids": ["c", "a"]}, "v": "c"}],
                    new_edits=False)
    doc = store.get("c", conflicts=True)
    assert doc["_rev"] == "2-c" and doc["_conflicts"] == ["2-b"]
    store.delete("c", "2-c")
    doc = store.get("c", conflicts=True, deleted_conflicts=True)
    assert doc["_rev"] == "2-b" and "_conflicts" not in doc
    assert doc["_deleted_conflicts"][0].startswith("3-")


def test_new_edits_false_known_rev_is_noop_and_returns_nothing(store: SQLiteStore) -> None:
    doc = {"_id": "n", "_revisions": {"start": 2, "ids": ["b", "a"]}, "v": 1}
    assert store.bulk_docs([doc], new_edits=False) == []
    seq = store.info()["update_seq"]
    assert store.bulk_docs([{**doc, "v": 2}], new_edits=False) == []
    assert store.info()["update_seq"] == seq
    assert store.get("n")["v"] == 1
    with pytest.raises(NotFound):
        store.get("n", rev="1-a")  # known ancestor without a body
    assert store.revs_diff({"n": ["1-a", "2-b"]}) == {}


def test_revs_limit_stems_history(store: SQLiteStore) -> None:
    store.set_revs_limit(3)
    assert store.get_revs_limit() == 3
    rev = store.put({"_id": "s", "v": 0})["rev"]
    first = rev
    for v in range(1, 6):
        rev = store.put({"_id": "s", "_rev": rev, "v": v})["rev"]
    assert len(store.get("s", revs=True)["_revisions"]["ids"]) == 3
    # the stemmed rev is forgotten: missing again, and no leaf is older than it
    assert store.revs_diff({"s": [first]}) == {"s": {"missing": [first]}}


def test_compact_drops_non_leaf_bodies_and_keeps_tree(store: SQLiteStore) -> None:
    r1 = store.put({"_id": "k", "v": 1})["rev"]
    r2 = store.put({"_id": "k", "_rev": r1, "v": 2})["rev"]
    assert store.get("k", rev=r1)["v"] == 1
    store.compact()
    with pytest.raises(NotFound):
        store.get("k", rev=r1)
    assert store.get("k", rev=r2)["v"] == 2
    assert store.revs_diff({"k": [r1, r2]}) == {}
    assert store.get("k", revs_info=True)["_revs_info"][1] == {"rev": r1, "status": "missing"}


# -- validation: whole request rejected, nothing stored ---------------------------------
@pytest.mark.parametrize(
    ("doc", "reason"),
    [
        ({"_id": "_foo"}, "Only reserved document ids may start with underscore."),
        ({"_id": ""}, "Document id must not be empty"),
        ({"_id": 5}, "Document id must be a string"),
        ({"_id": "a", "_rev": "abc"}, "Invalid rev format"),
        ({"_id": "a", "_rev": "1-"}, "Invalid rev format"),
        ({"_id": "a", "_x": 1}, "Bad special document member: _x"),
        ({"_id": "a", "_attachments": {"f": {"data": "!!!"}}}, "Invalid attachment data for f"),
        ("not a doc", "Document must be a JSON object"),
    ],
)
def test_bad_documents_are_400_and_nothing_is_stored(
    store: SQLiteStore, doc: object, reason: str
) -> None:
    with pytest.raises(BadRequest) as info:
        store.bulk_docs([{"_id": "ok"}, doc])  # type: ignore[list-item]
    assert info.value.status == 400 and info.value.reason == reason
    assert store.info()["update_seq"] == 0


def test_design_and_ignored_specials_are_accepted(store: SQLiteStore) -> None:
    store.put({"_id": "_design/x", "views": {}})
    store.put({"_id": "y", "_conflicts": [], "_revs_info": [], "_local_seq": 1})
    assert [r["id"] for r in store.all_docs()["rows"]] == ["_design/x", "y"]


def test_document_size_limit(tmp_path: object) -> None:
    from pathlib import Path

    assert isinstance(tmp_path, Path)
    with SQLiteStore(tmp_path / "small.sqlite", max_document_size=100) as s:
        with pytest.raises(RequestEntityTooLarge) as info:
            s.bulk_docs([{"_id": "a"}, {"_id": "big", "pad": "x" * 200}])
        assert info.value.status == 413 and info.value.error == "document_too_large"
        assert s.info()["update_seq"] == 0


# -- attachments ---------------------------------------------------------------------
def test_attachments_inline_stub_data_and_since(store: SQLiteStore) -> None:
    r1 = store.put({"_id": "a", "_attachments": {
        "one.txt": {"content_type": "text/plain", "data": b64(b"hello")}}})["rev"]
    stub = store.get("a")["_attachments"]["one.txt"]
    # CouchDB's digest: "md5-" + base64 of the raw md5
    assert stub == {"content_type": "text/plain", "revpos": 1, "length": 5, "stub": True,
                    "digest": "md5-XUFAKrxLKna5cZ2REBfFkg=="}
    doc = store.get("a")
    doc["_attachments"]["two.bin"] = {"content_type": "application/octet-stream",
                                      "data": b64(b"\x00\x01")}
    r2 = store.put(doc)["rev"]
    full = store.get("a", attachments=True)["_attachments"]
    assert full["one.txt"]["data"] == b64(b"hello") and full["two.bin"]["revpos"] == 2
    since = store.get("a", atts_since=[r1])["_attachments"]
    assert since["one.txt"].get("stub") is True and "data" in since["two.bin"]
    assert store.get_attachment("a", "two.bin") == (b"\x00\x01", "application/octet-stream")
    assert store.get_attachment("a", "one.txt", rev=r1) == (b"hello", "text/plain")
    # dropping _attachments drops them
    r3 = store.put({"_id": "a", "_rev": r2})["rev"]
    assert "_attachments" not in store.get("a", rev=r3)
    with pytest.raises(NotFound):
        store.get_attachment("a", "one.txt")
    store.compact()  # r1 and r2 are no longer leaves: their bodies and blobs go
    with pytest.raises(NotFound):
        store.get_attachment("a", "one.txt", rev=r1)


def test_missing_stub_is_412(store: SQLiteStore) -> None:
    r1 = store.put({"_id": "a"})["rev"]
    with pytest.raises(PreconditionFailed) as info:
        store.put({"_id": "a", "_rev": r1, "_attachments": {
            "x": {"stub": True, "content_type": "text/plain"}}})
    assert info.value.error == "missing_stub"


def test_replicated_attachment_stub_resolves_by_ancestor(store: SQLiteStore) -> None:
    store.bulk_docs([{"_id": "r", "_rev": "1-a", "_attachments": {
        "f": {"content_type": "text/plain", "data": b64(b"abc"), "revpos": 1}}}], new_edits=False)
    stub = store.get("r")["_attachments"]["f"]
    store.bulk_docs([{"_id": "r", "_revisions": {"start": 2, "ids": ["b", "a"]},
                      "_attachments": {"f": stub}}], new_edits=False)
    assert store.get_attachment("r", "f") == (b"abc", "text/plain")
    assert store.get("r")["_attachments"]["f"]["revpos"] == 1


# -- reads -----------------------------------------------------------------------------
def test_open_revs_and_latest(store: SQLiteStore) -> None:
    store.bulk_docs([{"_id": "o", "_revisions": {"start": 2, "ids": ["b", "a"]}, "v": "b"},
                     {"_id": "o", "_revisions": {"start": 2, "ids": ["c", "a"]}, "v": "c",
                      "_deleted": True}], new_edits=False)
    all_revs = store.open_revs("o", "all")
    assert {e["ok"]["_rev"] for e in all_revs} == {"2-b", "2-c"}
    assert all("_revisions" in e["ok"] for e in all_revs)
    assert store.open_revs("o", ["2-b", "9-z"]) == [
        {"ok": {"_id": "o", "_rev": "2-b", "v": "b", "_revisions": {"start": 2, "ids": ["b", "a"]}}},
        {"missing": "9-z"},
    ]
    assert store.open_revs("o", ["1-a"]) == [{"missing": "1-a"}]
    latest = store.open_revs("o", ["1-a"], latest=True)
    assert {e["ok"]["_rev"] for e in latest} == {"2-b", "2-c"}


def test_bulk_get(store: SQLiteStore) -> None:
    store.bulk_docs([{"_id": "g", "_revisions": {"start": 2, "ids": ["b", "a"]}, "v": 1}],
                    new_edits=False)
    res = store.bulk_get([{"id": "g", "rev": "2-b"}, {"id": "g", "rev": "3-x"}, {"id": "nope"}],
                         revs=True)["results"]
    assert res[0]["docs"][0]["ok"]["_revisions"] == {"start": 2, "ids": ["b", "a"]}
    assert res[1]["docs"][0]["error"] == {"id": "g", "rev": "3-x", "error": "not_found",
                                          "reason": "missing"}
    assert res[2]["docs"][0]["error"]["error"] == "not_found"
    plain = store.bulk_get([{"id": "g"}])["results"][0]["docs"][0]["ok"]
    assert "_revisions" not in plain


def test_all_docs_ranges_keys_and_deleted(store: SQLiteStore) -> None:
    store.bulk_docs([{"_id": i} for i in ["a", "b", "c", "d", "é", "B"]])
    store.delete("c", store.get("c")["_rev"])

    def ids(**kw: object) -> list[str]:
        return [r["id"] for r in store.all_docs(**kw)["rows"]]  # type: ignore[arg-type]

    # raw code point order: "B" < "a" < "é"
    assert ids() == ["B", "a", "b", "d", "é"]
    assert ids(startkey="a", endkey="d") == ["a", "b", "d"]
    assert ids(startkey="a", endkey="d", inclusive_end=False) == ["a", "b"]
    assert ids(descending=True, startkey="d", endkey="a") == ["d", "b", "a"]
    assert ids(descending=True, startkey="d", endkey="a", inclusive_end=False) == ["d", "b"]
    assert ids(skip=1, limit=2) == ["a", "b"]
    res = store.all_docs(startkey="b", skip=1, limit=1)
    assert res["total_rows"] == 5 and res["offset"] == 3 and res["rows"][0]["id"] == "d"
    rows = store.all_docs(keys=["c", "zz", "a"], include_docs=True)["rows"]
    assert rows[0]["value"]["deleted"] is True and rows[0]["doc"] is None
    assert rows[1] == {"key": "zz", "error": "not_found"}
    assert rows[2]["doc"]["_id"] == "a"


def test_info_counts(store: SQLiteStore) -> None:
    store.bulk_docs([{"_id": "a"}, {"_id": "b"}])
    store.delete("a", store.get("a")["_rev"])
    store.put_local({"_id": "_local/x"})
    info = store.info()
    assert (info["doc_count"], info["doc_del_count"], info["update_seq"]) == (1, 1, 3)
    assert info["db_name"] == "db" and info["instance_start_time"] == "0"


def test_deleted_doc_accepts_only_recreation(store: SQLiteStore) -> None:
    # couch_db_updater:merge_rev_tree: editing from the tombstone's rev, or deleting
    # again, is a conflict; a PUT without _rev recreates on top of the tombstone.
    r1 = store.put({"_id": "t"})["rev"]
    r2 = store.delete("t", r1)["rev"]
    assert store.bulk_docs([{"_id": "t", "_rev": r2, "v": 1}])[0]["error"] == "conflict"
    assert store.bulk_docs([{"_id": "t", "_deleted": True}])[0]["error"] == "conflict"
    assert store.bulk_docs([{"_id": "t", "v": 2}])[0]["rev"].startswith("3-")


def test_revs_are_checked_against_the_stored_tree(store: SQLiteStore) -> None:
    # couch_db:prep_and_validate_updates checks every doc of a request against the
    # tree as stored, so a request cannot build on a rev it creates itself.
    r1 = store.put({"_id": "z", "v": 1})["rev"]
    predicted = revtree.new_rev(r1, deleted=False, body='{"v":2}')
    res = store.bulk_docs([{"_id": "z", "_rev": r1, "v": 2}, {"_id": "z", "_rev": predicted, "v": 3}])
    assert res[0]["rev"] == predicted and res[1]["error"] == "conflict"


def test_bulk_get_errors_as_chttpd(store: SQLiteStore) -> None:
    # chttpd_db:bulk_get_open_doc_revs1 answers per request, never for the whole body
    res = store.bulk_get([{"id": "_bad"}, {"id": "x", "rev": "nope"}, {"rev": "1-a"}])["results"]
    assert res[0] == {"id": "_bad", "docs": [{"error": {
        "id": "_bad", "rev": None, "error": "bad_request",
        "reason": "Only reserved document ids may start with underscore."}}]}
    assert res[1]["docs"][0]["error"] == {"id": "x", "rev": "nope", "error": "bad_request",
                                          "reason": "Invalid rev format"}
    assert res[2]["docs"][0]["error"]["reason"] == "document id missed"


def test_atts_since_filters_even_with_attachments(store: SQLiteStore) -> None:
    r1 = store.put({"_id": "a", "_attachments": {"old": {"content_type": "text/plain",
                                                         "data": b64(b"1")}}})["rev"]
    doc = store.get("a")
    doc["_attachments"]["new"] = {"content_type": "text/plain", "data": b64(b"2")}
    store.put(doc)
    got = store.bulk_get([{"id": "a", "atts_since": [r1]}], attachments=True)
    atts = got["results"][0]["docs"][0]["ok"]["_attachments"]
    assert atts["old"].get("stub") is True and atts["new"]["data"] == b64(b"2")


def test_replicated_known_leaf_is_ignored_even_with_new_ancestors(store: SQLiteStore) -> None:
    # couch_db:prep_and_validate_replicated_updates: a rev that already is a leaf
    # is ignored (its path is not merged), so 2-b stays a conflict.
    store.bulk_docs([{"_id": "j", "_revisions": {"start": 2, "ids": ["b", "a"]}}], new_edits=False)
    store.bulk_docs([{"_id": "j", "_revisions": {"start": 5, "ids": ["e", "d"]}}], new_edits=False)
    seq = store.info()["update_seq"]
    assert store.bulk_docs([{"_id": "j", "_revisions": {
        "start": 5, "ids": ["e", "d", "c", "b", "a"]}}], new_edits=False) == []
    assert store.get("j", conflicts=True)["_conflicts"] == ["2-b"]
    assert store.info()["update_seq"] == seq


def test_replicated_group_keeps_only_new_leaves(store: SQLiteStore) -> None:
    # The docs of one id are merged together first; one that another extends is
    # ignored whatever the order (and its own ancestors are not merged).
    short = {"_id": "g", "_revisions": {"start": 3, "ids": ["c", "b", "a"]}, "v": "c"}
    long = {"_id": "g", "_revisions": {"start": 5, "ids": ["e", "d", "c", "b"]}, "v": "e"}
    store.bulk_docs([short, long], new_edits=False)
    assert store.get("g", revs=True)["_revisions"] == {"start": 5, "ids": ["e", "d", "c", "b"]}
    assert store.revs_diff({"g": ["1-a"]}) == {"g": {"missing": ["1-a"]}}
    with pytest.raises(NotFound):
        store.get("g", rev="3-c")


def test_stemming_happens_once_per_request(store: SQLiteStore) -> None:
    # couch_db_updater stems after merging every doc of the request
    store.set_revs_limit(2)
    store.bulk_docs([
        {"_id": "s", "_revisions": {"start": 3, "ids": ["c", "b", "a"]}},
        {"_id": "s", "_revisions": {"start": 2, "ids": ["x", "a"]}},
    ], new_edits=False)
    leaves = {e["ok"]["_rev"] for e in store.open_revs("s", "all")}
    assert leaves == {"3-c", "2-x"}
    # 1-a is kept (within 2 of 2-x), so both branches stay linked through it
    assert store.get("s", rev="3-c", revs=True)["_revisions"]["ids"] == ["c", "b", "a"]


def test_open_revs_all_of_a_missing_doc_is_empty(store: SQLiteStore) -> None:
    # couch_db:open_doc_revs_int answers {ok, []}: GET ?open_revs=all is 200 []
    assert store.open_revs("nope", "all") == []


def test_compact_gives_space_back(store: SQLiteStore) -> None:
    for k in range(3):
        docs: list[dict[str, Any]] = [{"_id": f"d{i}", "pad": "x" * 2000, "k": k}
                                      for i in range(300)]
        if k:
            docs = [{**d, "_rev": store.get(d["_id"])["_rev"]} for d in docs]
        store.bulk_docs(docs)
    before = store.info()["sizes"]["file"]
    store.compact()
    after = store.info()["sizes"]["file"]
    assert after < before * 0.6
    assert store.get("d7")["k"] == 2


def test_stub_revpos_must_match_the_previous_revision(store: SQLiteStore) -> None:
    # couch_att:merge_stubs: by name from the previous revision; a given revpos must match
    r1 = store.put({"_id": "a", "_attachments": {"f": {"content_type": "text/plain",
                                                       "data": b64(b"x")}}})["rev"]
    with pytest.raises(PreconditionFailed):
        store.put({"_id": "a", "_rev": r1, "_attachments": {
            "f": {"stub": True, "content_type": "text/plain", "revpos": 7}}})
    r2 = store.put({"_id": "a", "_rev": r1, "_attachments": {
        "f": {"stub": True, "content_type": "text/plain"}}})["rev"]
    assert store.get_attachment("a", "f", rev=r2) == (b"x", "text/plain")
    # a stub can only come from the revision being edited, not an older one
    r3 = store.put({"_id": "a", "_rev": r2})["rev"]
    with pytest.raises(PreconditionFailed):
        store.put({"_id": "a", "_rev": r3, "_attachments": {
            "f": {"stub": True, "content_type": "text/plain"}}})


def test_compact_stems_to_a_lowered_revs_limit(store: SQLiteStore) -> None:
    rev = store.put({"_id": "c", "v": 0})["rev"]
    for v in range(1, 6):
        rev = store.put({"_id": "c", "_rev": rev, "v": v})["rev"]
    seq = store.info()["update_seq"]
    store.set_revs_limit(2)
    assert len(store.get("c", revs=True)["_revisions"]["ids"]) == 6  # until compaction
    store.compact()
    ids = store.get("c", revs=True)["_revisions"]["ids"]
    assert len(ids) == 2 and ids[0] == rev.split("-")[1]
    assert store.info()["update_seq"] == seq and store.get("c")["v"] == 5


def test_compact_goes_by_batches_and_only_when_due(store: SQLiteStore,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    """A hub's millions of documents were compacted in one transaction, every upload
    waiting minutes; now :data:`COMPACT_BATCH` at a time, every document reached; and
    ``compact_if_due`` runs it at most once per interval (hub/compaction.py, the node's
    after_pull)."""
    from sync.sqlite import store as store_module

    monkeypatch.setattr(store_module, "COMPACT_BATCH", 3)
    revs = {f"d{i}": store.put({"_id": f"d{i}", "v": 0})["rev"] for i in range(10)}
    for docid, rev in revs.items():
        store.put({"_id": docid, "_rev": rev, "v": 1})
    writes: list[int] = []
    real = store._db.write

    def counted() -> Any:
        writes.append(1)
        return real()

    monkeypatch.setattr(store._db, "write", counted)
    assert store.compact_if_due(3600)  # never compacted here: due
    assert len(writes) >= 4  # 10 documents, 3 a transaction
    for docid, rev in revs.items():
        with pytest.raises(NotFound):
            store.get(docid, rev=rev)
        assert store.get(docid)["v"] == 1
    assert not store.compact_if_due(3600)
    assert store.compact_if_due(0)
