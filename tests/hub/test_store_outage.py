"""The hub on CouchDB when CouchDB fails under it: down, or refusing the hub's credentials.

What the operator reads (`hub` commands, `hub doctor`, the log) names the cause and the
setting to fix, never the password, never a traceback; what devices and probes get is a
503 they retry, not a 500 page or a 401 that blames the device."""

from __future__ import annotations

import base64
import logging
import socket
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import pytest

from hub import doctor
from hub.core import Hub
from hub.settings import Settings
from ops.cli import main
from sync.errors import TransportError

WRONG = "not-the-password"


def _with_password(url: str, password: str) -> str:
    parts = urlsplit(url)
    netloc = f"{parts.username}:{password}@{parts.hostname}:{parts.port}"
    return urlunsplit((parts.scheme, netloc, parts.path, "", ""))


@pytest.fixture
def refused_url() -> Iterator[str]:
    """A CouchDB URL (with a password) at a loopback port bound but never listening."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    try:
        yield f"http://admin:{WRONG}@127.0.0.1:{sock.getsockname()[1]}"
    finally:
        sock.close()


def _hub(tmp_path: Path, url: str) -> Hub:
    return Hub(Settings.load({"hub_dir": str(tmp_path / "hub"), "couchdb_url": url,
                              "db_prefix": "o" + uuid.uuid4().hex[:10]}, environ={}))


def _client(hub: Hub, monkeypatch: pytest.MonkeyPatch) -> Any:
    from hub import app

    monkeypatch.setattr(app, "_last_logged", [float("-inf"), 0])  # this test's first line
    return app.create_app(hub=hub).test_client()


def _login() -> dict[str, str]:
    token = base64.b64encode(b"410602101201-A1:" + b"s" * 43).decode()
    return {"Authorization": f"Basic {token}"}


def _assert_said_once_without_traceback(caplog: pytest.LogCaptureFixture, *words: str) -> None:
    lines = [r for r in caplog.records if r.name.startswith("bangban.hub")]
    assert lines, caplog.text
    assert all(r.exc_info is None for r in caplog.records), caplog.text
    assert all(w in lines[0].getMessage() for w in words), lines[0].getMessage()
    assert WRONG not in caplog.text and "Traceback" not in caplog.text


def test_with_couchdb_down_devices_and_probes_get_a_503_to_retry(
        tmp_path: Path, refused_url: str, monkeypatch: pytest.MonkeyPatch,
        caplog: pytest.LogCaptureFixture) -> None:
    """It was Flask's HTML 500 page and a 60-line traceback per request."""
    caplog.set_level(logging.WARNING)
    hub = _hub(tmp_path, refused_url)
    try:
        client = _client(hub, monkeypatch)
        health = client.get("/_hub/health")
        assert health.status_code == 503 and health.get_json()["ok"] is False
        sync = client.get(f"/{hub.stores.prefix}", headers=_login())
        assert sync.status_code == 503 and sync.get_json()["error"] == "service_unavailable"
        # CouchDB's /_up, a load balancer's probe without credentials: not "ok" (it was,
        # with a device's login), the outage's 503
        up = client.get("/_up")
        assert up.status_code == 503 and up.get_json()["error"] == "service_unavailable"
        assert up.headers["Retry-After"] and client.head("/_up").status_code == 503
        for answer in (health, sync, up):  # nothing about the store's address for anyone
            assert "127.0.0.1" not in answer.get_data(as_text=True)
        _assert_said_once_without_traceback(caplog, "connection refused",
                                            "couchdb_url given to the hub", "127.0.0.1")
    finally:
        hub.close()


@pytest.mark.couchdb
def test_couchdb_refusing_the_hubs_password_is_not_a_device_refused(
        tmp_path: Path, couchdb_url: str, monkeypatch: pytest.MonkeyPatch,
        caplog: pytest.LogCaptureFixture) -> None:
    """CouchDB's 401 reached the device as the hub's 500; passed on as a 401 it would tell
    the station that the hub refused *it* (a station then asks whether it is revoked)."""
    caplog.set_level(logging.WARNING)
    hub = _hub(tmp_path, _with_password(couchdb_url, WRONG))
    try:
        sync = _client(hub, monkeypatch).get(f"/{hub.stores.prefix}", headers=_login())
        assert sync.status_code == 503, sync.get_data(as_text=True)
        _assert_said_once_without_traceback(caplog, "refused the user name or password",
                                            "couchdb_url given to the hub")
    finally:
        hub.close()


