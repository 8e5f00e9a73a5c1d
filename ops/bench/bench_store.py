"""Embedded SQLite store vs PouchDB Server: bulk insert and changes-read throughput (issue 2).

The same documents go through the same operations three ways: the embedded store
in process (``sync.sqlite.SQLiteStore``, synchronous=FULL, every batch fsynced);
the same store over loopback HTTP as served by ``bangban store serve`` (the
``sync.http`` CouchDB API on waitress, in its own process);
and PouchDB Server 4.2.0 over loopback HTTP. Both HTTP servers are driven by the
same client code, a plain ``requests`` session (the lightest client, so the
servers' own speed is what is measured). Batches of 500.
"""

from __future__ import annotations

import json
import os
import signal
import statistics
import subprocess
import sys
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import requests

from ops import pouchdb_server
from ops.bench.harness import BenchContext, timed
from sync.sqlite import SQLiteStore

TITLE = "Document store: embedded SQLite (in process and over HTTP) vs PouchDB Server"
BATCH = 500


def _docs(n: int) -> list[dict[str, Any]]:
    return [
        {"_id": f"case-{i:07d}", "type": "case", "schema_version": 1, "status": "accepted",
         "institution": "410621100201", "seq_no": i, "title": "x" * 120,
         "tags": ["assist", "village"], "sealed": {"ct": "A" * 200, "nonce": "B" * 16}}
        for i in range(n)
    ]


class _Couch:
    """Just enough of the CouchDB API over ``requests`` for the benchmark."""

    def __init__(self, base: str, name: str) -> None:
        self.s = requests.Session()
        self.url = f"{base}/{name}"
        self.s.put(self.url, timeout=30).raise_for_status()

    def post(self, path: str, body: Any) -> Any:
        r = self.s.post(f"{self.url}/{path}", data=json.dumps(body),
                        headers={"Content-Type": "application/json"}, timeout=120)
        r.raise_for_status()
        return r.json()

    def get(self, path: str, **params: Any) -> Any:
        r = self.s.get(f"{self.url}/{path}", params=params, timeout=120)
        r.raise_for_status()
        return r.json()

    def drop(self) -> None:
        self.s.delete(self.url, timeout=30)
        self.s.close()


def _rate(n: int, fn: Callable[[], Any]) -> float:
    with timed() as t:
        fn()
    return n / t["seconds"]


def _read_feed(changes: Callable[[int], dict[str, Any]]) -> int:
    since, rows = 0, 0
    while True:
        page = changes(since)
        if not page["results"]:
            return rows
        rows += len(page["results"])
        since = page["last_seq"]


def _measure_sqlite(ctx: BenchContext, docs: list[dict[str, Any]]) -> dict[str, float]:
    n = len(docs)
    out: dict[str, float] = {}
    work = ctx.scratch("store")
    name = uuid.uuid4().hex[:8]
    with SQLiteStore(work / f"a{name}.sqlite") as db:
        out["insert"] = _rate(n, lambda: [db.bulk_docs(docs[i:i + BATCH])
                                          for i in range(0, n, BATCH)])
        out["changes"] = _rate(n, lambda: _read_feed(lambda s: db.changes(since=s, limit=BATCH)))
        out["changes_docs"] = _rate(n, lambda: _read_feed(
            lambda s: db.changes(since=s, limit=BATCH, include_docs=True)))
        out["feed_full"] = _rate(n, lambda: db.changes(include_docs=True))
        revs = {r["id"]: r["changes"][0]["rev"] for r in db.changes()["results"]}
    replicated = [{**d, "_rev": revs[d["_id"]]} for d in docs]
    with SQLiteStore(work / f"b{name}.sqlite") as db:
        out["replicated"] = _rate(n, lambda: [db.bulk_docs(replicated[i:i + BATCH], new_edits=False)
                                              for i in range(0, n, BATCH)])
        out["revs_diff"] = _rate(n, lambda: [db.revs_diff({d["_id"]: [d["_rev"]] for d in replicated[i:i + BATCH]})
                                             for i in range(0, n, BATCH)])
        out["bulk_get"] = _rate(n, lambda: [db.bulk_get([{"id": d["_id"], "rev": d["_rev"]} for d in replicated[i:i + BATCH]], revs=True)
                                            for i in range(0, n, BATCH)])
    return out


