"""SQLite file layout, connections and the translation of sqlite3 errors.

One file per database. Datasette's pattern: a single writer connection guarded
by a lock, and one read connection per thread; WAL lets readers run beside the
writer. ``synchronous=FULL``: in WAL mode every COMMIT is fsynced before
``bulk_docs`` returns, so neither ``kill -9`` nor a power cut loses an
acknowledged write (SQLite docs, "PRAGMA synchronous"). NORMAL would already be
kill -9 safe in WAL mode (the OS holds the WAL pages) but not power-cut safe, and
field laptops lose power.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import sqlite3
import threading
import time
import urllib.parse
from collections.abc import Iterator

from sync.errors import InsufficientStorage, NotFound, ServiceUnavailable, SyncError

SCHEMA = """
CREATE TABLE IF NOT EXISTS docs(
    id TEXT PRIMARY KEY,           -- document id (raw codepoint order: BINARY collation)
    seq INTEGER NOT NULL,          -- update seq of its latest change (one feed row per doc)
    winner TEXT NOT NULL,          -- winning rev
    deleted INTEGER NOT NULL,      -- winner is a tombstone
    tree TEXT NOT NULL             -- sync.revtree.dumps(...)
) WITHOUT ROWID;
CREATE UNIQUE INDEX IF NOT EXISTS docs_by_seq ON docs(seq);
CREATE INDEX IF NOT EXISTS docs_by_deleted ON docs(deleted, id);
CREATE TABLE IF NOT EXISTS revs(
    doc_id TEXT NOT NULL,
    rev TEXT NOT NULL,
    body TEXT NOT NULL,            -- compact JSON without "_" members
    atts TEXT,                     -- {name: {content_type, digest, length, revpos}} or NULL
    PRIMARY KEY (doc_id, rev)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS blobs(
    digest TEXT PRIMARY KEY,       -- "md5-<base64>": attachments are content-addressed
    data BLOB NOT NULL
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS local_docs(
    id TEXT PRIMARY KEY,           -- full id, "_local/..."
    rev INTEGER NOT NULL,
    body TEXT NOT NULL
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS meta(
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
) WITHOUT ROWID;
"""


def connect(path: str, *, synchronous: str = "FULL", create: bool = True) -> sqlite3.Connection:
    """Open ``path`` in autocommit mode (we issue BEGIN/COMMIT ourselves)."""
    # quote: database files may contain "%2F" (a "/" in the database name)
    uri = f"file:{urllib.parse.quote(os.path.abspath(path))}?mode={'rwc' if create else 'rw'}"
    try:
        conn = sqlite3.connect(
            uri, uri=True, isolation_level=None, check_same_thread=False, timeout=30.0
        )
    except sqlite3.OperationalError as exc:
        raise NotFound("Database does not exist.", error="not_found") from exc
    try:
        with translate_errors(path):
            # Only takes effect on a new, empty file (before WAL mode writes the
            # header): lets compact() give freed pages back to the file system.
            conn.execute("PRAGMA auto_vacuum=INCREMENTAL")
            enable_wal(conn)
            conn.execute(f"PRAGMA synchronous={synchronous}")
            conn.execute("PRAGMA temp_store=MEMORY")
            conn.execute("PRAGMA cache_size=-16000")
    except SyncError:
        conn.close()
        raise
    return conn


def enable_wal(conn: sqlite3.Connection) -> None:
    """Switch a new file to WAL (kept in the file: later connections find it set).

    Two processes opening a new database at once (the hub's gateways creating a scope
    index, or its oversight.sqlite) both try; the switch needs an exclusive lock and SQLite answers "locked"
    at once rather than waiting on the busy timeout, so it is retried for a while."""
    for attempt in range(200):
        try:
            if conn.execute("PRAGMA journal_mode").fetchone()[0].lower() != "wal":
                conn.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or attempt == 199:
                raise
            time.sleep(0.05)


def quick_check(path: str | os.PathLike[str]) -> list[str]:
    """SQLite's ``PRAGMA quick_check`` of the file at ``path``, opened read only: ``[]``
    when it is sound, else what SQLite found (at most 10 lines). quick_check reads every
    page and checks each b-tree's structure, without the O(N log N) index cross-check of
    integrity_check (SQLite docs, "PRAGMA quick_check"): backups run it on what they copy."""
    uri = f"file:{urllib.parse.quote(os.path.abspath(path))}?mode=ro"
    with translate_errors(os.fspath(path)):  # a file that cannot be read is not "damaged"
        try:
            conn = sqlite3.connect(uri, uri=True)
            try:
                rows = [str(r[0]) for r in conn.execute("PRAGMA quick_check(10)")]
            finally:
                conn.close()
        except sqlite3.DatabaseError as exc:  # "file is not a database", "malformed"
            if not is_damage(exc):
                raise
            return [str(exc)]
    return [] if rows == ["ok"] else rows


def is_damage(exc: sqlite3.Error) -> bool:
    """SQLITE_CORRUPT or SQLITE_NOTADB (any extended code): the file's pages are wrong."""
    code = getattr(exc, "sqlite_errorcode", None)
    return code is not None and code & 0xFF in (sqlite3.SQLITE_CORRUPT, sqlite3.SQLITE_NOTADB)


#: Free bytes below which a "disk I/O error" of a file is taken for its full disk.
IOERR_FULL_BELOW = 1 << 20


def _no_room(exc: sqlite3.Error, path: str) -> bool:
    """SQLITE_FULL; SQLITE_IOERR_SHMSIZE (no room to size the ``-shm`` file: what opening
    a store on a full disk answers, seen on a full tmpfs); or another "disk I/O error"
    while the file's disk has less than :data:`IOERR_FULL_BELOW` free."""
    code = getattr(exc, "sqlite_errorcode", None) or 0
    if code & 0xFF == sqlite3.SQLITE_FULL or code == sqlite3.SQLITE_IOERR_SHMSIZE:
        return True
    if code & 0xFF != sqlite3.SQLITE_IOERR or not path:
        return False
    try:
        return shutil.disk_usage(os.path.dirname(os.path.abspath(path))).free < IOERR_FULL_BELOW
    except OSError:
        return False


@contextlib.contextmanager
def translate_errors(path: str = "") -> Iterator[None]:
    """Turn sqlite3 errors into :mod:`sync.errors` at the backend boundary (``path``: the
    database file, named by a full disk's error)."""
    try:
        yield
    except SyncError:
        raise
    except sqlite3.OperationalError as exc:
        msg = str(exc)
        # SQLITE_FULL: a write found no free page (ENOSPC from the file system, or the
        # connection's max_page_count); or a full disk said as an I/O error (_no_room). The statement and, at COMMIT, the transaction
        # are undone (SQLite docs, "Result and Error Codes": SQLITE_FULL), so what was
        # stored before is intact and the store works again once space is freed.
        if _no_room(exc, path):
            full = InsufficientStorage(
                f"the disk holding {path or 'this database'} is full (sqlite: {msg}); nothing "
                "of this request was stored: free space, then retry")
            full.where = os.path.abspath(path) if path else ""
            raise full from exc
        if "locked" in msg or "busy" in msg:
            raise ServiceUnavailable(f"database busy: {msg}") from exc
        raise SyncError(f"sqlite: {msg}", error="internal_server_error") from exc
    except sqlite3.Error as exc:
        raise SyncError(f"sqlite: {exc}", error="internal_server_error") from exc


#: ``meta`` keys of the live and deleted document counts, kept by every write (flush)
#: so ``_all_docs``' ``total_rows`` and ``GET /db``'s counts are one row read: counting
#: the ``docs`` index scans every entry, which cost 10 ms per ``_all_docs`` at 200,000
#: documents and grows with the hub's database (CouchDB reads its b-tree reductions).
COUNT_KEYS = {False: "doc_count", True: "doc_del_count"}


def has_counts(conn: sqlite3.Connection) -> bool:
    """Whether the file keeps its counters already (then opening it writes nothing)."""
    (n,) = conn.execute("SELECT count(*) FROM meta WHERE key IN (?, ?)",
                        tuple(COUNT_KEYS.values())).fetchone()
    return int(n) == len(COUNT_KEYS)


def init_counts(conn: sqlite3.Connection) -> None:
    """Count once, in a write transaction, when a file has no counters yet (new, or
    written before they existed); the scalar subquery runs only for a missing key."""
    for deleted, key in COUNT_KEYS.items():
        conn.execute(
            "INSERT INTO meta(key, value) SELECT ?, (SELECT count(*) FROM docs WHERE deleted=?) "
            "WHERE NOT EXISTS (SELECT 1 FROM meta WHERE key=?)", (key, int(deleted), key))


def doc_counts(conn: sqlite3.Connection) -> tuple[int, int]:
    """``(doc_count, doc_del_count)`` from the counters."""
    found = dict(conn.execute("SELECT key, value FROM meta WHERE key IN (?, ?)",
                              tuple(COUNT_KEYS.values())).fetchall())
    return int(found.get(COUNT_KEYS[False], 0)), int(found.get(COUNT_KEYS[True], 0))


def add_counts(conn: sqlite3.Connection, live: int, deleted: int) -> None:
    """Move the counters by what one flush changed (same transaction as the rows)."""
    for delta, key in ((live, COUNT_KEYS[False]), (deleted, COUNT_KEYS[True])):
        if delta:
            conn.execute("UPDATE meta SET value = CAST(value AS INTEGER) + ? WHERE key=?",
                         (delta, key))


#: Idle read connections kept open per database (more are opened under load).
_POOL_SIZE = 8


class Connections:
    """The writer connection (under :attr:`write_lock`) and a pool of readers.

    A pool rather than thread-locals: threaded WSGI servers start a thread per
    request and thread-local connections would pile up."""

    def __init__(self, path: str, *, synchronous: str = "FULL", create: bool = True) -> None:
        self.path = path
        self._synchronous = synchronous
        if synchronous not in ("FULL", "NORMAL", "EXTRA"):
            raise ValueError("synchronous must be FULL, NORMAL or EXTRA")
        self.writer = connect(path, synchronous=synchronous, create=create)
        try:
            with translate_errors(path):
                self.writer.executescript(SCHEMA)
        except SyncError:
            self.writer.close()
            raise
        self.write_lock = threading.RLock()
        self._idle: list[sqlite3.Connection] = []
        self._pool_lock = threading.Lock()
        self.closed = False
        try:
            # Only a file without counters takes the write lock at open (several gateway
            # processes open the same files at once).
            with translate_errors(path):
                counted = has_counts(self.writer)
            if not counted:
                with self.write() as conn:
                    init_counts(conn)
        except SyncError:
            self.writer.close()
            raise

    def _acquire(self) -> sqlite3.Connection:
        with self._pool_lock:
            if self._idle:
                return self._idle.pop()
        return connect(self.path, synchronous=self._synchronous, create=False)

    def _release(self, conn: sqlite3.Connection) -> None:
        with self._pool_lock:
            if not self.closed and len(self._idle) < _POOL_SIZE:
                self._idle.append(conn)
                return
        conn.close()

    @contextlib.contextmanager
    def read(self) -> Iterator[sqlite3.Connection]:
        """A consistent snapshot (one read transaction)."""
        if self.closed:
            raise SyncError("database is closed", error="internal_server_error")
        with translate_errors(self.path):
            conn = self._acquire()
            try:
                conn.execute("BEGIN")
                try:
                    yield conn
                finally:
                    conn.execute("COMMIT")
            finally:
                self._release(conn)

    @contextlib.contextmanager
    def write(self) -> Iterator[sqlite3.Connection]:
        """One atomic write transaction on the single writer."""
        if self.closed:
            raise SyncError("database is closed", error="internal_server_error")
        with self.write_lock, translate_errors(self.path):
            self.writer.execute("BEGIN IMMEDIATE")
            try:
                yield self.writer
                self.writer.execute("COMMIT")
            except BaseException:
                # SQLITE_FULL and SQLITE_IOERR may have rolled the transaction back
                # already (SQLite docs, "Response To Errors Within A Transaction"): a
                # second ROLLBACK then fails and its "no transaction is active" hid the
                # cause; a failed COMMIT leaves it open, and the writer refused every
                # later BEGIN. Undo whichever is left, and raise the first error.
                if self.writer.in_transaction:
                    self.writer.execute("ROLLBACK")
                raise

    def close(self) -> None:
        with self._pool_lock:
            self.closed = True
            idle, self._idle = self._idle, []
        for conn in idle:
            with contextlib.suppress(sqlite3.Error):
                conn.close()
        with self.write_lock, contextlib.suppress(sqlite3.Error):
            self.writer.close()
