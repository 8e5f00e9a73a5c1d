"""The live counts of the oversight read their index, not every fact.

By staff member, the count of consultations still waiting past their day walked every
fact of the scope in the institution index's order (for the GROUP BY) and opened each
one's JSON: the county's staff page took 2 s at 1,000,000 cases (goal 1 s,
docs/benchmarks.md; it was 84 ms before that count came in). Timing is for the benchmark
(`python -m ops.bench oversight`); this checks the plan SQLite picks."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from hub.oversight import indicators as ind
from hub.oversight.materialize import FactStore


@pytest.mark.parametrize("by_staff", [True, False])
def test_the_overdue_consultations_are_found_through_the_reply_index(
        tmp_path: Path, by_staff: bool) -> None:
    facts = FactStore(tmp_path / "facts.sqlite")
    db = facts.reader()
    sent: list[str] = []
    db.set_trace_callback(sent.append)
    try:
        ind.rollup(db, "410621", "2026-01", "2026-12", today=dt.date(2026, 12, 31),
                   by_staff=by_staff)
    finally:
        db.set_trace_callback(None)
        facts.close()
    facts = FactStore(tmp_path / "facts.sqlite")
    sql = next(q for q in sent if "json_each" in q)
    plan = [r[3] for r in facts.reader().execute(f"EXPLAIN QUERY PLAN {sql}")]
    facts.close()
    assert plan[0].startswith("SEARCH facts USING INDEX facts_reply"), plan
