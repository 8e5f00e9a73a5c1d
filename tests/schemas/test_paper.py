"""The rules of a paper step entered later (schemas.paper, 补录): what the event says by
itself and what a paper date may be."""

from __future__ import annotations

import datetime as dt

from schemas.hlc import HLC, pack
from schemas.paper import MAX_PAPER_DAYS, check_paper_day, entered_later, paper_at
from schemas.state import LOCAL_TZ

DEVICE = "410621101201-D1"
TODAY = dt.date(2026, 11, 30)


def _event(event_type: str, stated: dt.date, typed: dt.datetime) -> dict[str, object]:
    hlc = pack(HLC(int(typed.timestamp() * 1000), 0, DEVICE))
    return {"event_type": event_type, "hlc": hlc, "at": paper_at(stated)}


def _typed(day: dt.date, hour: int = 9) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour), LOCAL_TZ)


def test_an_event_says_by_itself_that_it_was_entered_later() -> None:
    monday = _typed(TODAY)
    assert entered_later(_event("acceptance", TODAY - dt.timedelta(days=10), monday))
    # typed at 13:00 the day it states (noon): a live step
    assert not entered_later(_event("acceptance", TODAY, _typed(TODAY, 13)))
    # typed at 07:00 Beijing on the 30th, which is still the 29th in UTC: Beijing days
    early = dt.datetime(2026, 11, 29, 23, 0, tzinfo=dt.UTC)
    assert not entered_later({"hlc": pack(HLC(int(early.timestamp() * 1000), 0, DEVICE)),
                              "at": early.isoformat()})
    assert not entered_later({"hlc": "not a clock", "at": "2026-11-01T12:00:00+08:00"})


def test_what_a_paper_date_may_be() -> None:
    monday = _typed(TODAY)
    accepted = _event("acceptance", TODAY - dt.timedelta(days=9), monday)
    ok, why = check_paper_day("2026-11-25", "suspension", [accepted], TODAY)
    assert ok == dt.date(2026, 11, 25) and why is None
    for raw, event_type, events, word in (
            ("2026-11-30", "acceptance", [], "早于今天"),
            ("2026-12-01", "acceptance", [], "早于今天"),
            ("25/11/2026", "acceptance", [], "YYYY-MM-DD"),
            ((TODAY - dt.timedelta(days=MAX_PAPER_DAYS + 1)).isoformat(), "acceptance", [],
             f"{MAX_PAPER_DAYS} 天"),
            ("2026-11-20", "suspension", [accepted], "上一步骤"),
            ("2026-11-25", "completion", [accepted], "不能补录"),
            ("2026-11-25", "termination", [accepted], "不能补录"),
            ("2026-11-25", "suspension", [accepted, _event("work_log", TODAY, monday)],
             "当日登记")):
        day, why = check_paper_day(raw, event_type, events, TODAY)
        assert day is None and why is not None and word in why, (raw, event_type, why)
    # reading the case to print its form is no step: access events do not end its paper part
    access = _event("access", TODAY, monday)
    assert check_paper_day("2026-11-25", "suspension", [accepted, access], TODAY)[1] is None
