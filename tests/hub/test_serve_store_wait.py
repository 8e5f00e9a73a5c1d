"""`hub serve` started while its CouchDB is still coming up waits for it (``store_wait``),
saying so every few seconds; CouchDB refusing the hub's password is not waited for.

It exited 2 at once: fine under systemd (``Restart=on-failure``), but an operator starting
it by hand at 2 a.m. while CouchDB was still starting saw it die."""

from __future__ import annotations

import socket
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from hub.settings import Settings
from ops.cli import main
from ops.netproxy import NetProxy
from ops.pouchdb_server import reserve_port

WRONG = "not-the-password"


@pytest.fixture
def hub_on_couchdb(tmp_path: Path, couchdb_url: str,
                   monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A hub folder initialised on the test CouchDB, under a prefix of its own."""
    monkeypatch.setenv("BANGBAN_SCRYPT_N", "1024")
    monkeypatch.delenv("BANGBAN_COUCHDB_URL", raising=False)
    monkeypatch.setenv("BANGBAN_DB_PREFIX", "w" + uuid.uuid4().hex[:10])
    folder = str(tmp_path / "hub")
    assert main(["hub", "--hub-dir", folder, "init", "--couchdb-url", couchdb_url]) == 0
    yield folder


def _at_port(url: str, port: int, password: str | None = None) -> str:
    parts = urlsplit(url)
    return f"http://{parts.username}:{password or parts.password}@127.0.0.1:{port}"


@pytest.mark.couchdb
def test_serve_waits_for_a_couchdb_still_coming_up(
        hub_on_couchdb: str, couchdb_url: str) -> None:
    """The store answers only after the first "waiting" line (CouchDB's port starts
    listening then, as at boot): the hub opens instead of exiting 2."""
    from hub.serve import open_when_the_store_answers

    reserved = reserve_port()  # refused until the proxy to CouchDB listens on it
    port = int(reserved.getsockname()[1])
    settings = Settings.load({"hub_dir": hub_on_couchdb,
                              "couchdb_url": _at_port(couchdb_url, port)})
    lines: list[str] = []
    proxies: list[NetProxy] = []

    def say(line: str) -> None:
        lines.append(line)
        if not proxies:  # CouchDB comes up now
            proxies.append(NetProxy(int(urlsplit(couchdb_url).port or 0),
                                    listen_port=port).start())

    try:
        hub = open_when_the_store_answers(settings, say)
        try:
            assert hub.identity["city"] == "410600"
        finally:
            hub.close()
    finally:
        for proxy in proxies:
            proxy.stop()
        reserved.close()
    assert len(lines) == 1, lines
    assert f"waiting for CouchDB at 127.0.0.1:{port}" in lines[0], lines
    assert "connection refused" in lines[0] and "Ctrl-C" in lines[0]
    assert WRONG not in lines[0] and "bangban-test" not in lines[0]


def test_serve_gives_up_after_store_wait_and_exits_2(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    with socket.socket() as never:  # bound, never listening: connections are refused
        never.bind(("127.0.0.1", 0))
        monkeypatch.setenv("BANGBAN_COUCHDB_URL",
                           f"http://admin:{WRONG}@127.0.0.1:{never.getsockname()[1]}")
        monkeypatch.setenv("BANGBAN_STORE_WAIT", "2")
        (tmp_path / "hub").mkdir()  # a missing folder is refused at once (test_cli_folder)
        started = time.monotonic()
        assert main(["hub", "--hub-dir", str(tmp_path / "hub"), "serve"]) == 2
        waited = time.monotonic() - started
    err = capsys.readouterr().err
    assert waited >= 2, err
    assert err.count("waiting for CouchDB at") == 1, err  # the first line; the next after 5 s
    assert "did not answer in 2 s (store_wait, BANGBAN_STORE_WAIT)" in err
    assert err.strip().splitlines()[-1].startswith("bangban hub: CouchDB at"), err
    assert WRONG not in err and "Traceback" not in err


@pytest.mark.couchdb
def test_serve_does_not_wait_for_a_refused_password(
        hub_on_couchdb: str, couchdb_url: str, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    port = int(urlsplit(couchdb_url).port or 0)
    monkeypatch.setenv("BANGBAN_COUCHDB_URL", _at_port(couchdb_url, port, WRONG))
    monkeypatch.setenv("BANGBAN_STORE_WAIT", "600")
    assert main(["hub", "--hub-dir", hub_on_couchdb, "serve"]) == 2
    err = capsys.readouterr().err
    assert "hub: waiting for" not in err and "not waiting for the store" in err, err
    assert "refused the user name or password" in err and "BANGBAN_COUCHDB_URL" in err
    assert WRONG not in err and "Traceback" not in err


def test_store_wait_is_a_declared_setting() -> None:
    assert Settings.load({}, environ={"BANGBAN_STORE_WAIT": "5"}).store_wait == 5
    assert Settings.load({}, environ={}).store_wait == 60
