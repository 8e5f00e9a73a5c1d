"""waitress, set up once for the CouchDB API (``bangban store serve`` and the hub's gateways).

Why waitress: werkzeug's development server closes the connection after every
response, so each of a replicator's many small requests paid a TCP handshake
and a new thread (about 4 ms of a 5.5 ms ``GET _local``). Waitress keeps
connections alive in one I/O loop and runs requests on a bounded pool of
threads; an idle keep-alive connection holds no thread.

Why a channel subclass: waitress answers some requests itself, before the
application sees them — a body over twice the request limit (refused from its
``Content-Length`` before a byte of it is read, or as soon as a chunked upload
passes it), a malformed request line or header. Its answers are text/plain; a
CouchDB client expects CouchDB's ``{"error", "reason"}`` JSON (CouchDB docs,
"HTTP Status Codes"), so those errors are rendered here in that shape.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from waitress.channel import HTTPChannel
from waitress.server import create_server
from waitress.task import ErrorTask

#: CouchDB's error names for the statuses waitress produces on its own.
_ERRORS = {
    400: ("bad_request", None),
    413: ("too_large", "the request entity is too large"),
    431: ("bad_request", "request header fields too large"),
    501: ("not_implemented", None),
}


class _CouchErrorTask(ErrorTask):  # type: ignore[misc]
    def execute(self) -> None:
        error = self.request.error
        name, reason = _ERRORS.get(error.code, ("unknown_error", None))
        body = json.dumps({"error": name, "reason": reason or str(error.body)}).encode() + b"\n"
        self.status = f"{error.code} {error.reason}"
        self.response_headers.extend([("Content-Type", "application/json"),
                                      ("Cache-Control", "must-revalidate")])
        self.set_close_on_finish()
        self.content_length = len(body)
        self.write(body)


class _CouchChannel(HTTPChannel):  # type: ignore[misc]
    error_task_class = _CouchErrorTask


def make_waitress(app: Callable[..., Any], *, max_request_bytes: int, ident: str,
                  **adjustments: Any) -> Any:
    """A bound waitress server (call ``.run()``) whose own errors are CouchDB JSON.

    ``adjustments`` are waitress's (``host``/``port`` or ``sockets``, ``threads``,
    ``connection_limit``, ``channel_timeout``, ``map``).
    """
    # The application refuses a body over ``max_request_bytes`` with 413 itself, after
    # waitress has received it (spooled to a temporary file beyond 512 kB): a client
    # that is still sending when the server answers and closes gets a broken pipe,
    # not the 413, and a replicator retries a transport error forever. Only a body
    # announced at over twice the limit is refused at once, unread, by waitress
    # (through _CouchErrorTask): the waste an oversized upload can cause stays bounded.
    # poll(), not waitress's default select(): select() takes no descriptor past 1023
    # (FD_SETSIZE), so the 1,000th open connection of a gateway (hub_connection_limit allows
    # 2,000; no credentials needed to open them) raised ValueError out of the I/O loop and
    # the whole `hub serve` exited.
    server = create_server(app, ident=ident, max_request_body_size=2 * max_request_bytes,
                           expose_tracebacks=False, log_socket_errors=False,
                           clear_untrusted_proxy_headers=True, asyncore_use_poll=True,
                           **adjustments)
    # One listening socket: create_server returns that server itself, whose accept
    # loop makes channels of ``channel_class``.
    server.channel_class = _CouchChannel
    return server
