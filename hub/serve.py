"""``bangban hub serve``: the Flask app on werkzeug's threaded server, plus the workers.

Prints ``hub listening on URL`` (flushed) once the socket is bound, so scripts and
tests that start it as a process know where it is (``--port 0`` picks a free port).
SIGTERM/SIGINT stop accepting, stop the workers and close the stores.
"""

from __future__ import annotations

import signal
import sys
import threading
from collections.abc import Mapping
from typing import Any


def serve(config: Mapping[str, Any] | None = None) -> None:
    from werkzeug.serving import WSGIRequestHandler, make_server

    from hub.app import create_app
    from hub.core import Hub
    from hub.settings import Settings
    from hub.workers import Workers

    settings = Settings.load(config)
    hub = Hub(settings)
    _ = hub.identity  # fail early (NotInitialized) before binding the port
    app = create_app(hub=hub)

    class Handler(WSGIRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive: replicators make many small requests
        disable_nagle_algorithm = True
        server_version = "CouchDB/3.3.3 (Bangban hub)"
        sys_version = ""

        def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
            pass

    server = make_server(settings.hub_host, settings.hub_port, app, threaded=True,
                         request_handler=Handler)
    workers = Workers(hub, interval=settings.worker_interval) if settings.workers else None

    def stop(signum: int, frame: Any) -> None:
        threading.Thread(target=server.shutdown, daemon=True).start()

    previous = {sig: signal.signal(sig, stop) for sig in (signal.SIGTERM, signal.SIGINT)}
    try:
        if workers:
            workers.start()
        print(f"hub listening on http://{settings.hub_host}:{server.server_port}", flush=True)
        sys.stdout.flush()
        server.serve_forever()
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        if workers:
            workers.stop()
        server.server_close()
        hub.close()
