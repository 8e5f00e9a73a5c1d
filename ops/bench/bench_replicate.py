"""Replication: Bangban's replicator vs PouchDB 9's, side by side in one run (issue 3).

Workload: a PouchDB Server 4.2.0 database of 10,000 small documents plus 2,000
conflicted ones (two leaves each, a common ancestor), pulled into a local store:
ours into an embedded SQLite file (``sync.sqlite.SQLiteStore``, default
synchronous=FULL) in process; PouchDB 9's ``PouchDB.replicate`` into its memory
adapter in node (``ops/pouchdb/replicate.js``, its default batch_size 100). Both
timings cover the replication only (not interpreter start-up), both start from an
empty target and take the median of the repetitions.

Case 2 runs both through ``ops/netproxy.py`` (its own process) at 256 kbit/s per
direction with 300 ms round trip; the link limit is the bytes the proxy forwarded
in the busier direction divided by the bandwidth. Requests are counted by each
client (ours: the CouchDB backend's counters; PouchDB: a wrapped ``fetch``),
bytes by the proxy. Case 2 runs at full size only if both replicators are
estimated to finish in about 5 minutes; otherwise at a stated smaller size.
"""

from __future__ import annotations

import json
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from ops.bench.harness import BenchContext
from sync.couch import CouchServer
from sync.open import open_db
from sync.replicate import replicate
from sync.sqlite import SQLiteStore

TITLE = "Replication: Bangban's replicator vs PouchDB 9 (pull from PouchDB Server)"
ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "ops" / "pouchdb" / "replicate.js"
BANDWIDTH = 32_000  # 256 kbit/s in bytes/s, per direction
RTT_MS = 300
BUDGET_SECONDS = 300.0


def seed(url: str, name: str, small: int, conflicted: int) -> None:
    """``small`` plain docs and ``conflicted`` docs with two leaves each."""
    server = CouchServer(url)
    store = server.create_db(name)
    total = small + conflicted
    for start in range(0, total, 2000):
        docs: list[dict[str, Any]] = [{"_id": f"case-{i:06d}", "type": "case", "schema_version": 1, "status": "open",
                 "institution": "410621100201", "seq_no": i, "updated": "2026-11-26T03:00:00Z"}
                for i in range(start, min(total, start + 2000))]
        revs = {r["id"]: r["rev"] for r in store.bulk_docs(docs)}
        branches = []
        for doc in docs:
            i = int(doc["seq_no"])
            if i < small:
                continue
            parent = revs[doc["_id"]].split("-", 1)[1]
            for side in "ab":
                h = f"{side}{i:031x}"
                branches.append({**doc, "status": f"edited-{side}", "_rev": f"2-{h}",
                                 "_revisions": {"start": 2, "ids": [h, parent]}})
        if branches:
            store.bulk_docs(branches, new_edits=False)
    server.close()


def ours(url: str, target: Path, **open_opts: Any) -> dict[str, Any]:
    source = open_db(url, **open_opts)
    local = SQLiteStore(target)
    try:
        result = replicate(source, local)
    finally:
        source.close()
        local.close()
    return result.summary()


def pouchdb(url: str, name: str) -> dict[str, Any]:
    out = subprocess.run(["node", str(SCRIPT), url, f"memory:{name}"], cwd=ROOT,
                         capture_output=True, text=True, timeout=1800)
    summary: dict[str, Any] = json.loads(out.stdout.strip().splitlines()[-1])
    if not summary.get("ok"):
        raise RuntimeError(f"PouchDB replication failed: {summary} {out.stderr[-1000:]}")
    return summary


class Proxy:
    """``python -m ops.netproxy --control`` in its own process (it must not share our GIL)."""

    def __init__(self, port: int, *extra: str) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "ops.netproxy", "--target-port", str(port), "--control", *extra],
            cwd=ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        assert self.proc.stdout is not None
        self.port = int(self.proc.stdout.readline().split("127.0.0.1:")[1].split()[0])

    def ask(self, cmd: str) -> dict[str, int]:
        assert self.proc.stdin is not None and self.proc.stdout is not None
        self.proc.stdin.write(cmd + "\n")
        self.proc.stdin.flush()
        answer: dict[str, int] = json.loads(self.proc.stdout.readline())
        return answer

    def url(self, url: str) -> str:
        parts = urlsplit(url)
        return urlunsplit((parts.scheme, f"{parts.username}:{parts.password}@127.0.0.1:{self.port}",
                           parts.path, "", ""))

    def close(self) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.close()
        self.proc.wait(30)


def per100(value: float, docs: int) -> str:
    return f"{100 * value / docs:,.1f}" if docs else "n/a"


