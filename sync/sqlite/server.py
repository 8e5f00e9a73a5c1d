"""A folder of SQLite databases behaving like a CouchDB server (``_all_dbs``, ``PUT /db``).

Each database is ``<name>.sqlite``; a ``/`` in a name (allowed by CouchDB) is
stored as ``%2F`` so every database is one flat file.
"""

from __future__ import annotations

import os
import re
import threading
import urllib.parse

from sync.errors import BadRequest, NotFound, PreconditionFailed
from sync.sqlite._validate import DEFAULT_MAX_DOCUMENT_SIZE
from sync.sqlite.store import SQLiteStore
from sync.store import StoreServer

#: CouchDB's database-name rule (CouchDB docs, "PUT /{db}").
DB_NAME_RE = re.compile(r"^[a-z][a-z0-9_$()+/-]*$")
SUFFIX = ".sqlite"


def validate_db_name(name: object) -> str:
    if not isinstance(name, str) or not DB_NAME_RE.match(name) or len(name) > 238:
        raise BadRequest(
            f"Name: '{name}'. Only lowercase characters (a-z), digits (0-9), and any of the "
            "characters _, $, (, ), +, -, and / are allowed. Must begin with a letter.",
            error="illegal_database_name",
        )
    return name


def _filename(name: str) -> str:
    return urllib.parse.quote(name, safe="_$()+-") + SUFFIX


def _dbname(filename: str) -> str:
    return urllib.parse.unquote(filename[: -len(SUFFIX)])


class SQLiteServer(StoreServer):
    """:class:`sync.store.StoreServer` over ``directory``; stores are cached and shared."""

    def __init__(
        self,
        directory: str | os.PathLike[str],
        *,
        max_document_size: int = DEFAULT_MAX_DOCUMENT_SIZE,
        synchronous: str = "FULL",
    ) -> None:
        self.directory = os.fspath(directory)
        os.makedirs(self.directory, exist_ok=True)
        self.max_document_size = max_document_size
        self.synchronous = synchronous
        self._stores: dict[str, SQLiteStore] = {}
        self._lock = threading.RLock()

    def _path(self, name: str) -> str:
        return os.path.join(self.directory, _filename(name))

    def all_dbs(self) -> list[str]:
        names = [
            _dbname(f) for f in os.listdir(self.directory) if f.endswith(SUFFIX)
        ]
        return sorted(n for n in names if DB_NAME_RE.match(n))

    def create_db(self, name: str, *, exist_ok: bool = False) -> SQLiteStore:
        validate_db_name(name)
        with self._lock:
            if os.path.exists(self._path(name)):
                if not exist_ok:
                    raise PreconditionFailed(
                        "The database could not be created, the file already exists.",
                        error="file_exists",
                    )
                return self.db(name)
            return self._open(name, create=True)

    def delete_db(self, name: str) -> None:
        validate_db_name(name)
        with self._lock:
            path = self._path(name)
            if not os.path.exists(path):
                raise NotFound("Database does not exist.")
            store = self._stores.pop(name, None)
            if store is not None:
                store.close()
            for suffix in ("", "-wal", "-shm"):
                try:
                    os.remove(path + suffix)
                except FileNotFoundError:
                    pass

    def db(self, name: str) -> SQLiteStore:
        validate_db_name(name)
        with self._lock:
            store = self._stores.get(name)
            if store is not None:
                return store
            if not os.path.exists(self._path(name)):
                raise NotFound("Database does not exist.")
            return self._open(name, create=False)

    def _store(self, name: str, *, create: bool) -> SQLiteStore:
        return SQLiteStore(
            self._path(name),
            name=name,
            max_document_size=self.max_document_size,
            synchronous=self.synchronous,
            create=create,
        )

    def _open(self, name: str, *, create: bool) -> SQLiteStore:
        store = self._stores[name] = self._store(name, create=create)
        return store

    def compact_if_due(self, name: str, every_seconds: float) -> bool:
        """:meth:`SQLiteStore.compact_if_due` of database ``name``, through the store this
        server has open, else one opened for it and closed after: a hub's workers look at
        every database once in a while, and keeping each open (page cache and all) for
        that alone would hold one per institution's index for the process's life."""
        with self._lock:
            store = self._stores.get(name)
        if store is not None:
            return store.compact_if_due(every_seconds)
        validate_db_name(name)
        if not os.path.exists(self._path(name)):
            raise NotFound("Database does not exist.")
        alone = self._store(name, create=False)
        try:
            return alone.compact_if_due(every_seconds)
        finally:
            alone.close()

    def close(self) -> None:
        with self._lock:
            for store in self._stores.values():
                store.close()
            self._stores.clear()
