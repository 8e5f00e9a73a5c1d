"""CORS headers, for PouchDB running in a browser (CouchDB's ``[cors]`` section).

Off unless ``HTTPSettings.cors_origins`` names origins; node-side PouchDB and
the Python clients never need it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from sync.http.messages import Headers, Request, Response

if TYPE_CHECKING:
    from sync.http.settings import HTTPSettings

METHODS = "GET, HEAD, POST, PUT, DELETE, OPTIONS"
ALLOWED_HEADERS = "accept, authorization, content-type, origin, referer, if-match, content-encoding"
EXPOSED_HEADERS = "content-type, cache-control, accept-ranges, etag, server, x-couch-request-id"


def _allowed_origin(request: Request, settings: HTTPSettings) -> str | None:
    origin = request.headers.get("Origin")
    if not origin:
        return None
    if "*" in settings.cors_origins or origin in settings.cors_origins:
        return origin
    return None


def preflight(request: Request, settings: HTTPSettings) -> Response:
    headers = Headers()
    origin = _allowed_origin(request, settings)
    if origin is not None:
        headers["Access-Control-Allow-Methods"] = METHODS
        headers["Access-Control-Allow-Headers"] = ALLOWED_HEADERS
        headers["Access-Control-Max-Age"] = "600"
    return Response(204, headers, b"")


def add_headers(request: Request, response: Response, settings: HTTPSettings) -> None:
    # Vary: Origin on every answer, not only an allowed origin's: the answer to another
    # origin (or none) lacks the headers, and a cache keeping it without Vary gave it to
    # the allowed page, whose replication then failed (Fetch standard, "CORS protocol and
    # HTTP caches")
    vary = response.headers.get("Vary")
    if "origin" not in (vary or "").lower():
        response.headers["Vary"] = f"{vary}, Origin" if vary else "Origin"
    origin = _allowed_origin(request, settings)
    if origin is None:
        return
    response.headers["Access-Control-Allow-Origin"] = origin
    response.headers["Access-Control-Allow-Credentials"] = "true"
    response.headers["Access-Control-Expose-Headers"] = EXPOSED_HEADERS
