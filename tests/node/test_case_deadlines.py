"""Which deadline of a case runs on the node (its index row, its page): the time limit stops
while the case is suspended (10.2.5, schemas/overdue.py)."""

from __future__ import annotations

from typing import Any

from flask import Flask
from flask_babel import Babel

from node.index import CaseIndex
from node.labels import case_deadlines
from node.state import fold, index_row
from schemas.state import local_today
from tests.hub.oversight.cases import CaseBuilder

VILLAGE = "410621100201"


def _suspended_on(day: str) -> CaseBuilder:
    """A proxy case accepted Mon 2 Mar with 5 working days (due Mon 9 Mar), suspended on
    ``day`` at the applicant's request (10.2.5.1 c) until the end of the century."""
    b = CaseBuilder(VILLAGE, "s1", "2026-03-02", service_type="proxy")
    b.accepted("2026-03-02", 5, proxy=True)
    b.ev("suspension", day, reason="c", resumption_deadline="2099-12-31",
         private={"details": "申请人要求暂停"})
    return b


def test_a_suspended_case_is_not_overdue_by_its_stopped_time_limit(tmp_path: object) -> None:
    """A proxy case suspended before its time limit ended (applicant asked to pause, 10.2.5.1
    c) showed on the station's home page as 已超期 once that old limit passed, though its
    clock had stopped and its resumption deadline was weeks ahead."""
    b = _suspended_on("2026-03-05")
    row = index_row(b.header, b.events)
    assert row["status"] == "suspended" and row["due"] == "2099-12-31"
    app = Flask(__name__)
    Babel(app)
    with app.test_request_context():  # the case page lists what runs, nothing 已超期
        assert case_deadlines(fold(b.header, b.events)) == [
            ("续办期限（10.2.5）", "2099-12-31", False)]
    index = CaseIndex(f"{tmp_path}/i.sqlite")
    try:
        index.upsert(row)
        today = local_today().isoformat()
        assert index.counts(today=today, soon=today)["overdue"] == 0
        # resumed on 20 Mar: the limit runs again, the suspended days left out
        b.ev("resumption", "2026-03-20", cause_removed_on="2026-03-20", private={})
        index.upsert(index_row(b.header, b.events))
        assert index.counts(today=today, soon=today)["overdue"] == 1
        # 3, 4 Mar; 5-19 Mar suspended; 20, 23, 24 Mar
        assert index.get(b.case_id)["due"] == "2026-03-24"  # type: ignore[index]
    finally:
        index.close()


def test_a_case_suspended_after_its_time_limit_stays_overdue(tmp_path: object) -> None:
    """Suspended three days after its limit had passed, a case left the 已超期 list until
    it resumed, though it had been handled beyond its limit (11.1 b) for good."""
    b = _suspended_on("2026-03-12")
    row = index_row(b.header, b.events)
    assert row["status"] == "suspended" and row["due"] == "2026-03-09"


def test_a_calendar_pulled_later_counts_the_open_cases_again(app: Any) -> None:
    """2027's holidays reach a station with a later pull (the hub sets them once the State
    Council publishes them); the index kept the due dates counted before (Mon–Fri), so the
    home page's 已超期 / 即将到期 missed the Spring Festival until each case changed."""
    from node.indexer import index_changes
    from tests.hub.oversight.conftest import stored

    n = app.extensions["bangban_node"]
    b = CaseBuilder(VILLAGE, "s1", "2027-02-05").accepted("2027-02-05", 3)
    n.store.bulk_docs([stored(d) for d in b.history()])
    index_changes(n)
    assert n.index.get(b.case_id)["due"] == "2027-02-10"  # Mon 8, Tue 9, Wed 10
    n.store.bulk_docs([{"_id": "calendar:2027", "type": "calendar", "schema_version": 1,
                        "year": 2027, "holidays": ["2027-01-01", *(
                            f"2027-02-{d:02d}" for d in range(8, 13))], "workdays": []}])
    index_changes(n)
    assert n.index.get(b.case_id)["due"] == "2027-02-17"


def test_a_sunday_resumption_deadline_is_listed_as_the_monday_it_runs_to() -> None:
    """10.2.5.2: a deadline on a day off runs to the next working day (schemas.state.
    resume_by); the node listed the Sunday, and on Monday the case read as past its
    deadline while the applicant could still resume and the hub would not terminate it."""
    b = CaseBuilder(VILLAGE, "s2", "2026-03-02", service_type="proxy")
    b.accepted("2026-03-02", 40, proxy=True)
    b.ev("suspension", "2026-03-05", reason="c", resumption_deadline="2026-03-22",
         private={"details": "申请人要求暂停"})
    assert index_row(b.header, b.events)["due"] == "2026-03-23"
    app = Flask(__name__)
    Babel(app)
    with app.test_request_context():
        assert [d for _label, d, _passed in case_deadlines(fold(b.header, b.events))] \
            == ["2026-03-23"]

