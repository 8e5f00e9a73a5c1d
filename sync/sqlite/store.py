"""The embedded document store: one SQLite file per database.

Writes go through one writer connection under a lock, each ``_bulk_docs`` call in
one transaction; reads use per-thread connections on WAL snapshots (see _db).
Document ids sort by raw code point (SQLite's BINARY collation of UTF-8), as
PouchDB does; Apache CouchDB sorts ``_all_docs`` with ICU collation instead, so
clients must not rely on the order of ids that differ only in case or accents.
"""

from __future__ import annotations

import json
import os
import threading
import time
from collections.abc import Mapping, Sequence
from typing import Any

from sync import revtree
from sync.errors import BadRequest, NotFound
from sync.sqlite import _changes
from sync.sqlite._db import Connections, doc_counts, translate_errors
from sync.sqlite._local import LocalDocsMixin
from sync.sqlite._read import (
    DocOptions,
    build_doc,
    load_blobs,
    load_bodies,
    load_doc,
    load_docs,
    missing_doc,
    to_docrow,
)
from sync.sqlite._replication import ReplicationMixin
from sync.sqlite._validate import (
    DEFAULT_MAX_DOCUMENT_SIZE,
    Incoming,
    parse_doc,
    validate_docid,
)
from sync.sqlite._write import BatchWriter, write_local
from sync.store import JSON, LOCAL_PREFIX, DocumentStore

#: Documents per transaction of :meth:`SQLiteStore.compact` (writers wait at most one).
COMPACT_BATCH = 2000

# One condition per file, shared by every store object of this process, so a
# longpoll wakes on any in-process write to that file.
_CONDITIONS: dict[str, threading.Condition] = {}
_CONDITIONS_LOCK = threading.Lock()


def _condition_for(path: str) -> threading.Condition:
    key = os.path.realpath(path)
    with _CONDITIONS_LOCK:
        return _CONDITIONS.setdefault(key, threading.Condition())


