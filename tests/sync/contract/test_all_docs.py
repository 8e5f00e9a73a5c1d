"""``_all_docs``: keys, ranges, paging, include_docs (CouchDB docs, "/{db}/_all_docs")."""

from __future__ import annotations

from sync.store import DocumentStore
from tests.sync.contract.helpers import graft, rev

IDS = ["a", "b", "c", "d", "e"]


def _fill(store: DocumentStore) -> dict[str, str]:
    return {docid: store.put({"_id": docid, "n": i})["rev"] for i, docid in enumerate(IDS)}


def _ids(res: dict) -> list[str]:
    return [row["id"] for row in res["rows"]]


def test_rows_sorted_with_value_rev(store: DocumentStore) -> None:
    revs = _fill(store)
    store.put({"_id": "0"})
    res = store.all_docs()
    assert res["total_rows"] == 6 and res["offset"] == 0
    assert _ids(res) == ["0", *IDS]
    assert res["rows"][1] == {"id": "a", "key": "a", "value": {"rev": revs["a"]}}


def test_deleted_docs_are_not_listed(store: DocumentStore) -> None:
    revs = _fill(store)
    store.delete("b", revs["b"])
    res = store.all_docs()
    assert _ids(res) == ["a", "c", "d", "e"] and res["total_rows"] == 4


def test_ranges(store: DocumentStore) -> None:
    _fill(store)
    assert _ids(store.all_docs(startkey="b", endkey="d")) == ["b", "c", "d"]
    assert _ids(store.all_docs(startkey="b", endkey="d", inclusive_end=False)) == ["b", "c"]
    assert _ids(store.all_docs(startkey="bb")) == ["c", "d", "e"]
    assert _ids(store.all_docs(endkey="b")) == ["a", "b"]


def test_descending_ranges_swap_start_and_end(store: DocumentStore) -> None:
    _fill(store)
    assert _ids(store.all_docs(descending=True)) == IDS[::-1]
    assert _ids(store.all_docs(descending=True, startkey="d", endkey="b")) == ["d", "c", "b"]
    assert _ids(store.all_docs(descending=True, startkey="d", endkey="b",
                               inclusive_end=False)) == ["d", "c"]


def test_limit_and_skip(store: DocumentStore) -> None:
    _fill(store)
    res = store.all_docs(limit=2, skip=1)
    assert _ids(res) == ["b", "c"] and res["total_rows"] == 5 and res["offset"] == 1
    assert _ids(store.all_docs(limit=0)) == []
    assert _ids(store.all_docs(skip=10)) == []


def test_keys_in_given_order_with_missing_and_deleted(store: DocumentStore) -> None:
    revs = _fill(store)
    r_del = store.delete("c", revs["c"])["rev"]
    res = store.all_docs(keys=["e", "zz", "a", "c"], include_docs=True)
    rows = res["rows"]
    assert [row["key"] for row in rows] == ["e", "zz", "a", "c"]
    assert rows[0]["doc"]["n"] == 4 and rows[2]["value"] == {"rev": revs["a"]}
    assert rows[1] == {"key": "zz", "error": "not_found"}
    assert rows[3]["id"] == "c" and rows[3]["value"] == {"rev": r_del, "deleted": True}
    assert rows[3]["doc"] is None


def test_include_docs_and_conflicts(store: DocumentStore) -> None:
    graft(store, "a", 2, ["b", "a"], v="b")
    graft(store, "a", 2, ["x", "a"], v="x")
    row = store.all_docs(include_docs=True, conflicts=True)["rows"][0]
    assert row["value"] == {"rev": rev(2, "x")}
    assert row["doc"]["v"] == "x" and row["doc"]["_conflicts"] == [rev(2, "b")]
    row = store.all_docs(include_docs=True)["rows"][0]
    assert "_conflicts" not in row["doc"]


def test_all_docs_queries_answer_each_query_in_order(store: DocumentStore) -> None:
    # POST /{db}/_all_docs/queries (CouchDB >= 2.2); PouchDB Server lacks the endpoint and
    # CouchStore asks it one query at a time: the answers must be the same either way.
    _fill(store)
    queries = [{"startkey": "b", "endkey": "c", "include_docs": True},
               {"keys": ["e", "zz", "a"]},
               {"startkey": "d", "offset": False},
               {"descending": True, "limit": 2}]
    results = store.all_docs_queries(queries)
    assert [[row["key"] for row in r["rows"]] for r in results] == \
        [["b", "c"], ["e", "zz", "a"], ["d", "e"], ["e", "d"]]
    assert [r["doc"]["n"] for r in results[0]["rows"]] == [1, 2]
    assert results[1]["rows"][1] == {"key": "zz", "error": "not_found"}
    assert store.all_docs_queries([]) == []


def test_keys_answer_only_the_keys_asked_for(store: DocumentStore) -> None:
    """PouchDB Server answered ``keys: [""]`` with the first document under its own key: the
    hub's view, echoing the row's key, told a device another institution's case id."""
    store.put({"_id": "a"})
    store.put({"_id": "b"})
    rows = store.all_docs(keys=["", "b", ""])["rows"]
    assert [(r["key"], "error" in r) for r in rows] == [("", True), ("b", False), ("", True)]
