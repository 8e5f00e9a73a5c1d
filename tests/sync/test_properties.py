"""Property tests: the embedded store and PouchDB Server build the same revision trees.

Random sequences of ``_bulk_docs`` writes are applied to a fresh SQLite store and
a fresh database on PouchDB Server (through the couch backend), and after every
write both must show the same winning revision and body, the same
``_conflicts``/``_deleted_conflicts``, the same leaves (``open_revs=all`` and the
``style=all_docs`` changes row) and the same ``_revs_diff`` answers.

* ``new_edits=false`` writes graft revisions of a generated per-doc tree: a rev's
  hash is a function of its path, so one rev always has one parent, and
  histories may be partial (as a stemmed peer sends them). Some docs start
  ~1000 revisions deep, so CouchDB's default ``revs_limit`` (1000, also
  PouchDB's) stems them: PouchDB Server has no ``_revs_limit`` endpoint, so this
  is the only stemming both can be compared on. Histories are compared on
  their newest 1000 entries (see :func:`compare`).
* ``new_edits=true`` writes (update the winner or any leaf, stale rev, no rev,
  delete, resurrect) make different rev hashes on each backend; the comparable
  outcome is ok-or-conflict and the new rev's position. Afterwards each
  backend's new revision is grafted into the other, so the trees are identical
  again (two sibling leaves) and the comparison goes on.

A second property checks stemming with small ``revs_limit`` values (which PouchDB
Server cannot set) on the embedded store against :class:`KeyTreeModel`, a small
independent model of CouchDB's key tree.

Known PouchDB Server deviations (tests/sync/contract) are stepped around:
``_deleted_conflicts`` is read from ``open_revs`` on that side, ``_conflicts`` is
compared as a set, and ``_revs_diff`` is not asked about inner revisions
(PouchDB calls bodiless ones missing). An edit of a deleted document other than
a recreation is checked on the embedded store only (CouchDB 3: 409; PouchDB
Server accepts it).
"""

from __future__ import annotations

import hashlib
import shutil
import tempfile
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sync import errors
from sync.store import DocumentStore, StoreServer

DOC_IDS = ("a", "b", "c")
REVS_LIMIT = 1000  # CouchDB's and PouchDB's default
DEEP = 997  # a deep doc's generated nodes sit at pos DEEP+1..DEEP+6: histories > 1000


@cache
def node_hash(docid: str, path: tuple[str, ...]) -> str:
    return hashlib.md5(f"{docid}:{'/'.join(path)}".encode()).hexdigest()


def full_path(docid: str, deep: bool, labels: tuple[str, ...]) -> tuple[str, ...]:
    return ("s",) * (DEEP if deep else 0) + labels


def rev_of(docid: str, path: tuple[str, ...]) -> str:
    return f"{len(path)}-{node_hash(docid, path)}"


# -- operations -----------------------------------------------------------------------
@dataclass(frozen=True)
class Graft:
    docid: str
    labels: tuple[str, ...]
    deleted: bool
    keep: int | None  # history entries sent (None: all), as a stemmed peer would

    def doc(self, deep: bool) -> dict[str, Any]:
        path = full_path(self.docid, deep, self.labels)
        ids = [node_hash(self.docid, path[:i]) for i in range(len(path), 0, -1)]
        if self.keep is not None:
            ids = ids[: self.keep]
        out: dict[str, Any] = {"_id": self.docid, "_rev": rev_of(self.docid, path),
                               "_revisions": {"start": len(path), "ids": ids},
                               "n": "/".join(self.labels)}
        if self.deleted:
            out["_deleted"] = True
        return out


@dataclass(frozen=True)
class Edit:
    docid: str
    kind: str  # winner | leaf | none | stale | delete
    pick: int
    value: int


labels_st = st.lists(st.sampled_from("01"), min_size=1, max_size=6).map(tuple)
graft_st = st.builds(Graft, st.sampled_from(DOC_IDS), labels_st, st.booleans(),
                     st.one_of(st.none(), st.integers(1, 4)))
edit_st = st.builds(Edit, st.sampled_from(DOC_IDS),
                    st.sampled_from(["winner", "leaf", "none", "stale", "delete"]),
                    st.integers(0, 7), st.integers(0, 99))
