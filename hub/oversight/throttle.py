"""Failed oversight logins, counted in one SQLite file shared by every gateway process.

A supervisor's password is chosen by a person and each guess costs the attacker one request
(11.1: supervisors see a whole subtree's cases). After ``max_failures`` wrong passwords
within ``window`` seconds, that login from that address is refused without checking the
password (no scrypt run either) until the oldest failure leaves the window. Keyed by
address too, so a stranger cannot lock a supervisor out from elsewhere; a correct login
clears the count. One address is held to ``max_address_failures`` wrong passwords in the
window over all logins together: counted per login only, an address tried five common
passwords on every supervisor's login in turn (password spraying), unchecked.

The same file keeps the logins ended by 退出 (:meth:`LoginThrottle.end_session`): the login
cookie is signed, not stored, so without a record of its end a copy of it taken before the
logout (an office computer's cookie store, a proxy's log) kept opening the pages for the
rest of its 12 hours (OWASP Session Management: logout invalidates the session on the
server). Only SHA-256 digests of the session ids, each row dropped when the cookie expires.

The count lives in ``HUB_DIR/logins.sqlite``, not in a process's memory: `hub serve
--processes N` balances connections over N gateways, and an in-memory count gave an
attacker N times the guesses and a fresh start at every restart. A file of its own, so
a burst of guesses never waits on the oversight fold's writer. Times are wall-clock
seconds (``time.time``): monotonic clocks are not comparable between processes.
"""

from __future__ import annotations

import functools
import hashlib
import sqlite3
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

from hub.errors import HubError
from sync.sqlite import enable_wal

T = TypeVar("T")
FILE = "logins.sqlite"
#: Rows kept at most: a flood of made-up logins must not grow the file without bound.
MAX_ROWS = 100_000
_SCHEMA = """
CREATE TABLE IF NOT EXISTS failures (login TEXT NOT NULL, address TEXT NOT NULL, at REAL NOT NULL);
CREATE INDEX IF NOT EXISTS failures_key ON failures (login, address, at);
CREATE INDEX IF NOT EXISTS failures_at ON failures (at);
CREATE INDEX IF NOT EXISTS failures_address ON failures (address, at);
CREATE TABLE IF NOT EXISTS ended (session TEXT PRIMARY KEY, until REAL NOT NULL);
"""


class ThrottleError(HubError):
    """The login-failure file cannot be read or written (503: try again)."""

    status, error = 503, "service_unavailable"


class LoginThrottle:
    """Failed logins per (login, client address), and per address, within a sliding
    window."""

    def __init__(self, path: str | Path, max_failures: int = 5, window: float = 900.0,
                 clock: Callable[[], float] = time.time, max_address_failures: int = 20):
        self.path = str(path)
        self.max_failures = max_failures
        self.max_address_failures = max_address_failures
        self.window = window
        self.clock = clock
        self._local = threading.local()
        self._run(lambda db: db.executescript(_SCHEMA))

    def _db(self) -> sqlite3.Connection:
        db = getattr(self._local, "db", None)
        if db is None:
            db = sqlite3.connect(self.path, timeout=10, isolation_level=None,
                                 check_same_thread=False)
            try:
                enable_wal(db)  # retried: gateways starting at once race on a new file
            except sqlite3.Error:
                db.close()
                raise
            self._local.db = db
        return db

    def _run(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        try:
            return fn(self._db())
        except sqlite3.Error as exc:
            raise ThrottleError(f"login failures ({self.path}): {exc}") from exc

    def _times(self, db: sqlite3.Connection, login: str | None, address: str,
               now: float) -> list[float]:
        """The failures in the window from ``address``: of ``login``, or (None) of any."""
        where = "address = ? AND at > ?" + ("" if login is None else " AND login = ?")
        args = (address, now - self.window, *(() if login is None else (login,)))
        rows = db.execute(f"SELECT at FROM failures WHERE {where} ORDER BY at", args).fetchall()
        return [r[0] for r in rows]

    def wait_seconds(self, login: str, address: str) -> int:
        """0 when a try is allowed, else the seconds until the next one is."""
        now = self.clock()
        wait = 0.0
        limits: tuple[tuple[str | None, int], ...] = (
            (login, self.max_failures), (None, self.max_address_failures))
        for who, limit in limits:
            times = self._run(functools.partial(self._times, login=who, address=address,
                                                now=now))
            if len(times) >= limit:
                wait = max(wait, times[-limit] + self.window - now)
        return max(1, int(wait + 0.999)) if wait > 0 else 0

    def failed(self, login: str, address: str) -> None:
        now = self.clock()

        def write(db: sqlite3.Connection) -> None:
            with db:  # one transaction: the insert and the pruning of what left the window
                db.execute("BEGIN IMMEDIATE")
                db.execute("DELETE FROM failures WHERE at <= ?", (now - self.window,))
                db.execute("INSERT INTO failures VALUES (?, ?, ?)", (login, address, now))
                db.execute("DELETE FROM failures WHERE rowid IN (SELECT rowid FROM failures "
                           "ORDER BY at DESC LIMIT -1 OFFSET ?)", (MAX_ROWS,))
        self._run(write)

    def succeeded(self, login: str, address: str) -> None:
        self._run(lambda db: db.execute(
            "DELETE FROM failures WHERE login = ? AND address = ?", (login, address)))

    def end_session(self, session_id: str, until: float) -> None:
        """The login ``session_id`` is over (退出): :meth:`session_ended` says so until
        ``until`` (wall-clock seconds), when its cookie has expired anyway."""
        now = self.clock()

        def write(db: sqlite3.Connection) -> None:
            with db:
                db.execute("BEGIN IMMEDIATE")
                db.execute("DELETE FROM ended WHERE until <= ?", (now,))
                db.execute("INSERT OR REPLACE INTO ended VALUES (?, ?)",
                           (_digest(session_id), until))
        self._run(write)

    def session_ended(self, session_id: str) -> bool:
        row = self._run(lambda db: db.execute(
            "SELECT 1 FROM ended WHERE session = ?", (_digest(session_id),)).fetchone())
        return row is not None


def _digest(session_id: str) -> str:
    return hashlib.sha256(session_id.encode("utf-8", "surrogatepass")).hexdigest()
