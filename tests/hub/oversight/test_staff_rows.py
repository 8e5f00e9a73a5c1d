"""Per-staff rows (11.2.2) after a case changes hands: nobody is listed at an institution
where nothing of theirs is counted."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from hub.oversight import Oversight
from hub.oversight import indicators as ind
from schemas.build import handover_fields
from schemas.ids import device_id
from tests.hub.oversight.cases import CaseBuilder
from tests.hub.oversight.conftest import make_hub, put_cases
from tests.hub.oversight.scenario import V1

TOWN = V1[:9]


def test_a_handed_up_case_leaves_no_empty_staff_row(tmp_path: Path) -> None:
    """Handed up, a case is counted at the town under the village's staff id until a town
    staff member writes a step; then that id's counters at the town sum to zero, and the
    staff page listed the village's staff member at the town with a row of zeros."""
    hub = make_hub(tmp_path)
    ov = Oversight(hub, tmp_path / "facts.sqlite")
    b = CaseBuilder(V1, "s-village", "2026-03-02").accepted("2026-03-02", 10)
    b.ev("hand_up", "2026-03-03", **handover_fields(V1, TOWN, "needs_coordination"))
    put_cases(hub, [b.history()])
    ov.catch_up(force=True)
    assert (ov.facts.get(b.case_id).institution, ov.facts.get(b.case_id).staff) == (  # type: ignore[union-attr]
        TOWN, "s-village")
    b.ev("work_log", "2026-03-04", device=device_id(TOWN, "A1"), institution=TOWN,
         staff="s-town", kind="tracking", private={"text": "协调"})
    put_cases(hub, [b.history()])
    ov.catch_up(force=True)
    rows, total = ind.rollup(ov.facts.reader(), TOWN, "2026-03", "2026-03",
                             today=dt.date(2026, 3, 5), by_staff=True)
    # its opening stays the village clerk's, at the village (test_handover_counts); the
    # town's member has nothing counted yet, and no row
    assert [(r.key, r.staff, r.c["opened"]) for r in rows] == [(V1, "s-village", 1)]
    assert total.c["opened"] == 1
    ov.facts.close()
    hub.close()


def test_an_institution_without_cases_says_so(tmp_path: Path) -> None:
    """A new station (no cases yet): the staff page was an empty table without a word."""
    from hub.app import create_app
    from hub.oversight.supervisors import add_supervisor
    from tests.hub.oversight.test_web import login

    hub = make_hub(tmp_path)
    add_supervisor(hub, "city", "city-pass-1", institution="410600")
    client, _ = login(create_app(hub=hub), "city", "city-pass-1")
    page = client.get(f"/oversight/staff?scope={V1}")
    assert page.status_code == 200 and "本期无工作人员记录" in page.text
    hub.close()


def test_opening_a_case_does_not_make_the_reader_its_staff_member(tmp_path: Path) -> None:
    """An ``access`` event (7.2.2.2: every opening of the personal data is recorded) is a
    read, not handling: a colleague who opened a completed case to print its slip took over
    its completion and rating on the staff page (11.2.2), and in the demo the village's
    device id took over the case the town handed back down, once the village opened it."""
    hub = make_hub(tmp_path)
    ov = Oversight(hub, tmp_path / "facts.sqlite")
    b = CaseBuilder(V1, "s-worker", "2026-03-02").accepted("2026-03-02", 10)
    b.completed("2026-03-05")
    b.ev("rating", "2026-03-05", level="satisfied", channel="haochaping")
    b.ev("access", "2026-03-06", staff="s-colleague", purpose="printing",
         fields_read=["applicant_name"])
    put_cases(hub, [b.history()])
    ov.catch_up(force=True)
    assert ov.facts.get(b.case_id).staff == "s-worker"  # type: ignore[union-attr]
    rows, _total = ind.rollup(ov.facts.reader(), V1, "2026-03", "2026-03",
                              today=dt.date(2026, 3, 9), by_staff=True)
    counted = {r.staff: (r.c.get("completed", 0), r.c.get("rating_satisfied", 0))
               for r in rows}
    assert counted == {"s-worker": (1, 1)}
    ov.facts.close()
    hub.close()


def test_the_staff_page_says_its_period(tmp_path: Path) -> None:
    """The staff page (11.2.2, printed for the assessment) named the scope but not the
    months counted nor the day of its 当前超期 column, and the filter that shows the months
    is not printed: a printed page read as any month's."""
    import re

    from hub.app import create_app
    from hub.oversight.supervisors import add_supervisor
    from tests.hub.oversight.test_web import login

    hub = make_hub(tmp_path)
    b = CaseBuilder(V1, "s-worker", "2026-03-02").accepted("2026-03-02", 10)
    put_cases(hub, [b.history()])
    add_supervisor(hub, "city", "city-pass-1", institution="410600")
    client, _ = login(create_app(hub=hub), "city", "city-pass-1")
    page = client.get("/oversight/staff?from=2026-02&to=2026-03&as_of=2026-03-20").text
    heading = re.sub(r"<[^>]+>", "", re.search(r"<h2>.*?</h2>", page, re.S).group(0))  # type: ignore[union-attr]
    assert heading.endswith("2026-02 至 2026-03"), heading
    assert "截至 2026-03-20" in page
    hub.close()


