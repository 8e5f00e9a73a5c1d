"""The changes feed: one row per document at its latest change, filters, longpoll.

CouchDB docs, "API Reference / Databases / _changes".
"""

from __future__ import annotations

import threading
import time

from sync.store import DocumentStore
from tests.sync.contract.helpers import doc_ids_in_changes, graft, rev


def _fill(store: DocumentStore) -> dict[str, str]:
    revs = {}
    for docid in ("a", "b", "c", "d"):
        revs[docid] = store.put({"_id": docid, "kind": "x" if docid < "c" else "y"})["rev"]
    return revs


def test_rows_and_last_seq(store: DocumentStore) -> None:
    revs = _fill(store)
    res = store.changes()
    assert doc_ids_in_changes(res) == ["a", "b", "c", "d"]
    for row in res["results"]:
        assert row["changes"] == [{"rev": revs[row["id"]]}] and "deleted" not in row
    assert res["last_seq"] == res["results"][-1]["seq"]


def test_one_row_per_doc_at_its_latest_change(store: DocumentStore) -> None:
    revs = _fill(store)
    r2 = store.put({"_id": "a", "_rev": revs["a"]})["rev"]
    res = store.changes()
    assert doc_ids_in_changes(res) == ["b", "c", "d", "a"]
    assert res["results"][-1]["changes"] == [{"rev": r2}]


def test_since_is_exclusive_and_seqs_increase(store: DocumentStore) -> None:
    _fill(store)
    first = store.changes()["results"]
    since = first[1]["seq"]
    assert doc_ids_in_changes(store.changes(since=since)) == ["c", "d"]
    assert store.changes(since=first[-1]["seq"])["results"] == []
    seqs = [row["seq"] for row in first]
    assert seqs == sorted(seqs) and len(set(seqs)) == 4


def test_since_now(store: DocumentStore) -> None:
    _fill(store)
    res = store.changes(since="now")
    assert res["results"] == []
    store.put({"_id": "e"})
    assert doc_ids_in_changes(store.changes(since=res["last_seq"])) == ["e"]


def test_limit_and_paging(store: DocumentStore) -> None:
    _fill(store)
    page = store.changes(limit=3)
    assert doc_ids_in_changes(page) == ["a", "b", "c"]
    assert page["last_seq"] == page["results"][-1]["seq"]
    assert doc_ids_in_changes(store.changes(since=page["last_seq"], limit=3)) == ["d"]


def test_limit_0_has_the_effect_of_1(store: DocumentStore) -> None:
    """CouchDB API, /{db}/_changes: "using 0 here has the same effect as 1" (the store
    answered none, the device view and PouchDB Server one)."""
    _fill(store)
    one = store.changes(limit=0)
    assert doc_ids_in_changes(one) == ["a"]
    assert one == store.changes(limit=1)
    assert doc_ids_in_changes(store.changes(since=one["last_seq"], limit=0)) == ["b"]
    assert doc_ids_in_changes(store.changes(descending=True, limit=0)) == ["d"]


def test_descending(store: DocumentStore) -> None:
    _fill(store)
    assert doc_ids_in_changes(store.changes(descending=True)) == ["d", "c", "b", "a"]
    assert doc_ids_in_changes(store.changes(descending=True, limit=2)) == ["d", "c"]


def test_include_docs(store: DocumentStore) -> None:
    revs = _fill(store)
    store.delete("d", revs["d"])
    rows = store.changes(include_docs=True)["results"]
    assert rows[0]["doc"] == {"_id": "a", "_rev": revs["a"], "kind": "x"}
    last = rows[-1]
    assert last["id"] == "d" and last["deleted"] is True
    assert last["doc"]["_deleted"] is True


def test_style_all_docs_lists_every_leaf(store: DocumentStore) -> None:
    graft(store, "a", 3, ["c", "b", "a"])
    graft(store, "a", 2, ["x", "a"])
    graft(store, "a", 3, ["d", "b"], deleted=True)
    main = store.changes()["results"][0]
    assert main["changes"] == [{"rev": rev(3, "c")}]
    alld = store.changes(style="all_docs")["results"][0]
    assert {c["rev"] for c in alld["changes"]} == {rev(3, "c"), rev(2, "x"), rev(3, "d")}
    assert alld["changes"][0] == {"rev": rev(3, "c")}  # the winner first
    assert "deleted" not in alld


def test_doc_ids_filter(store: DocumentStore) -> None:
    _fill(store)
    res = store.changes(doc_ids=["d", "b", "zz"])
    assert doc_ids_in_changes(res) == ["b", "d"]


def test_selector_filter(store: DocumentStore) -> None:
    _fill(store)
    res = store.changes(selector={"kind": "y"})
    assert doc_ids_in_changes(res) == ["c", "d"]
    res = store.changes(selector={"kind": {"$in": ["x"]}}, include_docs=True)
    assert [row["doc"]["kind"] for row in res["results"]] == ["x", "x"]


def test_local_docs_never_in_feed(store: DocumentStore) -> None:
    store.put_local({"_id": "_local/ck", "seq": 1})
    store.put({"_id": "a"})
    assert doc_ids_in_changes(store.changes()) == ["a"]


def test_longpoll_returns_at_once_when_changes_exist(store: DocumentStore) -> None:
    _fill(store)
    res = store.changes(feed="longpoll", timeout=30)
    assert doc_ids_in_changes(res) == ["a", "b", "c", "d"]


def test_longpoll_times_out_empty(store: DocumentStore) -> None:
    _fill(store)
    last = store.changes()["last_seq"]
    res = store.changes(since=last, feed="longpoll", timeout=0.3)
    assert res["results"] == []
    assert res["last_seq"] == last


def test_longpoll_wakes_on_a_write_from_another_thread(store: DocumentStore) -> None:
    _fill(store)
    last = store.changes()["last_seq"]

    def writer() -> None:
        time.sleep(0.3)
        store.put({"_id": "late"})

    t = threading.Thread(target=writer)
    t.start()
    try:
        # a long timeout: the call only returns before it because the write woke it
        res = store.changes(since=last, feed="longpoll", timeout=60)
    finally:
        t.join()
    assert doc_ids_in_changes(res) == ["late"]


def test_include_docs_with_conflicts(store: DocumentStore) -> None:
    graft(store, "a", 2, ["b", "a"], v="b")
    graft(store, "a", 2, ["x", "a"], v="x")
    row = store.changes(include_docs=True, conflicts=True)["results"][0]
    assert row["doc"]["_rev"] == rev(2, "x") and row["doc"]["_conflicts"] == [rev(2, "b")]
    row = store.changes(include_docs=True)["results"][0]
    assert "_conflicts" not in row["doc"]
