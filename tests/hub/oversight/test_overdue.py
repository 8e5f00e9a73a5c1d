"""超期 on the town's board and on the city's dashboard are one number (schemas/overdue.py):
hand-made cases as of Fri 20 Mar 2026 at one village, each checked against both."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

from hub.oversight import Oversight
from hub.oversight import indicators as ind
from schemas.boards import overdue_marks, summarize
from tests.hub.oversight.cases import CaseBuilder
from tests.hub.oversight.conftest import put_cases

V, TOWN = "410602101201", "410602101"
TODAY = dt.date(2026, 3, 20)


def _cases() -> dict[str, CaseBuilder]:
    c: dict[str, CaseBuilder] = {}
    # accepted Mon 2 Mar, 5 working days: due Mon 9 Mar, still handled: 超期
    c["late"] = CaseBuilder(V, "s1", "2026-03-02").accepted("2026-03-02", 5)
    # the same, but suspended on 5 Mar (10.2.5: the clock stops) until the applicant is
    # back, resumption deadline 31 Mar: its stored due (9 Mar) is stale, it is not 超期
    b = c["suspended"] = CaseBuilder(V, "s1", "2026-03-02", service_type="proxy")
    b.accepted("2026-03-02", 5, proxy=True)
    b.ev("suspension", "2026-03-05", reason="c", resumption_deadline="2026-03-31",
         private={"details": "申请人要求暂停"})
    # suspended only on 12 Mar, three days after its limit had passed: late for good
    b = c["late_then_suspended"] = CaseBuilder(V, "s1", "2026-03-02", service_type="proxy")
    b.accepted("2026-03-02", 5, proxy=True)
    b.ev("suspension", "2026-03-12", reason="c", resumption_deadline="2026-03-31",
         private={"details": "申请人要求暂停"})
    # a consultation of Tue 17 Mar waiting for its reply (due 18 Mar): late reply, 5 c)
    b = c["reply"] = CaseBuilder(V, "s1", "2026-03-17")
    b.ev("consultation", "2026-03-17", channel="window", answered=False,
         private={"question": "?"})
    # accepted Fri 13 Mar, 5 working days: due today, still in time
    c["today"] = CaseBuilder(V, "s1", "2026-03-13").accepted("2026-03-13", 5)
    return c


def test_the_board_counts_the_overdue_cases_the_oversight_counts(hub: Any,
                                                                 tmp_path: Path) -> None:
    """The board's 超期 counted every row with any past date: a suspended case by the due
    date it had before its clock stopped, and a consultation waiting for its reply; the
    dashboard's 超期未办结 counted neither, so a town read 3 late cases where the city
    read 1. And both lost a case suspended after its time limit had passed: handled
    beyond its limit (11.1 b), it left the lists until it resumed."""
    cases = _cases()
    put_cases(hub, [b.history() for b in cases.values()])
    ov = Oversight(hub, tmp_path / "facts.sqlite")
    try:
        ov.catch_up(force=True)
        db = ov.facts.reader()
        listed = {r["case_no"] for r in ind.case_list(db, "overdue", TOWN, TODAY)}
        _rows, total = ind.rollup(db, TOWN, "2026-03", "2026-03", today=TODAY)
        board = ov.boards.build(V, ov.institutions())
        assert board is not None
        marked = {r["no"] for r in board["cases"] if "due" in overdue_marks(r, TODAY)}
        late = {cases[k].header["case_no"] for k in ("late", "late_then_suspended")}
        assert listed == marked == late
        summary = summarize(board, TODAY, "2026-03-25")
        assert summary["overdue"] == total.live["overdue"] == 2
        assert summary["reply_overdue"] == total.live["reply_overdue"] == 1
        assert summary["resumption_passed"] == total.live.get("resumption_passed", 0) == 0
        # due soon: the case due today; the suspended one by its resumption deadline only
        assert summary["due_soon"] == 1
        suspended = next(r for r in board["cases"]
                         if r["no"] == cases["suspended"].header["case_no"])
        assert overdue_marks(suspended, "2026-04-01") == ["resume_by"]
    finally:
        ov.facts.close()


def test_the_node_s_overdue_list_is_the_hub_s(hub: Any, tmp_path: Path) -> None:
    """The station's 已超期 list (node/index.py) took any passed deadline of a case: a
    materials deadline (10.1.4), a reply (10.1.1.3), a resumption deadline; the city's
    超期未办结 is the time limit only. A clerk read 4 late cases where the supervisor read 2
    for the same histories. Now 已超期 is the hub's rule (schemas/overdue.py) and the
    passed deadlines of any kind are the to-do list 待办到期 (``deadline_passed``)."""
    from node.index import CaseIndex
    from node.state import index_row

    cases = _cases()
    # accepted Fri 13 Mar with 10 working days (due 27 Mar), told to bring a document by
    # Mon 16 Mar and not back yet: a passed materials deadline inside the time limit
    b = cases["materials"] = CaseBuilder(V, "s1", "2026-03-13").accepted("2026-03-13", 10)
    b.ev("notification", "2026-03-13", materials_due="2026-03-16", materials=[
        {"code": "M02", "name": "户口簿", "how_to_obtain": "本人户口簿原件"}])
    put_cases(hub, [c.history() for c in cases.values()])
    ov = Oversight(hub, tmp_path / "facts.sqlite")
    index = CaseIndex(tmp_path / "node-index.sqlite")
    try:
        ov.catch_up(force=True)
        db = ov.facts.reader()
        hub_late = {r["case_no"] for r in ind.case_list(db, "overdue", TOWN, TODAY)}
        _rows, total = ind.rollup(db, TOWN, "2026-03", "2026-03", today=TODAY)
        index.upsert_many([(index_row(c.header, c.events), []) for c in cases.values()])
        day = TODAY.isoformat()

        def listed(view: str) -> set[str]:
            return {r["case_no"] for r in index.search(view=view, today=day, limit=50).rows}

        no = {k: c.header["case_no"] for k, c in cases.items()}
        assert listed("overdue") == hub_late == {no["late"], no["late_then_suspended"]}
        counts = index.counts(today=day, soon=day, holder=V)
        assert counts["overdue"] == total.live["overdue"] == 2
        # the to-do list: the late ones, the late reply and the passed materials deadline
        assert no["materials"] in listed("deadline_passed") - listed("overdue")
        assert listed("deadline_passed") == hub_late | {no["reply"], no["materials"]}
        assert counts["deadline_passed"] == 4
    finally:
        index.close()
        ov.facts.close()