# One graft per doc in a batch: CouchDB ignores a replicated rev that is not a new
# leaf after merging the whole batch (couch_db:prep_and_validate_replicated_updates),
# so its older ancestors are not added; PouchDB Server merges them anyway.
step_st = st.one_of(st.lists(graft_st, min_size=1, max_size=3, unique_by=lambda g: g.docid),
                    edit_st)


# -- what both stores must agree on ---------------------------------------------------
@dataclass
class Snapshot:
    winner: str | None
    winner_deleted: bool
    body: dict[str, Any] | None
    conflicts: set[str]
    deleted_conflicts: set[str]
    leaves: dict[str, bool]
    feed_leaves: set[str]
    feed_deleted: bool
    paths: dict[str, list[str]] = field(default_factory=dict)


def snapshot(store: DocumentStore, docid: str, *, pouch: bool) -> Snapshot | None:
    rows = store.changes(doc_ids=[docid], style="all_docs")["results"]
    if not rows:
        return None
    (row,) = rows
    main = store.changes(doc_ids=[docid])["results"][0]
    winner = main["changes"][0]["rev"]
    opened = [r["ok"] for r in store.open_revs(docid, "all") if "ok" in r]
    leaves = {d["_rev"]: bool(d.get("_deleted")) for d in opened}
    paths = {d["_rev"]: [f"{d['_revisions']['start'] - i}-{h}"
                         for i, h in enumerate(d["_revisions"]["ids"])] for d in opened}
    body = None
    conflicts: set[str] = set()
    deleted_conflicts = {r for r, dead in leaves.items() if dead and r != winner}
    try:
        doc = store.get(docid, conflicts=True, deleted_conflicts=True)
    except errors.NotFound:
        pass
    else:
        conflicts = set(doc.pop("_conflicts", []))
        dc = doc.pop("_deleted_conflicts", [])
        if not pouch:  # PouchDB Server ignores deleted_conflicts=true
            assert set(dc) == deleted_conflicts, "_deleted_conflicts disagrees with open_revs"
        body = doc
    return Snapshot(winner, bool(main.get("deleted")), body, conflicts, deleted_conflicts,
                    leaves, {c["rev"] for c in row["changes"]}, bool(row.get("deleted")),
                    paths)


def compare(lite: DocumentStore, couch: DocumentStore, docid: str, asked: set[str]) -> None:
    a = snapshot(lite, docid, pouch=False)
    b = snapshot(couch, docid, pouch=True)
    if a is None or b is None:
        assert a is b is None, f"{docid}: exists on one side only"
        return
    assert a.leaves == b.leaves, f"{docid}: leaves differ"
    assert a.feed_leaves == b.feed_leaves == set(a.leaves), f"{docid}: feed leaves differ"
    assert a.winner == b.winner, f"{docid}: winner differs"
    assert a.winner_deleted == b.winner_deleted == a.feed_deleted == b.feed_deleted
    assert a.body == b.body, f"{docid}: winning body differs"
    assert a.conflicts == b.conflicts, f"{docid}: _conflicts differ"
    assert a.deleted_conflicts == b.deleted_conflicts, f"{docid}: _deleted_conflicts differ"
    # Only the newest REVS_LIMIT entries: when leaves of different depths keep
    # different ancestors, CouchDB's couch_key_tree:stem keeps one connected tree
    # (a history may then exceed revs_limit) while PouchDB's stem() refuses to
    # reconnect stemmed paths and cuts every history at revs_limit.
    assert {r: p[:REVS_LIMIT] for r, p in a.paths.items()} == {
        r: p[:REVS_LIMIT] for r, p in b.paths.items()}, f"{docid}: leaf histories differ"
    inner = {r for path in a.paths.values() for r in path[1:]} - set(a.leaves)
    query = sorted((asked | set(a.leaves)) - inner)
    if query:
        da = lite.revs_diff({docid: query}).get(docid, {}).get("missing", [])
        db = couch.revs_diff({docid: query}).get(docid, {}).get("missing", [])
        assert sorted(da) == sorted(db), f"{docid}: revs_diff differs"
    if inner:  # CouchDB: revs in the tree are never missing (couch_key_tree:find_missing)
        assert lite.revs_diff({docid: sorted(inner)}) == {}