def test_after_a_clerk_left_the_rating_stays_with_who_did_the_work(tmp_path: Path) -> None:
    """A clerk completes a case and leaves; the colleague who takes over the window types
    in the applicant's bad rating, follows it up and archives the file (7, 6.2.2 staff
    turnover). The completion, its rating and its follow-up are the leaver's work (11.2.2):
    the case moved to the colleague, who had only entered what came after it. A case the
    leaver opened and the colleague finished is the colleague's, but its opening (新立)
    stays the leaver's."""
    hub = make_hub(tmp_path)
    ov = Oversight(hub, tmp_path / "facts.sqlite")
    done = CaseBuilder(V1, "s-leaver", "2026-03-02").accepted("2026-03-02", 10)
    done.completed("2026-03-05")
    done.ev("rating", "2026-03-09", staff="s-new", level="dissatisfied", channel="window")
    done.ev("work_log", "2026-03-10", staff="s-new", kind="contact", private={"text": "回访"})
    done.ev("archived", "2026-03-10", staff="s-new", archive_no="GD-1")
    carried = CaseBuilder(V1, "s-leaver", "2026-03-03").accepted("2026-03-03", 10)
    carried.ev("work_log", "2026-03-09", staff="s-new", kind="handover",
               private={"text": "接手"})
    carried.ev("completion", "2026-03-10", staff="s-new",
               private={"applicant_signature": "b.png", "materials_returned": [],
                        "documents": []})
    put_cases(hub, [done.history(), carried.history()])
    ov.catch_up(force=True)
    assert ov.facts.get(done.case_id).staff == "s-leaver"  # type: ignore[union-attr]
    rows, _total = ind.rollup(ov.facts.reader(), V1, "2026-03", "2026-03",
                              today=dt.date(2026, 3, 11), by_staff=True)
    counted = {r.staff: (r.c.get("opened", 0), r.c.get("completed", 0),
                         r.c.get("bad_ratings", 0), r.c.get("bad_followed", 0)) for r in rows}
    assert counted == {"s-leaver": (2, 1, 1, 1), "s-new": (0, 1, 0, 0)}
    ov.facts.close()
    hub.close()


def test_settling_a_review_does_not_make_the_coordinator_its_staff_member(
        tmp_path: Path) -> None:
    """Two laptops accepted the case offline (design.md §3): the second acceptance is kept
    for review, and the station head records 冲突复核 (review_resolved). That is no handling
    of the case: the open case and its time limit moved to the head on the staff page
    (11.2.2), away from the clerk doing the work, until the clerk's next step."""
    hub = make_hub(tmp_path)
    ov = Oversight(hub, tmp_path / "facts.sqlite")
    b = CaseBuilder(V1, "s-worker", "2026-03-02").accepted("2026-03-02", 10)
    second = b.ev("acceptance", "2026-03-02", device=device_id(V1, "A2"), zone="assisted_zone",
                  time_limit_days=5)
    b.ev("review_resolved", "2026-03-03", staff="s-head", events=[second["hlc"]],
         decision="kept_as_record", private={"note": "以第一次受理为准"})
    put_cases(hub, [b.history()])
    ov.catch_up(force=True)
    fact = ov.facts.get(b.case_id)
    assert fact is not None and not fact.needs_review, fact
    assert (fact.opener, fact.staff) == ("s-worker", "s-worker")
    ov.facts.close()
    hub.close()


def test_a_step_that_did_not_count_does_not_make_its_clerk_the_staff_member(
        tmp_path: Path) -> None:
    """Two laptops accepted the case offline: the fold counts the first clerk's acceptance
    (3 days), the second's is kept for review and counts for nothing (design.md §3), yet
    its clerk, being later, became the case's staff member on the staff page (11.2.2)."""
    hub = make_hub(tmp_path)
    ov = Oversight(hub, tmp_path / "facts.sqlite")
    b = CaseBuilder(V1, "s-worker", "2026-03-02").accepted("2026-03-02", 3)
    b.ev("acceptance", "2026-03-02", device=device_id(V1, "A2"), staff="s-other",
         zone="assisted_zone", time_limit_days=5)
    put_cases(hub, [b.history()])
    ov.catch_up(force=True)
    fact = ov.facts.get(b.case_id)
    assert fact is not None and fact.needs_review, fact
    assert (fact.opener, fact.staff) == ("s-worker", "s-worker")
    ov.facts.close()
    hub.close()
