"""Case rules (schemas/, design §2-§3, §6): validation, fold, hub receipt check, header merge,
working days and sample generation, measured through the public API on sample histories.

What matters for the hub: every write is validated (sealed form) and every event checked
against the case's history (``check_received``); for the node: folding a case for its lists.
"""

from __future__ import annotations

import datetime as dt
import os
import random
import time
from collections.abc import Callable
from typing import Any

from ops.bench.harness import BenchContext, median, timed
from schemas.build import set_fields
from schemas.fold import FoldCache, check_received, fold
from schemas.hlc import HLC
from schemas.merge import resolve
from schemas.registry import split, validate_sealed
from schemas.sample_cases import case_histories
from schemas.workdays import Workdays

TITLE = "Case rules: validation, fold, receipt check, header merge, working days (schemas)"


def repeat(fn: Callable[[], Any], times: int) -> list[float]:
    """CPU seconds of each run: the machine is shared, so wall time mostly measures the
    other tenants; the load average is reported beside the numbers."""
    out = []
    for _ in range(times):
        start = time.process_time()
        fn()
        out.append(time.process_time() - start)
    return out


def _sealed(doc: dict[str, Any]) -> dict[str, Any]:
    clear, private = split(doc)
    return clear if private is None else dict(clear, sealed={"alg": "A256GCM", "ct": "x" * 200})


def run(ctx: BenchContext) -> str:
    n_cases = ctx.scale(400, 40)
    with timed() as t_gen:
        histories = list(case_histories(seed=1, n=n_cases))
    events = [e for h in histories for e in h[1:]]
    docs = [_sealed(d) for h in histories for d in h]
    per_case = [len(h) - 1 for h in histories]

    runs = repeat(lambda: [validate_sealed(d) for d in docs], 3)
    validate_rate = len(docs) / median(runs)

    wd = Workdays()
    as_of = dt.date(2026, 6, 1)
    runs = repeat(lambda: [fold(h[1:], workdays=wd, as_of=as_of) for h in histories], 3)
    fold_cases = len(histories) / median(runs)
    fold_events = len(events) / median(runs)

    # hub receipt: each event checked against the events of its case received before it
    def receipt(cached: bool) -> None:
        for h in histories:
            known: list[dict[str, Any]] = []
            cache = FoldCache() if cached else None  # one per batch, as hub.transitions
            for ev in h[1:]:
                check_received(known, ev, workdays=wd, cache=cache)
                known.append(ev)
    runs = repeat(lambda: receipt(False), 3)
    receipt_rate = len(events) / median(runs)
    runs = repeat(lambda: receipt(True), 3)
    receipt_cached = len(events) / median(runs)
    longest = max(per_case)

    # conflict resolution: 3 concurrent revisions of a sealed header
    rng = random.Random(2)
    conflicts = []
    for h in histories:
        base = _sealed(h[0])
        revs = []
        for dev in ("410621101201-A1", "410621101201-A2", "410621101-A1"):
            clock = HLC(1_800_000_000_000 + rng.randrange(100), 0, dev)
            revs.append(set_fields(base, {"staff": f"s-{rng.randrange(9)}",
                                          "labels": [dev[-2:]]}, clock))
        conflicts.append(revs)
    runs = repeat(lambda: [resolve(r) for r in conflicts], 3)
    resolve_rate = len(conflicts) / median(runs)

    starts = [dt.date(2026, 1, 1) + dt.timedelta(days=i % 365) for i in range(2000)]
    runs = repeat(lambda: [wd.add_working_days(s, 20) for s in starts], 3)
    wd_rate = len(starts) / median(runs)

    load = os.getloadavg()[0]
    return "\n".join([
        f"{len(histories)} sample case histories ({len(events)} events, "
        f"{len(events) / len(histories):.1f} per case, longest {longest}); "
        f"generated in {t_gen['seconds']:.2f} s ({len(histories) / t_gen['seconds']:.0f} cases/s, "
        "each event built, validated and rule-checked).",
        "",
        f"Rates are per CPU second of one process (`time.process_time`, median of 3); "
        f"the 1-minute load average was {load:.1f} on 2 cores, so wall time was several times "
        "longer.",
        "",
        "| operation | rate | per item |",
        "| --- | ---: | ---: |",
        f"| `validate_sealed` (hub, every write) | {validate_rate:,.0f} docs/s | "
        f"{1e6 / validate_rate:.0f} µs |",
        f"| `fold` a case (with `as_of` overdue marks) | {fold_cases:,.0f} cases/s "
        f"({fold_events:,.0f} events/s) | {1e6 / fold_cases:.0f} µs |",
        f"| `check_received` per event, refolding the case's prefix | {receipt_rate:,.0f} "
        f"events/s | {1e6 / receipt_rate:.0f} µs |",
        f"| `check_received` per event with a `FoldCache` (as the hub checks a batch) | "
        f"{receipt_cached:,.0f} events/s | {1e6 / receipt_cached:.0f} µs |",
        f"| `resolve` 3 conflicting header revisions | {resolve_rate:,.0f} conflicts/s | "
        f"{1e6 / resolve_rate:.0f} µs |",
        f"| `add_working_days(d, 20)` | {wd_rate:,.0f} calls/s | {1e6 / wd_rate:.1f} µs |",
        "",
        "Without a cache `check_received` refolds the prefix for each event (O(n²) per case); "
        "the hub keeps one `FoldCache` per `_bulk_docs` batch, which extends the last fold "
        "by the new events instead (each event folded once while the batch arrives in clock "
        "order).",
    ])