# -- driving both -------------------------------------------------------------------
def edit_doc(store: DocumentStore, edit: Edit, snap: Snapshot | None) -> dict[str, Any]:
    doc: dict[str, Any] = {"_id": edit.docid, "v": edit.value}
    if snap is not None:
        leaves = sorted(snap.leaves)
        inner = sorted({r for p in snap.paths.values() for r in p[1:]} - set(leaves))
        if edit.kind in ("winner", "delete"):
            doc["_rev"] = snap.winner
        elif edit.kind == "leaf":
            doc["_rev"] = leaves[edit.pick % len(leaves)]
        elif edit.kind == "stale":
            doc["_rev"] = inner[edit.pick % len(inner)] if inner else "1-" + "e" * 32
    elif edit.kind == "stale":
        doc["_rev"] = "1-" + "e" * 32
    if edit.kind == "delete":
        doc["_deleted"] = True
    return doc


def run_edit(lite: DocumentStore, couch: DocumentStore, edit: Edit) -> str | None:
    snap = snapshot(lite, edit.docid, pouch=False)
    doc = edit_doc(lite, edit, snap)
    (ra,) = lite.bulk_docs([doc])
    if snap is not None and snap.winner_deleted and ("_rev" in doc or doc.get("_deleted")):
        # couch_db_updater:merge_rev_tree: a deleted doc takes only a recreation (no
        # _rev, not deleted); PouchDB Server accepts the edit (contract: test_docs).
        assert ra.get("error") == "conflict", f"edit of a deleted doc accepted: {ra}"
        return None
    (rb,) = couch.bulk_docs([doc])
    assert ("error" in ra) == ("error" in rb), f"new_edits=true outcome differs: {ra} / {rb}"
    if "error" in ra:
        assert ra["error"] == rb["error"] == "conflict"
        return None
    pos_a, pos_b = ra["rev"].split("-")[0], rb["rev"].split("-")[0]
    assert pos_a == pos_b, "new rev positions differ"
    # make the trees identical again: each side's new revision goes to the other
    new_a = lite.get(edit.docid, rev=ra["rev"], revs=True)
    new_b = couch.get(edit.docid, rev=rb["rev"], revs=True)
    if ra["rev"] != rb["rev"]:
        assert couch.bulk_docs([new_a], new_edits=False) == []
        assert lite.bulk_docs([new_b], new_edits=False) == []
    return str(ra["rev"])


@pytest.fixture(scope="module")
def couch_server(couchdb_url: str) -> Iterator[StoreServer]:
    from sync.couch import CouchServer

    server = CouchServer(couchdb_url)
    yield server
    server.close()


@pytest.mark.couchdb
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(deep=st.sets(st.sampled_from(DOC_IDS)), steps=st.lists(step_st, min_size=1, max_size=8))
def test_sqlite_and_pouchdb_server_agree(couch_server: StoreServer, deep: set[str],
                                          steps: list[Any]) -> None:
    from sync.sqlite import SQLiteStore

    tmp = Path(tempfile.mkdtemp(prefix="bangban-prop-"))
    name = f"prop-{uuid.uuid4().hex[:12]}"
    lite = SQLiteStore(tmp / f"{name}.sqlite")
    couch = couch_server.create_db(name)
    asked: dict[str, set[str]] = {d: set() for d in DOC_IDS}
    try:
        for step in steps:
            if isinstance(step, Edit):
                new = run_edit(lite, couch, step)
                if new:
                    asked[step.docid].add(new)
                touched = {step.docid}
            else:
                docs = [g.doc(g.docid in deep) for g in step]
                ra = lite.bulk_docs(docs, new_edits=False)
                rb = couch.bulk_docs(docs, new_edits=False)
                assert ra == rb == []
                for g in step:
                    path = full_path(g.docid, g.docid in deep, g.labels)
                    asked[g.docid].add(rev_of(g.docid, path))
                    # a sibling that was never written: missing on both sides
                    asked[g.docid].add(rev_of(g.docid, path[:-1] + ("2",)))
                touched = {g.docid for g in step}
            for docid in sorted(touched):
                compare(lite, couch, docid, asked[docid])
        for docid in DOC_IDS:
            compare(lite, couch, docid, asked[docid])
    finally:
        lite.close()
        couch_server.delete_db(name)
        shutil.rmtree(tmp, ignore_errors=True)


