"""A user-space TCP proxy on loopback that makes a link poor on purpose.

The kernel here has no netem (shared/spec/test-environment.md), so tests and
benchmarks put this proxy between the replicator and the server. Per direction
(``up`` = client -> server, ``down`` = server -> client) it models a link as
serialisation at ``bandwidth`` bytes/s (one token bucket per direction shared
by all connections, like one access link) followed by a one-way ``latency``;
on top of that:

* ``stall(seconds)`` pauses all forwarding (a radio dead zone);
* ``cut_after`` closes (aborts) the connection that carries byte number N of
  this connection (``cut_mode="connection"``) or of all traffic
  (``cut_mode="cumulative"``), repeatedly: every N bytes another cut;
* ``black_hole`` accepts connections but forwards and answers nothing while it
  is on (a dead peer whose TCP is still "up"); switch it at runtime;
* ``hang_after`` forwards byte N of a connection, then nothing, never closing it
  (half an answer, then silence for ever while both ends' TCP stays up).

Use from Python (the loop runs in a background thread)::

    with NetProxy(5984, bandwidth=32_000, latency=0.15) as proxy:
        url = f"http://127.0.0.1:{proxy.port}/db"; proxy.set(black_hole=True)

or from a shell: ``python -m ops.netproxy --target-port 5984 --bandwidth 256kbit --rtt-ms 300``.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import re
import sys
import threading
import time
from dataclasses import dataclass, field
from typing import Any

CHUNK = 16384


@dataclass
class ProxyStats:
    bytes_up: int = 0
    bytes_down: int = 0
    connections: int = 0
    cuts: int = 0
    hangs: int = 0

    @property
    def total(self) -> int:
        return self.bytes_up + self.bytes_down

    def as_dict(self) -> dict[str, int]:
        return {"bytes_up": self.bytes_up, "bytes_down": self.bytes_down,
                "connections": self.connections, "cuts": self.cuts, "hangs": self.hangs}


class TokenBucket:
    """Bytes per second with a small burst; ``None`` rate means unlimited."""

    def __init__(self, rate: float | None, burst: float | None = None) -> None:
        self.rate = rate
        self.burst = burst
        self.tokens = 0.0
        self.stamp = time.monotonic()

    def _capacity(self) -> float:
        assert self.rate is not None
        # About 20 ms of traffic, at least one TCP segment.
        return self.burst if self.burst is not None else max(1500.0, self.rate / 50)

    async def take(self, n: int) -> None:
        while self.rate:
            now = time.monotonic()
            self.tokens = min(self._capacity(), self.tokens + (now - self.stamp) * self.rate)
            self.stamp = now
            if self.tokens >= n or (self.tokens >= self._capacity() and n > self._capacity()):
                self.tokens -= n  # may go negative for an oversized chunk: paid back later
                return
            await asyncio.sleep(max(0.001, (min(n, self._capacity()) - self.tokens) / self.rate))


@dataclass(eq=False)
class _Conn:
    client: asyncio.StreamWriter
    upstream: asyncio.StreamWriter | None = None
    forwarded: int = 0
    closed: bool = False
    hung: bool = False
    tasks: list[asyncio.Task[Any]] = field(default_factory=list)

    def abort(self) -> None:
        if self.closed:
            return
        self.closed = True
        for w in (self.client, self.upstream):
            if w is not None:
                with contextlib.suppress(Exception):
                    w.transport.abort()
        for t in self.tasks:
            t.cancel()


class NetProxy:
    """The proxy; all settings can be changed at runtime with :meth:`set`."""

    def __init__(
        self,
        target_port: int,
        *,
        target_host: str = "127.0.0.1",
        listen_port: int = 0,
        latency: float = 0.0,
        latency_up: float | None = None,
        latency_down: float | None = None,
        bandwidth: float | None = None,
        bandwidth_up: float | None = None,
        bandwidth_down: float | None = None,
        cut_after: int | None = None,
        cut_mode: str = "connection",
        black_hole: bool = False,
        hang_after: int | None = None,
    ) -> None:
        if cut_mode not in ("connection", "cumulative"):
            raise ValueError("cut_mode must be 'connection' or 'cumulative'")
        self.target_host, self.target_port = target_host, target_port
        self.listen_port = listen_port
        self.latency_up = latency if latency_up is None else latency_up
        self.latency_down = latency if latency_down is None else latency_down
        self.buckets = {"up": TokenBucket(bandwidth if bandwidth_up is None else bandwidth_up),
                        "down": TokenBucket(bandwidth if bandwidth_down is None else bandwidth_down)}
        self.cut_after = cut_after
        self.cut_mode = cut_mode
        self.black_hole = black_hole
        self.hang_after = hang_after
        self.stalled_until = 0.0
        self.stats = ProxyStats()
        self._since_cut = 0  # cumulative mode
        self._conns: set[_Conn] = set()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._server: asyncio.AbstractServer | None = None
        self._thread: threading.Thread | None = None
        self._ready = threading.Event()
        self._error: BaseException | None = None
        self.port = 0

    # -- runtime control (thread-safe: plain attribute writes read by the loop) ---------
    def set(self, **settings: Any) -> None:
        """Change settings: latency, latency_up/down, bandwidth, bandwidth_up/down,
        cut_after, cut_mode, black_hole, hang_after."""
        for key, value in settings.items():
            if key == "latency":
                self.latency_up = self.latency_down = value
            elif key in ("bandwidth", "bandwidth_up", "bandwidth_down"):
                for side in ("up", "down") if key == "bandwidth" else (key.split("_")[1],):
                    self.buckets[side].rate = value
            elif key in ("latency_up", "latency_down", "cut_after", "cut_mode", "black_hole",
                         "hang_after"):
                setattr(self, key, value)
            else:
                raise TypeError(f"unknown setting {key!r}")

    def stall(self, seconds: float) -> None:
        """Forward nothing for ``seconds`` from now (connections stay open)."""
        self.stalled_until = max(self.stalled_until, time.monotonic() + seconds)

    def reset_stats(self) -> None:
        self.stats = ProxyStats()

    def cut_all(self) -> None:
        """Abort every open connection now."""
        if self._loop is not None:
            self._loop.call_soon_threadsafe(self._abort_all)

    def _abort_all(self) -> None:
        for conn in list(self._conns):
            conn.abort()

    # -- the loop ----------------------------------------------------------------------
    async def _blocked(self) -> None:
        while self.black_hole or time.monotonic() < self.stalled_until:
            await asyncio.sleep(0.01)

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        conn = _Conn(writer)
        self._conns.add(conn)
        self.stats.connections += 1
        try:
            # A black hole accepts, then never connects upstream nor answers.
            await self._blocked()
            up_reader, up_writer = await asyncio.open_connection(self.target_host, self.target_port)
            conn.upstream = up_writer
            conn.tasks = [asyncio.ensure_future(self._pump(conn, reader, up_writer, "up")),
                          asyncio.ensure_future(self._pump(conn, up_reader, writer, "down"))]
            await asyncio.gather(*conn.tasks, return_exceptions=True)
            while conn.hung and not conn.closed:  # the server is done: the client never knows
                await asyncio.sleep(0.05)
        except (OSError, asyncio.CancelledError):
            pass
        finally:
            conn.abort()
            self._conns.discard(conn)

    async def _pump(self, conn: _Conn, reader: asyncio.StreamReader,
                    writer: asyncio.StreamWriter, side: str) -> None:
        bucket = self.buckets[side]
        last_delivery = 0.0
        loop = asyncio.get_running_loop()
        pending: list[asyncio.Future[None]] = []
        while not conn.closed:
            data = await reader.read(CHUNK if not bucket.rate else max(512, min(CHUNK, int(bucket.rate / 50))))
            if not data:
                # Deliver what is in flight, then pass the half-close on.
                if pending:
                    await asyncio.gather(*pending, return_exceptions=True)
                with contextlib.suppress(Exception):
                    if writer.can_write_eof() and not conn.hung:
                        writer.write_eof()
                return
            await self._blocked()
            await bucket.take(len(data))
            await self._blocked()
            latency = self.latency_up if side == "up" else self.latency_down
            deliver_at = max(loop.time() + latency, last_delivery + 1e-6)
            last_delivery = deliver_at
            done: asyncio.Future[None] = loop.create_future()
            pending = [f for f in pending if not f.done()] + [done]
            loop.call_at(deliver_at, self._deliver, conn, writer, data, side, done)

    def _deliver(self, conn: _Conn, writer: asyncio.StreamWriter, data: bytes, side: str,
                 done: asyncio.Future[None]) -> None:
        if not done.done():
            done.set_result(None)
        if conn.closed or conn.hung:
            return  # a hung connection swallows everything, both ways
        if self.hang_after is not None and conn.forwarded + len(data) >= self.hang_after:
            data = data[:max(0, self.hang_after - conn.forwarded)]
            conn.hung = True
            self.stats.hangs += 1
        cut_at: int | None = None
        if self.cut_after:
            used = conn.forwarded if self.cut_mode == "connection" else self._since_cut
            if used + len(data) >= self.cut_after:
                cut_at = self.cut_after - used
        if cut_at is not None:
            data = data[:max(0, cut_at)]
        n = len(data)
        conn.forwarded += n
        self._since_cut += n
        if side == "up":
            self.stats.bytes_up += n
        else:
            self.stats.bytes_down += n
        if data and not writer.is_closing():  # after counting: stats are read at once
            writer.write(data)
        if cut_at is not None:
            self._since_cut = 0
            self.stats.cuts += 1
            conn.abort()

    async def _main(self) -> None:
        self._server = await asyncio.start_server(self._handle, "127.0.0.1", self.listen_port)
        self.port = self._server.sockets[0].getsockname()[1]
        self._ready.set()
        async with self._server:
            await self._server.serve_forever()

    def _run(self) -> None:
        loop = asyncio.new_event_loop()
        self._loop = loop
        try:
            loop.run_until_complete(self._main())
        except asyncio.CancelledError:
            pass
        except BaseException as exc:  # surfaced by start()
            self._error = exc
            self._ready.set()
        finally:
            for conn in list(self._conns):
                conn.abort()
            with contextlib.suppress(Exception):
                loop.run_until_complete(asyncio.sleep(0))
            loop.close()

    # -- lifecycle -----------------------------------------------------------------------
    def start(self) -> NetProxy:
        self._thread = threading.Thread(target=self._run, name="netproxy", daemon=True)
        self._thread.start()
        self._ready.wait(10)
        if self._error is not None:
            raise self._error
        return self

    def stop(self) -> None:
        loop = self._loop
        if loop is not None and not loop.is_closed():
            def _shutdown() -> None:
                self._abort_all()
                if self._server is not None:
                    self._server.close()
                for task in asyncio.all_tasks(loop):
                    task.cancel()
            with contextlib.suppress(RuntimeError):
                loop.call_soon_threadsafe(_shutdown)
        if self._thread is not None:
            self._thread.join(10)
            self._thread = None

    def __enter__(self) -> NetProxy:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def parse_rate(text: str) -> float:
    """``"256kbit"`` -> 32000.0 bytes/s; ``"1mbit"``, ``"50kB"``, ``"4000"`` (bytes/s)."""
    m = re.fullmatch(r"\s*([\d.]+)\s*([kmg]?)(bit|b|bps)?\s*", text, re.IGNORECASE)
    if not m:
        raise argparse.ArgumentTypeError(f"not a rate: {text!r} (e.g. 256kbit, 50kB, 4000)")
    value = float(m.group(1)) * {"": 1, "k": 1e3, "m": 1e6, "g": 1e9}[m.group(2).lower()]
    unit = (m.group(3) or "").lower()
    return value / 8 if unit in ("bit", "bps") or (unit == "b" and m.group(3) == "b") else value


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m ops.netproxy", description=__doc__.split("\n\n")[0])
    parser.add_argument("--target-port", type=int, required=True)
    parser.add_argument("--target-host", default="127.0.0.1")
    parser.add_argument("--listen-port", type=int, default=0)
    parser.add_argument("--rtt-ms", type=float, default=0.0, help="round trip; half each way")
    parser.add_argument("--bandwidth", type=parse_rate, help="per direction, e.g. 256kbit")
    parser.add_argument("--cut-after", type=int, help="abort a connection every N bytes")
    parser.add_argument("--cut-mode", choices=("connection", "cumulative"), default="connection")
    parser.add_argument("--black-hole", action="store_true")
    parser.add_argument("--hang-after", type=int,
                        help="forward N bytes of a connection, then nothing (never closed)")
    parser.add_argument("--stats-every", type=float, default=5.0, help="seconds between stats lines")
    parser.add_argument("--control", action="store_true",
                        help="read commands from stdin, one per line: stats | reset (answers the stats before) | cut | "
                        "stall SECONDS | set KEY=VALUE (e.g. set black_hole=1, set bandwidth=32000)")
    args = parser.parse_args(argv)
    proxy = NetProxy(args.target_port, target_host=args.target_host, listen_port=args.listen_port,
                     latency=args.rtt_ms / 2000, bandwidth=args.bandwidth, cut_after=args.cut_after,
                     cut_mode=args.cut_mode, black_hole=args.black_hole,
                     hang_after=args.hang_after)
    with proxy:
        print(f"listening on 127.0.0.1:{proxy.port} -> {args.target_host}:{args.target_port}",
              flush=True)
        try:
            if args.control:
                for line in sys.stdin:
                    print(json.dumps(control(proxy, line)), flush=True)
            else:
                while True:
                    time.sleep(args.stats_every)
                    print(proxy.stats.as_dict(), file=sys.stderr, flush=True)
        except KeyboardInterrupt:
            pass
    return 0


def _value(text: str) -> Any:
    low = text.strip().lower()
    words = {"true": True, "on": True, "yes": True, "false": False, "off": False, "no": False}
    if low in words or low in ("none", "null", ""):
        return words.get(low)
    try:
        return float(low) if "." in low else int(low)
    except ValueError:
        return text.strip()


def control(proxy: NetProxy, line: str) -> dict[str, Any]:
    """One command of the ``--control`` protocol; answers with the stats (for
    ``reset``: the stats just before the reset)."""
    cmd, _, rest = line.strip().partition(" ")
    if cmd == "reset":
        before = proxy.stats.as_dict()
        proxy.reset_stats()
        return before
    elif cmd == "cut":
        proxy.cut_all()
    elif cmd == "stall":
        proxy.stall(float(rest))
    elif cmd == "set":
        key, _, value = rest.partition("=")
        val = _value(value)
        if key.strip() == "black_hole":
            val = bool(val)
        proxy.set(**{key.strip(): val})
    elif cmd not in ("stats", ""):
        return {"error": f"unknown command {cmd!r}"}
    return proxy.stats.as_dict()


if __name__ == "__main__":
    sys.exit(main())
