"""The hub's write check counts working days over the hub's own calendar documents, as
the stations do (design.md §6): it used chinesecalendar's years alone, so in a year the
package does not know (2027 on) it counted Mon-Fri while every station counted the
published holidays, and refused what the stations wrote by the calendar the hub gave them."""

from __future__ import annotations

from pathlib import Path

from hub import admin
from hub.transitions import TransitionCheck
from schemas import sample
from schemas.eligibility import check_catalog
from schemas.workdays import Workdays

from .conftest import open_world

SPRING_2027 = [f"2027-02-{d:02d}" for d in range(5, 13)]  # a week off around 6 February


def test_a_form_d_counted_over_the_published_holidays_is_taken(tmp_path: Path) -> None:
    with open_world(tmp_path) as world:
        provisional = next(c for c in sample.calendars() if c["year"] == 2027)
        holidays = sorted({*provisional["holidays"], *SPRING_2027})
        admin.set_calendar(world.hub, year=2027, holidays=holidays, workdays=[])
        item = dict(next(i for i in sample.catalog() if i["proxy"]), resumption_period_days=20)
        # the station's default deadline (node/views/handling.py): 20 working days over
        # the calendar it pulled from this hub
        station = Workdays([{"year": 2027, "holidays": holidays, "workdays": []}])
        latest = station.add_working_days("2027-01-25", 20).isoformat()
        form_d = {"event_type": "suspension", "at": "2027-01-25T09:00:00+08:00",
                  "reason": "c", "resumption_deadline": latest}
        check = TransitionCheck(world.hub.stores)
        check_catalog(form_d, item, check.workdays)  # refused before: "after 2027-02-19"
        assert not check.workdays.is_workday("2027-02-08")
