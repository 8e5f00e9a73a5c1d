"""Revision trees: ``new_edits=false`` grafting, winners, conflicts, open_revs.

CouchDB docs, "Replication and conflict model" and "_bulk_docs / new_edits":
the winner is the live leaf with the highest (pos, rev id); if every leaf is
deleted, the highest deleted leaf. ``_conflicts`` lists the other live leaves,
``_deleted_conflicts`` the other deleted ones.
"""

from __future__ import annotations

import pytest

from sync import errors
from sync.store import DocumentStore
from tests.sync.contract.conftest import pouchdb_deviation
from tests.sync.contract.helpers import graft, h, history, leaves, rev


def test_graft_linear_history(store: DocumentStore) -> None:
    r = graft(store, "a", 3, ["c", "b", "a"], v=3)
    doc = store.get("a", revs=True)
    assert doc["_rev"] == r and doc["v"] == 3
    assert doc["_revisions"] == history(3, ["c", "b", "a"])
    with pytest.raises(errors.NotFound):  # ancestors have no body
        store.get("a", rev=rev(2, "b"))


@pouchdb_deviation("revs_diff reports bodiless ancestors as missing; CouchDB "
                   "(couch_key_tree:find_missing) only revs absent from the tree")
def test_grafted_ancestors_are_not_missing(store: DocumentStore) -> None:
    graft(store, "a", 3, ["c", "b", "a"], v=3)
    assert store.revs_diff({"a": [rev(2, "b"), rev(1, "a")]}) == {}


def test_graft_is_idempotent(store: DocumentStore) -> None:
    graft(store, "a", 2, ["b", "a"], v=1)
    seq = store.info()["update_seq"]
    graft(store, "a", 2, ["b", "a"], v=1)
    assert leaves(store, "a") == {rev(2, "b")}
    assert len(store.changes(since=seq)["results"]) == 0


def test_graft_extends_existing_branch(store: DocumentStore) -> None:
    graft(store, "a", 2, ["b", "a"])
    r4 = graft(store, "a", 4, ["d", "c", "b"])
    assert leaves(store, "a") == {r4}
    assert store.get("a", revs=True)["_revisions"] == history(4, ["d", "c", "b", "a"])


def test_branching_conflict_winner_by_pos(store: DocumentStore) -> None:
    graft(store, "a", 3, ["c", "b", "a"], side="long")
    r_short = graft(store, "a", 2, ["x", "a"], side="short")
    doc = store.get("a", conflicts=True)
    assert doc["_rev"] == rev(3, "c") and doc["side"] == "long"
    assert doc["_conflicts"] == [r_short]


def test_branching_conflict_winner_by_rev_id_on_tie(store: DocumentStore) -> None:
    r1 = graft(store, "a", 2, ["p", "a"])
    r2 = graft(store, "a", 2, ["q", "a"])
    hi, lo = sorted([r1, r2], reverse=True)
    doc = store.get("a", conflicts=True)
    assert doc["_rev"] == hi and doc["_conflicts"] == [lo]


def test_winner_is_independent_of_write_order(store: DocumentStore) -> None:
    revs = [graft(store, d, 2, [lab, "root"]) for d in ("x", "y") for lab in ("m", "n", "o")]
    for lab in ("o", "n", "m"):
        graft(store, "z", 2, [lab, "root"])
    assert store.get("x")["_rev"] == store.get("y")["_rev"] == store.get("z")["_rev"]
    assert store.get("x")["_rev"] == max(revs[:3])


def test_live_leaf_beats_longer_deleted_leaf(store: DocumentStore) -> None:
    graft(store, "a", 5, ["e", "d", "c", "b", "a"], deleted=True)
    r_live = graft(store, "a", 2, ["x", "a"], v=1)
    doc = store.get("a", conflicts=True)
    assert doc["_rev"] == r_live and "_conflicts" not in doc


def test_all_leaves_deleted_doc_is_deleted(store: DocumentStore) -> None:
    graft(store, "a", 2, ["b", "a"], deleted=True)
    graft(store, "a", 3, ["z", "y", "a"], deleted=True)
    with pytest.raises(errors.NotFound):
        store.get("a")
    row = store.changes()["results"][0]
    assert row["deleted"] is True and row["changes"] == [{"rev": rev(3, "z")}]
    assert store.info()["doc_count"] == 0


def test_conflicts_list_and_order(store: DocumentStore) -> None:
    graft(store, "a", 4, ["d", "c", "b", "a"])
    others = [graft(store, "a", 3, [lab, "b", "a"]) for lab in ("k", "l")]
    others.append(graft(store, "a", 2, ["m", "a"]))
    doc = store.get("a", conflicts=True)
    assert doc["_rev"] == rev(4, "d")
    assert sorted(doc["_conflicts"]) == sorted(others)


@pouchdb_deviation("_conflicts is not in CouchDB's order")
def test_conflicts_order(store: DocumentStore) -> None:
    graft(store, "a", 4, ["d", "c", "b", "a"])
    others = [graft(store, "a", 3, [lab, "b", "a"]) for lab in ("k", "l")]
    others.append(graft(store, "a", 2, ["m", "a"]))
    doc = store.get("a", conflicts=True)
    # couch_doc:to_doc_info_path sorts leaves by (pos, rev id) descending
    assert doc["_conflicts"] == sorted(others, key=lambda r: (int(r.split("-")[0]), r),
                                       reverse=True)


