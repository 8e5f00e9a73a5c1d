"""Server-level endpoints: ``GET /``, ``GET /_all_dbs``, ``GET /_up``, ``GET /_uuids``.

CouchDB docs, "API Reference / Server". PouchDB's HTTP adapter reads ``uuid``
from ``GET /`` to name its replication checkpoints.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import TYPE_CHECKING

from sync.errors import BadRequest
from sync.http.body import int_arg
from sync.http.errors import method_not_allowed
from sync.http.messages import Request, Response, json_response

if TYPE_CHECKING:
    from sync.http.routing import CouchApp

#: CouchDB 3.3's feature list, minus what the embedded store cannot do.
FEATURES = ["access-ready", "partitioned", "pluggable-storage-engines", "reshard", "scheduler"]
MAX_UUIDS = 1000


def _get_only(request: Request) -> None:
    if request.method != "GET":
        raise method_not_allowed("GET", "HEAD")


def welcome(app: CouchApp, request: Request) -> Response:
    _get_only(request)
    info = dict(app.server.info())
    info.setdefault("couchdb", "Welcome")
    info.setdefault("version", "3.3.3")
    info["uuid"] = app.uuid
    info.setdefault("features", [])
    info.setdefault("vendor", {"name": "Bangban"})
    return json_response(200, info)


def all_dbs(app: CouchApp, request: Request) -> Response:
    _get_only(request)
    names = sorted(app.server.all_dbs())
    if request.query.get("descending") == "true":
        names.reverse()
    skip = int_arg(request.query, "skip", minimum=0) or 0
    limit = int_arg(request.query, "limit", minimum=0)
    names = names[skip:] if limit is None else names[skip : skip + limit]
    return json_response(200, names)


def up(app: CouchApp, request: Request) -> Response:
    _get_only(request)
    return json_response(200, {"status": "ok", "seeds": {}})


def uuids(app: CouchApp, request: Request) -> Response:
    _get_only(request)
    count = int_arg(request.query, "count", minimum=1) or 1
    if count > MAX_UUIDS:
        raise BadRequest("count parameter too large")
    return json_response(200, {"uuids": [uuid.uuid4().hex for _ in range(count)]},
                         {"Cache-Control": "no-cache"})


ENDPOINTS: dict[str, Callable[[CouchApp, Request], Response]] = {
    "_all_dbs": all_dbs,
    "_up": up,
    "_uuids": uuids,
}
