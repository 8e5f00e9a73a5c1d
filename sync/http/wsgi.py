"""The thin WSGI adapter around :class:`sync.http.routing.CouchApp`, and a server.

Only this module touches WSGI: it reads the body (refusing one over the size
limit before reading it), keeps the raw percent-encoded path (a doc id may hold
``%2F``), and hands the sansio :class:`~sync.http.messages.Response` back.
``serve`` runs waitress (keep-alive connections in one I/O loop, a bounded
pool of request threads, chunked streaming); the hub mounts the same app in its
own waitress gateways.
"""

from __future__ import annotations

import logging
import signal
import threading
from collections.abc import Callable, Iterable
from http import HTTPStatus
from typing import Any
from urllib.parse import quote, urlsplit
from wsgiref.util import is_hop_by_hop

from sync.errors import SyncError
from sync.http.encoding import too_large
from sync.http.errors import error_response
from sync.http.messages import Headers, QueryArgs, Request, Response
from sync.http.routing import CouchApp

log = logging.getLogger("sync.http")

StartResponse = Callable[..., Any]


def _status_line(status: int) -> str:
    try:
        return f"{status} {HTTPStatus(status).phrase}"
    except ValueError:
        return f"{status} Unknown"


def _wsgi_str(value: str) -> str:
    """PEP 3333 hands bytes over as latin-1 text; a client that sent raw UTF-8
    (not percent-encoded) means UTF-8."""
    try:
        return value.encode("latin-1").decode("utf-8")
    except (UnicodeEncodeError, UnicodeDecodeError):
        return value


def _raw_path(environ: dict[str, Any]) -> str:
    raw = environ.get("RAW_URI") or environ.get("REQUEST_URI")
    if raw:
        raw = _wsgi_str(raw)
        path = raw.split("?", 1)[0]
        if "://" in path:  # absolute-form request target
            path = urlsplit(path).path
        script = quote(environ.get("SCRIPT_NAME", ""))
        if script and path.startswith(script):
            path = path[len(script):]
        return path or "/"
    path_info = environ.get("PATH_INFO", "/")
    return quote(path_info.encode("latin-1").decode("utf-8", "replace"), safe="/")


def _headers(environ: dict[str, Any]) -> Headers:
    headers = Headers()
    for key, value in environ.items():
        if key.startswith("HTTP_"):
            headers[key[5:].replace("_", "-").title()] = value
    for key in ("CONTENT_TYPE", "CONTENT_LENGTH"):
        if environ.get(key):
            headers[key.replace("_", "-").title()] = environ[key]
    return headers


class WSGIApp:
    """A WSGI callable serving the CouchDB HTTP API of one :class:`CouchApp`."""

    def __init__(self, app: CouchApp) -> None:
        self.app = app

    def _read_body(self, environ: dict[str, Any]) -> bytes:
        limit = self.app.settings.max_http_request_size
        stream = environ.get("wsgi.input")
        length = environ.get("CONTENT_LENGTH")
        if stream is None:
            return b""
        if length:
            try:
                size = int(length)
            except ValueError:
                size = 0
            if size > limit:
                raise too_large()
            return stream.read(size) if size > 0 else b""
        if environ.get("wsgi.input_terminated"):  # chunked upload
            data = stream.read(limit + 1)
            if len(data) > limit:
                raise too_large()
            return bytes(data)
        return b""

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        headers = _headers(environ)
        method = environ.get("REQUEST_METHOD", "GET").upper()
        try:
            body = self._read_body(environ)
        except Exception as exc:  # too large, or the client went away mid-body
            response = error_response(exc if isinstance(exc, SyncError) else too_large())
        else:
            request = Request(method, _raw_path(environ),
                              QueryArgs.parse(_wsgi_str(environ.get("QUERY_STRING", ""))), headers, body)
            response = self.app.handle(request)
        return self._respond(response, start_response)

    @staticmethod
    def _respond(response: Response, start_response: StartResponse) -> Iterable[bytes]:
        out = wsgi_headers(response)
        if isinstance(response.body, bytes | bytearray):
            out.append(("Content-Length", str(len(response.body))))
            start_response(_status_line(response.status), out)
            return [bytes(response.body)]
        start_response(_status_line(response.status), out)
        return response.body


