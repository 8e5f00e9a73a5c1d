"""Fixtures of the HTTP API tests.

``client``: werkzeug's test Client driving :class:`sync.http.WSGIApp` over a
fresh folder of embedded SQLite databases, with database ``db`` created.
``served``: a real ``bangban store serve`` process on a free loopback port
(for the e2e tests), stopped by its own PID.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from werkzeug.test import Client, TestResponse

from sync.http import CouchApp, HTTPSettings, WSGIApp
from sync.sqlite import SQLiteServer

ROOT = Path(__file__).resolve().parents[3]


class CouchClient(Client):
    """werkzeug's Client plus a ``json`` helper for CouchDB bodies."""

    def call(self, method: str, path: str, body: Any = None, **kw: Any) -> TestResponse:
        if body is not None:
            kw["json"] = body
        return self.open(path, method=method, **kw)


@pytest.fixture
def store_server(tmp_path: Path) -> Iterator[SQLiteServer]:
    server = SQLiteServer(tmp_path / "dbs")
    yield server
    server.close()


def make_client(server: SQLiteServer, **settings: Any) -> CouchClient:
    return CouchClient(WSGIApp(CouchApp(server, HTTPSettings(**settings))))


@pytest.fixture
def client(store_server: SQLiteServer) -> CouchClient:
    c = make_client(store_server)
    assert c.put("/db").status_code == 201
    return c


@dataclass
class Served:
    url: str
    directory: Path
    process: subprocess.Popen[str]


def start_served(directory: Path, *extra: str) -> Served:
    """Start ``bangban store serve DIR --port 0`` and wait for its URL line."""
    directory.parent.mkdir(parents=True, exist_ok=True)
    with open(directory.parent / f"{directory.name}.log", "a") as log:  # never a full pipe
        proc = subprocess.Popen(
            [sys.executable, "-m", "ops.cli", "store", "serve", str(directory), "--port", "0", *extra],
            cwd=ROOT, stdout=subprocess.PIPE, stderr=log, text=True,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )
    assert proc.stdout is not None
    deadline = time.monotonic() + 120  # a loaded machine's start is slow
    line = ""
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if " at http://" in line or proc.poll() is not None:
            break
    if " at http://" not in line:
        stop_served(proc)
        raise RuntimeError(f"bangban store serve did not start: {line!r}")
    return Served(url=line.rsplit(" at ", 1)[1].strip(), directory=directory, process=proc)


def stop_served(proc: subprocess.Popen[str]) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.kill(proc.pid, signal.SIGTERM)
    try:
        # generous (it ends when the process does): a clean stop waits up to 5 s for the
        # request threads, slower on a loaded machine, and a SIGKILL after 10 s failed the
        # tests that check the exit code 0 of a clean stop
        proc.wait(timeout=60)
    except subprocess.TimeoutExpired:
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)


@pytest.fixture
def served(tmp_path: Path) -> Iterator[Served]:
    server = start_served(tmp_path / "served")
    try:
        yield server
    finally:
        stop_served(server.process)
