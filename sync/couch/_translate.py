"""A CouchDB URL's parts, and foreign errors in :mod:`sync.errors`' words (the boundary
of :mod:`sync.couch._transport`, apart so each module stays small).

``ApiException`` becomes the :mod:`sync.errors` class for its status with CouchDB's
``error``/``reason`` from the body; connection failures and timeouts become
:class:`sync.errors.TransportError` naming the server and the cause, never credentials.
"""

from __future__ import annotations

import contextlib
import http
from typing import Any
from urllib.parse import unquote, urlsplit, urlunsplit

import requests
import urllib3
from ibm_cloud_sdk_core import ApiException, DetailedResponse

from sync import errors


def split_url(url: str, *, db: bool = True) -> tuple[str, str | None, str | None, str | None]:
    """``http://user:pass@host:port[/prefix]/db`` -> (service URL, user, password, db).

    As PouchDB reads a remote URL, the last path segment is the database (write a
    ``/`` inside a name as ``%2F``) and anything before it a path prefix (a CouchDB
    behind a reverse proxy). With ``db=False`` the whole path is the prefix.
    Credentials are returned unquoted and left out of the service URL.
    """
    parts = urlsplit(url)
    shown = url.rpartition("@")[2] if "@" in url else url  # never the password
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise errors.BadRequest(f"not an http(s) URL: {shown!r}", error="bad_request")
    try:
        port = parts.port
    except ValueError:  # a "/", "#" or "?" in the password ended the host part early
        raise errors.BadRequest(f"not an http(s) URL: …{shown!r} (percent-encode / # ? @ : in "
                                "the user name and password: %2F %23 %3F %40 %3A)",
                                error="bad_request") from None
    host = parts.hostname
    if ":" in host:  # IPv6 literal
        host = f"[{host}]"
    netloc = f"{host}:{port}" if port else host
    raw = parts.path.strip("/")
    prefix, name = raw.rpartition("/")[::2] if db else (raw, "")
    service = urlunsplit((parts.scheme, netloc, f"/{prefix}" if prefix else "", "", ""))
    user = unquote(parts.username) if parts.username is not None else None
    password = unquote(parts.password) if parts.password is not None else None
    return service, user, password, unquote(name) if name else None


def server_url(url: str) -> str:
    """A database URL without its last segment (credentials kept): its server's URL."""
    parts = urlsplit(url)
    prefix = parts.path.strip("/").rpartition("/")[0]
    return urlunsplit((parts.scheme, parts.netloc, f"/{prefix}" if prefix else "", "", ""))


#: What the wrapped socket error of a failed request says, in words (urllib3 nests it
#: three exceptions deep in a line naming its pool); first match wins. ``{0}`` is the server.
_CONNECT_FAILURES = (
    ("Connection refused", "cannot reach {0}: connection refused (nothing listens there)"),
    ("Name or service not known", "cannot reach {0}: host name not found"),
    ("nodename nor servname", "cannot reach {0}: host name not found"),
    ("Temporary failure in name resolution", "cannot reach {0}: host name not found"),
    ("No route to host", "cannot reach {0}: no route to host"),
    ("Network is unreachable", "cannot reach {0}: network unreachable"),
    ("Read timed out", "{0} did not answer in time (read timeout)"),
    ("timed out", "cannot reach {0}: no answer in time (connect timeout)"),
    ("Connection reset", "{0} reset the connection"),
    ("RemoteDisconnected", "{0} closed the connection without an answer"),
)


def _connection_reason(exc: BaseException) -> str:
    """``cannot reach HOST:PORT: connection refused …``: the server (never its credentials:
    they travel in a header, not in the URL) and the cause, instead of urllib3's
    ``HTTPConnectionPool(...): Max retries exceeded with url: …`` line."""
    text = str(exc)
    request = getattr(exc, "request", None)
    netloc = urlsplit(str(getattr(request, "url", "") or "")).netloc.rpartition("@")[2]
    for needle, words in _CONNECT_FAILURES:
        if needle in text:
            return words.format(netloc or "the server")
    return f"{type(exc).__name__}: {text}"


def translate(exc: BaseException) -> errors.SyncError:
    """Map an SDK / requests / encoding error onto the :mod:`sync.errors` tree."""
    if isinstance(exc, errors.SyncError):
        return exc
    if isinstance(exc, ApiException) and 200 <= exc.code <= 299:
        # A 2xx whose JSON did not parse: the body was cut short on the way.
        return errors.TransportError(f"truncated answer: {exc.message}")
    if isinstance(exc, ApiException):
        status = int(exc.status_code or 500)
        error: str | None = None
        reason = ""
        resp = exc.http_response
        if resp is not None:
            with contextlib.suppress(ValueError):
                body = resp.json()
                if isinstance(body, dict):
                    error = body.get("error")
                    reason = str(body.get("reason") or "")
        if not reason and exc.message and exc.message != "Unknown error":
            reason = str(exc.message)
        if not reason:
            # An answer without a body (every HEAD: the hub's `db()` asks HEAD /db) left the
            # SDK's "Unknown error"; the status line still says what happened.
            reason = _NO_BODY.get(status) or f"HTTP {status} {_phrase(status)}"
        return errors.from_status(status, error, reason)
    if isinstance(exc, requests.exceptions.HTTPError) and exc.response is not None:
        return errors.from_status(exc.response.status_code, None, str(exc))
    if isinstance(exc, (requests.exceptions.ConnectionError, requests.exceptions.Timeout,
                        requests.exceptions.ChunkedEncodingError, ConnectionError, TimeoutError)):
        return errors.TransportError(_connection_reason(exc))
    if isinstance(exc, (TypeError, ValueError)):
        # The SDK raises ValueError for ids it refuses (leading "_"), json.dumps
        # TypeError for values that are not JSON: both are bad requests.
        return errors.BadRequest(str(exc))
    if isinstance(exc, requests.exceptions.RequestException):
        return errors.TransportError(f"{type(exc).__name__}: {exc}")
    return errors.SyncError(f"{type(exc).__name__}: {exc}")


#: Reasons for error answers without a body, by status.
_NO_BODY = {401: "HTTP 401 Unauthorized: the user name or password was refused"}


def _phrase(status: int) -> str:
    try:
        return http.HTTPStatus(status).phrase
    except ValueError:
        return ""


def _result(response: DetailedResponse, *, head: bool = False) -> Any:
    """The JSON body of a 2xx answer. CouchDB answers every request but HEAD with a
    body, so a 200/201/202 with none is a link that broke after the headers (the SDK
    would hand back ``None``, and callers then fail far away)."""
    result = response.get_result()
    if result is None and not head and response.get_status_code() != 204:
        raise errors.TransportError("the answer broke off after its headers (empty body)")
    return result


def is_read_timeout(exc: BaseException) -> bool:
    """A read timeout, whether requests raised it as such or (mid-body) as ConnectionError."""
    if isinstance(exc, requests.exceptions.ReadTimeout):
        return True
    cause = exc.args[0] if exc.args else None
    return isinstance(cause, urllib3.exceptions.ReadTimeoutError)
