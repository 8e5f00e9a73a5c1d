"""Working days and deadline arithmetic (design.md §6), pure.

Where a day's status comes from, in order:

1. a ``calendar`` document for its year (the hub's editable reference data);
2. the ``chinesecalendar`` package (State Council holiday notices, 2004–2026, as far as
   the installed release has them: :data:`CHINESECALENDAR_YEARS`);
3. Monday–Friday, flagged ``estimated`` so the UI can show a warning: no one knows
   next year's 调休 until the State Council publishes it.

A ``calendar`` document whose ``source`` starts with :data:`PROVISIONAL` (the sample
reference's years the package does not know: 元旦, 劳动节 and 国庆节 alone, no Spring
Festival) counts its days but is an estimate all the same (source ``"provisional"``): it
made 2027 "known", so a case accepted before 春节 was due on a day the office was closed,
on form A and the boards without the 估算 mark, and ``hub doctor`` said 2027 was known.

Conventions: ``add_working_days(d, n)`` is the n-th working day *after* ``d`` (the day of
acceptance is not counted, as in 《行政许可法》's counting of periods); ``n == 0`` is ``d``.
``working_days_between(a, b)`` counts working days in ``(a, b]``. Suspended periods
(10.2.5) are excluded from a time limit: the clock stops while the case is suspended.

Public API: :class:`Workdays`, :class:`Deadline`, :func:`add_working_days`,
:func:`working_days_between`, :data:`CHINESECALENDAR_YEARS`, :data:`PROVISIONAL`,
:data:`ESTIMATED_SOURCES`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from functools import lru_cache
from typing import Any, NamedTuple

import chinese_calendar

from schemas.errors import CalendarError


def _last_package_year() -> int:
    """The last year the installed ``chinesecalendar`` release has the notice of."""
    return max((d.year for d in chinese_calendar.holidays), default=0)


#: The years taken from ``chinesecalendar``: a fixed range, so the hub and every laptop
#: count alike whatever release each has installed (a year after it comes from the hub's
#: ``calendar`` documents, design.md §6, the same everywhere), cut to what the installed
#: release knows: ``chinesecalendar>=1.10`` admits 1.10 (made before the 2026 notice), and 2026 was
#: then counted with no holidays at all, the Spring Festival as working days and not even
#: flagged estimated.
CHINESECALENDAR_YEARS = range(2004, min(2027, _last_package_year() + 1))
#: how a ``calendar`` document's ``source`` starts when its dates are not the notice's
PROVISIONAL = "provisional"
#: the sources of working days that are an estimate (design.md §6: a visible warning)
ESTIMATED_SOURCES = frozenset({"weekdays", PROVISIONAL})
MAX_SPAN_DAYS = 3 * 366  # a time limit is at most a year of working days; guard against loops

Period = tuple[dt.date, dt.date]  # inclusive


class Deadline(NamedTuple):
    due: dt.date
    #: True when a day on the way was beyond known calendar data (Mon–Fri assumed)
    estimated: bool


@lru_cache(maxsize=64)
def _cc_year(year: int) -> tuple[frozenset[dt.date], frozenset[dt.date]]:
    """chinesecalendar's weekday holidays and weekend make-up workdays of one year."""
    hol = frozenset(d for d in chinese_calendar.holidays if d.year == year and d.weekday() < 5)
    work = frozenset(d for d in chinese_calendar.workdays if d.year == year)
    return hol, work


def _as_date(d: dt.date | str) -> dt.date:
    if isinstance(d, dt.datetime):
        return d.date()
    if isinstance(d, dt.date):
        return d
    try:
        return dt.date.fromisoformat(d[:10])
    except (TypeError, ValueError) as exc:
        raise CalendarError(f"not a date: {d!r}") from exc


