"""The field app at 100,000 local cases: list and search pages, and the serve process's memory.

Setup (not timed): one village node folder is filled with 100,000 real cases — sealed case
headers (schemas' shapes, sync.crypto's sealing), keyrings wrapping each case key for the
institution and the escrow key, 2–4 signed, sealed events per case — written with the
store's ``_bulk_docs``; the node-local index gets each case's folded state and the keyed
hashes of its applicant's name, ID number and phone, as the clerk's write path does.

Measured: a real ``bangban node serve`` process (unlocked by passphrase file, no sync)
answers HTTP requests on loopback from a client that entered the passphrase too (its
session cookie, node.sessions) — JSON API pages and the rendered HTML list — for the
default list, deep pages (keyset cursor), the open / overdue / due-soon views, search by
applicant name, by phone and by case-number prefix. Goal: p95 ≤ 50 ms per page. Then
the serve process's resident memory (VmRSS now, VmHWM peak). Goal: ≤ 150 MB.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import random
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from ops.bench.harness import BenchContext, percentile

TITLE = "Field app: listing and searching 100,000 local cases"
ROOT = Path(__file__).resolve().parents[2]
VILLAGE = "410621100201"
DEVICE = f"{VILLAGE}-B1"
PASSPHRASE = "bench passphrase"
BATCH = 500
GOAL_MS = 50.0
GOAL_MB = 150.0


def _iso(ts: dt.datetime) -> str:
    return ts.isoformat(timespec="seconds")


def laptop(folder: Path, device: str, institution_keys: Any = None) -> Any:
    """An enrolled, unlocked node of the bench village in ``folder`` (no hub: sync off);
    ``institution_keys``: the station's keychain, taken as a second laptop takes it."""
    from node.core import ENROLLMENT, KEYCHAIN, Node
    from node.keys import NodeKeys
    from node.settings import load

    folder.mkdir(parents=True, exist_ok=True)
    enrollment = {"hub_url": "http://127.0.0.1:9", "device_id": device, "secret": "x",
                  "institution": VILLAGE, "db_url": "http://127.0.0.1:9/bangban",
                  "institution_name": "基准测试村便民服务站", "root_keys": [],
                  "institution_path": ["410600", "410621", VILLAGE[:9], VILLAGE]}
    (folder / ENROLLMENT).write_text(json.dumps(enrollment, ensure_ascii=False), "utf-8")
    NodeKeys.create(folder / KEYCHAIN, PASSPHRASE, enrollment, institution_keys=institution_keys)
    node = Node(load({"node_dir": str(folder), "sync_interval": 0}))
    node.unlock(PASSPHRASE)
    return node


