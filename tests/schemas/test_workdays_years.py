"""Which years ``chinesecalendar`` answers for (schemas.workdays.CHINESECALENDAR_YEARS):
2004-2026 on every install, never a year the installed release does not have."""

from __future__ import annotations

import datetime as dt
import importlib
from collections.abc import Iterator

import chinese_calendar
import pytest

from schemas import workdays


@pytest.fixture
def release(monkeypatch: pytest.MonkeyPatch) -> Iterator[pytest.MonkeyPatch]:
    """Reload schemas.workdays over a patched chinesecalendar, and back afterwards."""
    yield monkeypatch
    monkeypatch.undo()
    importlib.reload(workdays)


def test_a_release_without_2026_leaves_2026_estimated(release: pytest.MonkeyPatch) -> None:
    """chinesecalendar 1.10 (admitted by >=1.10) has no 2026: the Spring Festival was
    counted as working days, and the deadline was not even flagged estimated."""
    release.setattr(chinese_calendar, "holidays",
                    {d: v for d, v in chinese_calendar.holidays.items() if d.year < 2026})
    importlib.reload(workdays)
    wd = workdays.Workdays()
    assert not wd.known("2026-02-17")
    assert wd.deadline("2026-02-13", 3).estimated


def test_a_later_release_does_not_make_2027_count_apart(release: pytest.MonkeyPatch) -> None:
    """A laptop with a newer release than the hub's counts 2027 as the hub does: from the
    hub's calendar documents, else Mon-Fri flagged (or form D's deadline would differ)."""
    later = dict(chinese_calendar.holidays)
    later[dt.date(2027, 2, 8)] = "Spring Festival"
    release.setattr(chinese_calendar, "holidays", later)
    importlib.reload(workdays)
    assert workdays.CHINESECALENDAR_YEARS == range(2004, 2027)
    assert not workdays.Workdays().known("2027-02-08")
