"""超期: one rule (schemas/overdue.py), and its SQL form says the same."""

from __future__ import annotations

import datetime as dt
import json
import sqlite3

from hypothesis import given
from hypothesis import strategies as st

from schemas.overdue import time_limit_overdue, time_limit_overdue_sql

STATUSES = ("new", "consulting", "applied", "handling", "suspended", "completed",
            "terminated", "refused", "archived")
days = st.dates(min_value=dt.date(2025, 12, 1), max_value=dt.date(2026, 2, 1))


def test_the_rule() -> None:
    assert time_limit_overdue("handling", "2026-03-09", "2026-03-10")
    assert not time_limit_overdue("handling", "2026-03-09", "2026-03-09")  # the last day
    # 10.2.5: the clock stops while suspended; the due it carries is computed again later
    assert not time_limit_overdue("suspended", "2026-03-09", "2026-03-20")
    assert not time_limit_overdue("suspended", "2026-03-09", "2026-03-20", "2026-03-05")
    assert not time_limit_overdue("suspended", "2026-03-09", "2026-03-20", "2026-03-09")
    # ... but a case suspended after its limit had passed was handled beyond it (11.1 b)
    assert time_limit_overdue("suspended", "2026-03-09", "2026-03-20", "2026-03-12")
    assert not time_limit_overdue("completed", "2026-03-09", "2026-03-20")  # 5 a) instead
    assert not time_limit_overdue("applied", None, "2026-03-20")  # not accepted: no limit
    assert time_limit_overdue("handling", "2026-03-09", dt.date(2026, 3, 10))


@given(status=st.sampled_from(STATUSES), due=st.none() | days, today=days,
       since=st.none() | days)
def test_the_sql_says_what_the_function_says(status: str, due: dt.date | None,
                                              today: dt.date, since: dt.date | None) -> None:
    db = sqlite3.connect(":memory:")
    db.execute("CREATE TABLE facts (status TEXT, due TEXT, data TEXT)")
    data = json.dumps({"suspended_since": since and since.isoformat()})
    db.execute("INSERT INTO facts VALUES (?, ?, ?)", (status, due and due.isoformat(), data))
    for param, args in ((":today", {"today": today.isoformat()}), ("?", (today.isoformat(),))):
        found = db.execute(f"SELECT count(*) FROM facts WHERE {time_limit_overdue_sql(param)}",
                           args).fetchone()[0]
        assert bool(found) == time_limit_overdue(status, due and due.isoformat(), today,
                                                 since and since.isoformat())