def populate(folder: Path, n: int, seed: int = 7) -> dict[str, Any]:
    """Write ``n`` sealed cases into a fresh node folder; returns probes for the searches."""
    from node.core import STORE
    from node.index import name_tokens
    from node.state import index_row
    from schemas import sample
    from schemas.hlc import HLC, pack
    from schemas.ids import case_no
    from schemas.registry import validate_open, writing_version
    from sync.crypto import new_keyring, sign_document
    from sync.sqlite import SQLiteStore

    node = laptop(folder, DEVICE)
    signer = node.keys.signer
    directory = node.reading.directory()
    store = SQLiteStore(folder / STORE, synchronous="NORMAL")
    index = node.index
    rng = random.Random(seed)
    items = sample.catalog()
    now = dt.datetime.now(dt.UTC).astimezone()
    probes: dict[str, Any] = {"names": [], "phones": [], "numbers": []}
    docs: list[dict[str, Any]] = []
    rows: list[tuple[dict[str, Any], list[str]]] = []
    wall0 = int((now - dt.timedelta(days=400)).timestamp() * 1000)

    def flush() -> None:
        if docs:
            store.bulk_docs(docs)
            docs.clear()
        if rows:
            index.upsert_many(rows)
            rows.clear()

    store.bulk_docs(items)  # the catalog, as a pull from the hub brings it
    serials: dict[int, int] = {}

    def serial(year: int) -> int:  # a device's serial restarts every year (schemas.ids)
        serials[year] = serials.get(year, 0) + 1
        return serials[year]

    validated: set[str] = set()
    folded: dict[tuple[int, int, str], dict[str, Any]] = {}

    def build(kind: str, doc: dict[str, Any]) -> dict[str, Any]:
        # Validate the first document of each kind with the schemas; the rest share its shape
        # (marshmallow per document would dominate the setup time, not what is measured).
        if kind not in validated:
            validate_open(doc)
            validated.add(kind)
        return doc

    for i in range(n):
        item = items[i % len(items)]
        person = sample.person(rng, elderly=i % 5 == 0)
        opened = now - dt.timedelta(days=400 * (n - i) / n, minutes=rng.randrange(600))
        wall = max(wall0 + 10 * i, int(opened.timestamp() * 1000))
        clock = HLC(wall, 0, DEVICE)
        case_id = pack(clock)
        header = build("case", {
            "_id": f"case:{case_id}", "type": "case", "schema_version": 1, "case_id": case_id,
            "case_no": case_no(VILLAGE, opened.year, "B1", serial(opened.year)),
            "institution": VILLAGE,
            "institution_path": node.enrollment["institution_path"], "device": DEVICE,
            "opened_at": _iso(opened), "service_type": "assist", "service_item": item["code"],
            "mode": "nearby", "focus_area": item["focus_area"], "applicant_kind": "person",
            "special_groups": ["elderly"] if i % 5 == 0 else [], "staff": DEVICE, "labels": [],
            "clocks": {"private": case_id}, "history": [], "private": person})
        keyring, key = new_keyring(case_id, VILLAGE, directory, signer)
        steps: list[tuple[str, dict[str, Any], dict[str, Any]]] = [
            ("consultation", {"channel": "window", "answered": True, "service_item": item["code"]},
             {"name": person["applicant_name"], "question": "咨询办理条件", "contact": person["phone"]}),
            ("application", {"channel": "offline", "service_item": item["code"], "mode": "nearby"}, {}),
            ("acceptance", {"zone": "assisted_zone", "time_limit_days": item["time_limit_days"]}, {}),
            ("completion", {}, {"applicant_signature": "sig", "documents": ["审批结果"]}),
        ]
        depth = 1 + (i % 7 != 0) + (i % 7 > 1) + (i % 10 < 4 and i % 7 > 1)
        events: list[dict[str, Any]] = []
        t = opened
        for k, (etype, clear, private) in enumerate(steps[:depth]):
            t = t + dt.timedelta(minutes=5 + k)
            hlc = pack(HLC(wall + 1 + k, 0, DEVICE))
            ev = build(etype, {
                "_id": f"event:{case_id}:{hlc}", "type": "event",
                "schema_version": writing_version("event", etype),
                "event_type": etype, "case_id": case_id, "hlc": hlc, "at": _iso(t),
                "device": DEVICE, "institution": VILLAGE, "staff": DEVICE,
                **({"base_hlc": events[-1]["hlc"]} if events else {}), **clear,
                "private": private})
            events.append(sign_document(key.seal(ev), signer))
        docs += [keyring, sign_document(key.seal(header), signer), *events]
        # The fold depends on the steps, the time limit and the dates only: fold each
        # distinct history once (schemas.fold), then stamp the case's own ids on the row.
        shape = (depth, int(item["time_limit_days"]), opened.date().isoformat())
        if shape not in folded:
            folded[shape] = index_row(header, events)
        row = dict(folded[shape], case_id=case_id, case_no=header["case_no"],
                   service_item=item["code"], created=header["opened_at"][:19],
                   updated=events[-1]["at"][:19] + "|" + events[-1]["hlc"])
        rows.append((row, sorted(name_tokens(
            person["applicant_name"], person["id_number"], person["phone"]))))
        if i % 997 == 0:
            probes["names"].append(person["applicant_name"])
            probes["phones"].append(person["phone"])
            probes["numbers"].append(header["case_no"][:-3])
        if len(docs) >= BATCH:
            flush()
    flush()
    index.set_meta("store_seq", str(store.info()["update_seq"]))  # the index is current
    store.close()
    node.close()
    return probes