@pytest.mark.couchdb
def test_doctor_names_refused_credentials(tmp_path: Path, couchdb_url: str) -> None:
    """A HEAD has no body: the doctor said "CouchDB at …: Unknown error"."""
    hub = _hub(tmp_path, _with_password(couchdb_url, WRONG))
    try:
        store = doctor.run(hub)[0]
    finally:
        hub.close()
    assert store.name == "store" and store.status == "fail"
    assert "refused the user name or password" in store.detail, store.detail
    assert "Unknown error" not in store.detail and WRONG not in store.detail
    assert "is CouchDB running" not in store.hint
    assert "the right URL in couchdb_url given to the hub" in store.hint


def test_doctor_says_couchdb_refused_the_connection(tmp_path: Path, refused_url: str) -> None:
    """It printed urllib3's `HTTPConnectionPool(…): Max retries exceeded with url: …` line."""
    hub = _hub(tmp_path, refused_url)
    try:
        store = doctor.run(hub)[0]
    finally:
        hub.close()
    assert store.status == "fail" and "connection refused" in store.detail, store.detail
    assert "HTTPConnectionPool" not in store.detail and WRONG not in store.detail


@pytest.mark.couchdb
def test_init_with_a_wrong_couchdb_password_leaves_the_folder_to_init_again(
        tmp_path: Path, couchdb_url: str, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    """The refused store was taken for "no hub yet": `hub init` made the keys, then failed,
    and `hub init` with the right password refused the folder for its keys ("to start a
    new hub, use a new --hub-dir")."""
    monkeypatch.setenv("BANGBAN_SCRYPT_N", "1024")
    monkeypatch.delenv("BANGBAN_COUCHDB_URL", raising=False)
    monkeypatch.setenv("BANGBAN_DB_PREFIX", "i" + uuid.uuid4().hex[:10])
    folder = str(tmp_path / "hub")
    init = ["hub", "--hub-dir", folder, "init", "--couchdb-url"]
    assert main([*init, _with_password(couchdb_url, WRONG)]) == 2
    err = capsys.readouterr().err
    assert "refused the user name or password" in err and "(--couchdb-url)" in err, err
    assert WRONG not in err and "Traceback" not in err
    assert not (tmp_path / "hub" / "keys").exists()
    assert main([*init, couchdb_url]) == 0, capsys.readouterr().err


def test_workers_say_once_that_the_store_failed_and_once_that_it_is_back(
        tmp_path: Path, refused_url: str, caplog: pytest.LogCaptureFixture) -> None:
    """Each pass (every 2 s, in every hub) logged the same 60-line traceback."""
    from hub.workers import Workers

    caplog.set_level(logging.WARNING)
    hub = _hub(tmp_path, refused_url)
    workers = Workers(hub, interval=0.0)
    down = TransportError("CouchDB at 127.0.0.1:1 (BANGBAN_COUCHDB_URL): connection refused")
    passes: list[Any] = [down, down, down, None, None]

    def run_once() -> dict[str, Any]:
        outcome = passes.pop(0)
        if not passes:
            workers._stop.set()
        if outcome is not None:
            raise outcome
        return {}

    workers.run_once = run_once  # type: ignore[method-assign]
    try:
        workers._loop()
    finally:
        hub.close()
    said = [r.getMessage() for r in caplog.records if r.name == "bangban.hub.workers"]
    assert len(said) == 2 and "connection refused" in said[0] and "again" in said[1], said
    assert all(r.exc_info is None for r in caplog.records)
    assert workers.errors == 3


@pytest.mark.parametrize("password", ["zq/xw99", "zq#xw99", "8123/4567"])
def test_a_password_the_url_cannot_carry_is_said_without_showing_it(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
        password: str) -> None:
    """A generated password with "/" or "#" ended the URL's host part early: a ValueError
    traceback quoting the password's first part as a port, or (all digits) a host "admin"
    that does not resolve, named with it."""
    monkeypatch.setenv("BANGBAN_COUCHDB_URL", f"http://admin:{password}@127.0.0.1:9")
    assert main(["hub", "--hub-dir", str(tmp_path), "institution", "add", "--code",
                 "410602", "--name", "鹤山区"]) == 2
    err = capsys.readouterr().err
    assert "%2F %23" in err and "BANGBAN_COUCHDB_URL" in err, err
    assert password.split("/")[0].split("#")[0] not in err
