"""The sync package's one exception tree.

Every error carries CouchDB's triple: HTTP ``status``, short ``error`` code and
human ``reason`` (CouchDB docs, "HTTP Status Codes" / the ``{"error","reason"}``
body). Errors of sqlite3, ibmcloudant and cryptography are translated into these
at the boundary with ``raise ... from exc`` so callers catch one base class.
"""

from __future__ import annotations

from typing import Any


class SyncError(Exception):
    """Base of every error raised by :mod:`sync`."""

    status: int = 500
    error: str = "unknown_error"

    def __init__(self, reason: str = "", *, error: str | None = None, status: int | None = None):
        super().__init__(reason)
        self.reason = reason or self.__class__.__doc__ or self.error
        if error is not None:
            self.error = error
        if status is not None:
            self.status = status

    def as_json(self) -> dict[str, Any]:
        """The CouchDB error body ``{"error": ..., "reason": ...}``."""
        return {"error": self.error, "reason": self.reason}

    def __str__(self) -> str:
        return f"{self.status} {self.error}: {self.reason}"


class BadRequest(SyncError):
    """400: malformed request (bad JSON, bad id, bad rev format, wrong type)."""

    status = 400
    error = "bad_request"


class Unauthorized(SyncError):
    """401: missing or wrong credentials."""

    status = 401
    error = "unauthorized"


class Forbidden(SyncError):
    """403: the write was refused (validation, scope, signature)."""

    status = 403
    error = "forbidden"


class NotFound(SyncError):
    """404: no such database, document, revision or attachment."""

    status = 404
    error = "not_found"


class MethodNotAllowed(SyncError):
    """405: the method is not allowed on this path."""

    status = 405
    error = "method_not_allowed"


class Conflict(SyncError):
    """409: the document update conflicts (stale or missing ``_rev``)."""

    status = 409
    error = "conflict"


class CheckpointConflict(Conflict):
    """409 again and again on a replication checkpoint (``_local/<repid>``) re-read between
    tries: another replicator of the same id writes it at the same time (a node folder
    copied onto a second laptop), not a lost answer of our own write."""


class PreconditionFailed(SyncError):
    """412: e.g. the database already exists (``file_exists``)."""

    status = 412
    error = "file_exists"


class RequestEntityTooLarge(SyncError):
    """413: the body or document exceeds the size limit."""

    status = 413
    error = "too_large"


class UnsupportedMediaType(SyncError):
    """415: the body is not ``application/json``."""

    status = 415
    error = "bad_content_type"


class ServiceUnavailable(SyncError):
    """503: the backend or peer could not be reached."""

    status = 503
    error = "service_unavailable"


class InsufficientStorage(SyncError):
    """507: the disk holding the database is full; nothing of the request was stored.

    CouchDB answers ``507 Insufficient Storage`` when its disk monitor stops writes
    (CouchDB docs, "Disk Monitor Configuration", 3.4+; RFC 4918 §11.5: the server
    cannot store what the request needs, a condition expected to pass). A retryable
    server-side condition: never the client's data being wrong."""

    status = 507
    error = "insufficient_storage"
    #: The database file whose disk is full, when this process wrote it (the embedded
    #: store); empty for a peer's answer: a node tells its own disk from the hub's by it.
    where: str = ""


class TransportError(SyncError):
    """The peer could not be reached or the connection broke (retryable)."""

    status = 503
    error = "transport_error"
    #: For an answer that broke while streaming (``_bulk_get``): the complete
    #: items received before the break, so the caller keeps them.
    partial: list[Any] | None = None


_BY_STATUS: dict[int, type[SyncError]] = {
    cls.status: cls
    for cls in (
        BadRequest,
        Unauthorized,
        Forbidden,
        NotFound,
        MethodNotAllowed,
        Conflict,
        PreconditionFailed,
        RequestEntityTooLarge,
        UnsupportedMediaType,
        ServiceUnavailable,
        InsufficientStorage,
    )
}


def from_status(status: int, error: str | None = None, reason: str = "") -> SyncError:
    """Build the matching exception for a CouchDB status and body (used at HTTP boundaries)."""
    cls = _BY_STATUS.get(status, SyncError)
    return cls(reason, error=error, status=status)