def _rss(pid: int) -> tuple[float, float]:
    out = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(("VmRSS:", "VmHWM:")):
            out[line.split(":")[0]] = int(line.split()[1]) / 1024
    return out.get("VmRSS", 0.0), out.get("VmHWM", 0.0)


#: the bench's HTTP client: keeps the node's session cookie, as a browser does
CLIENT = urllib.request.build_opener(urllib.request.HTTPCookieProcessor())


def _get(url: str) -> tuple[float, bytes]:
    start = time.perf_counter()
    with CLIENT.open(url, timeout=30) as resp:
        body = resp.read()
    return (time.perf_counter() - start) * 1000, body


def _open_session(base: str, passphrase: str = PASSPHRASE) -> None:
    """Enter the passphrase (POST /api/unlock): an unlocked node serves cases only to a
    client with its own session cookie (node.sessions), kept by :data:`CLIENT`."""
    req = urllib.request.Request(base + "/api/unlock", method="POST",
                                 data=json.dumps({"passphrase": passphrase}).encode(),
                                 headers={"Content-Type": "application/json"})
    with CLIENT.open(req, timeout=60) as resp:
        resp.read()


@contextmanager
def serving(folder: Path, passphrase: str = PASSPHRASE) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    """A real ``bangban node serve`` of ``folder`` on a free loopback port (no sync),
    unlocked by a passphrase file, with :data:`CLIENT` holding a session: ``(base URL,
    process)``; the process is ended on leaving."""
    import socket

    pw = folder / "passphrase"
    pw.write_text(passphrase, "utf-8")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {**os.environ, "PYTHONPATH": str(ROOT), "BANGBAN_SYNC_INTERVAL": "0"}
    proc = subprocess.Popen([sys.executable, "-m", "ops.cli", "node", "serve", "--dir", str(folder),
                             "--port", str(port), "--passphrase-file", str(pw)], cwd=ROOT, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(300):
            try:
                _get(base + "/api/status")
                break
            except OSError:
                time.sleep(0.1)
        _open_session(base, passphrase)
        yield base, proc
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def _refold(folder: Path) -> tuple[int, float]:
    """The first unlock after an upgrade that changes the fold or the index's columns: the
    index's ``store_seq`` is reset (node.index ``ADDED_COLUMNS``), so the unlock refolds
    every case of the station from the store (node.indexer) while the clerk waits."""
    from node.core import Node
    from node.indexer import index_changes
    from node.settings import load

    node = Node(load({"node_dir": str(folder), "sync_interval": 0}))
    try:
        node.unlock(PASSPHRASE)
        node.index.set_meta("store_seq", "0")
        t0 = time.perf_counter()
        cases = index_changes(node)
        return cases, time.perf_counter() - t0
    finally:
        node.close()


def run(ctx: BenchContext) -> str:
    n = ctx.scale(100_000, 5_000)
    reps = ctx.scale(100, 20)
    folder = ctx.scratch("node-bench")
    t0 = time.perf_counter()
    probes = populate(folder, n)
    setup_s = time.perf_counter() - t0
    size_mb = sum(p.stat().st_size for p in folder.iterdir() if p.is_file()) / 2**20
    with serving(folder) as (base, proc):
        rss_idle, _ = _rss(proc.pid)
        # one warm-up of each kind (first-use imports, SQLite page cache)
        _get(base + "/api/cases")
        _get(base + "/cases/")
        today = dt.date.today().isoformat()
        rng = random.Random(3)
        cursors: list[str] = []
        cur: str | None = None
        for _ in range(40):  # collect deep cursors (page 40 of the default list)
            q = "/api/cases" + (f"?after={urllib.parse.quote(cur)}" if cur else "")
            _, body = _get(base + q)
            cur = json.loads(body)["next_cursor"]
            if not cur:
                break
            cursors.append(cur)
        kinds: dict[str, Any] = {
            "list, page 1 (JSON)": lambda: "/api/cases",
            "list, deep page via cursor (JSON)": lambda: "/api/cases?after=" + urllib.parse.quote(rng.choice(cursors)),
            "list, page 1 (HTML)": lambda: "/cases/",
            "view open (HTML)": lambda: "/cases/?view=open",
            "view overdue (JSON)": lambda: "/api/cases?view=overdue",
            "view due soon (JSON)": lambda: "/api/cases?view=due_soon",
            "search applicant name (HTML)": lambda: "/cases/?q=" + urllib.parse.quote(rng.choice(probes["names"])),
            "search phone (JSON)": lambda: "/api/cases?q=" + rng.choice(probes["phones"]),
            "search case-number prefix (JSON)": lambda: "/api/cases?q=" + rng.choice(probes["numbers"]),
            "home page (counts + 4 lists)": lambda: "/",
        }
        lines = ["| request | p50 ms | p95 ms | max ms | rows on page |", "| --- | ---: | ---: | ---: | ---: |"]
        worst = 0.0
        for label, path in kinds.items():
            times = []
            rows = 0
            for _ in range(reps):
                ms, body = _get(base + path())
                times.append(ms)
                if body.startswith(b"{"):
                    rows = len(json.loads(body).get("rows", []))
            p95 = percentile(times, 95)
            worst = max(worst, p95)
            lines.append(f"| {label} | {percentile(times, 50):.1f} | {p95:.1f} | {max(times):.1f} | "
                         f"{rows if rows else '—'} |")
        rss, peak = _rss(proc.pid)
    refolded, refold_s = _refold(folder)
    verdict_ms = "met" if worst <= GOAL_MS else "NOT met"
    verdict_mb = "met" if rss <= GOAL_MB else "NOT met"
    return "\n".join([
        f"{n:,} cases ({n * 4:,}-ish documents: header, keyring, 1–4 events each, all sealed and "
        f"signed) in one node folder, {size_mb:.0f} MB on disk (store + index); setup "
        f"{setup_s:.0f} s (not timed below). Each row: {reps} HTTP requests to a real "
        f"`bangban node serve` on loopback, {today}; page size 50.",
        "",
        *lines,
        "",
        f"- Worst p95: **{worst:.1f} ms** (goal ≤ {GOAL_MS:.0f} ms: {verdict_ms}).",
        f"- Serve process memory: **{rss:.0f} MB RSS** after the run, {rss_idle:.0f} MB right "
        f"after start (goal ≤ {GOAL_MB:.0f} MB: {verdict_mb}). Peak {peak:.0f} MB (VmHWM): "
        "the passphrase unlock runs scrypt with n=2^17, r=8, which needs 128 MiB for about a "
        "second by design (sync.crypto.keys); it is returned right after unlocking.",
        f"- Refold of the whole index, as the first unlock after an upgrade that changes the "
        f"fold does it (in process, after the run): **{refolded:,} cases in {refold_s:.1f} s**, "
        f"{1000 * refold_s / max(refolded, 1):.2f} ms per case (read, fold, index write): "
        f"a station of 5,000 cases waits about {5 * refold_s / max(refolded, 1) * 1000:.0f} s "
        "at its unlock page, once.",
        "- Lists and searches read only the node-local index (`index.sqlite`, keyset pages, "
        "keyed name hashes); the sealed store is opened only for a case's own page.",
        "- Rerun: `python -m ops.bench node` (`--quick` for 5,000 cases).",
    ])
