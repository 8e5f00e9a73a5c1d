"""Oversight dashboard at 1,000,000 cases, on the embedded store and on CouchDB (PouchDB Server).

What is measured (issue 8: "dashboard load <= 1 s at 1,000,000 cases on both backends"):

1. *Full stack, per backend*: sample case histories (E's generator, every scenario) are
   written to the hub's main database in their stored form, then the materializer folds
   them from the store's ``_changes`` feed (read every case's header and events, E's
   fold, fact row, counters): cases folded per second.
2. *1,000,000 cases*: folding a million generated histories through a PouchDB Server
   would take hours on this machine, so the million fact rows are produced from a
   realistic stream instead: a pool of real folds of sample histories, re-issued under
   1,000 stations (the real Hebi towns, synthetic village codes) with fresh case ids,
   staff ids and dates spread over 2026 (cases still open are placed in the last 20 days,
   as in a live system). They are loaded through the same incremental path
   (:meth:`FactStore.upsert`: old/new contributions, counters, complaints) and the load
   rate is reported. Then each backend's hub serves the dashboard over that fact file
   (its checkpoint set to the backend's current ``update_seq``, so a page read does the
   real catch-up call and finds nothing new), through the Flask app in process
   (``create_app``, test client: supervisor session lookup in the backend, institutions
   from the backend, indicators from the fact file, Jinja rendering, SVG charts).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import os
import random
import re
import statistics
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from ops.bench.harness import BenchContext, percentile, timed

TITLE = "Oversight dashboard at 1,000,000 cases (embedded store and CouchDB via PouchDB Server)"
AS_OF = dt.date(2026, 12, 31)
DATE_FIELDS = ("opened_on", "accepted_on", "due", "completed_on", "terminated_on", "refused_on",
               "finished_on", "consulted_on", "reply_due", "rated_on", "suspended_since",
               "resumption_deadline", "submitted_on")


def _hub(folder: Path, couchdb_url: str = "") -> Any:
    from hub import admin
    from hub.core import Hub
    from hub.oversight.supervisors import add_supervisor
    from hub.settings import Settings
    from schemas import sample

    config: dict[str, Any] = {"hub_dir": str(folder), "scrypt_n": 1024}
    if couchdb_url:
        config |= {"couchdb_url": couchdb_url, "db_prefix": "ov" + uuid.uuid4().hex[:8]}
    hub = Hub(Settings.load(config, environ={}))
    admin.init(hub, city="410600", name="鹤壁市政务服务中心")
    admin.import_institutions(hub, [i for i in sample.institutions() if i["tier"] != "city"
                                    and i["tier"] != "village"])
    admin.import_catalog(hub, sample.catalog())
    for cal in sample.calendars():
        admin.set_calendar(hub, year=cal["year"], holidays=cal["holidays"],
                           workdays=cal["workdays"])
    add_supervisor(hub, "city", "bench-pass-1", institution="410600")
    add_supervisor(hub, "county", "bench-pass-1", institution="410621")
    return hub


def _stored(doc: dict[str, Any]) -> dict[str, Any]:
    out = {k: v for k, v in doc.items() if k != "private"}
    if "private" in doc:
        out["sealed"] = {"v": 1, "kid": "dk-bench", "ct": "AAAA"}
    out["sig"] = {"alg": "ed25519", "kid": "bench", "sig": "AAAA"}
    return out


def full_stack(hub: Any, folder: Path, n: int) -> dict[str, float]:
    """Write n sample histories, then fold them all from the changes feed."""
    from hub.oversight.materialize import FactStore, Materializer
    from schemas.sample_cases import case_histories

    docs = [_stored(d) for h in case_histories(seed=11, n=n) for d in h]
    with timed() as w:
        for i in range(0, len(docs), 1000):
            hub.stores.main.bulk_docs(docs[i:i + 1000])
    m = Materializer(hub.stores, FactStore(folder / "full-stack.sqlite"), complaint_days=5)
    with timed() as t:
        folded = m.catch_up()
    m.facts.close()
    return {"docs": len(docs), "write_s": w["seconds"], "folded": folded,
            "fold_s": t["seconds"]}


# -- the 1,000,000-case stream -------------------------------------------------------------
def stations(count: int = 1000) -> list[str]:
    """Village station codes under Hebi's real towns: the sample villages, then numbered ones."""
    from schemas import sample

    insts = sample.institutions()
    towns = [i["code"] for i in insts if i["tier"] == "town"]
    out = [i["code"] for i in insts if i["tier"] == "village"]
    k = 0
    while len(out) < count:
        town = towns[k % len(towns)]
        out.append(f"{town}{300 + k // len(towns):03d}")
        k += 1
    return out[:count]


