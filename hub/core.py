"""The hub as one object: settings, databases, indexer, validator, authentication.

:class:`Hub` is what the Flask app (``create_app``), the CLI and the workers share.
It holds no per-request state; several gateway processes may run over the same
store (design.md §7: stateless gateways, indexes in CouchDB).
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from hub.auth import Device, DeviceAuth
from hub.errors import NotInitialized
from hub.index import ScopeIndexer
from hub.index_cursor import FileCursor
from hub.replication.feeds import FeedSignal, FeedSlots
from hub.replication.scoped import ScopedStore
from hub.replication.view import AnonymousServer, DeviceServer
from hub.settings import Settings
from hub.storage import HubStores
from hub.validate import WriteValidator
from sync.errors import NotFound, SyncError

if TYPE_CHECKING:
    from hub.workers.shared import SharedWorkerState
    from sync.http.messages import Request
    from sync.http.routing import CouchApp

IDENTITY_ID = "hub:identity"


#: Seconds a refusal for a missing dependency (an earlier event of the case) is checked
#: again when another gateway process may be writing it (hub.replication.scoped).
PEER_WAIT = 5.0


class Hub:
    """Everything one hub process needs, opened lazily from :class:`Settings`."""

    def __init__(self, settings: Settings, stores: HubStores | None = None):
        self.settings = settings
        self.stores = stores or HubStores.from_settings(settings)
        # The gateway processes of this hub directory share the indexer's feed position,
        # so each row is indexed once however many processes serve (hub.index_cursor).
        self.indexer = ScopeIndexer(self.stores, FileCursor(
            Path(settings.hub_dir) / f"scope-indexer-{self.stores.prefix}.cursor"))
        self.signal = FeedSignal()
        self.feed_slots = FeedSlots(int(settings.feeds_per_device))
        self.indexer.listeners.append(self.signal.notify)
        self._validator: WriteValidator | None = None
        self._auth: DeviceAuth | None = None
        self._identity: dict[str, Any] | None = None
        self._keys: Any = None
        self.worker_stats: dict[str, Any] = {}
        self.workers_busy = False
        #: The workers' process under `hub serve` (hub.workers.shared): its busy flag and
        #: counters, for this gateway's /_hub/health.
        self.workers_state: SharedWorkerState | None = None
        self._lock = threading.Lock()

    # -- identity -----------------------------------------------------------------
    @property
    def identity(self) -> dict[str, Any]:
        """``hub:identity`` in the private database: uuid, city code, the hub's device id."""
        if self._identity is None:
            try:
                self._identity = self.stores.private.get(IDENTITY_ID)
            except (NotFound, NotInitialized) as exc:
                raise NotInitialized(self._no_identity()) from exc
        return self._identity

    def _no_identity(self) -> str:
        """Why there is no hub here, and what to do: with HUB_DIR/keys present the store is
        lost, moved or another one is named, and `hub init` is the wrong advice (it
        refuses: stations pin this hub's root key, hub.keys.refuse_existing)."""
        from hub.keys import KEYCHAIN

        url = str(self.settings.couchdb_url or "")
        where = (f"CouchDB at {url.split('@')[-1]}" if url
                 else f"the embedded store in {self.settings.path / 'db'}")
        keys = self.settings.path / "keys" / KEYCHAIN
        if keys.exists():
            return (f"no hub in {where} (prefix {self.stores.prefix}), yet {keys} exists: "
                    f"the store is lost, moved or not the one named ({self.stores.named_by}): "
                    "point to it, or load the last "
                    "backup with `bangban hub restore DIR`; not `hub init` (stations pin "
                    "this hub's root key)")
        return (f"no hub in {where}: run `bangban hub init` first (or give the hub's "
                "folder: --hub-dir or BANGBAN_HUB_DIR)")

    def initialised(self) -> bool:
        try:
            return bool(self.identity)
        except NotInitialized:
            return False
        return True

    def create_identity(self, **fields: Any) -> dict[str, Any]:
        self.stores.create()
        doc = {"_id": IDENTITY_ID, "type": "hub_identity", "uuid": uuid.uuid4().hex, **fields}
        self.stores.private.put(doc)
        self._identity = None
        return self.identity

    @property
    def keys(self) -> Any:
        """The hub's unlocked root and device keys (:class:`hub.keys.HubKeys`)."""
        if self._keys is None:
            from hub import keys as hub_keys

            self._keys = hub_keys.HubKeys(hub_keys.load(self.settings.hub_dir),
                                          self.identity["device_id"])
        return self._keys

    def reset_keys(self) -> None:
        self._keys = None
        self._identity = None

    # -- parts ----------------------------------------------------------------------
    @property
    def auth(self) -> DeviceAuth:
        if self._auth is None:
            self._auth = DeviceAuth(self.stores.private,
                                    cache_seconds=self.settings.auth_cache_seconds)
        return self._auth

    @property
    def validator(self) -> WriteValidator:
        with self._lock:
            if self._validator is None:
                from hub.signatures import SignatureCheck
                from hub.transitions import TransitionCheck

                self._validator = WriteValidator(
                    self.stores, self.indexer,
                    max_document_bytes=self.settings.max_document_bytes,
                    signatures=SignatureCheck(self.stores),
                    transitions=TransitionCheck(self.stores),
                    # Pre-forked gateways, or several over one CouchDB (design.md §7): a
                    # device's two concurrent batches may reach two processes.
                    peer_wait=PEER_WAIT if (self.settings.hub_processes > 1
                                            or self.settings.couchdb_url) else 0.0)
            return self._validator

    def view(self, device: Device, *, via: str = "replication") -> ScopedStore:
        """``device``'s view; ``via`` says in its events' receipts how they came
        (``"bundle"`` for ``hub bundle import``)."""
        return ScopedStore(self.stores, self.indexer, self.validator, device, signal=self.signal,
                           changes_limit=self.settings.changes_limit,
                           longpoll_timeout=self.settings.longpoll_timeout, via=via,
                           name=self.endpoint)

    def http_settings(self) -> Any:
        from sync.http.settings import HTTPSettings

        # A device's feed holds one of the gateway's few request threads while it waits: a
        # heartbeat or a continuous feed ran for sync.http's changes_timeout_max (an hour),
        # so one device's credentials and `hub_threads` such requests stopped the gateway for
        # every station. Every wait of a device's feed ends at longpoll_timeout.
        wait = self.settings.longpoll_timeout
        origins = tuple(o.strip() for o in self.settings.cors_origins.split(",") if o.strip())
        return HTTPSettings(max_http_request_size=self.settings.max_request_bytes,
                            changes_timeout=wait, changes_timeout_max=wait,
                            cors_origins=origins)

    def device_app(self, device: Device, *,
                   on_error: Callable[[Request, SyncError], SyncError] | None = None) -> CouchApp:
        """``device``'s CouchDB API; ``on_error`` says its errors to it (the HTTP layer
        keeps the store's address out of them: :func:`hub.app.said_to_devices`)."""
        from sync.http.routing import CouchApp

        server = DeviceServer(self.view(device), uuid=self.identity["uuid"])
        return CouchApp(server, self.http_settings(), on_error=on_error)

    def anonymous_app(self) -> CouchApp:
        from sync.http.routing import CouchApp

        return CouchApp(AnonymousServer(uuid=self.identity["uuid"]), self.http_settings())

    def stats(self) -> dict[str, Any]:
        """Counters for health checks and the demo summary."""
        out: dict[str, Any] = {"routed": self.indexer.routed,
                               "refused": self._validator.refused if self._validator else 0}
        out.update(self.worker_stats)
        if self.workers_state is not None:  # the workers' process: its routing adds up
            theirs = self.workers_state.stats
            out.update(theirs, routed=out["routed"] + int(theirs.get("routed", 0)))
        return out

    def pending(self) -> bool:
        """Whether the workers are running or have changes of the main database left."""
        from hub.workers.deadlines import CHECKPOINT as DEADLINES
        from hub.workers.feed import FeedFollower
        from hub.workers.resolver import CHECKPOINT as RESOLVER

        if self.workers_busy or (self.workers_state is not None and self.workers_state.busy):
            return True
        for name in (RESOLVER, DEADLINES):
            since = FeedFollower(self.stores, name).checkpoint()
            if self.stores.main.changes(since=since, limit=1)["results"]:
                return True
        return False

    @property
    def endpoint(self) -> str:
        """The database name devices replicate (the last segment of their enrollment's
        ``db_url``): the store's prefix, or the ``db_name`` of the identity that a restore
        into another prefix keeps (:func:`hub.backup.restore`): every station's URL names
        the prefix the hub was enrolling under."""
        try:
            return str(self.identity.get("db_name") or self.stores.prefix)
        except NotInitialized:
            return self.stores.prefix

    @property
    def db_url(self) -> str:
        """The replication database URL devices use (credentials not included)."""
        return f"{self.settings.url}/{self.endpoint}"

    def close(self) -> None:
        from hub.receipts import flush_receipts

        for last in (self.indexer.flush, lambda: flush_receipts(self.stores)):
            try:  # and the receipt times that waited (hub.receipts)
                last()
            except Exception:  # closing must not fail because the store is already gone
                pass
        self.indexer.close()
        self.stores.close()
