"""The hub's Flask application factory.

``create_app(config)`` builds one :class:`hub.core.Hub` from the settings and
registers one blueprint per resource:

* :mod:`hub.replication.blueprint` — the CouchDB-compatible replication endpoint
  (``/`` and ``/{db}/…``), per device view;
* :mod:`hub.api` — the hub's own resources under ``/_hub/`` (health, key registration);
* every module named in :data:`EXTRA_BLUEPRINTS` that exists (the oversight dashboard
  of issue 8 plugs in here: ``hub/oversight/__init__.py`` exposing ``blueprint`` and
  optionally ``init_app(app)``).
"""

from __future__ import annotations

import importlib
import json
import logging
import time
from collections.abc import Mapping
from typing import Any

from flask import Flask, Response, g, has_request_context, request

from hub.core import Hub
from hub.errors import HubError
from hub.settings import Settings
from sync.errors import InsufficientStorage, ServiceUnavailable, SyncError

#: Optional blueprints registered when their module exists (registration point, issue 8).
EXTRA_BLUEPRINTS = ("hub.oversight",)
#: The answer while the hub's store fails (the cause, naming the server, goes to the log
#: only: this is sent to anyone, and a station only needs to know to retry).
STORE_DOWN = {"error": "service_unavailable",
              "reason": "the hub's database does not answer; retry later (the hub's log "
                        "and `bangban hub doctor` say why)"}

#: Seconds a client is asked to wait before it retries while the store fails (RFC 9110
#: §10.2.3 "Retry-After", sent with every such 503): stations retry on their own schedule,
#: a browser's reader is told to reload later.
RETRY_AFTER = 30

log = logging.getLogger("bangban.hub")
#: At most one line per this many seconds while the store fails (stations keep retrying).
LOG_EVERY = 30.0
_last_logged = [float("-inf"), 0]  # monotonic time of the last line, requests since


def time_to_log(last: list[Any]) -> str | None:
    """``None`` while the line of ``last`` (``[monotonic time, requests since]``) is younger
    than :data:`LOG_EVERY` (the request is counted); else the ``(N more requests …)`` part
    of the next line, and the clock restarts."""
    now = time.monotonic()
    if now - last[0] < LOG_EVERY:
        last[1] += 1
        return None
    more = f" ({last[1]} more requests since the last line)" if last[1] else ""
    last[:] = [now, 0]
    return more


def store_failed(what: str, exc: SyncError) -> None:
    """Log that ``what`` (a request) met a failing store: the cause in one line, at most
    every :data:`LOG_EVERY` seconds, with how many more requests met it meanwhile."""
    if has_request_context():  # its answer says when to retry (create_app's after_request)
        g.bangban_store_down = True
    more = time_to_log(_last_logged)
    if more is not None:
        log.warning("%s: the hub's store failed: %s%s", what, exc.reason, more)


def store_down(exc: SyncError, *, couch_api: bool = False) -> bool:
    """Whether ``exc``, raised under a request, is the hub's store failing (CouchDB down,
    or refusing the hub's credentials: :func:`hub.storage.couchdb_errors` makes that a
    503), not something about the request: a client's error is below 500; 501 is the
    CouchDB API saying an endpoint is not served. A 401 or 403 reaching a route is CouchDB
    refusing the hub (the hub's own refusals there are :class:`HubError`); inside the
    device's CouchDB API (``couch_api``) they are the hub refusing the device's writes."""
    if exc.status in (401, 403):
        return not couch_api
    return exc.status >= 500 and exc.status != 501


def said_to_devices(exc: SyncError, *, what: str, settings: Settings) -> SyncError:
    """What a device's replication request (:mod:`hub.replication.blueprint`) is told of
    ``exc``: the store's failure as :data:`STORE_DOWN`, a full disk as
    :data:`hub.diskfull.STORE_FULL`, their causes (CouchDB's address, the folder) to the log
    only; the others as raised. Stations only need to know to retry, and the
    store's address is of use to no one outside the hub's machines. ``what`` names the
    request in the log line: no Flask globals here, since a streamed feed's failure comes
    after its view has returned (sync.http.routing)."""
    if not store_down(exc, couch_api=True):
        return exc
    from hub.diskfull import STORE_FULL, is_disk_full, store_full

    if is_disk_full(exc):  # 507, retry later; the folder and its free space to the log only
        store_full(what, settings)
        return InsufficientStorage(STORE_FULL["reason"])
    store_failed(what, exc)
    return ServiceUnavailable(STORE_DOWN["reason"])


