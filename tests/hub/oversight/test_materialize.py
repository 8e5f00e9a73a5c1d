"""The materialization is incremental and exact: feeding documents in any order and
folding after each batch gives the same counters as one fold of everything."""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

from hub.oversight.materialize import FactStore, Materializer
from schemas.sample_cases import case_histories
from tests.hub.oversight.conftest import stored
from tests.hub.oversight.scenario import scenario, stored_histories


def _counters(facts: FactStore) -> list[tuple[Any, ...]]:
    """Every non-zero counter row: per staff, rolled up per unit, per department."""
    out = []
    for table, width in (("counters", 3), ("units", 3), ("departments", 4)):
        rows = facts.reader().execute(f"SELECT * FROM {table} ORDER BY 1, 2, 3")
        out += [(table, *r) for r in rows if any(v for v in r[width:])]
    return out


def test_incremental_equals_full_rebuild(hub: Any, tmp_path: Path) -> None:
    docs = [d for h in stored_histories(scenario()) for d in h]
    docs += [stored(d) for h in case_histories(seed=7, n=30) for d in h]
    random.Random(3).shuffle(docs)  # events may arrive before their case header
    live = Materializer(hub.stores, FactStore(tmp_path / "live.sqlite"), complaint_days=5)
    for start in range(0, len(docs), 17):
        hub.stores.main.bulk_docs(docs[start:start + 17])
        live.catch_up()
    full = Materializer(hub.stores, FactStore(tmp_path / "full.sqlite"), complaint_days=5)
    assert full.catch_up() == 42
    assert _counters(live.facts) == _counters(full.facts)
    assert len(_counters(full.facts)) > 20
    # the checkpoint lives with the facts: a restarted materializer has nothing to fold
    again = Materializer(hub.stores, FactStore(tmp_path / "live.sqlite"), complaint_days=5)
    assert again.catch_up() == 0


def test_a_new_event_moves_counters_without_double_counting(hub: Any, tmp_path: Path) -> None:
    cases = scenario()
    b = cases["c9"]  # handling, overdue
    hub.stores.main.bulk_docs([d for h in stored_histories({"c9": b}) for d in h])
    m = Materializer(hub.stores, FactStore(tmp_path / "f.sqlite"), complaint_days=5)
    m.catch_up()
    assert m.facts.reader().execute("SELECT SUM(opened), SUM(completed) FROM counters")\
        .fetchone() == (1, 0)
    b.completed("2026-03-12")
    hub.stores.main.bulk_docs([stored(e) for e in b.events[-2:]])
    assert m.catch_up() == 1
    db = m.facts.reader()
    assert db.execute("SELECT SUM(opened), SUM(completed), SUM(on_time) FROM counters")\
        .fetchone() == (1, 1, 0)  # due 9 Mar, completed 12 Mar: late
    assert db.execute("SELECT status FROM facts").fetchone() == ("completed",)


