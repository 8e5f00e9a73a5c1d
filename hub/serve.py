"""``bangban hub serve``: the Flask app on werkzeug's threaded server, plus the workers.

Prints ``hub listening on URL`` (flushed) once the socket is bound, so scripts and
tests that start it as a process know where it is (``--port 0`` picks a free port).
SIGTERM/SIGINT stop accepting, stop the workers and close the stores.

``--processes N`` (``BANGBAN_HUB_PROCESSES``) pre-forks N gateway processes that accept
on one listening socket, as gunicorn does: validation is CPU work under Python's GIL, so
one process uses one core. The gateways share nothing but the store (design.md §7:
stateless gateways, indexes in the store); only the first runs the workers.
"""

from __future__ import annotations

import os
import signal
import socket
import sys
import threading
from collections.abc import Mapping
from typing import Any


def _listen(host: str, port: int) -> socket.socket:
    sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.listen(256)
    sock.set_inheritable(True)
    return sock


def _gateway(settings: Any, sock: socket.socket, *, run_workers: bool,
             announce: bool) -> None:
    """One gateway process: its own Hub (store connections are never shared across fork)."""
    from werkzeug.serving import WSGIRequestHandler, make_server

    from hub.app import create_app
    from hub.core import Hub
    from hub.workers import Workers

    hub = Hub(settings)
    app = create_app(hub=hub)

    class Handler(WSGIRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive: replicators make many small requests
        disable_nagle_algorithm = True
        server_version = "CouchDB/3.3.3 (Bangban hub)"
        sys_version = ""

        def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
            pass

    server = make_server(settings.hub_host, sock.getsockname()[1], app, threaded=True,
                         request_handler=Handler, fd=sock.fileno())
    workers = Workers(hub, interval=settings.worker_interval) if run_workers else None

    def stop(signum: int, frame: Any) -> None:
        threading.Thread(target=server.shutdown, daemon=True).start()

    previous = {sig: signal.signal(sig, stop) for sig in (signal.SIGTERM, signal.SIGINT)}
    try:
        if workers:
            workers.start()
        if announce:
            print(f"hub listening on http://{settings.hub_host}:{sock.getsockname()[1]}",
                  flush=True)
            sys.stdout.flush()
        server.serve_forever()
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        if workers:
            workers.stop()
        server.server_close()
        hub.close()


def serve(config: Mapping[str, Any] | None = None) -> None:
    from hub.core import Hub
    from hub.settings import Settings

    settings = Settings.load(config)
    probe = Hub(settings)
    try:
        _ = probe.identity  # fail early (NotInitialized) before binding the port
    finally:
        probe.close()
    sock = _listen(settings.hub_host, settings.hub_port)
    # Several processes wait on one listening socket: all wake for a connection, one gets
    # it. Non-blocking, the others' accept() fails at once (socketserver ignores that)
    # instead of blocking serve_forever, which would then never see a shutdown request.
    sock.setblocking(False)
    children: list[int] = []
    for _ in range(max(1, settings.hub_processes) - 1):
        pid = os.fork()
        if pid == 0:  # a gateway child: serve until SIGTERM, never return into the CLI
            code = 0
            try:
                _gateway(settings, sock, run_workers=False, announce=False)
            except BaseException:
                import traceback

                traceback.print_exc()
                code = 1
            finally:
                os._exit(code)
        children.append(pid)
    try:
        _gateway(settings, sock, run_workers=settings.workers, announce=True)
    finally:
        for pid in children:
            try:
                os.kill(pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
        for pid in children:
            try:
                os.waitpid(pid, 0)
            except ChildProcessError:
                pass
        sock.close()
