"""A device's ``_local`` documents at the hub (its replication checkpoints).

CouchDB keeps ``_local`` documents per database, unreplicated and without revision
history ("Local (non-replicating) Documents", CouchDB API docs: ``_rev`` is ``0-N``).
Every device sees the hub as a database of its own, so each device's ``_local``
documents live apart in the private database as ``local:{device}:{name}``: two devices'
checkpoints never collide, and backups carry them.

They are the one thing a device writes at the hub unchecked by the casework rules, so
they are bounded: ``LOCAL_MAX_BYTES`` of JSON each (a replicator's checkpoint with its
session history is a few kB), and ``LOCAL_MAX_DOCS`` per device (one per replication
it runs with the hub). Without bounds one device's credentials could fill the hub's disk.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from sync.errors import BadRequest, Conflict, Forbidden, NotFound, RequestEntityTooLarge
from sync.store import JSON, DocumentStore, local_docid, local_name

#: Largest ``_local`` body, JSON bytes.
LOCAL_MAX_BYTES = 64 * 1024
#: Most ``_local`` documents one device may keep.
LOCAL_MAX_DOCS = 100


class LocalDocs:
    """``get_local`` / ``put_local`` / ``delete_local`` of one device."""

    def __init__(self, private: DocumentStore, device_id: str):
        self.private = private
        self.prefix = f"local:{device_id}:"
        self.device_id = device_id

    def key(self, docid: str) -> str:
        name = local_name(docid)
        if not name:
            raise BadRequest("Invalid _local document id.")
        return self.prefix + name

    def _stored(self, key: str) -> dict[str, Any] | None:
        try:
            return self.private.get(key)
        except NotFound:
            return None

    def get(self, docid: str) -> JSON:
        stored = self._stored(self.key(docid))
        if stored is None:
            raise NotFound("missing")
        return {**stored["body"], "_id": local_docid(docid), "_rev": f"0-{stored['lrev']}"}

    def put(self, doc: Mapping[str, Any]) -> JSON:
        docid = str(doc.get("_id", ""))
        key = self.key(docid)
        stored = self._stored(key)
        if doc.get("_deleted"):
            return self.delete(docid, doc.get("_rev"))
        if stored is not None and doc.get("_rev") != f"0-{stored['lrev']}":
            raise Conflict("Document update conflict.")
        body = {k: v for k, v in doc.items() if k not in ("_id", "_rev")}
        size = len(json.dumps(body, ensure_ascii=False).encode("utf-8"))
        if size > LOCAL_MAX_BYTES:
            raise RequestEntityTooLarge(
                f"_local document too large: {size} bytes > {LOCAL_MAX_BYTES}")
        if stored is None and self.count() >= LOCAL_MAX_DOCS:
            raise Forbidden(f"device {self.device_id} keeps {LOCAL_MAX_DOCS} _local documents "
                            "already: delete old checkpoints first")
        lrev = (stored["lrev"] if stored else 0) + 1
        new = {"_id": key, "type": "local", "device": self.device_id, "body": body,
               "lrev": lrev}
        if stored is not None:
            new["_rev"] = stored["_rev"]
        self.private.put(new)
        return {"ok": True, "id": local_docid(docid), "rev": f"0-{lrev}"}

    def delete(self, docid: str, rev: str | None = None) -> JSON:
        key = self.key(docid)
        stored = self._stored(key)
        if stored is None:
            raise NotFound("missing")
        if rev is not None and rev != f"0-{stored['lrev']}":
            raise Conflict("Document update conflict.")
        self.private.delete(key, stored["_rev"])
        return {"ok": True, "id": local_docid(docid), "rev": "0-0"}

    def count(self) -> int:
        rows = self.private.all_docs(startkey=self.prefix, endkey=self.prefix + "\ufff0",
                                     limit=LOCAL_MAX_DOCS + 1)["rows"]
        return len(rows)
