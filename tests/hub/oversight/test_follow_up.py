"""差评回访 (11.2.1): the follow-up of a bad rating on an archived case counts."""

from __future__ import annotations

from hub.oversight.facts import case_fact, contributions
from schemas import sample
from schemas.workdays import Workdays
from tests.hub.oversight.cases import CaseBuilder

V = "410602101201"


def test_a_bad_rating_of_an_archived_case_can_be_followed_up() -> None:
    """The 好差评 rating arrives after completion, usually once the case is archived (10.1.6:
    promptly); the rules refused every work-log entry on an archived case, so the station
    could not record its call back: the bad rating stayed 'not followed up' for good (the
    hub's copy of such an entry was kept as a conflict: needs review)."""
    b = CaseBuilder(V, "s1", "2026-03-02").accepted("2026-03-02", 10)
    b.completed("2026-03-05", archive="2026-03-06")
    b.ev("rating", "2026-03-09", level="dissatisfied", channel="haochaping")
    b.ev("work_log", "2026-03-10", kind="contact", private={"text": "差评回访，已整改"})
    f = case_fact(b.header, b.events, Workdays(sample.calendars()))
    assert f.status == "archived" and not f.needs_review and f.reviews == 0
    assert f.rating_followed is True
    counted = contributions(f)[(V, "s1", "2026-03")]
    assert (counted["bad_ratings"], counted["bad_followed"]) == (1, 1)
