"""The core without WSGI: Request in, Response out; settings; the 500 path; CORS."""

from __future__ import annotations

import logging
from typing import Any

import pytest

from sync.errors import Forbidden
from sync.http import CouchApp, HTTPSettings, Request
from sync.http.messages import Headers, QueryArgs
from sync.sqlite import SQLiteServer


def test_request_in_response_out(store_server: SQLiteServer) -> None:
    app = CouchApp(store_server)
    assert app.handle(Request.build("PUT", "/db")).status == 201
    put = app.handle(Request.build("PUT", "/db/a%2Fb", json_body={"v": 1}))
    assert put.status == 201 and put.json()["id"] == "a/b"
    got = app.handle(Request.build("GET", "/db/a%2Fb?revs=true"))
    assert got.json()["_revisions"]["start"] == 1
    assert got.headers["content-type"] == "application/json"
    head = app.handle(Request.build("HEAD", "/db/a%2Fb"))
    assert head.status == 200 and head.body == b"" and head.headers["ETag"] == got.headers["ETag"]


def test_query_args_keep_order_and_repeats() -> None:
    args = QueryArgs.parse("a=1&b=&a=2&open_revs=%5B%221-x%22%5D")
    assert args.get("a") == "2" and args.getlist("a") == ["1", "2"] and args.get("b") == ""
    assert args.get("open_revs") == '["1-x"]' and "c" not in args
    headers = Headers({"Content-Type": "application/json"})
    assert headers.get("content-type") == "application/json" and "CONTENT-TYPE" in headers


def test_settings_from_env() -> None:
    settings = HTTPSettings.from_env({"BANGBAN_MAX_HTTP_REQUEST_SIZE": "1234",
                                      "BANGBAN_CORS_ORIGINS": "http://a, http://b",
                                      "BANGBAN_CHANGES_TIMEOUT": "2.5"})
    assert settings.max_http_request_size == 1234
    assert settings.cors_origins == ("http://a", "http://b")
    assert settings.changes_timeout == 2.5
    assert HTTPSettings.from_env({}, gzip_min_size=0).gzip_min_size == 0
    described = {name: help_ for name, _, help_ in HTTPSettings.describe()}
    assert "BANGBAN_MAX_HTTP_REQUEST_SIZE" in described and all(described.values())


class Exploding(SQLiteServer):
    def all_dbs(self) -> list[str]:
        raise RuntimeError("secret path /etc/shadow")

    def info(self) -> dict[str, Any]:
        raise Forbidden("no entry", error="forbidden")


def test_unexpected_errors_are_500_without_details(tmp_path: Any, caplog: pytest.LogCaptureFixture) -> None:
    app = CouchApp(Exploding(tmp_path / "x"), HTTPSettings(server_uuid="u"))
    with caplog.at_level(logging.ERROR, logger="sync.http"):
        resp = app.handle(Request.build("GET", "/_all_dbs"))
    assert resp.status == 500
    assert resp.json() == {"error": "unknown_error", "reason": "Internal Server Error"}
    assert isinstance(resp.body, bytes) and b"secret" not in resp.body
    assert "secret path" in caplog.text  # the traceback is logged for the operator
    sync_error = app.handle(Request.build("GET", "/"))
    assert sync_error.status == 403 and sync_error.json() == {"error": "forbidden", "reason": "no entry"}


def test_method_not_allowed_names_the_methods(store_server: SQLiteServer) -> None:
    app = CouchApp(store_server)
    app.handle(Request.build("PUT", "/db"))
    resp = app.handle(Request.build("GET", "/db/_bulk_docs"))
    assert resp.status == 405
    assert resp.json() == {"error": "method_not_allowed", "reason": "Only POST allowed"}
    assert resp.headers["Allow"] == "POST"


def test_cors_only_for_configured_origins(store_server: SQLiteServer) -> None:
    app = CouchApp(store_server, HTTPSettings(cors_origins=("http://station.local",)))
    ok = app.handle(Request.build("GET", "/", headers={"Origin": "http://station.local"}))
    assert ok.headers["Access-Control-Allow-Origin"] == "http://station.local"
    other = app.handle(Request.build("GET", "/", headers={"Origin": "http://evil.example"}))
    assert "Access-Control-Allow-Origin" not in other.headers
    # the answer depends on the Origin whichever it is: a cache must not give the one made
    # for another origin (no CORS headers) to the allowed page (Fetch, CORS and HTTP caches)
    assert ok.headers["Vary"] == "Origin" and other.headers["Vary"] == "Origin"
    bare = app.handle(Request.build("GET", "/"))
    assert bare.headers["Vary"] == "Origin"
    refused = app.handle(Request.build("OPTIONS", "/db", headers={"Origin": "http://evil.example"}))
    assert refused.headers["Vary"] == "Origin"
    assert "Access-Control-Allow-Methods" not in refused.headers
    pre = app.handle(Request.build("OPTIONS", "/db", headers={"Origin": "http://station.local"}))
    assert pre.status == 204 and "PUT" in pre.headers["Access-Control-Allow-Methods"]
    plain = CouchApp(store_server).handle(Request.build("GET", "/", headers={"Origin": "http://station.local"}))
    assert "Access-Control-Allow-Origin" not in plain.headers


@pytest.mark.parametrize("fast", [True, False])
def test_json_encoding_with_and_without_orjson(store_server: SQLiteServer, monkeypatch: pytest.MonkeyPatch,
                                               fast: bool) -> None:
    from sync.http import messages

    if not fast:
        monkeypatch.setattr(messages, "_orjson", None)
    app = CouchApp(store_server)
    app.handle(Request.build("PUT", "/db"))
    doc = {"big": 2**70, "neg": -(2**65), "f": 0.1, "t": "帮办\u2028", "n": None, "l": [True, {}]}
    assert app.handle(Request.build("PUT", "/db/d", json_body=doc)).status == 201
    got = app.handle(Request.build("GET", "/db/d")).json()
    assert {k: got[k] for k in doc} == doc  # bignums survive: CouchDB keeps them too