def test_page_reads_fold_a_bounded_number_of_batches(hub: Any, tmp_path: Path) -> None:
    from hub.oversight import PAGE_BATCHES, Oversight
    from hub.oversight.materialize import BATCH

    histories = list(case_histories(seed=9, n=(PAGE_BATCHES + 1) * BATCH // 10 + 60))
    hub.stores.main.bulk_docs([stored(d) for h in histories for d in h])
    ov = Oversight(hub, tmp_path / "f.sqlite")
    first = ov.catch_up()
    assert 0 < first < len(histories) and ov.behind
    assert ov.catch_up(force=True) > 0  # a case cut by a batch boundary is folded again
    assert not ov.behind and ov.catch_up(force=True) == 0
    assert ov.facts.reader().execute("SELECT COUNT(*) FROM facts").fetchone()[0] == len(histories)


def test_the_hub_workers_fold_the_facts_without_a_page_read(hub: Any, tmp_path: Path) -> None:
    """``bangban hub serve`` adds the materializer to its worker loop: facts are folded
    before any supervisor opens a page; a failing pass does not stop the others."""
    from hub.oversight import Oversight
    from hub.workers import Workers

    histories = list(case_histories(seed=5, n=12))
    hub.stores.main.bulk_docs([stored(d) for h in histories for d in h])
    ov = Oversight(hub, tmp_path / "w.sqlite")

    def broken() -> None:
        raise RuntimeError("a pass that fails")

    workers = Workers(hub, passes=[broken, lambda: ov.catch_up(force=False)])
    workers.run_once()
    assert workers.errors == 1
    assert ov.facts.reader().execute("SELECT COUNT(*) FROM facts").fetchone()[0] == len(histories)


def test_a_calendar_change_counts_the_open_cases_deadlines_again(hub: Any,
                                                                  tmp_path: Path) -> None:
    """2027's calendar is provisional until the State Council's notice (fixed-date holidays
    only, schemas.sample); once the hub sets the Spring Festival, the open cases' due
    dates were not counted again: the dashboard and the towns' boards kept the old ones
    until each case happened to change (design.md §6, 5 a)."""
    from hub import admin
    from schemas import sample
    from tests.hub.oversight.cases import CaseBuilder

    b = CaseBuilder("410602101201", "s1", "2027-02-05").accepted("2027-02-05", 3)
    hub.stores.main.bulk_docs([stored(d) for d in b.history()])
    m = Materializer(hub.stores, FactStore(tmp_path / "f.sqlite"), complaint_days=5)
    m.catch_up()
    assert m.facts.get(b.case_id).due == "2027-02-10"  # type: ignore[union-attr]  # 8, 9, 10
    provisional = next(c for c in sample.calendars() if c["year"] == 2027)
    spring = [f"2027-02-{d:02d}" for d in range(8, 13)]
    admin.set_calendar(hub, year=2027, holidays=provisional["holidays"] + spring,
                       workdays=[])
    m.catch_up(max_batches=1)  # a page read: the marks survive a catch-up stopped early
    m.catch_up()
    assert m.facts.get(b.case_id).due == "2027-02-17"  # type: ignore[union-attr]
    assert m.facts.refolds(10) == [] and not m.behind


def test_a_completion_judged_on_a_provisional_calendar_is_judged_again(
        hub: Any, tmp_path: Path) -> None:
    """A case completed in a year whose holidays were not published yet was judged late
    against a Mon-Fri estimate (design.md §6: shown as an estimate); when the hub set the
    year's calendar later, only open cases were folded again, and the on-time rate (5 a)
    kept the estimate's verdict for good. Cases finished before that year cannot move."""
    from hub import admin
    from schemas import sample
    from tests.hub.oversight.cases import CaseBuilder

    done = CaseBuilder("410602101201", "s1", "2027-02-05").accepted("2027-02-05", 3)
    done.completed("2027-02-12")
    old = CaseBuilder("410602101201", "s1", "2026-12-01").accepted("2026-12-01", 3)
    old.completed("2026-12-03")
    hub.stores.main.bulk_docs([stored(d) for b in (done, old) for d in b.history()])
    m = Materializer(hub.stores, FactStore(tmp_path / "f.sqlite"), complaint_days=5)
    m.catch_up()
    fact = m.facts.get(done.case_id)
    assert fact is not None, fact
    assert (fact.status, fact.due, bool(fact.on_time)) == ("completed", "2027-02-10", False)

    def on_time(month: str) -> int:
        row = m.facts.reader().execute(
            "SELECT SUM(on_time) FROM counters WHERE month = ?", (month,)).fetchone()
        return int(row[0] or 0)

    assert on_time("2027-02") == 0
    provisional = next(c for c in sample.calendars() if c["year"] == 2027)
    spring = [f"2027-02-{d:02d}" for d in range(8, 13)]
    admin.set_calendar(hub, year=2027, holidays=provisional["holidays"] + spring,
                       workdays=[])
    m.catch_up(max_batches=1)
    assert old.case_id not in m.facts.refolds(100)  # finished in 2026: 2027 cannot move it
    m.catch_up()
    fact = m.facts.get(done.case_id)
    assert fact is not None and fact.due == "2027-02-17" and fact.on_time is True
    assert on_time("2027-02") == 1


def test_a_calendar_another_process_folded_first_is_used_here_too(hub: Any,
                                                                   tmp_path: Path) -> None:
    """``hub serve`` folds in its workers' process and in every gateway (a page read) over
    one fact store and checkpoint. The process that read the calendar's row in the feed
    dropped its cached working days and marked the open cases; the other never saw that
    row, kept the old calendar for good and folded the marked cases (and every case that
    changed later) with it: the Spring Festival set by the operator left the dashboard's
    due dates, its "2027 not published" banner and the on-time rates as they were."""
    from hub import admin
    from schemas import sample
    from tests.hub.oversight.cases import CaseBuilder

    b = CaseBuilder("410602101201", "s1", "2027-02-04").accepted("2027-02-04", 3)
    hub.stores.main.bulk_docs([stored(d) for d in b.history()])
    facts = FactStore(tmp_path / "f.sqlite")
    workers = Materializer(hub.stores, facts, complaint_days=5)
    gateway = Materializer(hub.stores, facts, complaint_days=5)
    workers.catch_up()
    gateway.catch_up()
    assert facts.get(b.case_id).due == "2027-02-09"  # type: ignore[union-attr]
    assert gateway.workdays().is_workday("2027-02-08")  # 2027's fixed-date holidays only
    provisional = sample.calendar_doc(2027)
    spring = ["2027-02-05", *(f"2027-02-{d:02d}" for d in range(8, 13))]
    admin.set_calendar(hub, year=2027, holidays=provisional["holidays"] + spring,
                       workdays=[], source="国务院办公厅通知")
    gateway.catch_up(max_batches=1)  # a page read takes the calendar's row and marks
    workers.catch_up()  # the workers' pass folds the marked cases
    assert facts.get(b.case_id).due == "2027-02-17"  # type: ignore[union-attr]
    assert not workers.workdays().is_workday("2027-02-08")
    assert not gateway.workdays().is_workday("2027-02-08")  # its pages' banner too
