"""The CouchDB backend: :class:`CouchServer` and :class:`CouchStore` over ``ibmcloudant``.

Public API: ``CouchServer(url, *, timeout, gzip, session)``, ``CouchStore`` (from
``CouchServer.db``/``create_db`` or :func:`open_store`), ``TransportStats``.
"""

from __future__ import annotations

from typing import Any

from sync.couch._translate import server_url, split_url
from sync.couch._transport import DEFAULT_TIMEOUT, TransportStats
from sync.couch.server import CouchServer, check_db_name
from sync.couch.store import CouchStore

__all__ = ["DEFAULT_TIMEOUT", "CouchServer", "CouchStore", "TransportStats", "open_store"]


def open_store(url: str, *, create: bool = False, **opts: Any) -> CouchStore:
    """A store for ``http(s)://[user:pass@]host:port/db`` with its own transport."""
    from sync import errors

    _, _, _, name = split_url(url)
    if not name:
        raise errors.BadRequest(f"URL names no database: {url!r}")
    server = CouchServer(server_url(url), **opts)
    store = server.create_db(name, exist_ok=True) if create else server.db(check_db_name(name))
    store._owns_transport = True
    return store
