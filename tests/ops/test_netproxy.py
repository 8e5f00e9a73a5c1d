"""The network-impairment proxy: pass-through, latency, bandwidth, stalls, cuts, black hole,
hangs."""

from __future__ import annotations

import json
import socket
import socketserver
import subprocess
import sys
import threading
import time
from collections.abc import Iterator

import pytest

from ops.netproxy import NetProxy, parse_rate


class _Echo(socketserver.BaseRequestHandler):
    def handle(self) -> None:
        while True:
            try:
                data = self.request.recv(65536)
            except OSError:
                return
            if not data:
                return
            self.request.sendall(data)


@pytest.fixture
def echo_port() -> Iterator[int]:
    server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), _Echo)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server.server_address[1]
    server.shutdown()
    server.server_close()


def roundtrip(port: int, payload: bytes, timeout: float = 10.0) -> bytes:
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
        s.sendall(payload)
        got = b""
        while len(got) < len(payload):
            chunk = s.recv(65536)
            if not chunk:
                break
            got += chunk
        return got


def test_passes_bytes_through_and_counts_them(echo_port: int) -> None:
    payload = bytes(range(256)) * 400
    with NetProxy(echo_port) as proxy:
        assert roundtrip(proxy.port, payload) == payload
        assert proxy.stats.bytes_up == proxy.stats.bytes_down == len(payload)
        assert proxy.stats.connections == 1 and proxy.stats.cuts == 0


def test_latency_delays_each_direction(echo_port: int) -> None:
    with NetProxy(echo_port, latency=0.15) as proxy:
        start = time.monotonic()
        assert roundtrip(proxy.port, b"ping") == b"ping"
        assert time.monotonic() - start >= 0.3  # one way each: 2 x 150 ms


def test_bandwidth_limits_the_rate(echo_port: int) -> None:
    payload = b"x" * 40_000
    with NetProxy(echo_port, bandwidth_down=80_000) as proxy:
        start = time.monotonic()
        assert roundtrip(proxy.port, payload) == payload
        # 40 kB at 80 kB/s: at least ~0.5 s minus the bucket's small burst.
        assert time.monotonic() - start >= 0.45


def test_stall_pauses_forwarding(echo_port: int) -> None:
    with NetProxy(echo_port) as proxy:
        start = time.monotonic()  # before: the stall runs from the call (a loaded machine
        proxy.stall(0.4)  # could take 50 ms to get from there to a start taken after it)
        assert roundtrip(proxy.port, b"hello") == b"hello"
        assert time.monotonic() - start >= 0.35


def test_cut_after_n_bytes_per_connection_repeats(echo_port: int) -> None:
    with NetProxy(echo_port, cut_after=3000) as proxy:
        for _ in range(2):  # each connection is cut at its own 3000th byte
            got = roundtrip(proxy.port, b"y" * 5000)
            # 3000 bytes cross the proxy in total (up + down) before the cut.
            assert len(got) < 5000
        assert proxy.stats.cuts == 2
        assert proxy.stats.total == 6000


def test_cut_after_cumulative_bytes(echo_port: int) -> None:
    with NetProxy(echo_port, cut_after=2500, cut_mode="cumulative") as proxy:
        assert roundtrip(proxy.port, b"a" * 1000) == b"a" * 1000  # 2000 bytes so far
        got = roundtrip(proxy.port, b"b" * 1000)  # crosses 2500: cut
        assert len(got) < 1000
        assert proxy.stats.cuts == 1 and proxy.stats.total == 2500


def test_black_hole_accepts_but_never_answers_until_switched_off(echo_port: int) -> None:
    with NetProxy(echo_port, black_hole=True) as proxy:
        with socket.create_connection(("127.0.0.1", proxy.port), timeout=0.5) as s:
            s.sendall(b"anyone?")
            with pytest.raises(TimeoutError):
                s.recv(10)
            proxy.set(black_hole=False)
            s.settimeout(30)
            assert s.recv(10) == b"anyone?"  # held, then delivered when the link returns
        assert roundtrip(proxy.port, b"new") == b"new"


def test_hang_after_n_bytes_keeps_the_connection_open_and_silent(echo_port: int) -> None:
    """Half an answer, then silence for ever: the client's own timeout is all that ends it
    (neither a cut nor a close tells it)."""
    with NetProxy(echo_port, hang_after=3000) as proxy:
        with socket.create_connection(("127.0.0.1", proxy.port), timeout=30) as s:
            s.sendall(b"h" * 2000)  # 2000 up, then 1000 of the 2000 echoed down
            got = b""
            # what gets through is waited for (a 0.5 s pause of a loaded machine between
            # two pieces of it ended the reading early), then nothing more comes
            while len(got) < 1000:
                chunk = s.recv(65536)
                assert chunk, "the hung connection was closed"
                got += chunk
            s.settimeout(0.5)
            with pytest.raises(TimeoutError):
                got += s.recv(65536)
            assert got == b"h" * 1000
            s.sendall(b"more")  # swallowed: nothing comes back, and no reset either
            with pytest.raises(TimeoutError):
                s.recv(10)
            s.shutdown(socket.SHUT_WR)  # the echo server ends and closes its side,
            s.settimeout(3)  # which the proxy did pass on (an EOF, a reset) within ms
            with pytest.raises(TimeoutError):
                s.recv(10)
        assert proxy.stats.hangs == 1 and proxy.stats.total == 3000 and proxy.stats.cuts == 0
        proxy.set(hang_after=None)
        assert roundtrip(proxy.port, b"new") == b"new"


def test_parse_rate() -> None:
    assert parse_rate("256kbit") == 32_000
    assert parse_rate("1mbit") == 125_000
    assert parse_rate("50kB") == 50_000
    assert parse_rate("4000") == 4000


def test_runs_as_a_module(echo_port: int) -> None:
    proc = subprocess.Popen(
        [sys.executable, "-m", "ops.netproxy", "--target-port", str(echo_port), "--rtt-ms", "20"],
        stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        port = int(line.split("127.0.0.1:")[1].split()[0])
        assert roundtrip(port, b"via cli") == b"via cli"
    finally:
        proc.terminate()
        proc.wait(10)


def test_control_protocol_on_stdin(echo_port: int) -> None:
    proc = subprocess.Popen(
        [sys.executable, "-m", "ops.netproxy", "--target-port", str(echo_port), "--control"],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    assert proc.stdin is not None and proc.stdout is not None

    def ask(cmd: str) -> dict[str, int]:
        proc.stdin.write(cmd + "\n")  # type: ignore[union-attr]
        proc.stdin.flush()  # type: ignore[union-attr]
        return json.loads(proc.stdout.readline())  # type: ignore[union-attr, no-any-return]

    try:
        port = int(proc.stdout.readline().split("127.0.0.1:")[1].split()[0])
        assert roundtrip(port, b"12345") == b"12345"
        assert ask("stats") == {"bytes_up": 5, "bytes_down": 5, "connections": 1, "cuts": 0,
                                "hangs": 0}
        assert ask("reset")["bytes_up"] == 5  # the stats before the reset
        assert ask("stats")["bytes_up"] == 0
        ask("set black_hole=1")
        with socket.create_connection(("127.0.0.1", port), timeout=0.3) as s:
            s.sendall(b"x")
            with pytest.raises(TimeoutError):
                s.recv(1)
        ask("set black_hole=0")
        assert roundtrip(port, b"back") == b"back"
        assert "error" in ask("bogus")
    finally:
        proc.stdin.close()
        proc.wait(10)