# -- stemming with a small revs_limit: the embedded store against a model ---------------
class KeyTreeModel:
    """CouchDB's replicated-write semantics on one doc, written independently of
    ``sync.revtree``: couch_db:prep_and_validate_replicated_updates (a rev that is
    not a new leaf after the merge is ignored), couch_key_tree:merge (paths join
    where they overlap, also above a stemmed root) and couch_key_tree:stem (a
    revision stays while some leaf is fewer than ``limit`` revisions below it)."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.parent: dict[str, str | None] = {}
        self.deleted: dict[str, bool] = {}

    def leaves(self, parent: dict[str, str | None] | None = None) -> set[str]:
        tree = self.parent if parent is None else parent
        inner = {p for p in tree.values() if p is not None}
        return set(tree) - inner

    def graft(self, path: list[str], deleted: bool) -> None:
        """``path``: the revs of ``_revisions``, newest first."""
        old_leaves = self.leaves()
        merged = dict(self.parent)
        for child, par in zip(path, path[1:], strict=False):
            if merged.get(child) is None:
                merged[child] = par
            merged.setdefault(par, None)
        merged.setdefault(path[0], None)
        if path[0] in old_leaves or path[0] not in self.leaves(merged):
            return  # "this doc isn't a leaf or already exists in the tree"
        self.parent = merged
        self.deleted[path[0]] = deleted
        keep: set[str] = set()
        for leaf in self.leaves():
            node: str | None = leaf
            for _ in range(self.limit):
                if node is None:
                    break
                keep.add(node)
                node = self.parent[node]
        self.parent = {r: (p if p in keep else None) for r, p in self.parent.items() if r in keep}

    def history(self, leaf: str) -> list[str]:
        out: list[str] = []
        node: str | None = leaf
        while node is not None:
            out.append(node)
            node = self.parent[node]
        return out

    def winner(self) -> str:
        return max(self.leaves(), key=lambda r: (not self.deleted[r], int(r.split("-")[0]),
                                                  r.split("-")[1]))


stem_graft_st = st.builds(Graft, st.just("a"),
                          st.lists(st.sampled_from("01"), min_size=1, max_size=8).map(tuple),
                          st.booleans(), st.one_of(st.none(), st.integers(1, 5)))


@settings(max_examples=150, deadline=None)
@given(limit=st.integers(1, 5), grafts=st.lists(stem_graft_st, min_size=1, max_size=12))
def test_sqlite_stemming_matches_couchdb_key_tree(limit: int, grafts: list[Graft]) -> None:
    from sync.sqlite import SQLiteStore

    tmp = Path(tempfile.mkdtemp(prefix="bangban-stem-"))
    lite = SQLiteStore(tmp / "stem.sqlite")
    lite.set_revs_limit(limit)
    model = KeyTreeModel(limit)
    seen: set[str] = set()
    try:
        for g in grafts:
            doc = g.doc(False)
            revs = doc["_revisions"]
            path = [f"{revs['start'] - i}-{h}" for i, h in enumerate(revs["ids"])]
            seen.update(path)
            assert lite.bulk_docs([doc], new_edits=False) == []
            model.graft(path, g.deleted)
            opened = [r["ok"] for r in lite.open_revs("a", "all") if "ok" in r]
            leaves = {d["_rev"]: bool(d.get("_deleted")) for d in opened}
            assert leaves == {r: model.deleted[r] for r in model.leaves()}
            for d in opened:
                got = [f"{d['_revisions']['start'] - i}-{h}"
                       for i, h in enumerate(d["_revisions"]["ids"])]
                assert got == model.history(d["_rev"]), f"history of {d['_rev']}"
            main = lite.changes(doc_ids=["a"])["results"][0]
            assert main["changes"][0]["rev"] == model.winner()
            missing = set(lite.revs_diff({"a": sorted(seen)}).get("a", {}).get("missing", []))
            assert missing == seen - set(model.parent)
    finally:
        lite.close()
        shutil.rmtree(tmp, ignore_errors=True)
