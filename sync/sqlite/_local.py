"""``_local`` documents on SQLite: their own table, revs ``0-N``, never in the feed.

A write must carry the stored rev (none for a new doc), else 409, as
:meth:`sync.store.DocumentStore.put_local` specifies and PouchDB does. Apache
CouchDB 3 is laxer: couch_db_updater:update_local_doc_revs only increments the
given rev, without comparing it to the stored one. The stricter rule keeps two
replicators from silently overwriting each other's checkpoint; a client that
sends the right rev sees no difference. A delete removes the row (rev ``0-0``).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from sync.errors import BadRequest, Conflict, NotFound
from sync.sqlite._db import Connections
from sync.sqlite._validate import Incoming, parse_doc
from sync.sqlite._write import write_local
from sync.store import JSON, local_docid


class LocalDocsMixin:
    _db: Connections
    max_document_size: int

    # -- _local docs ------------------------------------------------------------------
    @staticmethod
    def _local_id(docid: str) -> str:
        if not isinstance(docid, str) or not docid:
            raise BadRequest("Document id must be a non-empty string")
        return local_docid(docid)

    def get_local(self, docid: str) -> JSON:
        full = self._local_id(docid)
        with self._db.read() as conn:
            row = conn.execute("SELECT rev, body FROM local_docs WHERE id=?", (full,)).fetchone()
        if row is None:
            raise NotFound("missing")
        return {"_id": full, "_rev": f"0-{row[0]}", **json.loads(row[1])}

    def put_local(self, doc: Mapping[str, Any]) -> JSON:
        if not isinstance(doc, Mapping) or "_id" not in doc:
            raise BadRequest("Document must be a JSON object with an _id")
        full = self._local_id(doc["_id"])
        parsed = parse_doc({**doc, "_id": full}, max_document_size=self.max_document_size)
        return self._write_local(parsed)

    def delete_local(self, docid: str, rev: str | None = None) -> JSON:
        full = self._local_id(docid)
        doc = Incoming(full, [rev] if rev else [], True, {}, "{}")
        with self._db.read() as conn:
            exists = conn.execute("SELECT 1 FROM local_docs WHERE id=?", (full,)).fetchone()
        if exists is None:
            raise NotFound("missing")
        return self._write_local(doc)

    def _write_local(self, doc: Incoming) -> JSON:
        with self._db.write() as conn:
            res = write_local(conn, doc)
        if "error" in res:
            raise Conflict(res["reason"])
        return res
