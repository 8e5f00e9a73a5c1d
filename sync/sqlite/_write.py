"""``_bulk_docs`` on SQLite: one transaction, read-modify-write of each doc row.

The update rules are CouchDB's (couch_db:update_docs, couch_db_updater), kept as
pure functions in :mod:`sync.revtree`:

* new_edits=true (:func:`sync.revtree.edit_parent`): the new rev is a child of
  ``_rev``, which must be a stored leaf; without ``_rev`` a new document starts at
  ``1-`` and a deleted one is recreated as a child of its winning tombstone; any
  other edit is a per-doc 409 ``conflict``.
* new_edits=false (:func:`sync.revtree.replicated_accepted`): the paths from
  ``_revisions`` (or just ``_rev``) are grafted as given, except revs that are
  already leaves or that the same request extends; successes are not reported
  (CouchDB answers ``[]``).

Trees are stemmed to ``revs_limit`` once per document at the end of the request,
and a document whose tree did not change keeps its seq.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sync import revtree
from sync.errors import BadRequest, PreconditionFailed
from sync.sqlite._db import add_counts
from sync.sqlite._validate import Incoming

CONFLICT = {"error": "conflict", "reason": "Document update conflict."}
_NO_STEM = revtree.NO_STEM  # merges within a request do not stem; flush does


def dumps(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


@dataclass(slots=True)
class _DocState:
    tree: revtree.RevTree  # as updated by the earlier docs of this request
    original: revtree.RevTree  # as stored before this request


@dataclass(slots=True)
class BatchWriter:
    """Collects one request's writes, then flushes them with ``executemany``."""

    conn: sqlite3.Connection
    revs_limit: int
    states: dict[str, _DocState] = field(default_factory=dict)
    rev_rows: dict[tuple[str, str], tuple[str, str | None]] = field(default_factory=dict)
    blobs: dict[str, bytes] = field(default_factory=dict)
    order: dict[str, None] = field(default_factory=dict)  # changed ids, last change last

    def load(self, ids: Sequence[str]) -> None:
        wanted = [i for i in dict.fromkeys(ids) if i not in self.states]
        for start in range(0, len(wanted), 500):
            chunk = wanted[start : start + 500]
            marks = ",".join("?" * len(chunk))
            for docid, tree in self.conn.execute(
                f"SELECT id, tree FROM docs WHERE id IN ({marks})", chunk
            ):
                stored = revtree.loads(tree)
                self.states[docid] = _DocState(stored, stored)
        for docid in wanted:
            self.states.setdefault(docid, _DocState({}, {}))

    # -- attachments ------------------------------------------------------------
    def _atts_of(self, docid: str, rev: str) -> dict[str, Any] | None:
        if (docid, rev) in self.rev_rows:
            atts = self.rev_rows[(docid, rev)][1]
        else:
            row = self.conn.execute(
                "SELECT atts FROM revs WHERE doc_id=? AND rev=?", (docid, rev)
            ).fetchone()
            atts = row[0] if row else None
        return json.loads(atts) if atts else None

    def _resolve_atts(
        self, doc: Incoming, new_pos: int, disk_rev: str | None
    ) -> dict[str, Any] | None:
        """Final attachment metadata of the new rev. Stubs are taken, by name, from
        the attachments of ``disk_rev`` (couch_doc:merge_stubs against the previous
        revision on disk); a stub that names a revpos must match it, and a stub
        without a source is 412 ``missing_stub``."""
        if doc.attachments is None:
            return None
        self.blobs.update(doc.blobs)
        disk = (self._atts_of(doc.id, disk_rev) if disk_rev else None) or {}
        out: dict[str, Any] = {}
        for name, att in doc.attachments.items():
            if not att.get("stub"):
                meta = dict(att)
                meta.setdefault("revpos", new_pos)
                out[name] = meta
                continue
            found = disk.get(name)
            if found is None or att.get("revpos", found.get("revpos")) != found.get("revpos"):
                raise PreconditionFailed(
                    f"Invalid attachment stub in {doc.id} for {name}", error="missing_stub"
                )
            out[name] = found
        return out or None

    # -- documents -----------------------------------------------------------------
    def _record(self, docid: str, state: _DocState, new_tree: revtree.RevTree) -> None:
        # Trees stay unstemmed until flush: CouchDB stems once per document and
        # request (couch_db_updater:maybe_stem_full_doc_info after the merges).
        state.tree = new_tree
        self.order.pop(docid, None)
        self.order[docid] = None

    def interactive(self, doc: Incoming) -> dict[str, Any]:
        """A new_edits=true write; returns CouchDB's per-doc result."""
        state = self.states[doc.id]
        tree = state.tree
        try:
            prev = revtree.edit_parent(state.original, tree, doc.rev, deleted=doc.deleted)
        except revtree.EditConflict:
            return {"id": doc.id, **CONFLICT}
        new_pos = revtree.rev_pos(prev) + 1 if prev else 1
        atts = self._resolve_atts(doc, new_pos, prev)
        digests = [a["digest"] for a in atts.values()] if atts else []
        rev = revtree.new_rev(prev, deleted=doc.deleted, body=doc.body_json, att_digests=digests)
        path = [rev, prev] if prev else [rev]
        new_tree, _ = revtree.merge(tree, path, deleted=doc.deleted, revs_limit=_NO_STEM)
        self.rev_rows[(doc.id, rev)] = (doc.body_json, dumps(atts) if atts else None)
        self._record(doc.id, state, new_tree)
        return {"ok": True, "id": doc.id, "rev": rev}

    def replicated(self, docs: Sequence[Incoming]) -> None:
        """The new_edits=false docs of one id (couch_db:prep_and_validate_replicated_updates,
        then couch_db_updater:merge_rev_tree with replicated changes).

        The whole group is merged first; a doc is written only if its rev is a
        leaf of that merge and was not a leaf before ("this doc isn't a leaf or
        already exists in the tree. ignore but consider it a success"). So a
        known rev is a no-op, and so is a rev that another doc of the same request
        extends; the ignored doc's ancestors are not merged either.
        """
        state = self.states[docs[0].id]
        accepted = revtree.replicated_accepted(
            state.original, [(doc.path, doc.deleted) for doc in docs]
        )
        tree = state.tree
        changed = False
        for doc, ok in zip(docs, accepted, strict=True):
            if not ok:
                continue
            leaf = doc.path[0]
            tree, _ = revtree.merge(tree, doc.path, deleted=doc.deleted, revs_limit=_NO_STEM)
            # couch_db:make_first_doc_on_disk: the nearest stored ancestor with a body
            disk = next((r for r in revtree.ancestry(tree, leaf)[1:]
                         if r in state.original and state.original[r].available), None)
            changed = True
            if (doc.id, leaf) in self.rev_rows:
                # a revision sent twice in this request keeps its first body, as a replay
                # in a later request does (couch_key_tree:merge keeps the value in the tree)
                continue
            atts = self._resolve_atts(doc, revtree.rev_pos(leaf), disk)
            self.rev_rows[(doc.id, leaf)] = (doc.body_json, dumps(atts) if atts else None)
        if changed:
            self._record(docs[0].id, state, tree)

    def flush(self, next_seq: int) -> int:
        """Stem, then write the collected rows; returns the new update seq.

        A document whose stemmed tree equals the stored one is left alone, with
        no new seq (couch_db_updater:merge_rev_trees, "nothing changed")."""
        rows = []
        dropped: list[tuple[str, str]] = []
        seq = next_seq
        live = dead = 0  # how the document counts move (sync.sqlite._db.add_counts)
        for docid in self.order:
            state = self.states[docid]
            tree, _ = revtree.stem(state.tree, self.revs_limit)
            if tree == state.original:
                continue
            state.tree = tree
            dropped.extend((docid, r) for r in state.original if r not in tree)
            seq += 1
            winner = revtree.winning_rev(tree)
            deleted = tree[winner].deleted
            if state.original:
                was = state.original[revtree.winning_rev(state.original)].deleted
                if was != deleted:
                    live, dead = (live - 1, dead + 1) if deleted else (live + 1, dead - 1)
            elif deleted:
                dead += 1
            else:
                live += 1
            rows.append((docid, seq, winner, int(deleted), revtree.dumps(tree)))
        for (docid, rev) in list(self.rev_rows):
            if rev not in self.states[docid].tree:
                del self.rev_rows[(docid, rev)]  # stemmed away within this request
        if self.blobs:
            self.conn.executemany(
                "INSERT OR IGNORE INTO blobs(digest, data) VALUES (?, ?)", list(self.blobs.items())
            )
        if dropped:
            self.conn.executemany("DELETE FROM revs WHERE doc_id=? AND rev=?", dropped)
        if self.rev_rows:
            self.conn.executemany(
                "INSERT OR REPLACE INTO revs(doc_id, rev, body, atts) VALUES (?, ?, ?, ?)",
                [(d, r, b, a) for (d, r), (b, a) in self.rev_rows.items()],
            )
        if rows:
            # The old row is replaced: the feed keeps one row per doc, at its latest seq.
            self.conn.executemany(
                "INSERT OR REPLACE INTO docs(id, seq, winner, deleted, tree) VALUES (?, ?, ?, ?, ?)",
                rows,
            )
            add_counts(self.conn, live, dead)
        return seq


