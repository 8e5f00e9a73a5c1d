"""Property: the SQLite store persists exactly what the pure revision-tree model says.

Random writes (grafts with ``new_edits=false`` from a per-doc universe of revs,
interactive updates, deletes and recreations) go to the store and, through
``sync.revtree``, to an in-memory model. After the run (and after reopening the
file) the store's winners, conflicts, leaves, feed and ``_revs_diff`` answers
must match the model, and the feed must hold one row per document in seq order.
"""

from __future__ import annotations

import hashlib
import tempfile
from pathlib import Path
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from sync import revtree
from sync.errors import NotFound
from sync.sqlite import SQLiteStore

DOCS = ["a", "b", "c"]


def _universe_path(choices: list[int]) -> list[str]:
    """A history, leaf first: the rev at depth d hashes the branch choices up to d,
    so one rev always has one parent and histories share their common prefix."""
    return [f"{d}-" + hashlib.md5(repr(choices[:d]).encode()).hexdigest()[:8]
            for d in range(len(choices), 0, -1)]


op = st.one_of(
    st.tuples(st.just("graft"), st.sampled_from(DOCS), st.lists(st.integers(0, 1), min_size=1,
              max_size=6), st.booleans(), st.integers(1, 4)),
    st.tuples(st.just("update"), st.sampled_from(DOCS), st.booleans()),
    st.tuples(st.just("recreate"), st.sampled_from(DOCS)),
)


@given(st.lists(op, min_size=1, max_size=25))
@settings(max_examples=40, deadline=None)
def test_store_matches_revtree_model(ops: list[tuple[Any, ...]]) -> None:
    model: dict[str, revtree.RevTree] = {}
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "model.sqlite"
        store = SQLiteStore(path)
        for o in ops:
            kind, docid = o[0], o[1]
            tree = model.get(docid, {})
            if kind == "graft":
                _, _, choices, deleted, cut = o
                full = _universe_path(choices)
                part = full[: max(1, min(cut, len(full)))]
                store.bulk_docs([{"_id": docid, "_revisions": {
                    "start": len(choices), "ids": [r.split("-", 1)[1] for r in part]},
                    "_deleted": deleted, "v": part[0]}], new_edits=False)
                if part[0] not in tree:  # one doc per request: new means a new leaf
                    model[docid], _ = revtree.merge(tree, part, deleted=deleted)
            elif kind == "update" and tree and not revtree.is_deleted(tree):
                leaf = revtree.winning_rev(tree)
                res = store.bulk_docs([{"_id": docid, "_rev": leaf, "_deleted": o[2]}])[0]
                model[docid], _ = revtree.merge(tree, [res["rev"], leaf], deleted=o[2])
            elif kind == "recreate" and (not tree or revtree.is_deleted(tree)):
                res = store.bulk_docs([{"_id": docid, "v": "re"}])[0]
                parent = [revtree.winning_rev(tree)] if tree else []
                model[docid], _ = revtree.merge(tree, [res["rev"], *parent])
        _check(store, model)
        store.close()
        with SQLiteStore(path) as again:
            _check(again, model)


def _check(store: SQLiteStore, model: dict[str, revtree.RevTree]) -> None:
    feed = store.changes(style="all_docs")["results"]
    seqs = [r["seq"] for r in feed]
    assert seqs == sorted(set(seqs)) and (not seqs or seqs[-1] == store.info()["update_seq"])
    assert sorted(r["id"] for r in feed) == sorted(model)
    for row in feed:
        tree = model[row["id"]]
        assert [c["rev"] for c in row["changes"]] == revtree.leaves(tree)
        assert row.get("deleted", False) == bool(revtree.is_deleted(tree))
    for docid, tree in model.items():
        winner = revtree.winning_rev(tree)
        if revtree.is_deleted(tree):
            try:
                store.get(docid)
                raise AssertionError("deleted doc readable")
            except NotFound as exc:
                assert exc.reason == "deleted"
        else:
            doc = store.get(docid, conflicts=True, deleted_conflicts=True, revs=True)
            assert doc["_rev"] == winner
            assert doc.get("_conflicts", []) == revtree.conflicts(tree)
            assert doc.get("_deleted_conflicts", []) == revtree.deleted_conflicts(tree)
            assert doc["_revisions"] == revtree.revisions(tree, winner)
        assert store.revs_diff({docid: list(tree)}) == {}
        bodies = {r for r, n in tree.items() if n.available}
        got = {e["ok"]["_rev"] for e in store.open_revs(docid, list(tree)) if "ok" in e}
        assert got == bodies
        assert {e["ok"]["_rev"] for e in store.open_revs(docid, "all")} == set(revtree.leaves(tree))
