"""A case handed up (上报) and down (下派) between stations, as the town coordinator does in
the demo: its 新登记 and its consultation stay with the village that registered it (11.1:
each station's work), and a month's figures do not move when the case moves later."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from hub.oversight import Oversight
from hub.oversight import indicators as ind
from schemas.build import handover_fields
from schemas.ids import device_id
from tests.hub.oversight.cases import CaseBuilder
from tests.hub.oversight.conftest import make_hub, put_cases
from tests.hub.oversight.scenario import V1, V2

TOWN = V1[:9]


def _units(ov: Oversight) -> dict[str, tuple[int, int]]:
    rows, _total = ind.rollup(ov.facts.reader(), TOWN, "2026-03", "2026-03",
                              today=dt.date(2026, 3, 20))
    return {r.key: (r.c.get("opened", 0), r.c.get("consultations", 0)) for r in rows
            if r.c.get("opened") or r.c.get("consultations")}


def _staff(ov: Oversight) -> dict[tuple[str, str], int]:
    rows, _total = ind.rollup(ov.facts.reader(), TOWN, "2026-03", "2026-03",
                              today=dt.date(2026, 3, 20), by_staff=True)
    return {(r.key, r.staff): r.c.get("opened", 0) for r in rows if r.c.get("opened")}


def test_a_case_handed_up_and_down_stays_opened_where_it_was_registered(
        tmp_path: Path) -> None:
    """鹤壁集村 registers a case and hands it up; the town hands it down to 东头村, where
    nobody has written a step yet. The dashboard counted its 新登记 and consultation at the
    town, then at 东头村 (a registration 东头村 never made, 鹤壁集村's month one short),
    and the staff page listed 鹤壁集村's clerk under 东头村 with no name."""
    hub = make_hub(tmp_path)
    ov = Oversight(hub, tmp_path / "facts.sqlite")
    b = CaseBuilder(V1, "s-village", "2026-03-02")
    b.ev("consultation", "2026-03-02", channel="window", answered=True,
         private={"question": "?"})
    b.accepted("2026-03-02", 20)
    put_cases(hub, [b.history()])
    ov.catch_up(force=True)
    assert _units(ov) == {V1: (1, 1)}
    town = device_id(TOWN, "A1")
    b.ev("hand_up", "2026-03-04", **handover_fields(V1, TOWN, "needs_coordination"))
    put_cases(hub, [b.history()])
    ov.catch_up(force=True)
    assert _units(ov) == {V1: (1, 1)}
    b.ev("work_log", "2026-03-05", device=town, institution=TOWN, staff="s-town",
         kind="coordination", private={"text": "协调"})
    b.ev("hand_down", "2026-03-05", device=town, institution=TOWN, staff="s-town",
         **handover_fields(TOWN, V2, "door_service"))
    put_cases(hub, [b.history()])
    ov.catch_up(force=True)
    assert ov.facts.get(b.case_id).institution == V2  # type: ignore[union-attr]
    assert _units(ov) == {V1: (1, 1)}
    assert _staff(ov) == {(V1, "s-village"): 1}
    ov.facts.close()
    hub.close()


def _departments(ov: Oversight) -> dict[str, int]:
    """11.1 d) submissions per station (a unit of the village level: the town's own too)."""
    sql = ("SELECT unit, SUM(submitted) FROM departments WHERE level = 12 AND month = "
           "'2026-03' GROUP BY unit")
    return {unit: n for unit, n in ov.facts.reader().execute(sql) if n}


def test_a_submission_stays_counted_where_it_was_made(tmp_path: Path) -> None:
    """鹤壁集村 submits a case's materials to 浚县民政局 (10.2.4) in March, then hands the
    case up; the town hands it down to 东头村. 11.1 d) counted the submission at the case's
    holder: 鹤壁集村's March lost it to the town, then 东头村 gained one it never made. It
    stays with the station whose device recorded the submission, the one that did it."""
    hub = make_hub(tmp_path)
    ov = Oversight(hub, tmp_path / "facts.sqlite")
    b = CaseBuilder(V1, "s-village", "2026-03-02").accepted("2026-03-02", 20)
    b.ev("submitted", "2026-03-03", department="浚县民政局", channel="online")
    put_cases(hub, [b.history()])
    ov.catch_up(force=True)
    assert _departments(ov) == {V1: 1}
    town = device_id(TOWN, "A1")
    b.ev("hand_up", "2026-03-04", **handover_fields(V1, TOWN, "needs_coordination"))
    put_cases(hub, [b.history()])
    ov.catch_up(force=True)
    assert _departments(ov) == {V1: 1}
    b.ev("hand_down", "2026-03-05", device=town, institution=TOWN, staff="s-town",
         **handover_fields(TOWN, V2, "door_service"))
    put_cases(hub, [b.history()])
    ov.catch_up(force=True)
    assert ov.facts.get(b.case_id).institution == V2  # type: ignore[union-attr]
    assert _departments(ov) == {V1: 1}
    assert ind.departments(ov.facts.reader(), TOWN, "2026-03", "2026-03")[0]["submitted"] == 1
    ov.facts.close()
    hub.close()


def test_a_case_handed_down_names_nobody_on_the_board_until_taken_up(tmp_path: Path) -> None:
    """The town hands 鹤壁集村's case down to 东头村, where nobody has recorded a step: the
    board row named 鹤壁集村's clerk as its 经办人 at 东头村, a person who does not work
    there. It names nobody (the node says 待接办) until 东头村's clerk records a step; the
    staff counters keep the case where they were (facts.staff, 11.2.2). The oversight's case
    lists named that clerk too."""
    from hub.oversight.boards import board_row

    hub = make_hub(tmp_path)
    ov = Oversight(hub, tmp_path / "facts.sqlite")
    b = CaseBuilder(V1, "s-village", "2026-03-02").accepted("2026-03-02", 20)
    town = device_id(TOWN, "A1")
    b.ev("hand_up", "2026-03-04", **handover_fields(V1, TOWN, "needs_coordination"))
    put_cases(hub, [b.history()])
    ov.catch_up(force=True)
    fact = ov.facts.get(b.case_id)
    assert fact is not None and fact.unclaimed and "staff" not in board_row(fact)
    b.ev("hand_down", "2026-03-05", device=town, institution=TOWN, staff="s-town",
         **handover_fields(TOWN, V2, "door_service"))
    put_cases(hub, [b.history()])
    ov.catch_up(force=True)
    fact = ov.facts.get(b.case_id)
    assert fact is not None and fact.institution == V2 and fact.staff == "s-village"
    assert fact.unclaimed and "staff" not in board_row(fact)
    late = dt.date(2026, 4, 30)  # past its time limit: on the oversight's overdue list too
    (row,) = ind.case_list(ov.facts.reader(), "overdue", TOWN, late)
    assert (row["institution"], row["staff"], row["unclaimed"]) == (V2, "", 1)
    b.ev("work_log", "2026-03-06", device=device_id(V2, "A1"), institution=V2,
         staff="s-east", kind="contact", private={"text": "已联系"})
    put_cases(hub, [b.history()])
    ov.catch_up(force=True)
    fact = ov.facts.get(b.case_id)
    assert fact is not None and not fact.unclaimed and board_row(fact)["staff"] == "s-east"
    (row,) = ind.case_list(ov.facts.reader(), "overdue", TOWN, late)
    assert (row["staff"], row["unclaimed"]) == ("s-east", 0)
    ov.facts.close()
    hub.close()