def parse_local_rev(rev: str | None) -> int:
    """``"0-7"`` → 7 (couch_db_updater: local revs are ``0-N``)."""
    if rev is None:
        return 0
    pos, sep, num = rev.partition("-")
    if pos != "0" or not sep or not num.isdigit():
        raise BadRequest("Invalid rev format")
    return int(num)


def write_local(
    conn: sqlite3.Connection, doc: Incoming, *, check_rev: bool = True
) -> dict[str, Any]:
    """Write one ``_local`` doc: the given rev must be the stored one (else 409)."""
    prev = parse_local_rev(doc.rev)
    row = conn.execute("SELECT rev FROM local_docs WHERE id=?", (doc.id,)).fetchone()
    stored = row[0] if row else 0
    if check_rev and prev != stored:
        return {"id": doc.id, **CONFLICT}
    if doc.deleted:
        conn.execute("DELETE FROM local_docs WHERE id=?", (doc.id,))
        return {"ok": True, "id": doc.id, "rev": "0-0"}
    new = (stored if not check_rev else prev) + 1
    conn.execute(
        "INSERT OR REPLACE INTO local_docs(id, rev, body) VALUES (?, ?, ?)",
        (doc.id, new, doc.body_json),
    )
    return {"ok": True, "id": doc.id, "rev": f"0-{new}"}