def fact_pool(k: int) -> list[Any]:
    from hub.oversight.facts import case_fact
    from schemas.sample import calendars
    from schemas.sample_cases import case_histories
    from schemas.workdays import Workdays

    wd = Workdays(calendars())
    return [case_fact(h[0], h[1:], wd, complaint_days=5, hub_devices={"410600-HB"})
            for h in case_histories(seed=3, n=k)]


def _shift(day: str | None, delta: dt.timedelta) -> str | None:
    return None if day is None else (dt.date.fromisoformat(day) + delta).isoformat()


def stream(pool: list[Any], n: int, codes: list[str], seed: int = 1) -> Iterator[Any]:
    from hub.oversight.facts import FINISHED

    rng = random.Random(seed)
    finished = [f for f in pool if f.status in FINISHED]
    start = dt.date(2026, 1, 1)
    for i in range(n):
        day = start + dt.timedelta(days=rng.randrange((AS_OF - start).days))
        recent = (AS_OF - day).days <= 20
        tpl = rng.choice(pool if recent else finished)
        delta = day - dt.date.fromisoformat(tpl.opened_on)
        station = codes[i % len(codes)]
        inst = station if len(tpl.institution) == 12 else station[:len(tpl.institution)]
        case_id = f"{i:012x}-0000-{station}-A1"
        f = dataclasses.replace(
            tpl, case_id=case_id, case_no=f"{station}-2026-A1-{i:07d}", institution=inst,
            origin=station, staff=f"{inst}-{rng.randrange(1, 4)}",
            **{k: _shift(getattr(tpl, k), delta) for k in DATE_FIELDS},
            complaints=[dataclasses.replace(
                c, complaint_id=f"{case_id}-c{j}", case_id=case_id, institution=inst,
                received_on=_shift(c.received_on, delta), due=_shift(c.due, delta),
                handled_on=_shift(c.handled_on, delta)) for j, c in enumerate(tpl.complaints)],
            missing=list(tpl.missing),
            consults=[[_shift(d, delta), outcome] for d, outcome in tpl.consults])
        yield f


def load_million(path: Path, n: int) -> dict[str, float]:
    from hub.oversight.materialize import FactStore

    pool = fact_pool(2000)
    facts = FactStore(path)
    batch: list[Any] = []
    with timed() as t:
        for f in stream(pool, n, stations()):
            batch.append(f)
            if len(batch) == 5000:
                facts.upsert(batch)
                batch = []
        if batch:
            facts.upsert(batch)
    db = facts.reader()
    counters = db.execute("SELECT COUNT(*) FROM counters").fetchone()[0]
    from hub.oversight.facts import OPEN_SQL  # an answered consultation is not open

    open_cases = db.execute(f"SELECT COUNT(*) FROM facts WHERE {OPEN_SQL}").fetchone()[0]
    facts.close()
    return {"n": n, "seconds": t["seconds"], "counters": counters, "open": open_cases,
            "mb": path.stat().st_size / 2**20}


