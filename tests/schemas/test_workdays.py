"""design.md §6: working days from chinesecalendar, calendar documents, Mon–Fri with a warning."""

from __future__ import annotations

import datetime as dt

import chinese_calendar
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from schemas import ValidationFailed, validate
from schemas.errors import CalendarError
from schemas.sample import calendar_doc
from schemas.workdays import Workdays, add_working_days, working_days_between

D = dt.date
WD = Workdays()

# The State Council's 2026 Spring Festival arrangement (as chinesecalendar 1.11 has it):
# holidays 15–23 Feb (Sun–Mon), make-up workdays Sat 14 Feb and Sat 28 Feb.
SPRING_HOLIDAYS = [D(2026, 2, d) for d in range(15, 24)]
MAKEUP = [D(2026, 2, 14), D(2026, 2, 28)]


def test_2026_spring_festival_holidays_and_makeup_workdays() -> None:
    assert not any(WD.is_workday(d) for d in SPRING_HOLIDAYS)
    assert all(WD.is_workday(d) for d in MAKEUP)
    assert WD.source(D(2026, 2, 14)) == "chinesecalendar"


def test_10_1_1_3_one_working_day_across_spring_festival() -> None:
    assert add_working_days(D(2026, 2, 13), 1) == D(2026, 2, 14)  # Fri → make-up Sat
    assert add_working_days(D(2026, 2, 14), 1) == D(2026, 2, 24)  # over the 9-day holiday
    assert add_working_days("2026-02-27", 1) == D(2026, 2, 28)  # make-up Sat
    assert add_working_days(D(2026, 2, 28), 1) == D(2026, 3, 2)


def test_working_days_between_counts_makeup_days_and_skips_holidays() -> None:
    # (13 Feb, 28 Feb]: 14, 24, 25, 26, 27, 28 → 6
    assert working_days_between(D(2026, 2, 13), D(2026, 2, 28)) == 6
    assert working_days_between(D(2026, 2, 28), D(2026, 2, 13)) == -6
    assert working_days_between(D(2026, 2, 14), D(2026, 2, 14)) == 0


@settings(max_examples=300, deadline=None)
@given(st.dates(min_value=D(2026, 1, 1), max_value=D(2026, 3, 31)), st.integers(0, 40))
def test_add_and_count_are_inverse_around_spring_festival(start: dt.date, n: int) -> None:
    end = WD.add_working_days(start, n)
    assert WD.working_days_between(start, end) == n
    if n:
        assert WD.is_workday(end)
        # no working day is skipped: the day before `end` leaves n - 1
        assert WD.working_days_between(start, end - dt.timedelta(days=1)) == n - 1
    assert not WD.deadline(start, n).estimated  # all within chinesecalendar's 2026


def _oracle(start: dt.date, n: int) -> dt.date:
    """The naive count with chinesecalendar's own is_workday (an independent check)."""
    d, left = start, n
    while left:
        d += dt.timedelta(days=1)
        left -= chinese_calendar.is_workday(d)
    return d


@settings(max_examples=300, deadline=None)
@given(st.dates(min_value=D(2026, 1, 1), max_value=D(2026, 3, 31)), st.integers(0, 40))
def test_add_working_days_matches_chinesecalendar_across_spring_festival(start: dt.date,
                                                                         n: int) -> None:
    assert WD.add_working_days(start, n) == _oracle(start, n)


def test_suspended_periods_are_excluded_from_deadlines() -> None:
    """10.2.5: the time limit stops while a case is suspended."""
    start = D(2026, 3, 2)
    assert WD.add_working_days(start, 10) == D(2026, 3, 16)
    suspended = [(D(2026, 3, 9), D(2026, 3, 13))]
    assert WD.add_working_days(start, 10, suspended) == D(2026, 3, 23)
    assert WD.working_days_between(start, D(2026, 3, 23), suspended) == 10


def _oracle_excluding(start: dt.date, n: int, excluded: list[tuple[dt.date, dt.date]]) -> dt.date:
    d, left = start, n
    while left:
        d += dt.timedelta(days=1)
        if not any(a <= d <= b for a, b in excluded):
            left -= chinese_calendar.is_workday(d)
    return d


@settings(max_examples=200, deadline=None)
@given(st.dates(min_value=D(2025, 12, 1), max_value=D(2025, 12, 31)), st.integers(1, 45),
       st.dates(min_value=D(2025, 12, 20), max_value=D(2026, 1, 1)), st.integers(0, 10))
def test_a_suspension_over_new_year_keeps_the_new_years_holidays(
        start: dt.date, n: int, since: dt.date, length: int) -> None:
    """10.2.5: a suspension spanning 1 January skipped that day, and the deadline then ran
    through 2026 with 2025's holidays (the Spring Festival counted as working days)."""
    excluded = [(since, since + dt.timedelta(days=length))]
    assert WD.add_working_days(start, n, excluded) == _oracle_excluding(start, n, excluded)


def test_a_suspension_over_new_year_does_not_end_a_limit_in_the_spring_festival() -> None:
    # accepted 22 Dec 2025, 40 working days, suspended 31 Dec – 2 Jan: due 25 Feb 2026
    # (not 19 Feb, a day of the Spring Festival holiday, 15–23 Feb)
    suspended = [(D(2025, 12, 31), D(2026, 1, 2))]
    assert WD.add_working_days(D(2025, 12, 22), 40, suspended) == D(2026, 2, 25)


