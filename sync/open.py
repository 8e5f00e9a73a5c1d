"""Open a store by location: an http(s) URL means CouchDB, a filesystem path means SQLite.

``open_server("http://admin:pw@127.0.0.1:5984")`` -> :class:`sync.couch.CouchServer`;
``open_server("/var/lib/bangban")`` -> ``sync.sqlite.SQLiteServer`` (one ``.sqlite``
file per database). ``open_db`` takes a URL with a database path segment, or a
path to a ``.sqlite`` file. Backends are imported lazily so a node that never
talks CouchDB never imports the SDK.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from sync import errors
from sync.store import DocumentStore, StoreServer

SQLITE_SUFFIX = ".sqlite"


def is_url(location: str | os.PathLike[str]) -> bool:
    return isinstance(location, str) and urlsplit(location).scheme in ("http", "https")


def open_server(location: str | os.PathLike[str], **opts: Any) -> StoreServer:
    """A server for a CouchDB URL (``opts``: timeout, gzip, session) or a directory."""
    if is_url(location):
        from sync.couch import CouchServer

        return CouchServer(str(location), **opts)
    directory = Path(location)
    if directory.suffix == SQLITE_SUFFIX or directory.is_file():
        raise errors.BadRequest(f"{location}: a server is a directory, not a database file")
    from sync.sqlite import SQLiteServer

    return SQLiteServer(directory, **opts)


def open_db(location: str | os.PathLike[str], *, create: bool = False, **opts: Any) -> DocumentStore:
    """One database: ``http(s)://[user:pass@]host:port/db`` or ``path/to/name.sqlite``.

    ``create`` creates the database when it does not exist (a CouchDB ``PUT /db``;
    for SQLite the file is created on open).
    """
    if is_url(location):
        from sync.couch import open_store

        return open_store(str(location), create=create, **opts)
    path = Path(location)
    if path.is_dir():
        raise errors.BadRequest(f"{location}: a directory is a server; use open_server")
    if path.suffix != SQLITE_SUFFIX:
        raise errors.BadRequest(f"{location}: an embedded database is a '{SQLITE_SUFFIX}' file")
    if not create and not path.exists():
        raise errors.NotFound(f"Database does not exist: {location}", error="not_found")
    from sync.sqlite import SQLiteStore

    return SQLiteStore(path, create=create, **opts)
