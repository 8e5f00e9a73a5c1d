"""The couch backend's own duties: URLs, credentials, error translation, timeouts,
gzip and transport counters (the shared behaviour is in tests/sync/contract)."""

from __future__ import annotations

import gzip as gzip_mod
import json
import socket
import threading
import time
from collections.abc import Iterator

import pytest
import requests
from ibm_cloud_sdk_core import ApiException

from sync import errors
from sync.couch import CouchServer, CouchStore
from sync.couch._translate import server_url, split_url, translate
from sync.couch.store import _bulk_get_entry


# -- pure ---------------------------------------------------------------------------
def test_split_url_credentials_and_db() -> None:
    assert split_url("http://ad%40min:p%3Aw@127.0.0.1:5984/cases") == (
        "http://127.0.0.1:5984", "ad@min", "p:w", "cases")
    assert split_url("https://hub.example:6984") == ("https://hub.example:6984", None, None, None)
    assert split_url("http://[::1]:5984/a%2Fb/") == ("http://[::1]:5984", None, None, "a/b")
    # a CouchDB behind a reverse proxy: the last segment is the database
    assert split_url("https://u:p@gw.example/couch/v1/cases") == (
        "https://gw.example/couch/v1", "u", "p", "cases")
    assert split_url("https://gw.example/couch/v1", db=False) == (
        "https://gw.example/couch/v1", None, None, None)
    assert server_url("http://u:p@h:1/pre/db") == "http://u:p@h:1/pre"
    assert server_url("http://h:1/db/") == "http://h:1"


@pytest.mark.parametrize("url", ["ftp://x/db", "127.0.0.1:5984", "http:///db", "/tmp/x"])
def test_split_url_rejects(url: str) -> None:
    with pytest.raises(errors.BadRequest):
        split_url(url)


@pytest.mark.parametrize("url", ["http://u:zq/xw@h:1/db", "http://u:zq#xw@h:1", "ftp://u:zqxw@h"])
def test_a_refused_url_is_named_without_its_password(url: str) -> None:
    """A "/" or "#" in the password: a ValueError quoting its first part as the port."""
    with pytest.raises(errors.BadRequest) as refused:
        split_url(url)
    assert "zq" not in refused.value.reason


def _api_exception(status: int, body: object, ctype: str = "application/json") -> ApiException:
    resp = requests.Response()
    resp.status_code = status
    resp.headers["Content-Type"] = ctype
    resp._content = json.dumps(body).encode() if ctype == "application/json" else str(body).encode()
    return ApiException(status, http_response=resp)


def test_translate_api_exception_uses_couchdb_body() -> None:
    err = translate(_api_exception(409, {"error": "conflict", "reason": "Document update conflict."}))
    assert isinstance(err, errors.Conflict)
    assert (err.status, err.error, err.reason) == (409, "conflict", "Document update conflict.")
    err = translate(_api_exception(400, {"error": "illegal_docid", "reason": "bad id"}))
    assert isinstance(err, errors.BadRequest) and err.error == "illegal_docid"
    err = translate(_api_exception(502, "<html>bad gateway</html>", "text/html"))
    assert type(err) is errors.SyncError and err.status == 502


def test_translate_connection_errors() -> None:
    assert isinstance(translate(requests.exceptions.ConnectionError("refused")),
                      errors.TransportError)
    assert isinstance(translate(requests.exceptions.ReadTimeout("slow")), errors.TransportError)
    assert isinstance(translate(ValueError("Document ID _x starts with the invalid _")),
                      errors.BadRequest)


def test_bulk_get_entries_take_couchdb_shape() -> None:
    req = {"id": "a", "rev": "1-x"}
    assert _bulk_get_entry(req, {"ok": {"_id": "a"}}) == {"ok": {"_id": "a"}}
    expected = {"error": {"id": "a", "rev": "1-x", "error": "not_found", "reason": "missing"}}
    assert _bulk_get_entry(req, {"missing": "1-x"}) == expected
    assert _bulk_get_entry(req, {}) == expected


