"""The hub over HTTP, as devices reach it: the ingest beside raw ``_bulk_docs`` into the same
backend, and the city's round of 1,000 devices (sections 3 and 2 of :mod:`ops.bench.bench_hub`,
whose docstring says what each measures; kept apart so each module stays small).

Both run a real ``bangban hub serve --processes 2`` with simulated devices speaking the
replication protocol over HTTP with keep-alive (``requests``), on the same 2 cores.
"""

from __future__ import annotations

import base64
import concurrent.futures as cf
import json
import random
import time
from typing import Any
from urllib.parse import urlsplit

import requests

from ops.bench.harness import BenchContext, cpu_seconds, process_tree, timed
from ops.bench.hubnet import Station, build_hub, directory_of

#: gateway processes of the hub (one per core; `bangban hub serve --processes`)
PROCESSES = 2
#: The hub as deployed: the demo's HubProcess (ops.hubprocess) republishes coordination boards at once
#: (interval 0, so its towns see changes in one round); a hub in service waits the default
#: 30 s between rebuilds of one institution's board (hub.settings board_interval).
HUB_ENV = {"BANGBAN_HUB_PROCESSES": str(PROCESSES), "BANGBAN_BOARD_INTERVAL": "30"}


# -- 3. ingest over HTTP ---------------------------------------------------------------------
def _push_all(url_of: Any, auth_of: Any, per_device: list[tuple[Station, list[dict[str, Any]]]],
              *, one_at_a_time: bool = False) -> float:
    """Every device pushes its documents at once (one thread each; or one device after
    another), ``_bulk_docs`` batches of 100 with ``new_edits=false`` over keep-alive HTTP;
    the seconds until all are in."""
    def push(item: tuple[Station, list[dict[str, Any]]]) -> None:
        st, docs = item
        with requests.Session() as s:
            for i in range(0, len(docs), 100):
                r = s.post(url_of(st) + "/_bulk_docs", auth=auth_of(st), timeout=300,
                           data=json.dumps({"docs": docs[i:i + 100], "new_edits": False}),
                           headers={"Content-Type": "application/json"})
                if r.status_code != 201 or r.json():
                    raise RuntimeError(f"push refused: {r.status_code} {r.text[:300]}")

    with cf.ThreadPoolExecutor(1 if one_at_a_time else len(per_device)) as pool, timed() as t:
        list(pool.map(push, per_device))
    return t["seconds"]


def _http_ingest(ctx: BenchContext, backend: str, villages: int, cases: int, *,
                 one_at_a_time: bool = False) -> dict[str, float]:
    """Both pushes, the hub's and the raw one, with the servers' CPU seconds (the raw
    server's only on the embedded store: PouchDB Server's is not ours to count)."""
    from ops.bench.bench_store import store_serve
    from ops.hubprocess import HubProcess

    couch = ctx.couchdb_url if backend == "couchdb" else ""
    # a new hub folder each run: `hub init` refuses a folder that holds another hub's keys
    folder = ctx.scratch(f"hub-ingest-http-{backend}-{time.time_ns()}")
    hub, stations = build_hub(folder, villages, 2, couchdb_url=couch)
    directory = directory_of(hub)
    hub.close()
    per_device = [(st, [d for i in range(cases) for d in st.case(directory, i + 1)])
                  for st in stations]
    n = sum(len(d) for _, d in per_device)
    proc = HubProcess(folder, worker_interval=5.0, env=HUB_ENV)
    url = proc.start()
    try:
        assert proc.proc is not None
        gateways, workers = _gateways_and_workers(proc.proc.pid)
        cpu_before, workers_before = cpu_seconds(gateways), cpu_seconds(workers)
        db_path = urlsplit(stations[0].enr["db_url"]).path
        hub_s = _push_all(lambda st: f"{url}{db_path}",
                          lambda st: (st.device_id, st.enr["secret"]), per_device,
                          one_at_a_time=one_at_a_time)
        hub_cpu = cpu_seconds(gateways) - cpu_before
        workers_cpu = cpu_seconds(workers) - workers_before
    finally:
        proc.stop()
    raw_db = f"raw{int(time.time() * 1000) % 10**8}"
    raw_cpu = 0.0
    if couch:
        requests.put(f"{couch}/{raw_db}", timeout=30).raise_for_status()
        raw_s = _push_all(lambda st: f"{couch}/{raw_db}", lambda st: None, per_device,
                          one_at_a_time=one_at_a_time)
    else:
        pid: list[int] = []
        with store_serve(ctx.scratch(f"raw-ingest-http-{time.time_ns()}"), pid) as served:
            requests.put(f"{served}/{raw_db}", timeout=30).raise_for_status()
            before = cpu_seconds(pid)
            raw_s = _push_all(lambda st: f"{served}/{raw_db}", lambda st: None, per_device,
                              one_at_a_time=one_at_a_time)
            raw_cpu = cpu_seconds(pid) - before
    return {"docs": n, "devices": len(per_device), "hub": hub_s, "raw": raw_s, "hub_cpu": hub_cpu,
            "workers_cpu": workers_cpu, "raw_cpu": raw_cpu}


