"""The embedded SQLite backend: :class:`SQLiteStore` (one database) and
:class:`SQLiteServer` (a folder of databases), both with CouchDB 3 semantics."""

from sync.sqlite._db import enable_wal, is_damage, quick_check
from sync.sqlite._validate import DEFAULT_MAX_DOCUMENT_SIZE, attachment_digest
from sync.sqlite.server import DB_NAME_RE, SQLiteServer, validate_db_name
from sync.sqlite.store import SQLiteStore

__all__ = [
    "DB_NAME_RE",
    "DEFAULT_MAX_DOCUMENT_SIZE",
    "SQLiteServer",
    "SQLiteStore",
    "attachment_digest",
    "enable_wal",
    "is_damage",
    "quick_check",
    "validate_db_name",
]