# -- against unreachable and stalling peers ----------------------------------------
def test_connection_refused_is_transport_error() -> None:
    with socket.socket() as closed:  # bound, never listening: refused, and nobody else's
        closed.bind(("127.0.0.1", 0))
        server = CouchServer(f"http://127.0.0.1:{closed.getsockname()[1]}", timeout=(1.0, 1.0))
        with pytest.raises(errors.TransportError) as ei:
            server.all_dbs()
    assert isinstance(ei.value.__cause__, requests.exceptions.ConnectionError)
    assert ei.value.status == 503


@pytest.fixture
def stalling_port() -> Iterator[int]:
    """A TCP server that accepts and then never answers."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(8)
    conns: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        sock.settimeout(0.1)
        while not stop.is_set():
            try:
                conns.append(sock.accept()[0])
            except OSError:
                continue

    t = threading.Thread(target=accept, daemon=True)
    t.start()
    yield int(sock.getsockname()[1])
    stop.set()
    t.join()
    for c in conns:
        c.close()
    sock.close()


def test_read_timeout_is_transport_error(stalling_port: int) -> None:
    server = CouchServer(f"http://127.0.0.1:{stalling_port}", timeout=(1.0, 0.3))
    with pytest.raises(errors.TransportError) as ei:
        server.db("x").info()
    assert isinstance(ei.value.__cause__, requests.exceptions.Timeout)


def test_longpoll_gives_up_at_its_deadline(stalling_port: int) -> None:
    # the peer sends nothing at all: the client deadline still ends the wait
    store = CouchStore(CouchServer(f"http://127.0.0.1:{stalling_port}").transport, "db")
    res = store.changes(since=5, feed="longpoll", timeout=0.2)
    assert res == {"results": [], "last_seq": 5, "pending": 0}


# -- against PouchDB Server -----------------------------------------------------------
@pytest.fixture
def couch(couchdb_url: str, couchdb_dbname: str) -> Iterator[CouchServer]:
    server = CouchServer(couchdb_url)
    yield server
    if couchdb_dbname in server.all_dbs():
        server.delete_db(couchdb_dbname)
    server.close()


@pytest.mark.couchdb
def test_stats_count_requests_and_bytes(couch: CouchServer, couchdb_dbname: str) -> None:
    db = couch.create_db(couchdb_dbname)
    couch.stats.reset()
    docs = [{"_id": f"d{i:04}", "text": "x" * 100} for i in range(50)]
    db.bulk_docs(docs)
    assert couch.stats.requests == 1 and db.stats is couch.stats
    assert couch.stats.bytes_sent >= len(json.dumps({"docs": docs}))
    assert couch.stats.bytes_received > 50 * len('"ok":true')
    db.changes()
    assert couch.stats.requests == 2


@pytest.mark.couchdb
def test_gzip_request_bodies(couchdb_url: str, couchdb_dbname: str) -> None:
    plain, zipped = CouchServer(couchdb_url), CouchServer(couchdb_url, gzip=True)
    try:
        db = plain.create_db(couchdb_dbname)
        docs = [{"_id": f"d{i:04}", "text": "bangban " * 50} for i in range(40)]
        zdb = zipped.db(couchdb_dbname)
        zipped.stats.reset()
        assert all(r["ok"] for r in zdb.bulk_docs(docs))
        body = json.dumps({"docs": docs, "new_edits": True}).encode()
        assert zipped.stats.bytes_sent < len(body) / 5
        assert zipped.stats.bytes_sent >= len(gzip_mod.compress(body)) // 2
        assert db.get("d0039")["text"] == "bangban " * 50
    finally:
        plain.delete_db(couchdb_dbname)
        plain.close()
        zipped.close()


@pytest.mark.couchdb
def test_wrong_password_is_unauthorized(couchdb_url: str) -> None:
    service, user, _, _ = split_url(couchdb_url)
    bad = CouchServer(service.replace("://", f"://{user}:wrong@"))
    with pytest.raises(errors.Unauthorized) as ei:
        bad.all_dbs()
    assert ei.value.status == 401 and ei.value.reason


@pytest.mark.couchdb
def test_selector_changes_keep_pouchdb_server_alive(couch: CouchServer,
                                                     couchdb_dbname: str) -> None:
    db = couch.create_db(couchdb_dbname)
    db.bulk_docs([{"_id": "a", "k": 1}, {"_id": "b", "k": 2}])
    assert couch.transport.flavor() == "pouchdb-server"
    for _ in range(3):  # a POST with a selector would have killed it (test-environment.md)
        assert [r["id"] for r in db.changes(selector={"k": 2})["results"]] == ["b"]
    assert "express-pouchdb" in couch.info()


@pytest.mark.couchdb
def test_longpoll_deadline_against_pouchdb_server(couch: CouchServer,
                                                  couchdb_dbname: str) -> None:
    db = couch.create_db(couchdb_dbname)
    db.put({"_id": "a"})
    last = db.changes()["last_seq"]
    started = time.monotonic()
    res = db.changes(since=last, feed="longpoll", timeout=0.2)
    assert res["results"] == [] and res["last_seq"] == last
    # PouchDB Server ignores timeout= and would hold the request open forever
    assert time.monotonic() - started < 30
    res = db.changes(since="now", feed="longpoll", timeout=0.2)
    assert res["results"] == [] and res["last_seq"] == last


@pytest.mark.couchdb
def test_db_of_missing_database(couch: CouchServer) -> None:
    with pytest.raises(errors.NotFound) as ei:
        couch.db("never-created")
    assert ei.value.error == "not_found"


def test_environment_proxies_are_read_once(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("http_proxy", "no_proxy", "all_proxy", "ALL_PROXY"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HTTP_PROXY", "http://proxy.example:3128")
    monkeypatch.setenv("NO_PROXY", "")
    server = CouchServer("http://hub.example:5984")
    assert server.transport.session.proxies.get("http") == "http://proxy.example:3128"
    assert server.transport.session.trust_env is False
    monkeypatch.setenv("NO_PROXY", "hub.example")
    assert CouchServer("http://hub.example:5984").transport.session.proxies.get("http") is None


def one_shot_server(answer: bytes) -> tuple[int, threading.Thread, socket.socket]:
    """Answers every connection with ``answer`` (raw bytes) and closes it."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(8)

    def serve() -> None:
        while True:
            try:
                conn, _ = sock.accept()
            except OSError:
                return
            with conn:
                # Read the whole request, so closing sends a clean EOF, not a reset.
                data = b""
                while b"\r\n\r\n" not in data:
                    data += conn.recv(65536)
                head, _, body = data.partition(b"\r\n\r\n")
                length = next((int(line.split(b":")[1]) for line in head.split(b"\r\n")
                               if line.lower().startswith(b"content-length:")), 0)
                while len(body) < length:
                    body += conn.recv(65536)
                conn.sendall(answer)
                conn.shutdown(socket.SHUT_WR)

    t = threading.Thread(target=serve, daemon=True)
    t.start()
    return int(sock.getsockname()[1]), t, sock


