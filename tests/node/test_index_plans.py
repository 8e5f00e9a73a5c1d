"""The home page's counts and the work lists read an index, not every open case's row.

At 100,000 cases the home page took 180 ms (goal 50 ms, docs/benchmarks.md): since the
tiles count only the cases this institution holds (4.3), "open", "overdue" and "elsewhere"
scanned every open case and read its row from the table to test the holder. Timing is for
the benchmark (`python -m ops.bench node`); this checks the query plan SQLite picks."""

from __future__ import annotations

from pathlib import Path

import pytest

from node.index import COUNTED_VIEWS, OWN_VIEWS, CaseIndex, view_condition

HOLDER = "410602101201"


def _plan(index: CaseIndex, sql: str, args: list[object]) -> str:
    rows = index._db.execute(f"EXPLAIN QUERY PLAN {sql}", args).fetchall()
    return " / ".join(str(r[3]) for r in rows)


#: the index each count of the home page searches (the cases this institution holds)
COUNT_INDEX = {"open": "cases_open_holder_updated", "due_soon": "cases_open_holder",
               "deadline_passed": "cases_open_holder", "overdue": "cases_open_holder_limit"}


def test_every_holder_count_is_listed_here() -> None:
    assert set(COUNT_INDEX) == OWN_VIEWS & set(COUNTED_VIEWS) - {"needs_review"}


@pytest.mark.parametrize("view", sorted(COUNT_INDEX))
def test_the_holders_counts_search_an_index(tmp_path: Path, view: str) -> None:
    index = CaseIndex(tmp_path / "index.sqlite")
    cond, args = view_condition(view, today="2026-11-26", soon="2026-12-03", holder=HOLDER)
    plan = _plan(index, f"SELECT count(*) FROM cases c WHERE {cond}", args)
    # the index holds every column the condition reads: no row is read from the table
    assert plan.startswith(f"SEARCH c USING INDEX {COUNT_INDEX[view]} "), plan


def _list_plan(index: CaseIndex, view: str) -> str:
    """The plan of the page query :meth:`CaseIndex.search` sends for ``view``."""
    sent: list[str] = []
    index._db.set_trace_callback(sent.append)
    try:
        index.search(view=view, today="2026-11-26", soon="2026-12-03", limit=8, holder=HOLDER)
    finally:
        index._db.set_trace_callback(None)
    sql = next(q for q in sent if q.startswith("SELECT c.*"))
    return _plan(index, sql, [])


@pytest.mark.parametrize(("view", "used"), [
    ("open", "cases_open_holder_updated"),  # was: every open case's row read for its holder
    ("overdue", "cases_open_holder_limit"), ("due_soon", "cases_open_holder"),
    ("deadline_passed", "cases_open_holder"),
    ("handed_up", "cases_handed_updated"),  # was: every case walked in order of change
    ("elsewhere", "cases_open_holder_updated")])  # was: every open case's row read
def test_each_list_reads_its_page_from_an_index(tmp_path: Path, view: str, used: str) -> None:
    index = CaseIndex(tmp_path / "index.sqlite")
    plan = _list_plan(index, view)
    assert f"USING INDEX {used} " in plan + " ", plan
    # a sort is fine only for the few cases handed elsewhere, not for a whole list
    assert view == "elsewhere" or "TEMP B-TREE" not in plan, plan


def test_the_count_of_cases_handed_elsewhere_searches_two_ranges(tmp_path: Path) -> None:
    index = CaseIndex(tmp_path / "index.sqlite")
    sent: list[str] = []
    index._db.set_trace_callback(sent.append)
    try:
        # the town's hand-over boxes count by SQL (the home page reads node.tiles)
        index.counts(today="2026-11-26", soon="2026-12-03", holder=HOLDER, handed=True)
    finally:
        index._db.set_trace_callback(None)
    sql = next(q for q in sent if " < " in q and " > " in q and "count(*)" in q)
    plan = _plan(index, sql, [])
    assert plan.count("SEARCH c USING") == 2 and "SCAN c" not in plan, plan