def wsgi_headers(response: Response) -> list[tuple[str, str]]:
    """The headers of ``response`` a WSGI application may send: not ``Content-Length`` (the
    adapter sets it from the body) and no hop-by-hop header (PEP 3333): the server owns the
    connection, and waitress answers an application's ``Connection: close`` (the core's 413)
    with an AssertionError, a 500. Waitress has read the whole body before the application
    runs, so nothing of it is left on the connection to drop."""
    return [(k, v) for k, v in response.headers.items()
            if k.lower() != "content-length" and not is_hop_by_hop(k)]


class Server:
    """waitress serving a :class:`WSGIApp` (see :mod:`sync.http._waitress` for why),
    behind the calls callers need. A longpoll or continuous feed holds one of the
    ``threads`` while it waits; iterable bodies are streamed chunked."""

    def __init__(self, app: CouchApp, host: str, port: int, *, access_log: bool = False,
                 threads: int = 16) -> None:
        from sync.http._waitress import make_waitress

        self._map: dict[Any, Any] = {}
        wsgi: Callable[..., Iterable[bytes]] = WSGIApp(app)
        if access_log:
            wsgi = _AccessLog(wsgi)
        self.server: Any = make_waitress(
            wsgi, max_request_bytes=app.settings.max_http_request_size,
            ident="CouchDB/3.3.3 (Bangban)", map=self._map, host=host, port=port,
            threads=threads, connection_limit=1000, channel_timeout=120)
        self.server_port = int(self.server.effective_port)

    def serve_forever(self) -> None:
        self.server.run()

    def shutdown(self) -> None:
        """Stop from another thread: close every socket inside the I/O loop, which
        then ends (waitress's loop runs while its socket map is not empty)."""
        def close_all() -> None:
            for channel in list(self._map.values()):
                channel.close()
        self.server.trigger.pull_trigger(close_all)

    def server_close(self) -> None:
        self.server.task_dispatcher.shutdown(timeout=5)


class _AccessLog:
    """``--access-log``: one line per request on the ``sync.http`` logger."""

    def __init__(self, app: Callable[..., Iterable[bytes]]) -> None:
        self.app = app

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]
                 ) -> Iterable[bytes]:
        def logged(status: str, headers: list[tuple[str, str]], *exc: Any) -> Any:
            log.info("%s %s %s", environ.get("REQUEST_METHOD"),
                     environ.get("RAW_URI") or environ.get("PATH_INFO"), status.split(" ")[0])
            return start_response(status, headers, *exc)
        return self.app(environ, logged)


def make_server(app: CouchApp, host: str = "127.0.0.1", port: int = 5984, *,
                access_log: bool = False) -> Server:
    """A bound (not yet serving) :class:`Server`; ``server_port`` is the real port."""
    return Server(app, host, port, access_log=access_log)


class _Stop(SystemExit):
    """Raised by SIGTERM/SIGINT in the main thread to leave the serving loop.

    A SystemExit, as hub serve's: waitress's loop lets only those (and KeyboardInterrupt)
    out of a channel's handler, and a signal landing while the main thread ran one (a
    request being read or written) was swallowed as that channel's error: `store serve`
    went on serving until SIGKILL (a CI run's test_restart_keeps_data_and_uuid)."""


def serve(app: CouchApp, host: str = "127.0.0.1", port: int = 5984, *, access_log: bool = False,
          on_ready: Callable[[str], None] | None = None) -> None:
    """Serve until SIGTERM/SIGINT, then stop accepting, and close the stores."""
    server = make_server(app, host, port, access_log=access_log)
    url = f"http://{host}:{server.server_port}"

    signalled: list[int] = []  # a list: nothing in a handler may take a lock

    def stop(signum: int, frame: Any) -> None:
        # Raised in the main thread, out of waitress's loop (as hub serve does): shutdown()
        # from a handler takes the trigger's lock, which the interrupted loop may hold.
        signalled.append(signum)
        raise _Stop()

    previous: dict[int, Any] = {}
    if threading.current_thread() is threading.main_thread():
        previous = {sig: signal.signal(sig, stop) for sig in (signal.SIGTERM, signal.SIGINT)}
    try:
        if on_ready is not None:
            on_ready(url)
        try:
            server.serve_forever()
        except _Stop:
            pass
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        # Waitress's run() takes the stop (a SystemExit) itself: it stops the request
        # threads, waiting up to 5 s for those at work, and returns. Stopping them again
        # waited 5 s more for a feed still open (a longpoll, a continuous feed): 10 s to
        # stop, the test harness's whole SIGTERM-to-SIGKILL budget (the teardown of
        # test_pouchdb9_replicates_from_and_to_store_serve took 10.0-10.3 s).
        if not signalled:
            server.server_close()
        app.server.close()
