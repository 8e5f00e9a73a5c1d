"""A paper date (补录, node.paper) judged on the day the step's clock says it was typed, as
the hub judges it (schemas.paper.typed_refusal, hub.transitions.paper_refusal).

A step's hlc follows its case's newest clock and every clock the laptop has pulled
(node.casework.next_clock, observe_hlc): after a colleague's fast clock it says a day after
the laptop's calendar. The node counted ``MAX_PAPER_DAYS`` back from the calendar, the hub
from the hlc: a paper date at the exact bound was taken at the window and refused for good
at the hub, and the laptop refused its own second paper step of a case it had brought in
"on" its clock's day."""

from __future__ import annotations

import datetime as dt
import time
from typing import Any

import pytest

from schemas.hlc import HLC
from schemas.paper import MAX_PAPER_DAYS, entered_later
from schemas.state import LOCAL_TZ
from tests.node.test_api import _unlock
from tests.node.test_paper_cases import _paper_case, _workdays_back


def _a_day_ahead(client: Any, monkeypatch: pytest.MonkeyPatch) -> tuple[Any, dt.date]:
    """This laptop's clock a day after its calendar, as after pulling a step of a colleague's
    laptop whose clock is a day fast (node.casework.observe_hlc); restored afterwards.
    Returns the node and the Beijing day its next step's hlc says (not its calendar's)."""
    from node import casework

    node = client.application.extensions["bangban_node"]
    ahead = int(time.time() * 1000) + 86_400_000
    monkeypatch.setitem(casework._last_clock, node.device_id, HLC(ahead, 0, node.device_id))
    return node, dt.datetime.fromtimestamp(ahead / 1000, LOCAL_TZ).date()


def _opened(client: Any, day: dt.date) -> Any:
    return client.post("/api/consultations", json={
        "applicant_name": "甲", "question": "问", "paper_date": day.isoformat()})


def _taken_by_the_hub(client: Any, case_id: str) -> None:
    """Every step of the case passes the hub's check on receipt (hub.transitions)."""
    from hub.transitions import paper_refusal

    events = [e for e in client.get(f"/api/cases/{case_id}").json["events"]
              if e["event_type"] != "access"]
    assert events and all(entered_later(e) for e in events)
    for ev in events:
        assert paper_refusal(ev, events) is None, ev


def test_the_bound_counts_from_the_day_the_clock_says(client: Any,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    _unlock(client)
    _node, typed = _a_day_ahead(client, monkeypatch)
    earliest = typed - dt.timedelta(days=MAX_PAPER_DAYS)
    # MAX_PAPER_DAYS back by the calendar, one more by the clock: the hub refuses it, so
    # the window does (it took it, and the hub refused the case's first step for good)
    r = _opened(client, earliest - dt.timedelta(days=1))
    assert r.status_code == 400 and str(earliest) in r.json["fields"]["paper_date"], r.json
    r = _opened(client, earliest)  # the exact bound: taken here and at the hub
    assert r.status_code == 201, r.json
    _taken_by_the_hub(client, r.json["case_id"])


def test_a_laptop_ahead_of_its_calendar_types_a_whole_paper_case(
        client: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """The case is brought in on its clock's day; its next paper steps were refused as
    typed on another day than that (the calendar's)."""
    _unlock(client)
    _a_day_ahead(client, monkeypatch)
    case_id, _ev = _paper_case(client, _workdays_back(5))
    _taken_by_the_hub(client, case_id)


def test_a_paper_step_is_judged_again_on_the_clock_it_took(
        client: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """The day foreseen before writing (node.paper.typing_day) may pass before the hlc is
    taken (midnight; a pull moving the clock on): the step is judged again on its own
    clock (node.paper.check_typed), as the hub will, and nothing is written."""
    from node import casework

    _unlock(client)
    node, typed = _a_day_ahead(client, monkeypatch)
    calendar = int(time.time() * 1000)  # what the early check foresees, a day behind
    monkeypatch.setattr(casework, "peek_clock",
                        lambda device, after=None: HLC(calendar, 0, device))
    before = len(client.get("/api/cases").json["rows"])
    r = _opened(client, typed - dt.timedelta(days=MAX_PAPER_DAYS + 1))
    assert r.status_code == 400 and "paper_date" in r.json["fields"], r.json
    assert len(client.get("/api/cases").json["rows"]) == before


def test_the_step_page_offers_the_paper_date_on_a_laptop_ahead(
        unlocked: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """The step page offers 补录 on a case brought in today by the step's clock, as the
    rule counts it: by the calendar a day behind, the case looked brought in "tomorrow"
    and the page hid the paper date from its next steps."""
    from tests.node.test_clerk_day import _case_id, _consult

    _a_day_ahead(unlocked, monkeypatch)
    case_id = _case_id(_consult(unlocked, paper_date=_workdays_back(4).isoformat(),
                                service_type="assist"))
    page = unlocked.get(f"/cases/{case_id}/steps/application").data.decode()
    assert 'name="paper_date"' in page
