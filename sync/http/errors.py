"""Turning exceptions into CouchDB's ``{"error", "reason"}`` responses.

A :class:`sync.errors.SyncError` carries its own status and body. Anything else
is a bug: it is logged with its traceback and answered with a bare 500, never
with details a client could use (CouchDB docs, "HTTP Status Codes").
"""

from __future__ import annotations

import logging

from sync.errors import MethodNotAllowed, NotFound, SyncError
from sync.http.messages import Response, json_response

log = logging.getLogger("sync.http")


def error_response(exc: SyncError, *, head: bool = False) -> Response:
    headers: dict[str, str] = {}
    if isinstance(exc, MethodNotAllowed) and exc.reason.startswith("Only "):
        headers["Allow"] = exc.reason[5:].split(" ", 1)[0]
    if exc.status == 413:
        # The client may still be sending the body we refused to read; a fresh
        # connection is the only safe way on.
        headers["Connection"] = "close"
    response = json_response(exc.status, exc.as_json(), headers)
    if head:
        response.body = b""
    return response


def internal_error(exc: BaseException) -> Response:
    log.error("unhandled error in the CouchDB HTTP API", exc_info=exc)
    return json_response(500, {"error": "unknown_error", "reason": "Internal Server Error"})


def method_not_allowed(*methods: str) -> MethodNotAllowed:
    """CouchDB's 405 body: ``Only GET,HEAD,PUT allowed``."""
    return MethodNotAllowed(f"Only {','.join(methods)} allowed")


def not_found_error(reason: str = "missing") -> NotFound:
    """CouchDB's 404 for an unknown path or missing document."""
    return NotFound(reason)
