"""The hub's databases, always reached through :mod:`sync.store`'s interface.

One :class:`sync.store.StoreServer` holds them: Apache CouchDB through the couch
backend (``ibmcloudant``) when ``BANGBAN_COUCHDB_URL`` is set, the embedded SQLite
store in ``HUB_DIR/db`` otherwise. Databases (``P`` = ``db_prefix``):

``P``             every replicated document: reference data, cases, events, keyrings.
``P-hub``         hub-private state never served to devices: device credentials
                  (salted scrypt hashes), case routes, worker checkpoints (``_local``).
``P-receipts``    when the hub received each event, one document per accepted batch
                  (:mod:`hub.receipts`, design.md §6); never served to devices.
``P-scope-all``   the scope index of reference data every device sees.
``P-scope-CODE``  the scope index of institution CODE (design.md §7: per-scope change
                  indexes live in the store, not in process memory).
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from hub.errors import ConfigError, NotInitialized
from hub.settings import Settings
from sync.errors import NotFound, ServiceUnavailable, SyncError, TransportError
from sync.store import DocumentStore, StoreServer

ALL_SCOPE = "all"
_SAFE = re.compile(r"[^a-z0-9_$()+/-]")


#: Where the URL came from when the caller does not know (:meth:`Settings.origin` does).
SOMEWHERE = "couchdb_url (--couchdb-url, HUB_DIR/settings.json or BANGBAN_COUCHDB_URL)"


def check_couchdb_url(url: str, origin: str = SOMEWHERE) -> str:
    """``url`` if it is an http(s) URL. Anything else used to be taken for a folder: a
    typo such as ``127.0.0.1:5984`` put the hub's store in ``./127.0.0.1:5984``.
    ``origin``: where the URL was set, so the operator edits that place."""
    from sync.open import is_url

    if url and not is_url(url):
        raise ConfigError(f"{origin}: {url.split('@')[-1]!r} "
                          "is not an http:// or https:// URL (http://USER:PASSWORD@HOST:5984)")
    # "http://admin:pa/ss@host": the host part ends at the "/", so "pa" is read as the port
    # (ValueError) or, all digits, the port of a host "admin", and the password goes unused
    try:
        parts = urlsplit(url)
        _ = parts.port  # ValueError when not a number
        ok = parts.username is not None or "@" not in url
    except ValueError:
        ok = False
    if not ok:
        raise ConfigError(f"{origin}: its user name or "
                          "password holds a character a URL cannot carry as it is: write / # "
                          "? @ : there as %2F %23 %3F %40 %3A")
    return url


def store_server(url: str) -> str:
    """``HOST:PORT`` of the hub's CouchDB URL, never its credentials: how every message
    names the store (with or without ``USER:PASSWORD@`` in the URL, the same words)."""
    return urlsplit(url).netloc.rpartition("@")[2]


def couchdb_errors(url: str, origin: str = SOMEWHERE) -> Callable[[SyncError], SyncError]:
    """What the hub's CouchDB answers, said as the hub's: the operator reads it in `hub`
    commands, the log and `hub doctor`, so it names the setting to look at and the server
    (never the password). A 401 there is the hub's configuration, not a client's: it is
    raised as a 503, so a device whose request met it retries instead of hearing that the
    hub refused *it* (CouchDB docs, "HTTP Status Codes": 503 = try again later).
    ``origin`` (:meth:`hub.settings.Settings.origin`): where the URL was set; they named
    BANGBAN_COUCHDB_URL when it was in settings.json, and the operator looked for a
    variable that was never set."""
    server = store_server(url)

    def name_the_store(exc: SyncError) -> SyncError:
        if isinstance(exc, TransportError):
            cause = exc.reason.removeprefix(f"cannot reach {server}: ")
            exc.reason = f"CouchDB at {server} ({origin}): {cause}"
            exc.args = (exc.reason,)
        elif exc.status == 401:
            said = "" if exc.reason.startswith("HTTP 401") else f" ({exc.reason})"
            return ServiceUnavailable(
                f"CouchDB at {server} refused the user name or password in {origin}"
                f"{said}: set the right ones there", error="store_unauthorized")
        from hub.diskfull import as_store_full

        return as_store_full(exc)
    return name_the_store


def store_cause(exc: SyncError) -> str:
    """What kind of failure of the hub's store ``exc`` is, in one word for monitoring:
    ``unreachable`` (no connection, no answer in time: CouchDB down or its machine),
    ``credentials_refused`` (CouchDB refuses the account in the hub's couchdb_url: a
    password changed, no restart of CouchDB helps), ``failing`` (CouchDB answers with an
    error: its log says why). Never its words: they name CouchDB's host and port."""
    if isinstance(exc, TransportError):
        return "unreachable"
    if exc.error == "store_unauthorized" or exc.status in (401, 403):
        return "credentials_refused"
    return "failing"


