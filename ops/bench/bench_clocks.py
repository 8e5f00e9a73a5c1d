"""Laptop clocks against the hub's receipt times (design §6; hub/receipts.py,
hub/oversight/clocks.py): how fast the oversight pass folds receipts, and how long the
checks page's per-device clock table takes for a city.

A city's year: 1,000 stations x 2 laptops sending events in receipts of 10 (one per
``_bulk_docs`` batch), written into an embedded receipts database, then folded by the
real :class:`hub.oversight.clocks.ClockFold` into a fresh oversight file. The table is read
for one month and for the whole year, for the city and for one village.
"""

from __future__ import annotations

import os
import random
import time
from types import SimpleNamespace
from typing import Any

from hub.oversight import clocks as clk
from hub.oversight.materialize import FactStore
from hub.receipts import receipt_doc
from ops.bench.harness import BenchContext, median, timed
from sync.sqlite import SQLiteStore

TITLE = "Clock oversight: folding the hub's receipt times, the per-device clock table"
BASE_MS = 1767196800000  # 2026-01-01 00:00 UTC
YEAR_MS = 365 * 86_400_000
TYPES = ("consultation", "application", "acceptance", "work_log", "submitted", "decision",
         "completion", "archived")


def _receipts(n_events: int, per: int, rng: random.Random) -> list[dict[str, Any]]:
    docs = []
    for i in range(0, n_events, per):
        st = rng.randrange(1000)
        inst = f"410602{st // 100:03d}{st % 100:03d}"
        device = f"{inst}-A{1 + st % 2}"
        received = BASE_MS + rng.randrange(YEAR_MS)
        events = []
        for k in range(per):
            at = received - rng.randrange(3_600_000 if rng.random() < 0.9 else 30 * 86_400_000)
            when = time.strftime("%Y-%m-%dT%H:%M:%S+00:00", time.gmtime(at / 1000))
            events.append({"_id": f"event:0000000{i // 8:05x}-0000-{device}:{i + k:012x}-0000-"
                                  f"{device}", "type": "event", "event_type": TYPES[k % 8],
                           "at": when})
        doc = receipt_doc(device, inst, events, received)
        assert doc is not None
        docs.append(doc)
    return docs


def run(ctx: BenchContext) -> str:
    n, per = ctx.scale(1_000_000, 20_000), 10
    folder = ctx.scratch("clocks")
    store = SQLiteStore(str(folder / "receipts.sqlite"))
    facts = FactStore(folder / "oversight.sqlite")
    try:
        docs = _receipts(n, per, random.Random(6))
        with timed() as load:
            for i in range(0, len(docs), 500):
                store.bulk_docs(docs[i:i + 500])
        fold = clk.ClockFold(SimpleNamespace(receipts=store), facts)  # type: ignore[arg-type]
        cpu = time.process_time()
        with timed() as folded:
            count = fold.catch_up()
        cpu = time.process_time() - cpu
        assert count == n, (count, n)
        db = facts.reader()
        rows = db.execute("SELECT COUNT(*) FROM clock_months").fetchone()[0]
        lines = []
        for label, prefix, first, last in (("city, one month", "", "2026-03", "2026-03"),
                                           ("city, the year", "", "2026-01", "2026-12"),
                                           ("one village, one month", "410602005005", "2026-03",
                                            "2026-03")):
            times = []
            for _ in range(5):
                with timed() as t:
                    got = clk.device_clocks(db, prefix, first, last)
                times.append(t["seconds"])
            lines.append(f"| {label} | {median(times) * 1000:.1f} | {len(got)} |")
        kept = db.execute("SELECT COUNT(*) FROM event_receipts").fetchone()[0]
        one = str(docs[len(docs) // 2]["events"][0][0]).split(":")[1]  # a case mid-year
        times = []
        for _ in range(5):
            with timed() as t:
                got_one = clk.case_receipts(db, one)
            times.append(t["seconds"])
        assert got_one, one
        case_ms = median(times) * 1000
        size = os.path.getsize(folder / "oversight.sqlite") / 2**20
    finally:
        store.close()
        facts.close()
    return "\n".join([
        f"{n:,} events from 2,000 laptops in receipts of {per} (one per accepted `_bulk_docs` "
        f"batch), written into an embedded receipts database ({load['seconds']:.1f} s, not "
        "part of the fold), then folded by `ClockFold` into a fresh oversight file.\n",
        f"- fold: **{n / folded['seconds']:,.0f} events/s** ({folded['seconds']:.1f} s wall, "
        f"{cpu:.1f} s CPU), {rows:,} rows of per-device monthly sums "
        f"(`clock_months`), oversight file {size:.0f} MiB.",
        f"- and each event's first receipt (`event_receipts`, {kept:,} rows, most of the "
        "file: a case's history and archive show when the hub got each step, "
        f"hub/oversight/archive.py); one case's receipts read in {case_ms:.2f} ms.",
        "- The first version kept one row per event and grouped them on each read: at "
        "2,000,000 events the city's month took 44 s (one run of a throwaway script on a "
        "loaded machine, load average 7); the sums per device and month made it "
        "the table below.\n",
        "| per-device clock table (checks page) | median ms of 5 | devices |",
        "|---|---:|---:|", *lines, "",
        f"Load average at the end: {os.getloadavg()[0]:.1f} on 2 cores (shared machine). "
        "Rerun: `python -m ops.bench clocks`."])