@pytest.mark.parametrize("status", [b"200 OK", b"201 Created"])
def test_headers_then_nothing_is_a_transport_error_not_none(status: bytes) -> None:
    # The link broke right after the headers: the SDK would hand back None.
    port, _t, sock = one_shot_server(b"HTTP/1.1 " + status + b"\r\nContent-Type: "
                                     b"application/json\r\nConnection: close\r\n\r\n")
    try:
        store = CouchStore(CouchServer(f"http://127.0.0.1:{port}").transport, "db")
        with pytest.raises(errors.TransportError, match="broke off"):
            store.put_local({"_id": "_local/x"})
    finally:
        sock.close()


def test_bulk_get_cut_mid_answer_keeps_the_whole_results() -> None:
    rows = [{"id": f"d{i}", "docs": [{"ok": {"_id": f"d{i}", "_rev": "1-a", "n": i}}]}
            for i in range(3)]
    body = json.dumps({"results": rows}).encode()
    cut = body.index(b'{"id": "d2"') + 10  # inside the third result
    port, _t, sock = one_shot_server(
        b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: "
        + str(len(body)).encode() + b"\r\n\r\n" + body[:cut])
    try:
        store = CouchStore(CouchServer(f"http://127.0.0.1:{port}").transport, "db")
        with pytest.raises(errors.TransportError) as ei:
            store.bulk_get([{"id": f"d{i}", "rev": "1-a"} for i in range(3)])
        assert ei.value.partial == rows[:2]
    finally:
        sock.close()