def run(ctx: BenchContext) -> str:
    small, conflicted = ctx.scale(10_000, 1_000), ctx.scale(2_000, 200)
    reps = ctx.scale(3, 1)
    docs = small + conflicted
    name = f"bench-repl-{int(time.time())}"
    seed(ctx.couchdb_url, name, small, conflicted)
    src = f"{ctx.couchdb_url}/{name}"
    port = urlsplit(ctx.couchdb_url).port
    assert port is not None
    lines: list[str] = []

    # -- case 1: loopback, no impairment -------------------------------------------
    t_ours, t_pouch = [], []
    r_ours: dict[str, Any] = {}
    r_pouch: dict[str, Any] = {}
    for rep in range(reps):
        start = time.perf_counter()
        r_ours = ours(src, ctx.scratch("c1") / f"ours-{rep}.sqlite")
        t_ours.append(time.perf_counter() - start)
        r_pouch = pouchdb(src, f"c1-{rep}")
        t_pouch.append(float(r_pouch["seconds"]))
        assert r_ours["docs_written"] == r_pouch["docs_written"], (r_ours, r_pouch)
    m_ours, m_pouch = statistics.median(t_ours), statistics.median(t_pouch)
    # Bytes of the same pulls, counted by a pass-through proxy.
    proxy = Proxy(port)
    try:
        ours(proxy.url(src), ctx.scratch("c1b") / "ours.sqlite", gzip=True)
        b_ours = proxy.ask("reset")
        pouchdb(proxy.url(src), "c1b")
        b_pouch = proxy.ask("reset")
    finally:
        proxy.close()
    revs = r_ours["docs_written"]
    lines += [
        f"Workload: {small:,} small docs + {conflicted:,} conflicted docs (two leaves each) = "
        f"{docs:,} docs, {revs:,} leaf revisions; median of {reps} run(s).",
        "",
        "### Case 1: pull over loopback (no impairment)",
        "",
        "| replicator | seconds (median) | runs | docs/s | requests /100 docs | bytes /100 docs (down+up) |",
        "|---|---:|---|---:|---:|---:|",
        f"| Bangban (`sync.replicate`, into SQLite) | {m_ours:.2f} | "
        f"{', '.join(f'{t:.2f}' for t in t_ours)} | {docs / m_ours:,.0f} | "
        f"{per100(r_ours['requests'], docs)} | "
        f"{per100(b_ours['bytes_down'] + b_ours['bytes_up'], docs)} |",
        f"| PouchDB 9 (`PouchDB.replicate`, into memory) | {m_pouch:.2f} | "
        f"{', '.join(f'{t:.2f}' for t in t_pouch)} | {docs / m_pouch:,.0f} | "
        f"{per100(r_pouch['requests'], docs)} | "
        f"{per100(b_pouch['bytes_down'] + b_pouch['bytes_up'], docs)} |",
        "",
        f"Speed-up: **{m_pouch / m_ours:.2f}x** (goal >= 2x).",
        "",
    ]

    # -- case 2: 256 kbit/s, 300 ms RTT ---------------------------------------------
    def estimate(b: dict[str, int], requests: int) -> float:
        return max(b["bytes_down"], b["bytes_up"]) / BANDWIDTH + requests * RTT_MS / 1000

    est = max(estimate(b_ours, r_ours["requests"]), estimate(b_pouch, r_pouch["requests"]))
    scale = min(1.0, BUDGET_SECONDS / est) if est > 0 else 1.0
    small2, conflicted2 = int(small * scale), int(conflicted * scale)
    docs2 = small2 + conflicted2
    if scale < 1.0:
        name2 = f"{name}-small"
        seed(ctx.couchdb_url, name2, small2, conflicted2)
        src2 = f"{ctx.couchdb_url}/{name2}"
        size_note = (f"At full size the slower replicator was estimated at {est:.0f} s "
                     f"(bytes / bandwidth + requests x RTT), over the ~{BUDGET_SECONDS:.0f} s budget, "
                     f"so case 2 runs at {docs2:,} docs ({small2:,} + {conflicted2:,} conflicted).")
    else:
        src2 = src
        size_note = f"Full size (estimated {est:.0f} s for the slower replicator)."
    proxy = Proxy(port, "--bandwidth", str(BANDWIDTH), "--rtt-ms", str(RTT_MS))
    rows = []
    try:
        for label, fn in (
            ("Bangban", lambda: ours(proxy.url(src2), ctx.scratch("c2") / "ours.sqlite", gzip=True,
                                     timeout=(30.0, 120.0))),
            ("PouchDB 9", lambda: pouchdb(proxy.url(src2), "c2")),
        ):
            proxy.ask("reset")
            start = time.perf_counter()
            summary = fn()
            seconds = time.perf_counter() - start if label == "Bangban" else float(summary["seconds"])
            stats = proxy.ask("reset")
            limit = max(stats["bytes_down"], stats["bytes_up"]) / BANDWIDTH
            rows.append((label, seconds, limit, stats, summary["requests"]))
    finally:
        proxy.close()
    lines += [
        f"### Case 2: the same pull at 256 kbit/s per direction, {RTT_MS} ms RTT (ops/netproxy.py)",
        "",
        size_note,
        "",
        "| replicator | seconds | link limit (s) | time / limit | bytes down | bytes up | "
        "requests /100 docs | bytes /100 docs |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for label, seconds, limit, stats, requests in rows:
        lines.append(
            f"| {label} | {seconds:.1f} | {limit:.1f} | **{seconds / limit:.2f}** | "
            f"{stats['bytes_down']:,} | {stats['bytes_up']:,} | {per100(requests, docs2)} | "
            f"{per100(stats['bytes_down'] + stats['bytes_up'], docs2)} |")
    ours_row = rows[0]
    lines += [
        "",
        f"Goal: Bangban's time <= 1.3x the link limit: measured {ours_row[1] / ours_row[2]:.2f}x. "
        "The link limit is the busier direction's bytes divided by 32,000 bytes/s "
        "(gzip bodies where the peer takes them, PouchDB Server gzips answers).",
    ]
    server = CouchServer(ctx.couchdb_url)
    for db in {name, src2.rsplit("/", 1)[1]}:
        server.delete_db(db)
    server.close()
    return "\n".join(lines)
