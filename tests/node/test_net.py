"""The end-to-end harness keeps its loopback ports (tests/node/net.py): NodeNet chose them
as "free" and closed them, and between that and `hub serve` binding one (or while a test
kept the hub down) another process on the shared CI machine could be given the same port:
the hub then failed to start, or the test talked to someone else's server. And it waits
for a server the way a loaded machine needs (``wait_http``)."""

from __future__ import annotations

import socket
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from tests.node.net import NodeNet, wait_http


def test_a_node_net_keeps_its_ports_until_closed(tmp_path: Path) -> None:
    net = NodeNet(tmp_path)
    try:
        port = net.hub_port
        with socket.socket() as other, pytest.raises(OSError):
            other.bind(("127.0.0.1", port))  # another program's server: refused
        others = []
        try:
            for _ in range(200):  # nor is it handed out as a "free" port
                others.append(socket.socket())
                others[-1].bind(("127.0.0.1", 0))
                assert others[-1].getsockname()[1] != port
        finally:
            for s in others:
                s.close()
        with socket.socket() as hub:  # `hub serve` (SO_REUSEADDR) binds it, twice
            hub.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            hub.bind(("127.0.0.1", port))
            hub.listen(1)
        with socket.socket() as again:
            again.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            again.bind(("127.0.0.1", port))
    finally:
        net.close()
    with socket.socket() as after:  # closed: the port is free again
        after.bind(("127.0.0.1", port))


def test_a_server_slow_to_give_its_first_answer_is_waited_for() -> None:
    """`node serve` on a loaded machine (a CI run: the unlock, its imports and first sync
    round on one busy core) answered its first request after more than 2 s: each try of
    wait_http gave up at 2 s and the next one met the same, until the 30 s were up and the
    e2e test failed (test_the_node_notices_the_link_back_long_before_its_next_round)."""

    class Slow(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            time.sleep(3)  # every answer, as a busy server's first ones
            self.send_response(200)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Slow)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        wait_http(f"http://127.0.0.1:{server.server_port}/", timeout=20)
    finally:
        server.shutdown()
        server.server_close()


def test_a_server_that_exited_is_not_waited_for() -> None:
    proc = subprocess.Popen([sys.executable, "-c", "raise SystemExit(3)"])
    proc.wait(timeout=60)
    with socket.socket() as hole:  # nothing listens here: refused, as a dead server's port
        hole.bind(("127.0.0.1", 0))
        url = f"http://127.0.0.1:{hole.getsockname()[1]}/"
        with pytest.raises(RuntimeError, match=r"exited \(3\)"):  # not a TimeoutError
            wait_http(url, timeout=600, proc=proc)