@pouchdb_deviation("GET ?deleted_conflicts=true ignores the flag")
def test_deleted_conflicts(store: DocumentStore) -> None:
    graft(store, "a", 3, ["c", "b", "a"], v=1)
    r_dead = graft(store, "a", 3, ["d", "b"], deleted=True)
    r_live = graft(store, "a", 2, ["x", "a"])
    doc = store.get("a", conflicts=True, deleted_conflicts=True)
    assert doc["_rev"] == rev(3, "c")
    assert doc["_conflicts"] == [r_live]
    assert doc["_deleted_conflicts"] == [r_dead]


def test_deleted_leaves_are_not_conflicts(store: DocumentStore) -> None:
    graft(store, "a", 3, ["c", "b", "a"], v=1)
    graft(store, "a", 3, ["d", "b"], deleted=True)
    doc = store.get("a", conflicts=True)
    assert "_conflicts" not in doc


def test_deleting_the_winner_promotes_the_conflict(store: DocumentStore) -> None:
    graft(store, "a", 3, ["c", "b", "a"], side="win")
    graft(store, "a", 2, ["x", "a"], side="lose")
    r_del = store.delete("a", rev(3, "c"))["rev"]
    assert r_del.startswith("4-")
    doc = store.get("a", conflicts=True)
    assert doc["_rev"] == rev(2, "x") and doc["side"] == "lose" and "_conflicts" not in doc


def test_new_edits_true_on_a_losing_leaf(store: DocumentStore) -> None:
    graft(store, "a", 3, ["c", "b", "a"])
    graft(store, "a", 2, ["x", "a"])
    r = store.put({"_id": "a", "_rev": rev(2, "x"), "v": "edited"})["rev"]
    assert r.startswith("3-")
    assert leaves(store, "a") == {rev(3, "c"), r}


def test_new_edits_true_on_an_inner_rev_conflicts(store: DocumentStore) -> None:
    graft(store, "a", 3, ["c", "b", "a"])
    res = store.bulk_docs([{"_id": "a", "_rev": rev(2, "b")}])
    assert res[0]["error"] == "conflict"


def test_open_revs_all(store: DocumentStore) -> None:
    graft(store, "a", 3, ["c", "b", "a"], v="c")
    graft(store, "a", 2, ["x", "a"], v="x")
    graft(store, "a", 3, ["d", "b"], deleted=True)
    rows = store.open_revs("a", "all")
    by_rev = {row["ok"]["_rev"]: row["ok"] for row in rows}
    assert set(by_rev) == {rev(3, "c"), rev(2, "x"), rev(3, "d")}
    assert by_rev[rev(3, "d")]["_deleted"] is True
    assert by_rev[rev(2, "x")]["v"] == "x"
    assert by_rev[rev(3, "c")]["_revisions"] == history(3, ["c", "b", "a"])


def test_open_revs_list_with_missing(store: DocumentStore) -> None:
    graft(store, "a", 2, ["b", "a"], v=2)
    rows = store.open_revs("a", [rev(2, "b"), rev(7, "nope")])
    assert rows[0]["ok"]["_rev"] == rev(2, "b") and rows[0]["ok"]["v"] == 2
    assert rows[1] == {"missing": rev(7, "nope")}


def test_open_revs_of_missing_doc(store: DocumentStore) -> None:
    assert store.open_revs("nope", [rev(1, "a")]) == [{"missing": rev(1, "a")}]


def test_get_specific_conflict_rev(store: DocumentStore) -> None:
    graft(store, "a", 3, ["c", "b", "a"], v="c")
    graft(store, "a", 2, ["x", "a"], v="x")
    assert store.get("a", rev=rev(2, "x"))["v"] == "x"


def test_new_edits_false_without_revisions_uses_rev(store: DocumentStore) -> None:
    assert store.bulk_docs([{"_id": "a", "_rev": rev(5, "e"), "v": 1}], new_edits=False) == []
    doc = store.get("a", revs=True)
    assert doc["_rev"] == rev(5, "e") and doc["_revisions"] == {"start": 5, "ids": [h("e")]}


def test_a_revision_sent_twice_in_one_batch_keeps_its_first_body(store: DocumentStore) -> None:
    # couch_key_tree:merge keeps the value already in the tree (value_pref), so the
    # second copy of a revision in one replicated request is a no-op, as a replay in a
    # later request is: the embedded store kept the last copy, and the hub's index pass,
    # handed the bodies it just wrote (hub.index), must know which one was kept
    first = {"_id": "a", "_rev": rev(1, "a"), "v": "first"}
    assert store.bulk_docs([first, {**first, "v": "second"}], new_edits=False) == []
    assert store.get("a")["v"] == "first"
    assert leaves(store, "a") == {rev(1, "a")}