def _measure_http(base_url: str, docs: list[dict[str, Any]]) -> dict[str, float]:
    """The same requests against any CouchDB-API server (PouchDB Server or ours)."""
    n = len(docs)
    out: dict[str, float] = {}
    name = f"bench-{uuid.uuid4().hex[:8]}"
    db = _Couch(base_url, name)
    db2 = _Couch(base_url, name + "-b")
    try:
        out["insert"] = _rate(n, lambda: [db.post("_bulk_docs", {"docs": docs[i:i + BATCH]})
                                          for i in range(0, n, BATCH)])
        out["changes"] = _rate(n, lambda: _read_feed(lambda s: db.get("_changes", since=s, limit=BATCH)))
        out["changes_docs"] = _rate(n, lambda: _read_feed(
            lambda s: db.get("_changes", since=s, limit=BATCH, include_docs="true")))
        out["feed_full"] = _rate(n, lambda: db.get("_changes", include_docs="true"))
        revs = {r["id"]: r["changes"][0]["rev"] for r in db.get("_changes")["results"]}
        replicated = [{**d, "_rev": revs[d["_id"]]} for d in docs]
        out["replicated"] = _rate(n, lambda: [db2.post("_bulk_docs", {"docs": replicated[i:i + BATCH], "new_edits": False})
                                              for i in range(0, n, BATCH)])
        out["revs_diff"] = _rate(n, lambda: [db2.post("_revs_diff", {d["_id"]: [d["_rev"]] for d in replicated[i:i + BATCH]})
                                             for i in range(0, n, BATCH)])
        out["bulk_get"] = _rate(n, lambda: [db2.post("_bulk_get?revs=true", {"docs": [{"id": d["_id"], "rev": d["_rev"]} for d in replicated[i:i + BATCH]]})
                                            for i in range(0, n, BATCH)])
    finally:
        db.drop()
        db2.drop()
    return out


ROWS = [
    ("insert", "bulk insert, new_edits=true (docs/s)"),
    ("replicated", "bulk insert, new_edits=false (docs/s)"),
    ("changes", "changes feed read, pages of 500 (rows/s)"),
    ("changes_docs", "changes feed read with include_docs (rows/s)"),
    ("feed_full", "full changes feed with include_docs, one request (rows/s)"),
    ("revs_diff", "_revs_diff (ids/s)"),
    ("bulk_get", "_bulk_get revs=true (docs/s)"),
]


@contextmanager
def store_serve(directory: Path, pid: list[int] | None = None) -> Iterator[str]:
    """Run ``bangban store serve DIR --port 0`` as its own process; yield its URL;
    stop it by its own PID (appended to ``pid`` when given, for its CPU time)."""
    root = Path(__file__).resolve().parents[2]
    proc = subprocess.Popen(
        [sys.executable, "-m", "ops.cli", "store", "serve", str(directory), "--port", "0"],
        cwd=root, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        if " at http://" not in line:
            raise RuntimeError(f"bangban store serve did not start: {line!r}")
        if pid is not None:
            pid.append(proc.pid)
        yield line.rsplit(" at ", 1)[1].strip()
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def _median(runs: list[dict[str, float]]) -> dict[str, float]:
    return {key: statistics.median(run[key] for run in runs) for key in runs[0]}


def run(ctx: BenchContext) -> str:
    n = ctx.scale(20_000, 2_000)
    repeats = ctx.scale(3, 1)
    docs = _docs(n)
    runs: dict[str, list[dict[str, float]]] = {"sqlite": [], "served": [], "pouch": []}
    # A disk-backed PouchDB Server (LevelDB), like the embedded store on disk.
    server = pouchdb_server.start(in_memory=False)
    try:
        with store_serve(ctx.scratch("served")) as url:
            # Interleaved rounds, so a burst of load from elsewhere on the shared
            # machine hits all three columns alike; the table shows each median.
            for _ in range(repeats):
                runs["sqlite"].append(_measure_sqlite(ctx, docs))
                runs["served"].append(_measure_http(url, docs))
                runs["pouch"].append(_measure_http(server.url, docs))
    finally:
        server.stop()
    sqlite, served, pouch = (_median(runs[k]) for k in ("sqlite", "served", "pouch"))
    load = os.getloadavg()[0]
    lines = [
        f"{n} documents of about 0.5 kB, batches of {BATCH}; median of {repeats} interleaved "
        "round(s), fresh databases each round. *In process*: "
        "`SQLiteStore` method calls (WAL, synchronous=FULL: every batch fsynced). "
        "*Over HTTP*: the same store served by `bangban store serve` (own process, "
        "waitress, loopback). *PouchDB Server*: 4.2.0 with `--dir` "
        "(LevelDB on disk), loopback. Both HTTP columns use the same `requests` client "
        "(which asks for gzip; both servers compress): "
        "`POST _bulk_docs` per batch; the feed is read in pages of 500 "
        "(`GET _changes?since=&limit=500`) until empty, or whole in one request; "
        "docs/s = total / wall time. "
        f"Load average at the end: {load:.1f} on {os.cpu_count()} cores (the machine is "
        "shared with other work, so absolute numbers vary from run to run; the ratios "
        "are steadier). Rerun: `python -m ops.bench store`.",
        "",
        "| operation | embedded, in process | embedded over HTTP (`bangban store serve`) "
        "| PouchDB Server (HTTP) | in process vs PouchDB Server | HTTP vs PouchDB Server |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for key, label in ROWS:
        lines.append(f"| {label} | {sqlite[key]:,.0f} | {served[key]:,.0f} | {pouch[key]:,.0f} "
                     f"| {sqlite[key] / pouch[key]:.1f}x | {served[key] / pouch[key]:.1f}x |")
    return "\n".join(lines) + "\n"