class SQLiteStore(ReplicationMixin, LocalDocsMixin, _changes.ChangesMixin, DocumentStore):
    """:class:`sync.store.DocumentStore` on one SQLite file."""

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        name: str | None = None,
        max_document_size: int = DEFAULT_MAX_DOCUMENT_SIZE,
        synchronous: str = "FULL",
        create: bool = True,
    ) -> None:
        self.path = os.fspath(path)
        self.name = name or os.path.splitext(os.path.basename(self.path))[0]
        self.max_document_size = max_document_size
        self._db = Connections(self.path, synchronous=synchronous, create=create)
        self._cond = _condition_for(self.path)

    # -- database ------------------------------------------------------------------
    def info(self) -> JSON:
        with self._db.read() as conn:
            doc_count, del_count = doc_counts(conn)
            update_seq = self._update_seq(conn)
            # Page counts, not a scan of every body: GET /db is called by every
            # replication. "external" (CouchDB: uncompressed JSON) is approximated
            # by the used pages, as bodies are stored as plain JSON text.
            (page_size,) = conn.execute("PRAGMA page_size").fetchone()
            (pages,) = conn.execute("PRAGMA page_count").fetchone()
            (free,) = conn.execute("PRAGMA freelist_count").fetchone()
            active = (pages - free) * page_size
        try:
            file_size = os.path.getsize(self.path) + os.path.getsize(self.path + "-wal")
        except OSError:
            file_size = os.path.getsize(self.path) if os.path.exists(self.path) else 0
        return {
            "db_name": self.name,
            "doc_count": doc_count,
            "doc_del_count": del_count,
            "update_seq": update_seq,
            "purge_seq": 0,
            "compact_running": False,
            "sizes": {"file": file_size, "external": active, "active": active},
            "disk_format_version": 8,
            "instance_start_time": "0",
            "props": {},
        }

    @staticmethod
    def _update_seq(conn: Any) -> int:
        (seq,) = conn.execute("SELECT coalesce(max(seq), 0) FROM docs").fetchone()
        return int(seq)

    # -- documents -----------------------------------------------------------------
    def get(
        self,
        docid: str,
        *,
        rev: str | None = None,
        revs: bool = False,
        revs_info: bool = False,
        conflicts: bool = False,
        deleted_conflicts: bool = False,
        attachments: bool = False,
        atts_since: Sequence[str] | None = None,
        latest: bool = False,
    ) -> JSON:
        if isinstance(docid, str) and docid.startswith(LOCAL_PREFIX):
            return self.get_local(docid)
        validate_docid(docid)
        if rev is not None:
            revtree.validate_rev(rev)
        opts = DocOptions(revs, revs_info, conflicts, deleted_conflicts, attachments, atts_since)
        with self._db.read() as conn:
            doc = load_doc(conn, docid)
            if doc is None:
                raise NotFound("missing")
            if rev is None:
                if doc.deleted:
                    raise NotFound("deleted")
                target = doc.winner
            else:
                if rev not in doc.tree:
                    raise NotFound("missing")
                target = rev
                if latest:
                    target = (revtree.leaf_descendants(doc.tree, rev) or [rev])[0]
            stored = load_bodies(conn, [(docid, target)]).get((docid, target))
            if stored is None:
                raise NotFound("missing")
            return build_doc(conn, doc, target, stored, opts)

    def bulk_docs(self, docs: Sequence[Mapping[str, Any]], *, new_edits: bool = True) -> list[JSON]:
        if not isinstance(docs, Sequence) or isinstance(docs, (str, bytes)):
            raise BadRequest("docs must be a JSON array")
        parsed = [
            parse_doc(d, new_edits=new_edits, max_document_size=self.max_document_size)
            for d in docs
        ]
        results: list[JSON] = []
        with self._db.write() as conn:
            # read inside the write transaction: another process may have changed it
            writer = BatchWriter(conn, self._revs_limit_in(conn))
            writer.load([d.id for d in parsed if not d.is_local])
            groups: dict[str, list[Incoming]] = {}
            for doc in parsed:
                if doc.is_local:
                    res = write_local(conn, doc, check_rev=new_edits)
                    if new_edits or "error" in res:
                        results.append(res)
                elif new_edits:
                    results.append(writer.interactive(doc))
                else:
                    groups.setdefault(doc.id, []).append(doc)
            for group in groups.values():
                writer.replicated(group)
            start = self._update_seq(conn)
            changed = bool(writer.order) and writer.flush(start) > start
        if changed:
            with self._cond:
                self._cond.notify_all()
        return results

    def all_docs(
        self,
        *,
        keys: Sequence[str] | None = None,
        startkey: str | None = None,
        endkey: str | None = None,
        inclusive_end: bool = True,
        limit: int | None = None,
        skip: int = 0,
        descending: bool = False,
        include_docs: bool = False,
        conflicts: bool = False,
        offset: bool = True,
    ) -> JSON:
        if limit is not None and limit < 0:
            raise BadRequest("limit must be a positive integer")
        if skip < 0:
            raise BadRequest("skip must be a positive integer")
        opts = DocOptions(conflicts=conflicts)
        with self._db.read() as conn:
            total, _ = doc_counts(conn)
            if keys is not None:
                rows = self._all_docs_keys(conn, keys, include_docs, opts)
                if descending:
                    rows.reverse()
                rows = rows[skip:]
                if limit is not None:
                    rows = rows[:limit]
                return {"total_rows": total, "offset": None, "rows": rows}
            where, params = ["deleted=0"], []
            if descending:
                if startkey is not None:
                    where.append("id <= ?")
                    params.append(startkey)
                if endkey is not None:
                    where.append("id >= ?" if inclusive_end else "id > ?")
                    params.append(endkey)
            else:
                if startkey is not None:
                    where.append("id >= ?")
                    params.append(startkey)
                if endkey is not None:
                    where.append("id <= ?" if inclusive_end else "id < ?")
                    params.append(endkey)
            order = "DESC" if descending else "ASC"
            sql = f"SELECT id, seq, winner, deleted, tree FROM docs WHERE {' AND '.join(where)} ORDER BY id {order} LIMIT ? OFFSET ?"
            # a limit or skip beyond SQLite's INTEGER (JSON numbers have no bound) is "all" or
            # "past the end"; SQLite itself would raise OverflowError on it
            found = conn.execute(sql, [*params, -1 if limit is None else min(limit, _changes.MAX_SEQ),
                                       min(skip, _changes.MAX_SEQ)]).fetchall()
            # Counting the rows before startkey scans them (SQLite keeps no rank): only
            # when the caller reads it (the HTTP _all_docs does; a case's range read not).
            before = self._offset(conn, startkey, descending) + skip if offset else None
            docs = [to_docrow(r) for r in found]
            bodies = load_bodies(conn, [(d.id, d.winner) for d in docs]) if include_docs else {}
            out = []
            for d in docs:
                row: JSON = {"id": d.id, "key": d.id, "value": {"rev": d.winner}}
                if include_docs:
                    row["doc"] = build_doc(conn, d, d.winner, bodies[(d.id, d.winner)], opts)
                out.append(row)
        return {"total_rows": total, "offset": before, "rows": out}

    @staticmethod
    def _offset(conn: Any, startkey: str | None, descending: bool) -> int:
        if startkey is None:
            return 0
        op = ">" if descending else "<"
        (n,) = conn.execute(
            f"SELECT count(*) FROM docs WHERE deleted=0 AND id {op} ?", (startkey,)
        ).fetchone()
        return int(n)

    def _all_docs_keys(
        self, conn: Any, keys: Sequence[str], include_docs: bool, opts: DocOptions
    ) -> list[JSON]:
        if not isinstance(keys, Sequence) or isinstance(keys, str):
            raise BadRequest("`keys` member must be an array.")
        str_keys = [k for k in keys if isinstance(k, str)]
        docs = load_docs(conn, str_keys)
        bodies = (
            load_bodies(conn, [(d.id, d.winner) for d in docs.values() if not d.deleted])
            if include_docs
            else {}
        )
        rows: list[JSON] = []
        for key in keys:
            d = docs.get(key) if isinstance(key, str) else None
            if d is None:
                rows.append({"key": key, "error": "not_found"})
                continue
            row: JSON = {"id": d.id, "key": key, "value": {"rev": d.winner}}
            if d.deleted:
                row["value"]["deleted"] = True
                if include_docs:
                    row["doc"] = None
            elif include_docs:
                row["doc"] = build_doc(conn, d, d.winner, bodies[(d.id, d.winner)], opts)
            rows.append(row)
        return rows

    # -- attachments -------------------------------------------------------------------
    def get_attachment(self, docid: str, name: str, *, rev: str | None = None) -> tuple[bytes, str]:
        validate_docid(docid)
        with self._db.read() as conn:
            doc = load_doc(conn, docid)
            if doc is None or (rev is None and doc.deleted):
                raise missing_doc(doc)
            target = rev or doc.winner
            if target not in doc.tree:
                raise NotFound("missing")
            stored = load_bodies(conn, [(docid, target)]).get((docid, target))
            atts = json.loads(stored[1]) if stored and stored[1] else {}
            meta = atts.get(name)
            if meta is None:
                raise NotFound("Document is missing attachment")
            data = load_blobs(conn, [meta["digest"]]).get(meta["digest"])
        if data is None:
            raise NotFound("Document is missing attachment")
        return data, meta["content_type"]

    # -- maintenance -------------------------------------------------------------------
    @staticmethod
    def _revs_limit_in(conn: Any) -> int:
        row = conn.execute("SELECT value FROM meta WHERE key='revs_limit'").fetchone()
        return int(row[0]) if row else revtree.DEFAULT_REVS_LIMIT

    def get_revs_limit(self) -> int:
        with self._db.read() as conn:
            return self._revs_limit_in(conn)

    def set_revs_limit(self, limit: int) -> None:
        if not isinstance(limit, int) or isinstance(limit, bool) or limit < 1:
            raise BadRequest("revs_limit must be a positive integer")
        with self._db.write() as conn:
            conn.execute(
                "INSERT OR REPLACE INTO meta(key, value) VALUES ('revs_limit', ?)", (str(limit),)
            )

    def compact(self) -> None:
        """Drop bodies of non-leaf revs and unreferenced attachment blobs, and stem
        every tree to ``revs_limit`` (couch_bt_engine_compactor: inner revs become
        ?REV_MISSING, then couch_key_tree:stem). Seqs do not change; the trees
        otherwise stay, so revs_diff still knows the inner revs.

        The trees are done :data:`COMPACT_BATCH` documents per transaction: a hub's
        millions of documents took minutes under the write lock, every upload waiting."""
        after = ""
        while True:
            with self._db.write() as conn:
                limit = self._revs_limit_in(conn)
                rows = conn.execute("SELECT id, tree FROM docs WHERE id > ? ORDER BY id LIMIT ?",
                                    (after, COMPACT_BATCH)).fetchall()
                updates: list[tuple[str, str]] = []
                gone: list[tuple[str, str]] = []
                for docid, tree_json in rows:
                    stemmed, stemmed_away = revtree.stem(revtree.loads(tree_json), limit)
                    tree, emptied = revtree.drop_bodies(stemmed)
                    if stemmed_away or emptied:
                        updates.append((revtree.dumps(tree), docid))
                        gone.extend((docid, r) for r in [*stemmed_away, *emptied])
                conn.executemany("UPDATE docs SET tree=? WHERE id=?", updates)
                conn.executemany("DELETE FROM revs WHERE doc_id=? AND rev=?", gone)
            if len(rows) < COMPACT_BATCH:
                break
            after = rows[-1][0]
        with self._db.write() as conn:
            used: set[str] = set()
            for (atts,) in conn.execute("SELECT atts FROM revs WHERE atts IS NOT NULL"):
                used.update(a["digest"] for a in json.loads(atts).values())
            stale = [
                (d,) for (d,) in conn.execute("SELECT digest FROM blobs").fetchall() if d not in used
            ]
            conn.executemany("DELETE FROM blobs WHERE digest=?", stale)
            conn.execute("INSERT OR REPLACE INTO meta(key, value) VALUES ('compacted_at', ?)",
                         (str(int(time.time())),))
        with self._db.write_lock, translate_errors(self.path):
            # executescript steps the pragma to the end (each step frees one page)
            self._db.writer.executescript("PRAGMA incremental_vacuum;")
            self._db.writer.execute("PRAGMA wal_checkpoint(TRUNCATE)")

    def compact_if_due(self, every_seconds: float) -> bool:
        """:meth:`compact` when the last one is ``every_seconds`` old or more (or none was
        run here); whether it ran. CouchDB compacts by itself (its compaction daemon,
        "Compaction" in the CouchDB docs); this store only when asked, and every update
        keeps the replaced revision's body until then: a device's replication checkpoint
        at the hub, rewritten after each batch, kept up to ``revs_limit`` (1,000) bodies
        of several kB, and so did every coordination board (docs/operations.md)."""
        with self._db.read() as conn:
            row = conn.execute("SELECT value FROM meta WHERE key='compacted_at'").fetchone()
        if row is not None and time.time() - int(row[0]) < every_seconds:
            return False
        self.compact()
        return True

    def close(self) -> None:
        self._db.close()

    def __enter__(self) -> SQLiteStore:
        return self


__all__ = ["SQLiteStore"]
