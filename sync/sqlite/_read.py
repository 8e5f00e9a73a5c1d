"""Building CouchDB JSON bodies from stored rows (pure helpers plus small queries)."""

from __future__ import annotations

import base64
import json
import sqlite3
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from sync import revtree
from sync.errors import NotFound


class DocRow:
    """One row of ``docs``; the revision tree is decoded only when asked for (the
    feed, ``_all_docs`` and plain GETs need just the winner)."""

    __slots__ = ("_tree", "_tree_json", "deleted", "id", "seq", "winner")

    def __init__(self, docid: str, seq: int, winner: str, deleted: bool, tree_json: str) -> None:
        self.id = docid
        self.seq = seq
        self.winner = winner
        self.deleted = deleted
        self._tree_json = tree_json
        self._tree: revtree.RevTree | None = None

    @property
    def tree(self) -> revtree.RevTree:
        if self._tree is None:
            self._tree = revtree.loads(self._tree_json)
        return self._tree


def load_doc(conn: sqlite3.Connection, docid: str) -> DocRow | None:
    row = conn.execute(
        "SELECT id, seq, winner, deleted, tree FROM docs WHERE id=?", (docid,)
    ).fetchone()
    return to_docrow(row) if row else None


def to_docrow(row: Sequence[Any]) -> DocRow:
    return DocRow(row[0], row[1], row[2], bool(row[3]), row[4])


def load_docs(conn: sqlite3.Connection, ids: Iterable[str]) -> dict[str, DocRow]:
    wanted = list(dict.fromkeys(ids))
    out: dict[str, DocRow] = {}
    for start in range(0, len(wanted), 500):
        chunk = wanted[start : start + 500]
        marks = ",".join("?" * len(chunk))
        for row in conn.execute(
            f"SELECT id, seq, winner, deleted, tree FROM docs WHERE id IN ({marks})", chunk
        ):
            out[row[0]] = to_docrow(row)
    return out


def load_bodies(
    conn: sqlite3.Connection, pairs: Iterable[tuple[str, str]]
) -> dict[tuple[str, str], tuple[str, str | None]]:
    """``{(doc_id, rev): (body_json, atts_json)}`` for the pairs that have a body."""
    wanted = list(dict.fromkeys(pairs))
    out: dict[tuple[str, str], tuple[str, str | None]] = {}
    for start in range(0, len(wanted), 400):
        chunk = wanted[start : start + 400]
        cond = " OR ".join("(doc_id=? AND rev=?)" for _ in chunk)
        params = [v for pair in chunk for v in pair]
        for doc_id, rev, body, atts in conn.execute(
            f"SELECT doc_id, rev, body, atts FROM revs WHERE {cond}", params
        ):
            out[(doc_id, rev)] = (body, atts)
    return out


def load_blobs(conn: sqlite3.Connection, digests: Iterable[str]) -> dict[str, bytes]:
    wanted = list(dict.fromkeys(digests))
    out: dict[str, bytes] = {}
    for start in range(0, len(wanted), 500):
        chunk = wanted[start : start + 500]
        marks = ",".join("?" * len(chunk))
        for digest, data in conn.execute(
            f"SELECT digest, data FROM blobs WHERE digest IN ({marks})", chunk
        ):
            out[digest] = bytes(data)
    return out


@dataclass(frozen=True, slots=True)
class DocOptions:
    """Query options that shape a returned document (GET /{db}/{docid})."""

    revs: bool = False
    revs_info: bool = False
    conflicts: bool = False
    deleted_conflicts: bool = False
    attachments: bool = False
    atts_since: Sequence[str] | None = None


def build_doc(
    conn: sqlite3.Connection,
    doc: DocRow,
    rev: str,
    stored: tuple[str, str | None],
    opts: DocOptions,
) -> dict[str, Any]:
    """The JSON CouchDB returns for one revision of a document."""
    body_json, atts_json = stored
    deleted = doc.deleted if rev == doc.winner else doc.tree[rev].deleted
    out: dict[str, Any] = {"_id": doc.id, "_rev": rev}
    if deleted:
        out["_deleted"] = True
    out.update(json.loads(body_json))
    if atts_json:
        out["_attachments"] = _attachments(conn, doc, rev, json.loads(atts_json), opts)
    if opts.conflicts:
        found = revtree.conflicts(doc.tree)
        if found:
            out["_conflicts"] = found
    if opts.deleted_conflicts:
        found = revtree.deleted_conflicts(doc.tree)
        if found:
            out["_deleted_conflicts"] = found
    if opts.revs:
        out["_revisions"] = revtree.revisions(doc.tree, rev)
    if opts.revs_info:
        out["_revs_info"] = revtree.revs_info(doc.tree, rev)
    return out


def _attachments(
    conn: sqlite3.Connection,
    doc: DocRow,
    rev: str,
    atts: dict[str, dict[str, Any]],
    opts: DocOptions,
) -> dict[str, Any]:
    # chttpd_db: atts_since implies attachments=true and wins over it (older ones stay stubs)
    since = (
        revtree.atts_since_pos(doc.tree, rev, opts.atts_since) if opts.atts_since else None
    )
    want_data = [
        name
        for name, meta in atts.items()
        if (meta.get("revpos", 0) > since if since is not None else opts.attachments)
    ]
    blobs = load_blobs(conn, (atts[n]["digest"] for n in want_data)) if want_data else {}
    out: dict[str, Any] = {}
    for name, meta in atts.items():
        entry = {
            "content_type": meta["content_type"],
            "revpos": meta.get("revpos", 0),
            "digest": meta["digest"],
        }
        if name in want_data and meta["digest"] in blobs:
            entry["data"] = base64.b64encode(blobs[meta["digest"]]).decode("ascii")
        else:
            entry["length"] = meta.get("length", 0)
            entry["stub"] = True
        out[name] = entry
    return out


def missing_doc(doc: DocRow | None) -> NotFound:
    if doc is not None and doc.deleted:
        return NotFound("deleted")
    return NotFound("missing")
