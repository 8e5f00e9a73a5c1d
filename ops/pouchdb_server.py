"""Start and stop PouchDB Server 4.2.0, the CouchDB-API server used by tests and benchmarks.

Apache CouchDB has no Debian package here (shared/spec/test-environment.md), so
CouchDB-backed tests run against PouchDB Server from ``ops/pouchdb/node_modules``.
We start node itself (not a shell) so that we hold its own PID and can stop it
by that PID, and we run it from a fresh working directory because it writes
``config.json`` there even in memory mode.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = ROOT / "ops" / "pouchdb" / "node_modules" / "pouchdb-server" / "bin" / "pouchdb-server"
ADMIN_USER = "admin"
ADMIN_PASSWORD = "bangban-test"


class PouchDBServerError(RuntimeError):
    """PouchDB Server could not be started (not installed, or did not answer)."""


def free_port() -> int:
    """A loopback port free *now* (only for a peer that must not answer; a server to be
    started on it takes :func:`reserve_port`)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def reserve_port() -> socket.socket:
    """A loopback port kept from everyone else until the returned socket is closed.

    Bound with SO_REUSEADDR and never listening: a connection to it is refused, the kernel
    gives it to no other ``bind(0)`` or outgoing connection, and the server we start on it
    can still bind it (``hub serve``, waitress and Node's libuv set SO_REUSEADDR too), and
    bind it again after a restart. A port found free and closed at once (:func:`free_port`)
    is anyone's until the server binds it: on a CI machine shared with other test runs,
    another one could be given it, and our server failed to start, or we talked to theirs.
    """
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    return sock


@dataclass
class PouchDBServer:
    """A running PouchDB Server process with an admin account."""

    pid: int
    port: int
    workdir: Path
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        """Base URL with admin credentials (always send them: an anonymous
        ``PUT /db`` after an admin exists kills PouchDB Server 4.2.0)."""
        return f"http://{ADMIN_USER}:{ADMIN_PASSWORD}@127.0.0.1:{self.port}"

    @property
    def plain_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def alive(self) -> bool:
        try:
            os.kill(self.pid, 0)
        except OSError:
            return False
        return True

    def stop(self) -> None:
        stop(self.pid, self.workdir)


def start(port: int | None = None, *, in_memory: bool = True, timeout: float = 30.0) -> PouchDBServer:
    """Start PouchDB Server on 127.0.0.1 and create the admin account."""
    if not BIN.exists():
        raise PouchDBServerError(
            f"{BIN} is missing: run `make test` (or `cd ops/pouchdb && npm ci`) to install it"
        )
    # held until the server answers: from then on its own listening socket holds the port
    reservation = None if port else reserve_port()
    if reservation is not None:
        port = int(reservation.getsockname()[1])
    assert port
    try:
        return _start(port, in_memory=in_memory, timeout=timeout)
    finally:
        if reservation is not None:
            reservation.close()


def _start(port: int, *, in_memory: bool, timeout: float) -> PouchDBServer:
    workdir = Path(tempfile.mkdtemp(prefix="bangban-pouchdb-"))
    args = ["node", str(BIN), "--port", str(port), "--host", "127.0.0.1"]
    args += ["--in-memory"] if in_memory else ["--dir", str(workdir / "data")]
    log = open(workdir / "server.log", "wb")  # lives as long as the server
    proc = subprocess.Popen(args, cwd=workdir, stdout=log, stderr=subprocess.STDOUT,
                            start_new_session=True)
    server = PouchDBServer(pid=proc.pid, port=port, workdir=workdir, process=proc)
    deadline = time.monotonic() + timeout
    while True:
        if proc.poll() is not None:
            raise PouchDBServerError(f"PouchDB Server exited: {(workdir / 'server.log').read_text()[-2000:]}")
        try:
            with urllib.request.urlopen(server.plain_url + "/", timeout=2) as resp:
                json.load(resp)
            break
        except (urllib.error.URLError, ConnectionError, TimeoutError, json.JSONDecodeError):
            if time.monotonic() > deadline:
                server.stop()
                raise PouchDBServerError("PouchDB Server did not answer in time") from None
            time.sleep(0.1)
    req = urllib.request.Request(
        f"{server.plain_url}/_config/admins/{ADMIN_USER}",
        data=json.dumps(ADMIN_PASSWORD).encode(), method="PUT",
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(req, timeout=10):
        pass
    return server


def stop(pid: int, workdir: Path | str | None = None) -> None:
    """Stop the server by its own PID (TERM, then KILL) and remove its working directory."""
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGTERM)
        for _ in range(50):
            try:
                os.kill(pid, 0)
            except ProcessLookupError:
                break
            with contextlib.suppress(ChildProcessError):
                os.waitpid(pid, os.WNOHANG)
            time.sleep(0.05)
        else:
            os.kill(pid, signal.SIGKILL)
    if workdir:
        shutil.rmtree(workdir, ignore_errors=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m ops.pouchdb_server")
    sub = parser.add_subparsers(dest="cmd", required=True)
    p_start = sub.add_parser("start", help="start a server and print its URL and PID")
    p_start.add_argument("--port", type=int)
    p_start.add_argument("--shell", action="store_true", help="print shell export lines")
    p_stop = sub.add_parser("stop", help="stop a server by PID")
    p_stop.add_argument("--pid", type=int, required=True)
    p_stop.add_argument("--dir")
    args = parser.parse_args(argv)
    if args.cmd == "start":
        server = start(args.port)
        if args.shell:
            print(f"export BANGBAN_TEST_COUCHDB_URL='{server.url}'")
            print(f"export BANGBAN_POUCHDB_PID={server.pid}")
            print(f"export BANGBAN_POUCHDB_DIR='{server.workdir}'")
        else:
            print(json.dumps({"url": server.url, "pid": server.pid, "dir": str(server.workdir)}))
        return 0
    stop(args.pid, args.dir)
    return 0


if __name__ == "__main__":
    sys.exit(main())