def _gateways_and_workers(main: int, timeout: float = 10.0) -> tuple[list[int], list[int]]:
    """The gateways of ``hub serve`` (``main`` and its childless children; every one runs
    once it announced) and its workers' process with the supervisor that forked it
    (hub.workers.process), told apart: the workers' CPU is not the requests'."""
    deadline = time.monotonic() + timeout
    while True:
        gateways, workers = [main], []
        for child in process_tree(main)[1:]:
            below = process_tree(child)
            if len(below) > 1:
                workers += below
            elif child not in workers:
                gateways.append(child)
        if workers or time.monotonic() >= deadline:  # none: started with --no-workers
            return [g for g in gateways if g not in workers], workers
        time.sleep(0.1)


def bench_ingest_http(ctx: BenchContext) -> str:
    villages, cases, runs = ctx.scale(2, 1), ctx.scale(50, 10), ctx.scale(3, 1)
    rows, embedded_raw = [], 0.0
    for backend, label, raw_label in (
            ("embedded", "embedded (SQLite)", "`bangban store serve`, the same SQLite store"),
            ("couchdb", "CouchDB API (PouchDB Server 4.2.0)", "PouchDB Server directly")):
        # Several runs, each on a fresh hub: on this shared 2-core machine one run's ratio
        # moved by half between runs (0.27x-0.43x), so the median and the range are given.
        tries = sorted((_http_ingest(ctx, backend, villages, cases) for _ in range(runs)),
                       key=lambda r: r["raw"] / r["hub"])
        r = tries[len(tries) // 2]
        ratio = r["raw"] / r["hub"]
        embedded_raw = embedded_raw or r["raw"]
        each = ", ".join(f"{t['raw'] / t['hub']:.2f}" for t in tries)
        spread = f" (runs: {each})" if runs > 1 else ""
        rows.append(f"| {label} | {raw_label}: {r['raw']:.2f} s ({r['docs'] / r['raw']:,.0f} "
                    f"docs/s) | {r['hub']:.2f} s ({r['docs'] / r['hub']:,.0f} docs/s; gateways' "
                    f"CPU {r['hub_cpu'] / r['docs'] * 1000:.2f} ms/doc, the workers' "
                    f"{r['workers_cpu'] / r['docs'] * 1000:.2f}) | "
                    f"**{ratio:.2f}x**{spread} ({'met' if ratio >= 0.7 else 'NOT met'}) |")
    return "\n".join([
        f"**Ingest over HTTP**, as devices push: {r['devices']} devices at once, each "
        f"{r['docs'] // r['devices']} documents in `_bulk_docs` batches of 100 "
        "(new_edits=false, keep-alive), into the hub's device view (`bangban hub serve "
        f"--processes {PROCESSES}`: every check above, then the write into the backend) or "
        "raw into the same backend, no checks. Client and servers share the 2 cores. "
        f"Median of {runs} runs, each on a fresh hub. The gateways' CPU is the user and "
        "system time of the `hub serve` gateway processes during the push (`/proc`), per "
        "document, the workers' process apart: it moves far less than the speeds with other "
        "load on the machine.\n",
        "| backend | raw `_bulk_docs` | through the hub | hub / raw speed (goal >= 0.7x) |",
        "|---|---:|---:|---:|", *rows, "",
        _ceiling(ctx, villages, cases, embedded_raw, runs)])


def _ceiling(ctx: BenchContext, villages: int, cases: int, raw_s: float, runs: int) -> str:
    """What the measured CPU per document allows at best: the same pushes one device at a
    time (no request waits for another or shares a core with one), the least of ``runs``."""
    tries = [_http_ingest(ctx, "embedded", villages, cases, one_at_a_time=True)
             for _ in range(runs)]
    n = tries[0]["docs"]
    hub_ms = min(t["hub_cpu"] for t in tries) / n * 1000
    raw_ms = min(t["raw_cpu"] for t in tries) / n * 1000
    best_s = n * hub_ms / 1000 / PROCESSES
    budget_ms = raw_s / 0.7 * PROCESSES / n * 1000
    return (
        f"**The ceiling on this machine** (embedded store; the same pushes one device at a "
        f"time, so no request waits for another or shares a core with one; the least of "
        f"{len(tries)} runs): the hub's gateway spent **{hub_ms:.2f} ms** of CPU per document, "
        f"`store serve` {raw_ms:.2f} ms ({hub_ms / raw_ms:.1f}x). Raw `_bulk_docs` is one "
        f"process; the hub has {PROCESSES} gateway processes for the 2 cores. Even with both "
        f"kept fully busy at that cost, no client on the cores and no request waiting, the "
        f"{n} documents would take the hub {best_s:.2f} s against the raw push's {raw_s:.2f} s "
        f"above: at most **{raw_s / best_s:.2f}x**. 0.7x needs the whole hub path under "
        f"{budget_ms:.2f} ms of CPU per document (where it goes: the in-process table "
        "above).\n")


# -- 2. a city's round ---------------------------------------------------------------------------
class Client:
    """One simulated device speaking the replication protocol over HTTP."""

    def __init__(self, st: Station, db_url: str):
        self.st = st
        self.url = db_url
        token = base64.b64encode(f"{st.device_id}:{st.enr['secret']}".encode()).decode()
        self.headers = {"Authorization": f"Basic {token}", "Content-Type": "application/json"}
        self.since: Any = 0
        self.docs: list[dict[str, Any]] = []
        self.requests = 0
        self.retries = 0

    def call(self, s: requests.Session, method: str, path: str, body: Any = None,
             **params: Any) -> Any:
        for attempt in range(8):
            self.requests += 1
            r = s.request(method, self.url + path,
                          data=None if body is None else json.dumps(body),
                          params=params or None, headers=self.headers, timeout=120)
            if r.status_code != 503:
                break
            self.retries += 1  # a busy store: retry with backoff, as replicators do
            time.sleep(0.05 * 2 ** attempt)
        if r.status_code >= 400 and not (r.status_code == 404 and method == "GET"):
            raise RuntimeError(f"{method} {path}: {r.status_code} {r.text[:200]}")
        return r.json()

    def _checkpoint(self, s: requests.Session, name: str, seq: Any) -> None:
        cp = self.call(s, "GET", f"/_local/{name}")
        body = {"history": [{"recorded_seq": seq}], "last_seq": seq}
        if "_rev" in cp:
            body["_rev"] = cp["_rev"]
        self.call(s, "PUT", f"/_local/{name}", body)

    def push(self, s: requests.Session) -> int:
        diff = self.call(s, "POST", "/_revs_diff", {d["_id"]: [d["_rev"]] for d in self.docs})
        send = [d for d in self.docs if d["_id"] in diff]
        failures = self.call(s, "POST", "/_bulk_docs", {"docs": send, "new_edits": False})
        if failures:
            raise RuntimeError(f"refused: {failures[:2]}")
        self._checkpoint(s, "push-" + self.st.device_id, len(send))
        return len(send)

    def pull(self, s: requests.Session) -> int:
        mine = {d["_id"] for d in self.docs}
        feed = self.call(s, "GET", "/_changes", since=self.since, style="all_docs", limit=1000)
        want = [{"id": r["id"], "rev": c["rev"]} for r in feed["results"] if r["id"] not in mine
                for c in r["changes"]]
        got = self.call(s, "POST", "/_bulk_get?revs=true", {"docs": want}) if want else \
            {"results": []}
        n = sum(1 for r in got["results"] for d in r["docs"] if "ok" in d)
        self.since = feed["last_seq"]
        self._checkpoint(s, "pull-" + self.st.device_id, self.since)
        return n


def bench_round(ctx: BenchContext) -> str:
    from ops.hubprocess import HubProcess

    villages = ctx.scale(500, 10)
    folder = ctx.scratch("hub-city")
    with timed() as t_setup:
        hub, stations = build_hub(folder, villages, 2)
        directory = directory_of(hub)
        hub.close()
    proc = HubProcess(folder, worker_interval=5.0, env=HUB_ENV)
    url = proc.start()
    try:
        db_url = url + urlsplit(stations[0].enr["db_url"]).path
        clients = [Client(st, db_url) for st in stations]
        rng = random.Random(1)
        for c in clients:
            c.docs = c.st.case(directory, rng.randrange(1, 99999))
        local = __import__("threading").local()

        def session() -> requests.Session:
            if not hasattr(local, "s"):
                local.s = requests.Session()
            return local.s  # type: ignore[no-any-return]

        def warm(c: Client) -> None:  # where each device's feed stands before the round
            c.since = c.call(session(), "GET", "")["update_seq"]

        with cf.ThreadPoolExecutor(16) as pool:
            list(pool.map(warm, clients))
            with timed() as t_push:
                pushed = sum(pool.map(lambda c: c.push(session()), clients))
            with timed() as t_pull:
                pulled = sum(pool.map(lambda c: c.pull(session()), clients))
        requests_sent = sum(c.requests for c in clients)
        retries = sum(c.retries for c in clients)
    finally:
        proc.stop()
    total = t_push["seconds"] + t_pull["seconds"]
    n = len(clients)
    return "\n".join([
        f"**A city's round**: {n} devices ({villages} stations x 2 laptops), `bangban hub "
        f"serve --processes {PROCESSES}` on the embedded store, 16 client threads (setup, untimed: "
        f"{t_setup['seconds']:.0f} s).\n",
        "| phase | seconds | documents | per device |", "|---|---:|---:|---:|",
        f"| push 10 new documents each | {t_push['seconds']:.1f} | {pushed} | "
        f"{t_push['seconds'] / n * 1000:.0f} ms |",
        f"| pull the station's other laptop's 10 | {t_pull['seconds']:.1f} | {pulled} | "
        f"{t_pull['seconds'] / n * 1000:.0f} ms |",
        f"\nRound: **{total:.1f} s** for {n} devices, {requests_sent} HTTP requests, "
        f"{retries} retried after a 503 (SQLite busy between the gateway processes) "
        f"(goal <= 60 s: {'met' if total <= 60 else 'NOT met'}).\n"])