def create_app(config: Mapping[str, Any] | None = None, *, hub: Hub | None = None) -> Flask:
    settings = hub.settings if hub is not None else Settings.load(config)
    app = Flask("hub")
    app.config["MAX_CONTENT_LENGTH"] = settings.max_request_bytes
    app.extensions["bangban_hub"] = hub or Hub(settings)
    if int(settings.proxy_hops):
        # request.remote_addr becomes the client's address as the trusted proxies state it
        # (werkzeug reads that many hops from the right of X-Forwarded-For, so an address a
        # client wrote in front is never taken); only the address: the scheme of the login
        # cookie comes from public_url (hub.oversight.init_app), not from a header
        from werkzeug.middleware.proxy_fix import ProxyFix

        hops = int(settings.proxy_hops)
        fixed = ProxyFix(app.wsgi_app, x_for=hops, x_proto=0, x_host=0, x_port=0, x_prefix=0)
        app.wsgi_app = fixed  # type: ignore[method-assign]

    from hub.api import blueprint as api
    from hub.replication.blueprint import blueprint as replication

    app.register_blueprint(api)
    for name in EXTRA_BLUEPRINTS:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name == name:
                continue
            raise
        if hasattr(module, "init_app"):
            module.init_app(app)
        elif hasattr(module, "blueprint"):
            app.register_blueprint(module.blueprint)
    app.register_blueprint(replication)  # last: its routes catch every database path

    @app.errorhandler(HubError)
    def _hub_error(exc: HubError) -> Response:
        return _json(exc.status, exc.as_json())

    @app.errorhandler(SyncError)
    def _store_error(exc: SyncError) -> Response:
        # An error of the hub's own store that reached a route (a device's login reads its
        # record, the health probe reads the feed): CouchDB down, or refusing the hub's
        # credentials. Not the client's doing, so not its status (a 401 there told a
        # station the hub refused *it*): 503, retry later (CouchDB docs, "HTTP Status
        # Codes"). One line to the log, without a traceback: during an outage every
        # request of every station meets it.
        if not store_down(exc):
            return _json(exc.status, exc.as_json())
        from hub.diskfull import STORE_FULL, is_disk_full, store_full

        if is_disk_full(exc):  # 507, retry later: not a store that does not answer
            store_full(f"{request.method} {request.path}", app.extensions["bangban_hub"].settings)
            return _json(507, STORE_FULL)
        store_failed(f"{request.method} {request.path}", exc)
        return _json(503, STORE_DOWN)

    @app.after_request
    def _retry_after(response: Response) -> Response:
        if g.get("bangban_store_down"):
            response.headers.setdefault("Retry-After", str(RETRY_AFTER))
        # every answer of the hub's origin read as the type it says, never sniffed into a
        # page (WHATWG Fetch, "X-Content-Type-Options"): the oversight pages' login cookie
        # goes to the same origin as the replication API's documents and attachments
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        return response

    @app.errorhandler(404)
    def _not_found(exc: Exception) -> Response:
        return _json(404, {"error": "not_found", "reason": "missing"})

    @app.errorhandler(405)
    def _method(exc: Exception) -> Response:
        return _json(405, {"error": "method_not_allowed", "reason": "method not allowed"})

    @app.errorhandler(413)
    def _too_large(exc: Exception) -> Response:
        return _json(413, {"error": "too_large", "reason": "the request entity is too large"})

    return app


def _json(status: int, body: Any) -> Response:
    return Response(json.dumps(body, ensure_ascii=False) + "\n", status=status,
                    content_type="application/json")
