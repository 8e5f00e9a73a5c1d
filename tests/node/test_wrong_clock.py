"""A laptop whose clock is wrong (a dead CMOS battery: 2001-01-01) records a step on a case
it held from before: the step's hybrid logical clock comes after every event of the case
(design.md §6, the HLC's receive rule), so the fold keeps the steps in the order they were
made; its stated time ``at`` stays the laptop's, for the hub to judge (node.clockcheck).

Before, the step's clock was the laptop's alone: the entrustment was refused with
"base_hlc must be before hlc" (a clerk could record nothing on any earlier case), and a
corrected applicant was clocked before the version it replaced."""

from __future__ import annotations

import datetime as dt
from types import SimpleNamespace
from typing import Any

import pytest

from node import casework
from tests.node.conftest import csrf
from tests.node.test_casework_flow import PNG, _consult, _step, later

Y2001 = dt.datetime(2001, 1, 1, 8, 0, tzinfo=dt.UTC).timestamp()


def _dead_battery(monkeypatch: pytest.MonkeyPatch) -> None:
    """The laptop restarted with its clock at 2001-01-01 (the process's clock memory gone)."""
    monkeypatch.setattr(casework, "_last_clock", {})
    monkeypatch.setattr(casework, "time", SimpleNamespace(time=lambda: Y2001))


def test_a_step_recorded_with_the_clock_in_2001_follows_the_case_s_events(
        unlocked: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    import base64

    from schemas.sample import catalog

    case_id = _consult(unlocked)
    _dead_battery(monkeypatch)
    r = _step(unlocked, case_id, "entrustment", channel="offline", mode="nearby",
              service_item=catalog()[0]["code"], ledger_no="DB-1", period_end=later(60),
              scope="代为提交",
              signature_data="data:image/png;base64," + base64.b64encode(PNG).decode())
    assert r.status_code == 302, r.data.decode()[:3000]
    node = unlocked.application.extensions["bangban_node"]
    events = [e for e in node.casework.events(case_id) if e["event_type"] != "access"]
    assert events[-1]["event_type"] == "entrustment"  # the last made, last in clock order
    made = events[-1]
    assert made["hlc"] > made["base_hlc"] == events[-2]["hlc"]
    # the next step of the same process is later still
    assert casework.next_hlc(node.device_id) > made["hlc"]


def test_a_correction_made_with_the_clock_in_2001_is_clocked_after_the_old_version(
        unlocked: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    case_id = _consult(unlocked)
    node = unlocked.application.extensions["bangban_node"]
    before = node.casework.header(case_id)["clocks"]["private"]
    _dead_battery(monkeypatch)
    r = unlocked.post(f"/cases/{case_id}/applicant/", data={
        "csrf": csrf(unlocked), "applicant_name": "王晓明", "phone": "13800000000"})
    assert r.status_code in (302, 303), r.data.decode()[:3000]
    after = node.casework.header(case_id)["clocks"]["private"]
    assert after > before