class Workdays:
    """Working-day arithmetic over ``calendar`` documents and ``chinesecalendar``."""

    def __init__(self, calendars: Iterable[Mapping[str, Any]] = (), *,
                 use_chinesecalendar: bool = True):
        self._docs: dict[int, tuple[frozenset[dt.date], frozenset[dt.date], str]] = {}
        for doc in calendars:
            try:
                year = int(doc["year"])
                hol = frozenset(dt.date.fromisoformat(x) for x in doc.get("holidays", ()))
                work = frozenset(dt.date.fromisoformat(x) for x in doc.get("workdays", ()))
            except (KeyError, TypeError, ValueError) as exc:
                raise CalendarError(f"malformed calendar document: {exc}") from exc
            provisional = str(doc.get("source") or "").startswith(PROVISIONAL)
            self._docs[year] = (hol, work, PROVISIONAL if provisional else "calendar")
        self._cc = use_chinesecalendar
        self._tables: dict[int, tuple[frozenset[dt.date], frozenset[dt.date], str]] = {}

    def _table(self, year: int) -> tuple[frozenset[dt.date], frozenset[dt.date], str]:
        """(days off on weekdays, make-up workdays on weekends, source) of one year."""
        table = self._tables.get(year)
        if table is None:
            if year in self._docs:
                table = self._docs[year]
            elif self._cc and year in CHINESECALENDAR_YEARS:
                table = (_cc_year(year)[0], _cc_year(year)[1], "chinesecalendar")
            else:
                table = (frozenset(), frozenset(), "weekdays")
            self._tables[year] = table
        return table

    # -- one day ----------------------------------------------------------------------------
    def source(self, day: dt.date | str) -> str:
        """``"calendar"``, ``"chinesecalendar"``, ``"provisional"`` or ``"weekdays"`` (the
        last two estimated)."""
        return self._table(_as_date(day).year)[2]

    def known(self, day: dt.date | str) -> bool:
        return self.source(day) not in ESTIMATED_SOURCES

    def is_workday(self, day: dt.date | str) -> bool:
        d = _as_date(day)
        hol, work, _src = self._table(d.year)
        return d in work or (d.weekday() < 5 and d not in hol)

    def last_day(self, day: dt.date | str) -> dt.date:
        """The last day of a period set to end on ``day`` (a date a clerk wrote on a form):
        ``day`` itself if it is a working day, else the first working day after it.

        The standard (10.2.5.2 "超过续办期限的，视为服务终止") does not say how a deadline
        that falls on a weekend or holiday counts; the code reads it as Chinese law counts
        every period: 期间的最后一日是法定休假日的，以法定休假日结束的次日为期间的最后一日
        (《民法典》第二百零三条; 法定休假日 include weekends). Otherwise an applicant given
        a Sunday deadline loses the Friday-to-Sunday days it was promised, since the
        window is closed when the form E could be signed, and the hub would terminate the
        case (10.2.5.2) on a day no one could have resumed it."""
        d = _as_date(day)
        for _ in range(MAX_SPAN_DAYS):
            if self.is_workday(d):
                return d
            d += dt.timedelta(days=1)
        raise CalendarError(f"no working day within {MAX_SPAN_DAYS} days of {day}")

    # -- spans ------------------------------------------------------------------------------
    def add_working_days(self, start: dt.date | str, n: int,
                         excluded: Sequence[Period] = ()) -> dt.date:
        return self.deadline(start, n, excluded).due

    def deadline(self, start: dt.date | str, n: int,
                 excluded: Sequence[Period] = ()) -> Deadline:
        """The n-th working day after ``start``, not counting days inside ``excluded``
        periods (suspensions, 10.2.5), with the ``estimated`` warning flag."""
        if n < 0:
            raise CalendarError(f"a time limit cannot be negative: {n}")
        d = _as_date(start)
        year = d.year
        hol, work, src = self._table(year)
        estimated = src in ESTIMATED_SOURCES
        counted = 0
        limit = MAX_SPAN_DAYS + sum((b - a).days + 1 for a, b in excluded)
        one = dt.timedelta(days=1)
        for _ in range(limit):
            if counted >= n:
                break
            d += one
            if d.year != year:
                # by the year, not on 1 January: a suspension (10.2.5) over New Year skips
                # that day, and the old year's holidays were then used for the whole new one
                year = d.year
                hol, work, src = self._table(year)
                estimated = estimated or src in ESTIMATED_SOURCES
            if excluded and any(a <= d <= b for a, b in excluded):
                continue
            if d in work or (d.weekday() < 5 and d not in hol):
                counted += 1
        else:
            if counted < n:
                raise CalendarError(f"no {n} working days within {limit} days of {start}")
        return Deadline(d, estimated)

    def working_days_between(self, a: dt.date | str, b: dt.date | str,
                             excluded: Sequence[Period] = ()) -> int:
        """Working days in ``(a, b]`` (negative if ``b`` is before ``a``), excluding periods."""
        da, db = _as_date(a), _as_date(b)
        if db < da:
            return -self.working_days_between(db, da, excluded)
        if (db - da).days > 20 * 366:
            raise CalendarError(f"span too long: {da} .. {db}")
        count = 0
        d = da
        while d < db:
            d += dt.timedelta(days=1)
            if any(p <= d <= q for p, q in excluded):
                continue
            if self.is_workday(d):
                count += 1
        return count

    def estimated_between(self, a: dt.date | str, b: dt.date | str) -> bool:
        """True if any day in ``[a, b]`` is beyond known data."""
        da, db = sorted((_as_date(a), _as_date(b)))
        return any(not self.known(dt.date(y, 1, 1)) for y in range(da.year, db.year + 1))


def add_working_days(start: dt.date | str, n: int,
                     calendars: Iterable[Mapping[str, Any]] = ()) -> dt.date:
    return Workdays(calendars).add_working_days(start, n)


def working_days_between(a: dt.date | str, b: dt.date | str,
                         calendars: Iterable[Mapping[str, Any]] = ()) -> int:
    return Workdays(calendars).working_days_between(a, b)
