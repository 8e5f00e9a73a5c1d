"""``bangban store ...`` (and ``bangban replicate`` when :mod:`sync.replicate.cli` exists).

``bangban store serve DIR`` serves the embedded SQLite databases of a folder
over the CouchDB HTTP API (issue 2, item 3), so curl, PouchDB or ibmcloudant
can read and replicate a node's store. Heavy modules are imported inside the
handlers so ``bangban --help`` stays fast.
"""

from __future__ import annotations

import argparse
import hashlib
import importlib
import logging
import os
import sys
from typing import Any

#: The CouchDB port; pass ``--port 0`` to let the OS pick a free one.
DEFAULT_PORT = 5984


def register(subparsers: Any) -> None:
    store = subparsers.add_parser("store", help="the embedded document store")
    store_sub = store.add_subparsers(dest="store_command", metavar="ACTION", required=True)
    from sync.http.settings import HTTPSettings  # tiny module: keeps --help fast

    settings_help = "\n".join(
        f"  {name} (default {default!r}):\n    {text}" for name, default, text in HTTPSettings.describe()
    )
    serve = store_sub.add_parser(
        "serve",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="settings from the environment:\n" + settings_help,
        help="serve a folder of embedded databases over the CouchDB HTTP API",
        description="Serve the SQLite databases of DIR (one <name>.sqlite file each) with the "
        "CouchDB 3 HTTP API: PUT /{db} creates one, GET /_all_dbs lists them. The listening "
        "URL is printed once the server accepts connections. Settings such as "
        "BANGBAN_MAX_HTTP_REQUEST_SIZE are read from the environment.",
    )
    serve.add_argument("dir", metavar="DIR", help="folder of databases (created if missing)")
    serve.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    serve.add_argument("--port", type=int, default=DEFAULT_PORT,
                       help=f"port (default {DEFAULT_PORT}; 0 picks a free port)")
    serve.add_argument("--max-request-size", type=int, default=None, metavar="BYTES",
                       help="largest request body accepted (default 64 MiB; "
                       "env BANGBAN_MAX_HTTP_REQUEST_SIZE)")
    serve.add_argument("--access-log", action="store_true", help="log every request to stderr")
    serve.set_defaults(func=serve_command)
    _register_optional("sync.replicate.cli", subparsers)


def _register_optional(module_name: str, subparsers: Any) -> None:
    """Add another sync module's commands if it exists (built by another engineer)."""
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        if exc.name != module_name:
            raise
        return
    module.register(subparsers)


def server_uuid(directory: str) -> str:
    """A uuid stable for a folder, so replication checkpoints survive restarts."""
    return hashlib.md5(os.path.realpath(directory).encode(), usedforsecurity=False).hexdigest()


def serve_command(args: argparse.Namespace) -> int:
    from sync.http import CouchApp, HTTPSettings, serve
    from sync.sqlite import SQLiteServer

    logging.basicConfig(level=logging.INFO if args.access_log else logging.WARNING,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    overrides: dict[str, Any] = {"server_uuid": server_uuid(args.dir)}
    if args.max_request_size is not None:
        overrides["max_http_request_size"] = args.max_request_size
    settings = HTTPSettings.from_env(**overrides)
    app = CouchApp(SQLiteServer(args.dir), settings)

    def ready(url: str) -> None:
        print(f"bangban store: serving {os.path.abspath(args.dir)} at {url}", flush=True)

    try:
        serve(app, args.host, args.port, access_log=args.access_log, on_ready=ready)
    except OSError as exc:  # port taken, address not available
        print(f"bangban store serve: --port {args.port} --host {args.host}: cannot listen "
              f"({exc.strerror or exc}); give another --port", file=sys.stderr)
        return 1
    return 0
