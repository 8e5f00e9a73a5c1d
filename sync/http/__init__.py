"""The CouchDB 3 HTTP API over any :class:`sync.store.StoreServer`.

A sansio core (:class:`CouchApp`: :class:`Request` in, :class:`Response` out,
no IO and no Flask) and a thin WSGI adapter (:class:`WSGIApp`, :func:`serve`).
The hub mounts the same core behind its gateway; ``bangban store serve``
serves a folder of embedded SQLite databases with it.

    from sync.http import CouchApp, HTTPSettings, Request, serve
    app = CouchApp(store_server, HTTPSettings.from_env())
    app.handle(Request.build("GET", "/_all_dbs")).json()
    serve(app, "127.0.0.1", 5984)

Names are imported on first use, so ``bangban --help`` (which reads only the
settings) does not load the whole API.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from sync.http._waitress import make_waitress
    from sync.http.messages import Headers, QueryArgs, Request, Response
    from sync.http.routing import CouchApp
    from sync.http.settings import HTTPSettings
    from sync.http.wsgi import WSGIApp, make_server, serve

_EXPORTS = {
    "CouchApp": "sync.http.routing",
    "HTTPSettings": "sync.http.settings",
    "Headers": "sync.http.messages",
    "QueryArgs": "sync.http.messages",
    "Request": "sync.http.messages",
    "Response": "sync.http.messages",
    "WSGIApp": "sync.http.wsgi",
    "make_server": "sync.http.wsgi",
    "make_waitress": "sync.http._waitress",
    "serve": "sync.http.wsgi",
}

__all__ = [
    "CouchApp",
    "HTTPSettings",
    "Headers",
    "QueryArgs",
    "Request",
    "Response",
    "WSGIApp",
    "make_server",
    "make_waitress",
    "serve",
]


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'sync.http' has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)