def test_beyond_known_data_mon_fri_with_warning() -> None:
    d = WD.deadline(D(2026, 12, 24), 10)
    assert d.estimated and WD.source(D(2027, 1, 4)) == "weekdays"
    assert WD.is_workday(D(2027, 1, 1))  # New Year's Day unknown without a calendar doc
    assert not WD.deadline(D(2026, 3, 2), 10).estimated


def test_calendar_documents_cover_later_years() -> None:
    doc = dict(calendar_doc(2027), source="hub")  # fixed-date holidays, set at the hub
    validate(doc)
    wd = Workdays([doc])
    assert wd.source(D(2027, 1, 1)) == "calendar" and not wd.is_workday(D(2027, 1, 1))
    d = wd.deadline(D(2026, 12, 30), 2)
    assert d == (D(2027, 1, 4), False)  # 31 Dec, (1 Jan holiday, weekend), 4 Jan
    hub = {"type": "calendar", "year": 2027, "holidays": ["2027-02-08"],
           "workdays": ["2027-02-06"]}
    wd2 = Workdays([hub])
    assert wd2.is_workday(D(2027, 2, 6)) and not wd2.is_workday(D(2027, 2, 8))


def test_calendar_document_rules() -> None:
    doc = calendar_doc(2026)
    assert "2026-02-16" in doc["holidays"] and "2026-02-14" in doc["workdays"]
    bad = dict(doc, workdays=["2026-02-16"])  # a Monday, and also a holiday
    with pytest.raises(ValidationFailed) as e:
        validate(bad)
    assert {p.rule for p in e.value.problems} & {"calendar_disjoint", "makeup_weekend"}
    with pytest.raises(ValidationFailed) as e:
        validate(dict(doc, holidays=["2025-10-01"]))
    assert e.value.problems[0].field == "holidays.0"
    assert e.value.problems[0].rule == "calendar_year"


def test_bad_arguments() -> None:
    with pytest.raises(CalendarError):
        WD.add_working_days(D(2026, 3, 2), -1)
    with pytest.raises(CalendarError):
        WD.add_working_days("not a date", 1)
    with pytest.raises(CalendarError):
        Workdays([{"year": "x"}])


def test_a_provisional_calendar_is_an_estimate_all_the_same() -> None:
    """``hub init --sample-reference`` (and the demo) store 2027's provisional calendar:
    元旦, 劳动节, 国庆节 alone. It made 2027 "known", so a case accepted on the last working
    day before 春节 was due inside the Spring Festival on form A, the boards and the
    oversight, with no 估算 mark (design.md §6: beyond known data, a visible warning)."""
    doc = calendar_doc(2027)
    validate(doc)
    wd = Workdays([doc])
    assert wd.source(D(2027, 2, 4)) == "provisional" and not wd.known(D(2027, 2, 8))
    assert not wd.is_workday(D(2027, 1, 1))  # its fixed-date holidays still count
    assert wd.deadline(D(2027, 2, 4), 3) == (D(2027, 2, 9), True)
    assert wd.deadline(D(2026, 12, 30), 2) == (D(2027, 1, 4), True)
    # the State Council's notice set at the hub (any other source, or none): known
    spring = ["2027-02-05", *(f"2027-02-{d:02d}" for d in range(8, 13))]
    notice = dict(doc, holidays=[*doc["holidays"], *spring], source="国务院办公厅通知")
    assert Workdays([notice]).deadline(D(2027, 2, 4), 3) == (D(2027, 2, 17), False)
    assert Workdays([{k: v for k, v in notice.items() if k != "source"}]).known("2027-02-08")


PROVISIONAL_2027 = Workdays([calendar_doc(2027)])


@settings(max_examples=300, deadline=None)
@given(st.dates(dt.date(2026, 9, 1), dt.date(2027, 12, 31)), st.integers(0, 30),
       st.lists(st.tuples(st.dates(dt.date(2026, 9, 1), dt.date(2027, 12, 31)),
                          st.integers(0, 40)), max_size=2))
def test_a_deadline_over_a_provisional_year_is_estimated(start: dt.date, n: int,
                                                         spans: list[tuple[dt.date, int]]
                                                         ) -> None:
    """Over 2026 (chinesecalendar) and a provisional 2027: a deadline is estimated exactly
    when the days it counts reach into 2027, suspensions (10.2.5) excluded or not, and it
    falls where the provisional calendar's days put it (its fixed-date holidays count)."""
    excluded = [(a, a + dt.timedelta(days=k)) for a, k in spans]
    d = PROVISIONAL_2027.deadline(start, n, excluded)
    assert d.estimated == (d.due.year == 2027 or start.year == 2027)
    counted = [start + dt.timedelta(days=i) for i in range(1, (d.due - start).days + 1)]
    counted = [x for x in counted if PROVISIONAL_2027.is_workday(x)
               and not any(a <= x <= b for a, b in excluded)]
    assert len(counted) == n and (n == 0 or counted[-1] == d.due)
