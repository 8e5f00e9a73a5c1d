"""The couch backend's client cost: ``CouchStore`` (ibmcloudant SDK) vs bare ``requests``.

The replicator talks to every http(s) peer through ``sync.couch.CouchStore``, so
the SDK layer (request preparation, hooks, error translation, counters) must add
little to what the server costs anyway. The same operations run against the same
PouchDB Server twice, interleaved: once through ``CouchStore`` and once through a
plain ``requests.Session`` building the same HTTP requests by hand. Also shown:
request body bytes with and without gzip (``CouchServer(gzip=True)``).
"""

from __future__ import annotations

import json
import os
import statistics
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import requests

from ops.bench.harness import BenchContext
from sync.couch import CouchServer

TITLE = "CouchDB backend client: CouchStore (ibmcloudant) vs bare requests, same server"
BATCH = 500


@contextmanager
def timed() -> Iterator[dict[str, float]]:
    """Wall seconds and this process's CPU seconds (the client's own cost)."""
    out: dict[str, float] = {}
    wall, cpu = time.perf_counter(), time.process_time()
    try:
        yield out
    finally:
        out["seconds"] = time.perf_counter() - wall
        out["cpu"] = time.process_time() - cpu


def _docs(n: int) -> list[dict[str, Any]]:
    return [{"_id": f"case-{i:07d}", "type": "case", "schema_version": 1, "status": "accepted",
             "institution": "410621100201", "seq_no": i, "title": "x" * 120,
             "sealed": {"ct": "A" * 200, "nonce": "B" * 16}} for i in range(n)]


def _via_store(url: str, docs: list[dict[str, Any]], *, gzip: bool = False) -> dict[str, float]:
    server = CouchServer(url, gzip=gzip)
    name = f"bench-{uuid.uuid4().hex[:10]}"
    db = server.create_db(name)
    out: dict[str, float] = {}
    try:
        server.stats.reset()
        with timed() as t:
            for i in range(0, len(docs), BATCH):
                db.bulk_docs(docs[i:i + BATCH])
        out["insert"], out["insert_cpu"] = t["seconds"], t["cpu"]
        out["sent"] = server.stats.bytes_sent
        with timed() as t:
            since: Any = 0
            while True:
                page = db.changes(since=since, limit=BATCH, style="all_docs")
                if not page["results"]:
                    break
                since = page["last_seq"]
        out["changes"], out["changes_cpu"] = t["seconds"], t["cpu"]
        with timed() as t:
            for i in range(0, len(docs), BATCH):
                chunk = docs[i:i + BATCH]
                db.revs_diff({d["_id"]: ["1-" + "0" * 32] for d in chunk})
                db.bulk_get([{"id": d["_id"]} for d in chunk], revs=True)
        out["fetch"], out["fetch_cpu"] = t["seconds"], t["cpu"]
        out["requests"] = server.stats.requests
    finally:
        server.delete_db(name)
        server.close()
    return out


def _via_requests(url: str, docs: list[dict[str, Any]]) -> dict[str, float]:
    s = requests.Session()
    base = f"{url}/bench-{uuid.uuid4().hex[:10]}"
    s.put(base, timeout=30).raise_for_status()
    hdrs = {"Content-Type": "application/json", "Accept": "application/json"}

    def post(path: str, body: Any, **params: Any) -> Any:
        r = s.post(f"{base}/{path}", data=json.dumps(body), headers=hdrs, params=params,
                   timeout=120)
        r.raise_for_status()
        return r.json()

    out: dict[str, float] = {}
    try:
        with timed() as t:
            for i in range(0, len(docs), BATCH):
                post("_bulk_docs", {"docs": docs[i:i + BATCH], "new_edits": True})
        out["insert"], out["insert_cpu"] = t["seconds"], t["cpu"]
        with timed() as t:
            since: Any = 0
            while True:
                r = s.get(f"{base}/_changes", headers=hdrs, timeout=120,
                          params={"since": since, "limit": BATCH, "style": "all_docs"})
                page = r.json()
                if not page["results"]:
                    break
                since = page["last_seq"]
        out["changes"], out["changes_cpu"] = t["seconds"], t["cpu"]
        with timed() as t:
            for i in range(0, len(docs), BATCH):
                chunk = docs[i:i + BATCH]
                post("_revs_diff", {d["_id"]: ["1-" + "0" * 32] for d in chunk})
                post("_bulk_get", {"docs": [{"id": d["_id"]} for d in chunk]}, revs="true")
        out["fetch"], out["fetch_cpu"] = t["seconds"], t["cpu"]
    finally:
        s.delete(base, timeout=30)
        s.close()
    return out


def run(ctx: BenchContext) -> str:
    n = ctx.scale(10_000, 1_000)
    rounds = ctx.scale(3, 1)
    docs = _docs(n)
    store_runs, bare_runs = [], []
    for i in range(rounds):  # interleaved, alternating who goes first: load hits both alike
        if i % 2:
            bare_runs.append(_via_requests(ctx.couchdb_url, docs))
        store_runs.append(_via_store(ctx.couchdb_url, docs))
        if not i % 2:
            bare_runs.append(_via_requests(ctx.couchdb_url, docs))
    gz = _via_store(ctx.couchdb_url, docs, gzip=True)

    def med(runs: list[dict[str, float]], key: str) -> float:
        return statistics.median(r[key] for r in runs)

    rows = []
    for key, label in (("insert", "bulk insert (`_bulk_docs`)"),
                       ("changes", "read changes (`_changes`, pages of 500)"),
                       ("fetch", "`_revs_diff` + `_bulk_get` per 500")):
        a, b = med(store_runs, key), med(bare_runs, key)
        ca, cb = med(store_runs, key + "_cpu"), med(bare_runs, key + "_cpu")
        rows.append(f"| {label} | {n / a:,.0f} docs/s | {n / b:,.0f} docs/s | "
                    f"{ca / n * 1e6:.0f} µs | {cb / n * 1e6:.0f} µs |")
    reqs = int(store_runs[0]["requests"])
    plain_sent, gz_sent = med(store_runs, "sent"), gz["sent"]
    return "\n".join([
        f"{n} documents of about 0.5 kB in batches of {BATCH} against PouchDB Server 4.2.0 "
        f"(in memory, loopback); median of {rounds} interleaved round(s), alternating which client goes first. "
        f"`CouchStore` made {reqs} HTTP requests for the three phases (one per batch).",
        "",
        "| operation | CouchStore wall | bare requests wall | CouchStore client CPU per doc "
        "| bare requests client CPU per doc |",
        "|---|---|---|---|---|",
        *rows,
        "",
        "Wall throughput is mostly the server's and swings with load from other processes "
        f"(1-min load average at the end: {os.getloadavg()[0]:.1f}); client CPU per document "
        "(this process's CPU time) is what the SDK layer itself costs.",
        "",
        f"Request bodies of the bulk insert: {plain_sent / 1e6:.2f} MB plain, "
        f"{gz_sent / 1e6:.2f} MB with `gzip=True` "
        f"({plain_sent / max(gz_sent, 1):.1f}x smaller; gzip insert took "
        f"{gz['insert']:.2f} s vs {med(store_runs, 'insert'):.2f} s plain on loopback).",
        "",
        "Rerun: `python -m ops.bench couch_client`.",
    ])
