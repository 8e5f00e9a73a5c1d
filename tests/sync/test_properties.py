"""Property tests: the embedded store and PouchDB Server build the same revision trees.

Random sequences of ``_bulk_docs`` writes are applied to a fresh SQLite store and
a fresh database on PouchDB Server (through the couch backend), and after every
write both must show the same winning revision and body, the same
``_conflicts``/``_deleted_conflicts``, the same leaves (``open_revs=all`` and the
``style=all_docs`` changes row) and the same ``_revs_diff`` answers, and each
batch must change the same set of documents in the feed.

* ``new_edits=false`` writes graft revisions of a generated per-doc tree: a rev's
  hash is a function of its path, so one rev always has one parent, and
  histories may be partial (as a stemmed peer sends them). Some docs start
  ~1000 revisions deep, so CouchDB's default ``revs_limit`` (1000, also
  PouchDB's) stems them: PouchDB Server has no ``_revs_limit`` endpoint, so this
  is the only stemming both can be compared on. The histories of such docs are
  compared as far as both go (see :func:`compare`).
* ``new_edits=true`` batches (update the winner or any leaf, stale rev, no rev,
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
def chain(docid: str, path: tuple[str, ...]) -> tuple[str, ...]:
    """The rev hash of every prefix of ``path`` (a function of the path: one parent per rev)."""
    out: list[str] = []
    seed = docid
    for label in path:
        seed = hashlib.md5(f"{seed}/{label}".encode()).hexdigest()
        out.append(seed)
    return tuple(out)


def node_hash(docid: str, path: tuple[str, ...]) -> str:
    return chain(docid, path)[-1]


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
        ids = list(reversed(chain(self.docid, path)))
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
                    st.lists(edit_st, min_size=1, max_size=3, unique_by=lambda e: e.docid))


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


def compare(lite: DocumentStore, couch: DocumentStore, docid: str, asked: set[str], *,
            stemmed: bool = False) -> None:
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
    if not stemmed:
        assert a.paths == b.paths, f"{docid}: leaf histories (_revisions) differ"
    else:
        # When leaves of different depths keep different ancestors, CouchDB's
        # couch_key_tree:stem keeps one connected tree (a history may then be longer
        # than revs_limit) while PouchDB's stem() keeps the stemmed paths as separate
        # trees, which cuts histories, sometimes below revs_limit. Both must agree
        # as far as both go, and the embedded store (as CouchDB) never keeps less.
        for r, pa in a.paths.items():
            pb = b.paths[r]
            n = min(len(pa), len(pb))
            assert pa[:n] == pb[:n], f"{docid}: history of {r} differs"
            assert len(pa) >= min(len(pb), REVS_LIMIT), f"{docid}: {r} stemmed too far"
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


def run_edits(lite: DocumentStore, couch: DocumentStore,
              edits: list[Edit]) -> list[tuple[str, str]]:
    """One ``new_edits=true`` batch (distinct docs) on both; returns (docid, new rev)s."""
    snaps = {e.docid: snapshot(lite, e.docid, pouch=False) for e in edits}
    docs = [edit_doc(lite, e, snaps[e.docid]) for e in edits]
    res_a = lite.bulk_docs(docs)
    assert [r["id"] for r in res_a] == [d["_id"] for d in docs]
    both = []
    for doc, ra in zip(docs, res_a, strict=True):
        snap = snaps[doc["_id"]]
        if snap is not None and snap.winner_deleted and ("_rev" in doc or doc.get("_deleted")):
            # couch_db_updater:merge_rev_tree: a deleted doc takes only a recreation
            # (no _rev, not deleted); PouchDB Server accepts it (contract: test_docs).
            assert ra.get("error") == "conflict", f"edit of a deleted doc accepted: {ra}"
        else:
            both.append((doc, ra))
    if not both:
        return []
    res_b = couch.bulk_docs([doc for doc, _ in both])
    new: list[tuple[str, str]] = []
    for (doc, ra), rb in zip(both, res_b, strict=True):
        assert ("error" in ra) == ("error" in rb), f"new_edits=true outcome differs: {ra} / {rb}"
        if "error" in ra:
            assert ra["error"] == rb["error"] == "conflict"
            continue
        assert ra["rev"].split("-")[0] == rb["rev"].split("-")[0], "new rev positions differ"
        # make the trees identical again: each side's new revision goes to the other
        if ra["rev"] != rb["rev"]:
            new_a = lite.get(doc["_id"], rev=ra["rev"], revs=True)
            new_b = couch.get(doc["_id"], rev=rb["rev"], revs=True)
            assert couch.bulk_docs([new_a], new_edits=False) == []
            assert lite.bulk_docs([new_b], new_edits=False) == []
        new.append((doc["_id"], str(ra["rev"])))
    return new


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
    lite = SQLiteStore(tmp / f"{name}.sqlite", synchronous="NORMAL")  # durability is not under test
    couch = couch_server.create_db(name)
    asked: dict[str, set[str]] = {d: set() for d in DOC_IDS}
    try:
        seqs = (lite.info()["update_seq"], couch.info()["update_seq"])
        for step in steps:
            if isinstance(step[0], Edit):
                for docid, new in run_edits(lite, couch, step):
                    asked[docid].add(new)
                touched = {e.docid for e in step}
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
                compare(lite, couch, docid, asked[docid], stemmed=docid in deep)
            # the same docs changed in this step (a no-op graft changes nothing);
            # the order inside one batch is not compared: CouchDB 3 spreads a batch
            # over shards, PouchDB Server sorts replicated batches by id
            feeds = [st.changes(since=since) for st, since in zip((lite, couch), seqs,
                                                                   strict=True)]
            assert {r["id"] for r in feeds[0]["results"]} == {
                r["id"] for r in feeds[1]["results"]}, "docs changed by this step differ"
            seqs = (feeds[0]["last_seq"], feeds[1]["last_seq"])
        for docid in DOC_IDS:
            compare(lite, couch, docid, asked[docid], stemmed=docid in deep)
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


@settings(max_examples=100, deadline=None)
@given(limit=st.integers(1, 5), grafts=st.lists(stem_graft_st, min_size=1, max_size=12))
def test_sqlite_stemming_matches_couchdb_key_tree(limit: int, grafts: list[Graft]) -> None:
    from sync.sqlite import SQLiteStore

    tmp = Path(tempfile.mkdtemp(prefix="bangban-stem-"))
    lite = SQLiteStore(tmp / "stem.sqlite", synchronous="NORMAL")
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