def _login(client: Any, user: str) -> None:
    page = client.get("/oversight/login").text
    token = re.search(r'name="csrf" value="([^"]+)"', page).group(1)  # type: ignore[union-attr]
    resp = client.post("/oversight/login", data={"login": user, "password": "bench-pass-1",
                                                 "csrf": token})
    assert resp.status_code == 302, resp.status_code


PAGES = (
    ("city", "dashboard, whole city, year 2026", "/oversight/?from=2026-01&to=2026-12"),
    ("city", "dashboard, whole city, December", "/oversight/?from=2026-12&to=2026-12"),
    ("county", "dashboard, one county (浚县), year", "/oversight/?from=2026-01&to=2026-12"),
    ("county", "staff indicators, one county, year", "/oversight/staff?from=2026-01&to=2026-12"),
    ("city", "11.1 a–e report, whole city, year", "/oversight/checks?from=2026-01&to=2026-12"),
    ("county", "XLSX export, one county by staff, year",
     "/oversight/export.xlsx?from=2026-01&to=2026-12&by=staff"),
)


def dashboard(hub: Any, path: Path, repeats: int) -> dict[str, tuple[float, float, float]]:
    from hub.app import create_app
    from hub.oversight import Oversight
    from hub.oversight.materialize import FactStore

    app = create_app(hub=hub)
    ov = Oversight(hub, path)
    with ov.facts._writer() as db:  # nothing new in this backend's feed since
        FactStore._set_meta(db, "checkpoint", hub.stores.main.info()["update_seq"])
    app.extensions["bangban_oversight"] = ov
    out: dict[str, tuple[float, float, float]] = {}
    clients = {}
    for user in ("city", "county"):
        clients[user] = app.test_client()
        _login(clients[user], user)
    for user, label, url in PAGES:
        url = f"{url}&as_of={AS_OF.isoformat()}"
        times = []
        for _ in range(repeats + 1):
            ov._last = 0.0  # every read does its catch-up call to the backend
            with timed() as t:
                resp = clients[user].get(url)
            assert resp.status_code == 200, (url, resp.status_code, resp.data[:300])
            times.append(t["seconds"])
        out[label] = (times[0], statistics.median(times[1:]), percentile(times[1:], 95))
    ov.facts.close()
    return out


def boards(hub: Any, path: Path) -> dict[str, float]:
    """Every station's coordination board (design.md §5) built from the million facts,
    signed and written into the hub's store: what a hub does once when it upgrades, and
    what one busy pass costs per board."""
    from hub.oversight.boards import BoardPublisher
    from hub.oversight.materialize import FactStore

    facts = FactStore(path)
    facts.mark_boards([], all_holders=True)  # every station's board, for each backend
    codes = [r[0] for r in facts.reader().execute("SELECT DISTINCT institution FROM facts")]
    names = {c: {"code": c, "parent": c[:9] if len(c) > 9 else c[:6]} for c in codes}
    publisher = BoardPublisher(hub, facts, lambda: names, interval=0.0)
    with timed() as t:
        written = publisher.run_once()
    rows = hub.stores.main.all_docs(startkey="board:", endkey="board:\ufff0",
                                    include_docs=True, offset=False)["rows"]
    sizes = [len(json.dumps(r["doc"], ensure_ascii=False).encode()) for r in rows]
    facts.close()
    return {"boards": written, "seconds": t["seconds"],
            "mean_kb": sum(sizes) / max(1, len(sizes)) / 1024,
            "max_kb": max(sizes, default=0) / 1024,
            "max_rows": max((len(r["doc"]["cases"]) for r in rows), default=0)}


