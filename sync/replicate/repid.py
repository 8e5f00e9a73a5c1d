"""Replication id: which checkpoint documents belong to this replication.

CouchDB (``couch_replicator_ids``, replication id version 4) hashes the
identity of both endpoints plus the filter (doc ids or selector) with md5; two
runs with the same source, target and filter find each other's checkpoints,
any change of those starts afresh. PouchDB's ``pouchdb-generate-replication-id``
does the same over ``db.id()``. Credentials never enter the hash (a changed
password must not restart a sync from zero).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from sync.store import DocumentStore

#: Bumped when the inputs of the hash change (CouchDB's ``replication_id_version``).
REPLICATION_ID_VERSION = 4


def strip_credentials(location: str) -> str:
    """``http://user:pw@host:5984/db/`` -> ``http://host:5984/db``; a path is kept as is."""
    parts = urlsplit(location)
    if parts.scheme in ("http", "https"):
        host = parts.hostname or ""
        if parts.port:
            host = f"{host}:{parts.port}"
        return urlunsplit((parts.scheme, host, parts.path.rstrip("/"), "", ""))
    return location


def endpoint_identity(store: DocumentStore, location: str | None = None) -> str:
    """A stable identity of one endpoint for the replication id.

    ``location`` (the URL or file path the user gave) wins; otherwise the store's
    ``url``/``path`` attribute when the backend exposes one, else its db name.
    """
    if location:
        return strip_credentials(str(location))
    for attr in ("url", "path"):
        value = getattr(store, attr, None)
        if isinstance(value, str | bytes) or hasattr(value, "__fspath__"):
            return strip_credentials(str(value))
    return f"db:{store.name}"


def replication_id(
    source_identity: str,
    target_identity: str,
    *,
    doc_ids: Sequence[str] | None = None,
    selector: Mapping[str, Any] | None = None,
) -> str:
    """The hex md5 naming ``_local/<repid>`` on both sides.

    As CouchDB, doc ids are hashed sorted (their order does not change what is
    replicated) and a selector by its canonical JSON.
    """
    parts: list[Any] = [REPLICATION_ID_VERSION, source_identity, target_identity]
    if doc_ids is not None:
        parts.append({"doc_ids": sorted(doc_ids)})
    if selector is not None:
        parts.append({"selector": selector})
    blob = json.dumps(parts, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.md5(blob.encode("utf-8"), usedforsecurity=False).hexdigest()
