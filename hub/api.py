"""The hub's own resources under ``/_hub/`` (never a CouchDB database name: ``_`` first).

* ``GET /_hub/health`` — liveness, the worker counters and the receipts waiting in the
  answering gateway's memory (hub.receipts);
* ``POST /_hub/keys`` — a device registers its public keys (HTTP Basic, device
  credentials; body: ``NodeKeys.public_entries()``), answer
  ``{"ok", "device_id", "directory_version"}``.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from flask import Blueprint, Response, current_app, request

from hub.errors import BadInput, HubError
from sync.errors import SyncError

if TYPE_CHECKING:
    from hub.core import Hub

blueprint = Blueprint("hub_api", __name__, url_prefix="/_hub")
#: Every method the replication endpoint's routes take (hub.replication.blueprint).
ANY_METHOD = ["GET", "HEAD", "POST", "PUT", "DELETE", "COPY", "OPTIONS"]


def _hub() -> Hub:
    return current_app.extensions["bangban_hub"]  # type: ignore[no-any-return]


def _json(status: int, body: Any) -> Response:
    return Response(json.dumps(body, ensure_ascii=False) + "\n", status=status,
                    content_type="application/json")


@blueprint.get("/health")
def health() -> Response:
    """200 ``{"ok": true, …}``; 503 ``{"ok": false, "store": CAUSE, …}`` while the store
    does not answer (a load balancer takes the gateway out). The probe answers anyone
    without credentials, as CouchDB's ``/_up`` does: it names the kind of failure
    (:func:`hub.storage.store_cause`), so the operator's monitoring tells "CouchDB down"
    from "its password changed" without a login to the machine, but not CouchDB's
    address or the words naming it (the hub's log has them)."""
    from hub.app import STORE_DOWN, store_failed
    from hub.receipts import waiting_receipts
    from hub.storage import store_cause

    hub = _hub()
    # receipts kept in this process's memory after their write failed (hub.receipts): the
    # doctor cannot read them elsewhere; with --processes N, one gateway's of N
    here = {"db": hub.stores.prefix, "receipts_waiting": waiting_receipts(hub.stores),
            "gateways": max(1, int(hub.settings.hub_processes))}
    try:
        # read the store even while the workers are busy: pending() then answers from their
        # flag alone, and a CouchDB that stopped (or hung) mid-pass was a 200 "ok" here
        hub.stores.main.info()
        pending = hub.pending()
    except SyncError as exc:
        store_failed("GET /_hub/health", exc)
        return _json(503, {"ok": False, **here, "store": store_cause(exc), **STORE_DOWN})
    return _json(200, {"ok": True, **here, "pending": pending, **hub.stats()})


@blueprint.post("/keys")
def register_keys() -> Response:
    from hub import admin

    hub = _hub()
    try:
        device = hub.auth.authenticate(request.headers.get("Authorization"))
        try:
            body = json.loads(request.get_data(cache=False) or b"null")
        except ValueError as exc:
            raise BadInput(f"body: not valid JSON ({exc})") from exc
        if not isinstance(body, dict):
            raise BadInput("body: a JSON object of public key entries is required")
        return _json(201, admin.register_keys(hub, device.device_id, body))
    except HubError as exc:
        return _json(exc.status, exc.as_json())


@blueprint.route("/", defaults={"rest": ""}, methods=ANY_METHOD, strict_slashes=False)
@blueprint.route("/<path:rest>", methods=ANY_METHOD)
def elsewhere(rest: str) -> Response:
    """Any other address under ``/_hub/``: 404, or 405 naming the methods of a resource
    asked with another one. ``_hub`` is no database, but the replication endpoint's routes
    took these and answered 401 "HTTP Basic with device id and secret": an uptime probe at
    ``/_hub/healthz`` or a ``POST /_hub/health`` read as "the health probe needs a login"."""
    path = f"/_hub/{rest}"
    allowed = sorted({m for r in current_app.url_map.iter_rules()
                      if r.rule == path and r.endpoint != request.endpoint
                      for m in r.methods or ()})
    if allowed:
        answer = _json(405, {"error": "method_not_allowed",
                             "reason": f"{path} answers {', '.join(allowed)} only"})
        answer.headers["Allow"] = ", ".join(allowed)
        return answer
    return _json(404, {"error": "not_found", "reason": f"{path}: the hub's own resources are "
                       "GET /_hub/health and POST /_hub/keys"})