@pouchdb_deviation("no GET /db/_revs_limit endpoint")
def test_revs_limit_default(store: DocumentStore) -> None:
    assert store.get_revs_limit() == 1000


@pouchdb_deviation("no PUT /db/_revs_limit endpoint")
def test_revs_limit_stems_histories(store: DocumentStore) -> None:
    store.set_revs_limit(3)
    assert store.get_revs_limit() == 3
    r = store.put({"_id": "a", "n": 0})["rev"]
    for n in range(1, 6):
        r = store.put({"_id": "a", "_rev": r, "n": n})["rev"]
    doc = store.get("a", revs=True)
    assert doc["_revisions"]["start"] == 6 and len(doc["_revisions"]["ids"]) == 3
    # a grafted long history is stemmed as well
    graft(store, "b", 6, ["f", "e", "d", "c", "b", "a"])
    assert store.get("b", revs=True)["_revisions"] == history(6, ["f", "e", "d"])
    # stemmed revs leave the tree: they are missing again (no live leaf below pos 1)
    assert store.revs_diff({"b": [rev(1, "a")]}) == {"b": {"missing": [rev(1, "a")]}}


def test_compaction_keeps_leaves(store: DocumentStore) -> None:
    r1 = store.put({"_id": "a", "v": 1})["rev"]
    r2 = store.put({"_id": "a", "_rev": r1, "v": 2})["rev"]
    # a sibling of r2 (graft() hashes labels, so write it directly)
    store.bulk_docs([{"_id": "a", "_rev": "2-" + h("y"), "v": "y",
                      "_revisions": {"start": 2, "ids": [h("y"), r1.split("-")[1]]}}],
                    new_edits=False)
    store.compact()
    assert store.get("a", rev=r2)["v"] == 2
    assert store.get("a", rev="2-" + h("y"))["v"] == "y"
    with pytest.raises(errors.NotFound):
        store.get("a", rev=r1)
    assert store.get("a", revs=True)["_revisions"]["ids"][-1] == r1.split("-")[1]
    assert len(leaves(store, "a")) == 2


@pouchdb_deviation("a replicated rev that is not a leaf after its batch still adds ancestors")
def test_replicated_non_leaf_in_a_batch_is_ignored(store: DocumentStore) -> None:
    # couch_db:prep_and_validate_replicated_updates: "this doc isn't a leaf or already
    # exists in the tree. ignore but consider it a success."
    long = {"_id": "a", "_rev": rev(5, "e"), "_revisions": history(5, ["e", "d", "c", "b"])}
    short = {"_id": "a", "_rev": rev(3, "c"), "_revisions": history(3, ["c", "b", "a"]),
             "_deleted": True}
    assert store.bulk_docs([long, short], new_edits=False) == []
    assert store.get("a", revs=True)["_revisions"] == history(5, ["e", "d", "c", "b"])
    assert store.revs_diff({"a": [rev(1, "a")]})["a"]["missing"] == [rev(1, "a")]


def test_open_revs_latest_follows_to_the_leaf(store: DocumentStore) -> None:
    graft(store, "a", 4, ["y", "x", "b", "a"], v="y")
    rows = store.open_revs("a", [rev(2, "b")], latest=True)
    assert [row["ok"]["_rev"] for row in rows] == [rev(4, "y")]
    rows = store.open_revs("a", [rev(4, "y")], latest=True)
    assert [row["ok"]["_rev"] for row in rows] == [rev(4, "y")]


@pouchdb_deviation("open_revs latest=true gives one leaf, not every leaf below the rev")
def test_open_revs_latest_gives_every_leaf_below(store: DocumentStore) -> None:
    # couch_db:open_doc_revs with latest: couch_key_tree:get_key_leafs of each rev
    graft(store, "a", 3, ["c", "b", "a"], v="c")
    graft(store, "a", 4, ["y", "x", "b"], v="y")
    rows = store.open_revs("a", [rev(2, "b")], latest=True)
    assert {row["ok"]["_rev"] for row in rows} == {rev(3, "c"), rev(4, "y")}


@pouchdb_deviation("stem() keeps stemmed paths as separate trees, cutting histories")
def test_stemming_keeps_one_connected_tree(store: DocumentStore) -> None:
    # couch_key_tree:stem keeps every revision that some leaf has within revs_limit
    # (1000 by default) and the tree stays connected: a leaf's history may then be
    # longer than revs_limit because another leaf keeps the older revisions.
    trunk = [h(f"t{i}") for i in range(1, 998)]  # pos 1..997
    long_ids = [*trunk, *(h(f"long{i}") for i in range(998, 1004))]  # up to pos 1003
    short_ids = [*trunk, *(h(f"short{i}") for i in range(998, 1001))]  # up to pos 1000
    for ids in (long_ids, short_ids):
        store.bulk_docs([{"_id": "a", "_rev": f"{len(ids)}-{ids[-1]}",
                          "_revisions": {"start": len(ids), "ids": ids[::-1]}}], new_edits=False)
    long_doc = store.open_revs("a", [f"1003-{long_ids[-1]}"])[0]["ok"]
    assert long_doc["_revisions"]["ids"] == long_ids[::-1]  # all 1003: pos 1-3 kept by "short"
