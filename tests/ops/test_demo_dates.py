"""The demo's sample cases are dated back from today, and every history ends by today.

Before, they opened on 2 March 2026 whatever the date: eight months later the oversight
pages' current month was empty, and the case "opened now" and handed up in the demo was
months overdue at the town.
"""

from __future__ import annotations

import datetime as dt
import random

import pytest

from ops.demo_node import HISTORY_SPAN, recent_start
from schemas import sample
from schemas.sample_cases import SCENARIOS, case_history
from schemas.state import local_today
from schemas.workdays import Workdays

TZ = dt.timezone(dt.timedelta(hours=8))


def _catalog() -> list[dict[str, object]]:
    return [c for c in sample.catalog() if c["assist"] and c["proxy"]
            and ("village" in c["tiers"] or "town" in c["tiers"])]


def test_recent_start_is_a_working_day_far_enough_back() -> None:
    wd = Workdays(sample.calendars())
    day = recent_start(6)
    assert wd.is_workday(day)
    back = wd.working_days_between(day, local_today())
    assert 6 + HISTORY_SPAN <= back <= 6 + HISTORY_SPAN + 12  # no more than a holiday back


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_the_last_demo_case_of_every_scenario_ends_by_today(scenario: str) -> None:
    """The sixth case opens five working days after the first, at 16:xx: its history,
    whatever the catalog item, has no event after now."""
    wd = Workdays(sample.calendars())
    insts = {i["code"]: i for i in sample.institutions()}
    village = next(i for i in insts.values() if i["tier"] == "village")
    town = insts[village["parent"]]
    last_day = wd.add_working_days(recent_start(6), 5)
    start = dt.datetime.combine(last_day, dt.time(16, 59), TZ)
    now = dt.datetime.now(TZ)
    for item in _catalog():
        history = case_history(random.Random(1), scenario, village=village, town=town,
                               item=item, serial=1, start=start, workdays=wd)
        last = max(dt.datetime.fromisoformat(str(e["at"])) for e in history[1:])
        assert last <= now, (scenario, item["code"], last)
    assert start.date() > local_today() - dt.timedelta(days=120)  # recent, not March


def test_the_demo_work_ends_in_the_last_few_working_days() -> None:
    """The demo opens its sample cases on :func:`ops.demo_node.fitted_start`: every event
    (the hub's 10.2.5.2 termination too) is dated before today, and the last ones within
    the last few working days. Dated back by :func:`recent_start` (the longest of all
    scenarios), the demo's six cases a village ended about twenty working days before
    today: on 27 November its current month held one case, and on the first days of a
    month the supervisor's dashboard was empty."""
    from ops.demo import TOWN, VILLAGE_A, VILLAGE_B
    from ops.demo_node import fitted_start, sample_histories

    wd = Workdays(sample.calendars())
    seeds = {VILLAGE_A: 1, VILLAGE_B: 2}
    start = fitted_start(seeds, 6, town=TOWN)
    today = local_today()
    days = [dt.date.fromisoformat(str(e["at"])[:10]) for code, seed in seeds.items()
            for h in sample_histories(code, 6, town=TOWN, seed=seed, start=start)
            for e in h[1:]]
    assert max(days) < today
    assert wd.working_days_between(max(days), today) <= 3, (start, max(days))
    terminations = [e for code, seed in seeds.items()
                    for h in sample_histories(code, 6, town=TOWN, seed=seed, start=start)
                    for e in h[1:] if e["event_type"] == "termination"]
    assert terminations  # the suspended case's resumption deadline has passed (10.2.5.2)
