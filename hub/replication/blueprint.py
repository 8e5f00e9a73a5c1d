"""The Flask blueprint of the replication endpoint: authenticate, then hand over to
:mod:`sync.http`'s CouchDB core with the device's :class:`~hub.replication.view.DeviceServer`.

The wire behaviour (paths, status codes, bodies) is therefore exactly the core's,
which follows CouchDB 3; this module only adds HTTP Basic device authentication
and the revoked-device answer (401 with ``bangban_wipe: true``).
"""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING
from urllib.parse import quote

from flask import Blueprint, Response, current_app, request
from werkzeug.wsgi import ClosingIterator

from hub.errors import HubError
from hub.replication.feeds import at_once, waiting_feed
from sync.errors import SyncError
from sync.http.messages import Headers, QueryArgs
from sync.http.messages import Request as CouchRequest
from sync.http.messages import Response as CouchResponse

if TYPE_CHECKING:
    from hub.core import Hub
    from hub.settings import Settings

blueprint = Blueprint("replication", __name__)


def hub() -> Hub:
    return current_app.extensions["bangban_hub"]  # type: ignore[no-any-return]


def error_response(exc: HubError) -> Response:
    import json

    return Response(json.dumps(exc.as_json()) + "\n", status=exc.status,
                    content_type="application/json", headers={"Cache-Control": "must-revalidate"})


def _raw_path() -> str:
    raw = request.environ.get("RAW_URI") or request.environ.get("REQUEST_URI")
    if raw:
        path = str(raw).split("?", 1)[0]
        if "://" in path:  # absolute-form request target
            path = "/" + path.split("://", 1)[1].partition("/")[2]
        return path
    return quote(request.path)


def to_couch_request() -> CouchRequest:
    return CouchRequest(
        request.method,
        _raw_path(),
        QueryArgs.parse(request.query_string.decode("latin-1")),
        Headers(list(request.headers.items())),
        request.get_data(cache=False),
    )


def to_flask_response(resp: CouchResponse) -> Response:
    from sync.http.wsgi import wsgi_headers

    headers = wsgi_headers(resp)
    if resp.streaming:
        return Response(resp.body, status=resp.status, headers=headers,  # type: ignore[arg-type]
                        direct_passthrough=True)
    return Response(resp.body, status=resp.status, headers=headers)


@blueprint.route("/", methods=["GET", "HEAD"])
def welcome() -> Response:
    """``GET /``: CouchDB's welcome, with the hub's uuid (no credentials needed, as CouchDB)."""
    return to_flask_response(hub().anonymous_app().handle(to_couch_request()))


@blueprint.route("/_up", methods=["GET", "HEAD", "POST", "PUT", "DELETE", "OPTIONS"])
def up() -> Response:
    """``GET /_up``, CouchDB's "is the node up" for load balancers: without credentials (a
    probe has none; it was a device's 401) and only 200 when the hub's store answers (the
    device's login read it; now the probe does). Down, the outage's 503, Retry-After (hub.app's
    SyncError handler) naming no cause: ``/_hub/health`` names its kind. Other methods are
    the core's 405, as CouchDB's."""
    if request.method in ("GET", "HEAD"):
        hub().stores.main.info()
    return to_flask_response(hub().anonymous_app().handle(to_couch_request()))


@blueprint.route("/<db>", methods=["GET", "HEAD", "POST", "PUT", "DELETE", "OPTIONS"])
# ``/db/`` is the database too (CouchDB answers it so): PouchDB asks its info there, at
# ``new PouchDB(url)``'s setup and ``since: 'now'``; a 404 made it PUT the database and
# fail, so replicating from a device's plain URL did not start.
@blueprint.route("/<db>/", methods=["GET", "HEAD", "POST", "PUT", "DELETE", "OPTIONS"])
@blueprint.route("/<db>/<path:rest>", methods=["GET", "HEAD", "POST", "PUT", "DELETE",
                                                "COPY", "OPTIONS"])
def database(db: str, rest: str = "") -> Response:
    h = hub()
    if request.method == "OPTIONS" and h.settings.cors_origins:
        # a browser's CORS preflight carries no credentials (Fetch standard, "CORS-preflight
        # request"): answered as CouchDB's [cors] does, before any login
        return to_flask_response(h.anonymous_app().handle(to_couch_request()))
    try:
        length = request.content_length
        if length is not None and length > h.settings.max_request_bytes:
            return _with_cors(Response(
                '{"error":"too_large","reason":"the request entity is too large"}\n',
                status=413, content_type="application/json"))
        device = h.auth.authenticate(request.headers.get("Authorization"))
    except HubError as exc:
        return _with_cors(error_response(exc))
    couch = to_couch_request()
    waits = waiting_feed(couch)
    if waits and not h.feed_slots.take(device.device_id):
        couch.query, waits = at_once(couch.query), False  # hub.replication.feeds
    try:
        answer = h.device_app(device, on_error=functools.partial(_said_to_devices, h.settings)).handle(couch)
    except BaseException:
        if waits:
            h.feed_slots.give(device.device_id)
        raise
    if waits and answer.streaming:
        # held until the server has sent the stream and closes it (a passed-through body is
        # the server's to close: Flask's call_on_close would never run)
        answer.body = ClosingIterator(answer.body,  # type: ignore[arg-type]
                                      lambda: h.feed_slots.give(device.device_id))
    elif waits:
        h.feed_slots.give(device.device_id)
    return to_flask_response(answer)


def _with_cors(answer: Response) -> Response:
    """``answer``, made before the CouchDB core, with the CORS headers the core adds to its
    own: a web page must be able to read its 401 (a wrong secret, a revoked device's wipe)."""
    if hub().settings.cors_origins:
        from sync.http import cors

        told = CouchResponse(answer.status_code)
        cors.add_headers(to_couch_request(), told, hub().http_settings())
        answer.headers.update(told.headers.items())
    return answer


def _said_to_devices(settings: Settings, req: CouchRequest, exc: SyncError) -> SyncError:
    from hub.app import said_to_devices

    return said_to_devices(exc, what=f"{req.method} {req.path}", settings=settings)
