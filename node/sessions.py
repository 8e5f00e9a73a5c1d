"""Browser sessions of an unlocked node: who may read the cases the keys open.

Unlocking puts the keychain in this process's memory; before sessions, every request that
passed the host and Fetch-Metadata checks was then served, so another OS user of the same
laptop (or any local process) could read every case in clear with ``curl`` while the clerk
worked (7.2.2 personal information protection; design.md §5: personal data is opened only
for the clerk who unlocked). Now the passphrase form issues a random token in a cookie, and
only a request carrying a live token gets a page or API answer that needs the keys. A
second browser enters the passphrase again (checked against the keychain: one scrypt run).

Tokens live in memory only, never on disk, and end all at once when the keys are dropped
(lock, idle lock, wipe). Only their SHA-256 is kept: comparing digests of equal length
leaks nothing useful about a live token through timing.
What this does not protect against: root on the laptop (or the clerk's own OS account)
can read the process's memory, keys and tokens included.
"""

from __future__ import annotations

import hashlib
import secrets
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Mapping
from typing import Any

#: Live sessions kept at most; the oldest is dropped for a new one (a clerk opens a second
#: browser, a script unlocks once per run: a few, never hundreds).
MAX_SESSIONS = 8

COOKIE_PREFIX = "bangban_node_"


def cookie_name(environ: Mapping[str, Any]) -> str:
    """The session cookie's name for the node serving ``environ``. Browsers keep cookies per
    host, not per port (RFC 6265 §8.5): two nodes on one laptop (a demo's stations, the
    village and town in the browser test) would overwrite each other's cookie under one name."""
    port = str(environ.get("SERVER_PORT") or "")
    return COOKIE_PREFIX + (port if port.isdigit() else "0")


def cookie_options() -> dict[str, Any]:
    """Attributes of the session cookie: HttpOnly (no script of a page reads it), SameSite
    Strict (no other site's page makes the browser send it, not even a followed link), path
    ``/``, and no Max-Age or Expires: the browser forgets it when it closes."""
    return {"httponly": True, "samesite": "Strict", "path": "/"}


def _digest(token: str) -> bytes:
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).digest()


class Sessions:
    """The live session tokens of one node process (bounded, oldest dropped first)."""

    def __init__(self, limit: int = MAX_SESSIONS):
        if limit < 1:
            raise ValueError("a node needs room for at least one session")
        self.limit = limit
        #: digest -> what this browser chose (node.window: the staff at the window), kept
        #: as long as the session and no longer
        self._live: OrderedDict[bytes, dict[str, Any]] = OrderedDict()
        self._guard = threading.Lock()

    def issue(self) -> str:
        """A new token (``secrets.token_urlsafe(32)``: 256 random bits)."""
        token = secrets.token_urlsafe(32)
        with self._guard:
            self._live[_digest(token)] = {}
            while len(self._live) > self.limit:
                self._live.popitem(last=False)
        return token

    def valid(self, token: str | None) -> bool:
        if not token:
            return False
        with self._guard:
            return _digest(token) in self._live

    def get(self, token: str | None, key: str) -> Any:
        """What the session ``token`` keeps under ``key`` (None: not set, or no session)."""
        if not token:
            return None
        with self._guard:
            return (self._live.get(_digest(token)) or {}).get(key)

    def put(self, token: str | None, key: str, value: Any) -> bool:
        """Keep ``value`` under ``key`` for the live session ``token``; False without one."""
        if not token:
            return False
        with self._guard:
            data = self._live.get(_digest(token))
            if data is None:
                return False
            data[key] = value
            return True

    def clear(self) -> None:
        """End every session: the keys were dropped."""
        with self._guard:
            self._live.clear()

    def __len__(self) -> int:
        with self._guard:
            return len(self._live)


class UnlockThrottle:
    """Wrong passphrases at the unlock page, counted in this node process's memory.

    A session exists so that another OS user of the laptop cannot read the cases (see the
    module's docstring), and such a user can still guess at ``/unlock``: each guess costs
    one scrypt run (~0.4 s), so an 8-character passphrase of lowercase letters would fall
    in days. After ``free`` wrong passphrases in a row, each further try waits
    ``first_wait`` seconds, doubling per wrong one up to ``max_wait``; the right passphrase
    clears the count. A clerk who mistypes a few times is never held up; a script is slowed
    to a handful of guesses an hour. One process serves a node, so memory is enough: another
    OS user cannot restart the clerk's process to clear it.
    """

    def __init__(self, free: int = 5, first_wait: float = 30.0, max_wait: float = 900.0,
                 clock: Callable[[], float] = time.monotonic):
        self.free, self.first_wait, self.max_wait = free, first_wait, max_wait
        self.clock = clock
        self._failures = 0
        self._next_try = 0.0
        self._guard = threading.Lock()

    def wait_seconds(self) -> int:
        """0 when a try is allowed now, else the whole seconds until it is."""
        with self._guard:
            left = self._next_try - self.clock()
        return 0 if left <= 0 else int(left + 0.999)

    def failed(self) -> None:
        with self._guard:
            self._failures += 1
            over = self._failures - self.free
            if over > 0:
                wait = min(self.max_wait, self.first_wait * 2 ** min(over - 1, 20))
                self._next_try = self.clock() + wait

    def succeeded(self) -> None:
        with self._guard:
            self._failures, self._next_try = 0, 0.0