def open_server(settings: Settings, *,
                timeout: tuple[float, float] | None = None) -> StoreServer:
    """The configured backend (CouchDB URL or the embedded folder). ``timeout``: CouchDB's
    (connect, read) seconds when not the client's default (`hub doctor`'s are short)."""
    from sync.open import open_server as _open  # lazy: the couch backend pulls in ibmcloudant

    if settings.couchdb_url:
        origin = settings.origin("couchdb_url")
        url = check_couchdb_url(str(settings.couchdb_url), origin)
        opts = {"timeout": timeout} if timeout else {}
        return _open(url, on_error=couchdb_errors(url, origin), **opts)
    folder = Path(settings.hub_dir) / "db"
    folder.mkdir(parents=True, exist_ok=True)
    return _open(str(folder))


class HubStores:
    """The hub's databases on one server, opened lazily and cached."""

    def __init__(self, server: StoreServer, prefix: str = "bangban"):
        if not re.fullmatch(r"[a-z][a-z0-9_$()+/-]*", prefix):
            raise ConfigError(f"db_prefix {prefix!r} is not a legal CouchDB database name")
        self.server = server
        self.prefix = prefix
        self._open: dict[str, DocumentStore] = {}
        self._lock = threading.Lock()
        self._opening: dict[str, threading.Lock] = {}
        #: reference documents by code, per id prefix: (read at, documents)
        self._reference: dict[str, tuple[float, dict[str, dict[str, Any]]]] = {}
        self.where = ""  # the store's location for messages (:meth:`from_settings`)
        #: the settings that chose it, where each was set (:meth:`from_settings`)
        self.named_by = "--hub-dir or BANGBAN_HUB_DIR; BANGBAN_COUCHDB_URL, BANGBAN_DB_PREFIX"

    @classmethod
    def from_settings(cls, settings: Settings, *,
                      timeout: tuple[float, float] | None = None) -> HubStores:
        stores = cls(open_server(settings, timeout=timeout), settings.db_prefix)
        url = str(settings.couchdb_url or "")  # named in errors, never with its password
        stores.where = ("CouchDB at " + url.split("@")[-1]) if url else f"{settings.hub_dir}/db"
        stores.named_by = "; ".join(settings.origin(k) for k in (
            "hub_dir", "couchdb_url", "db_prefix"))  # no URL: perhaps one was meant
        return stores

    # -- names -----------------------------------------------------------------
    @property
    def main_name(self) -> str:
        return self.prefix

    def scope_name(self, scope: str) -> str:
        return f"{self.prefix}-scope-{_SAFE.sub('_', scope.lower())}"

    # -- databases ---------------------------------------------------------------
    def _db(self, name: str, *, create: bool) -> DocumentStore:
        db = self._open.get(name)
        if db is not None:
            return db
        # Opening (or creating) a database file takes a while: only the threads that want
        # that same database wait for it, not every request of the gateway.
        with self._lock:
            db = self._open.get(name)
            if db is not None:
                return db
            opening = self._opening.setdefault(name, threading.Lock())
        with opening:
            db = self._open.get(name)
            if db is not None:
                return db
            try:
                db = (self.server.create_db(name, exist_ok=True) if create
                      else self.server.db(name))
            except NotFound as exc:  # a typo in --hub-dir, another prefix, or a new hub
                raise NotInitialized(
                    f"no hub database {name} in {self.where or 'the store'} "
                    f"({self.named_by}); `bangban hub init` only to start a new hub") from exc
            with self._lock:
                self._open[name] = db
            return db

    @property
    def main(self) -> DocumentStore:
        return self._db(self.main_name, create=False)

    def institutions(self, max_age: float = 60.0) -> dict[str, dict[str, Any]]:
        """``code -> institution document`` of the main database, read again at most every
        ``max_age`` seconds (the write checks and the oversight pages share it)."""
        return self._by_code("institution:", max_age)

    def service_items(self, max_age: float = 60.0) -> dict[str, dict[str, Any]]:
        """``code -> service_item document`` (the 清单), read again at most every
        ``max_age`` seconds (the time-limit check of acceptances reads it)."""
        return self._by_code("service_item:", max_age)

    def calendars(self, max_age: float = 60.0) -> dict[str, dict[str, Any]]:
        """``year -> calendar document`` (design.md §6: the holidays of the years
        chinesecalendar does not know), read again at most every ``max_age`` seconds (the
        write checks count working days with them, as the stations do)."""
        return self._by_code("calendar:", max_age, key="year")

    def _by_code(self, prefix: str, max_age: float, key: str = "code"
                 ) -> dict[str, dict[str, Any]]:
        """The reference documents under ``prefix`` by their ``key`` member, cached; an
        empty answer too (a hub with no 清单 read it again at every acceptance it checked:
        ~2% of an ingest; none is the usual state of ``calendar:`` while chinesecalendar
        knows the year). :meth:`forget_reference` drops it when the hub writes one."""
        found = self._reference.get(prefix)
        at, docs = found or (0.0, {})
        if found is None or time.monotonic() - at > max_age:
            rows = self.main.all_docs(startkey=prefix, endkey=prefix + "\ufff0",
                                      include_docs=True, offset=False)["rows"]
            docs = {str(r["doc"][key]): r["doc"] for r in rows
                    if r.get("doc") and r["doc"].get(key)}
            self._reference[prefix] = (time.monotonic(), docs)
        return docs

    def forget_reference(self) -> None:
        """Read the reference documents again at the next ask (the hub just wrote one)."""
        self._reference.clear()

    @property
    def private(self) -> DocumentStore:
        return self._db(f"{self.prefix}-hub", create=False)

    @property
    def receipts(self) -> DocumentStore:
        """Receipt times of events (:mod:`hub.receipts`), created on first use: hubs made
        before receipts existed get it at their first write."""
        return self._db(f"{self.prefix}-receipts", create=True)

    def scope(self, scope: str) -> DocumentStore:
        """The scope index of an institution code (or :data:`ALL_SCOPE`), created on first use."""
        return self._db(self.scope_name(scope), create=True)

    def create(self) -> None:
        """Create the main and private databases (``bangban hub init``)."""
        for name in (self.main_name, f"{self.prefix}-hub", f"{self.prefix}-receipts",
                     self.scope_name(ALL_SCOPE)):
            self._db(name, create=True)

    def exists(self) -> bool:
        """Whether the main database is there. A store that cannot be asked (CouchDB down,
        or refusing the hub's credentials) raises: taken for "no hub yet", it let `hub init`
        make the keys and then fail, and every `hub init` after it refused those keys."""
        return self.main_name in self.server.all_dbs()

    def close(self) -> None:
        with self._lock:
            for db in self._open.values():
                db.close()
            self._open.clear()
        self.server.close()
