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

Why a lingering close: when waitress refuses a body part-way (a chunked upload past
the limit), the client is often still sending. Closing at once with unread input makes
the kernel answer with a reset, and the client loses the 413 already on its way: it
sees "connection reset" instead, and a replicator retries a transport error rather than
splitting its batch. So after such an answer the channel shuts its sending side and reads
and drops what still comes, for at most :data:`LINGER_SECONDS`, before it closes: what
Apache httpd's ``lingering_close`` and nginx's ``lingering_close`` do (RFC 9112 §9.6).
"""

from __future__ import annotations

import json
import socket
import time
from collections.abc import Callable
from typing import Any

from waitress.channel import HTTPChannel
from waitress.server import create_server
from waitress.task import ErrorTask

#: How long a channel that refused a request keeps reading (and dropping) the rest of its
#: body before it closes, so the client can read the answer (the module's docstring).
LINGER_SECONDS = 5.0

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
        self.channel.linger_on_close = True
        self.content_length = len(body)
        self.write(body)


class _CouchChannel(HTTPChannel):  # type: ignore[misc]
    error_task_class = _CouchErrorTask
    #: set by an error answer: close by lingering, not at once
    linger_on_close = False
    #: when lingering, the time it ends (``time.monotonic()``); None when not lingering
    linger_until: float | None = None

    def handle_close(self) -> None:
        if not self.linger_on_close or self.linger_until is not None or not self.connected:
            super().handle_close()
            return
        try:  # the answer is flushed: send FIN after it, keep the reading side open
            self.socket.shutdown(socket.SHUT_WR)
        except OSError:
            super().handle_close()
            return
        self.will_close = False
        self.linger_until = time.monotonic() + LINGER_SECONDS

    def readable(self) -> bool:
        if self.linger_until is not None:
            return not self.will_close
        return bool(super().readable())

    def writable(self) -> bool:
        if self.linger_until is not None:  # only waitress's idle sweep (will_close) ends it early
            return bool(self.will_close)
        return bool(super().writable())

    def handle_read(self) -> None:
        if self.linger_until is None:
            super().handle_read()
            return
        try:  # dropped: the request was refused. recv() closes the channel itself at EOF
            data = self.recv(self.adj.recv_bytes)
        except OSError:
            data = b""
        if self.connected and (not data or time.monotonic() >= self.linger_until):
            super().handle_close()


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
    # (through _CouchErrorTask): the waste an oversized upload can cause stays bounded, and
    # the channel's lingering close lets a client still sending read that 413.
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