def run(ctx: BenchContext) -> str:
    n_million = ctx.scale(1_000_000, 20_000)
    n_stack = ctx.scale(2_000, 200)
    repeats = ctx.scale(10, 3)
    million = ctx.workdir / "oversight-1m.sqlite"
    loaded = load_million(million, n_million)
    results: dict[str, Any] = {}
    for backend in ("embedded", "couchdb"):
        folder = ctx.scratch(f"oversight-{backend}")
        hub = _hub(folder, ctx.couchdb_url if backend == "couchdb" else "")
        try:
            stack = full_stack(hub, folder, n_stack)
            pages = dashboard(hub, million, repeats)
            board = boards(hub, million)
        finally:
            hub.close()
        results[backend] = (stack, pages, board)
    load = os.getloadavg()[0]
    lines = [
        f"**{loaded['n']:,} cases** of 1,000 stations: fact rows loaded through the "
        f"incremental path in {loaded['seconds']:.0f} s ({loaded['n'] / loaded['seconds']:,.0f}"
        f" cases/s), {loaded['counters']:,} counter rows (institution × staff × month), "
        f"{loaded['open']:,} cases open at {AS_OF}, fact file {loaded['mb']:,.0f} MiB. "
        "How the million facts are made (a stream re-issuing real folds, not a million "
        "histories through the store) and what each page read does: see the docstring of "
        "`ops/bench/bench_oversight.py`. Pages are read in process (Flask test client), "
        f"first read (cold) then median and p95 of {repeats}; every read makes its "
        "catch-up call to the backend's `_changes` and reads the supervisor from it. "
        f"Load average at the end: {load:.1f} on {os.cpu_count()} cores (shared machine). "
        "Rerun: `python -m ops.bench oversight`.",
        "",
        "| page (1,000,000 cases) | embedded: first / median / p95 (ms) "
        "| CouchDB (PouchDB Server): first / median / p95 (ms) | target |",
        "|---|---:|---:|---|",
    ]
    for _user, label, _url in PAGES:
        cells = []
        for backend in ("embedded", "couchdb"):
            first, med, p95 = results[backend][1][label]
            cells.append(f"{first * 1000:,.0f} / {med * 1000:,.0f} / {p95 * 1000:,.0f}")
        target = "none (a download)" if "XLSX" in label else "≤ 1,000 ms"
        lines.append(f"| {label} | {cells[0]} | {cells[1]} | {target} |")
    lines += ["", "| full stack: store → `_changes` → fold → facts | embedded | CouchDB "
              "(PouchDB Server) |", "|---|---:|---:|"]
    se, sc = results["embedded"][0], results["couchdb"][0]
    lines.append(f"| {se['folded']:,} sample cases ({se['docs']:,} documents) written "
                 f"(`_bulk_docs`, 1,000 a batch) | {se['write_s']:.1f} s | "
                 f"{sc['write_s']:.1f} s |")
    lines.append(f"| folded from the feed (cases/s) | {se['folded'] / se['fold_s']:,.0f} | "
                 f"{sc['folded'] / sc['fold_s']:,.0f} |")
    be, bc = results["embedded"][2], results["couchdb"][2]
    lines += ["", "**Coordination boards** (design.md §5: each station's open cases for its town "
              "and county, `hub/oversight/boards.py`), built from the same facts, signed by the "
              "hub's device and written into the store, every station at once (a hub's first "
              "pass after an upgrade; afterwards only the stations whose cases changed, each at "
              "most once per `board_interval`):", "",
              "| | embedded | CouchDB (PouchDB Server) |", "|---|---:|---:|",
              f"| boards written | {be['boards']:,} in {be['seconds']:.1f} s | "
              f"{bc['boards']:,} in {bc['seconds']:.1f} s |",
              f"| per board (ms) | {be['seconds'] / max(1, be['boards']) * 1000:.1f} | "
              f"{bc['seconds'] / max(1, bc['boards']) * 1000:.1f} |",
              f"| board size: mean / largest (KiB), most rows | {be['mean_kb']:.1f} / "
              f"{be['max_kb']:.1f}, {be['max_rows']} | {bc['mean_kb']:.1f} / "
              f"{bc['max_kb']:.1f}, {bc['max_rows']} |"]
    return "\n".join(lines) + "\n"
