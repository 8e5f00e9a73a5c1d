"""A station going live brings its paper ledger's open cases in (补录, schemas.paper,
node.paper): each step states the date on the signed paper, so the time limit counts from
the real acceptance (10.1.3), a suspension stops the days of form D (10.2.5), and the
forms print the paper's dates. Before, every step stated the moment it was typed: a case
accepted on paper two weeks earlier got a new time limit from the switch, and the one past
its limit on paper was on time again."""

from __future__ import annotations

import datetime as dt
from typing import Any

from schemas.paper import entered_later
from schemas.state import local_today
from schemas.workdays import Workdays
from tests.node.test_api import _unlock


def _workdays_back(n: int) -> dt.date:
    """The working day ``n`` working days before today (a deadline relative to today)."""
    wd, day = Workdays({}), local_today()
    while n:
        day -= dt.timedelta(days=1)
        n -= wd.is_workday(day)
    return day


def _paper_case(client: Any, accepted: dt.date, proxy: bool = False) -> tuple[str, Any]:
    from schemas.sample import catalog
    from tests.node.test_api import PNG

    item = catalog()[0]
    r = client.post("/api/consultations", json={
        "applicant_name": "刘德明", "phone": "13600001111", "question": "如何办理？",
        "service_item": item["code"], "service_type": "proxy" if proxy else "assist",
        "answered": True, "outcome": "已当场答复", "have": [m["code"] for m in item["materials"]],
        "paper_date": accepted.isoformat()})
    assert r.status_code == 201, r.json
    case_id = r.json["case_id"]

    def ev(t: str, **body: Any) -> Any:
        return client.post(f"/api/cases/{case_id}/events/{t}", json=body)

    on = accepted.isoformat()
    if proxy:  # form C signed on paper that day (10.2.2)
        import base64

        r = ev("entrustment", channel="offline", service_item=item["code"], mode="nearby",
               ledger_no="DB-7", period_end=(local_today() + dt.timedelta(days=60)).isoformat(),
               private={"scope": "代为申请"}, paper_date=on,
               signature_png_base64=base64.b64encode(PNG).decode())
    else:
        r = ev("application", channel="offline", service_item=item["code"], mode="nearby",
               paper_date=on)
    assert r.status_code == 201, r.json
    r = ev("acceptance", zone="assisted_zone", time_limit_days=5, paper_date=on)
    assert r.status_code == 201, r.json
    return case_id, ev


def test_a_paper_case_counts_its_time_limit_from_the_paper_acceptance(client: Any) -> None:
    _unlock(client)
    accepted = _workdays_back(7)  # 5 working days promised: past its limit on paper
    case_id, ev = _paper_case(client, accepted)
    detail = client.get(f"/api/cases/{case_id}").json
    assert detail["state"]["accepted_on"] == accepted.isoformat()
    assert detail["state"]["due"] < local_today().isoformat()  # overdue, as on paper
    assert detail["header"]["opened_at"][:10] == accepted.isoformat()
    steps = [e for e in detail["events"] if e["event_type"] != "access"]
    assert steps and all(entered_later(e) for e in steps)
    listing = client.get("/api/cases?view=overdue").json
    assert [row["case_id"] for row in listing["rows"]] == [case_id]
    # the case goes on live: the completion states today, and is late (11.1 b)
    r = ev("work_log", kind="tracking", private={"text": "已电话联系申请人"})
    assert r.status_code == 201, r.json
    detail = client.get(f"/api/cases/{case_id}").json
    assert not entered_later([e for e in detail["events"] if e["event_type"] == "work_log"][0])


def test_a_paper_suspension_stops_the_days_of_form_d(client: Any) -> None:
    _unlock(client)
    accepted = _workdays_back(8)
    case_id, ev = _paper_case(client, accepted, proxy=True)
    suspended = _workdays_back(6)  # 2 working days used of 5
    r = ev("suspension", reason="c", resumption_deadline=(local_today() + dt.timedelta(
        days=20)).isoformat(), paper_date=suspended.isoformat(),
        private={"details": "申请人要求暂停"})
    assert r.status_code == 201, r.json
    state = client.get(f"/api/cases/{case_id}").json["state"]
    assert state["status"] == "suspended" and state["suspension"]["since"] == suspended.isoformat()
    assert client.get("/api/cases?view=overdue").json["rows"] == []


def test_what_a_paper_date_may_not_be(client: Any) -> None:
    """Named by field and rule: not today or later, not before the previous step, not an
    outcome oversight measures, and none after a live step."""
    _unlock(client)
    today = local_today()
    r = client.post("/api/consultations", json={
        "applicant_name": "甲", "question": "问", "paper_date": today.isoformat()})
    assert r.status_code == 400 and "paper_date" in r.json["fields"], r.json
    r = client.post("/api/consultations", json={
        "applicant_name": "甲", "question": "问", "paper_date": "2026-13-01"})
    assert r.status_code == 400 and "paper_date" in r.json["fields"], r.json
    case_id, ev = _paper_case(client, _workdays_back(3))
    r = ev("work_log", kind="tracking", private={"text": "补"},
           paper_date=_workdays_back(4).isoformat())
    assert r.status_code == 400 and "上一步骤" in r.json["fields"]["paper_date"], r.json
    r = ev("completion", paper_date=_workdays_back(1).isoformat())
    assert r.status_code == 400 and "paper_date" in r.json["fields"], r.json
    assert ev("work_log", kind="tracking", private={"text": "电话"}).status_code == 201
    r = ev("work_log", kind="tracking", private={"text": "补"},
           paper_date=_workdays_back(1).isoformat())
    assert r.status_code == 400 and "当日登记" in r.json["fields"]["paper_date"], r.json


def test_the_clerk_brings_a_paper_case_in_through_the_pages(unlocked: Any) -> None:
    """The window's pages, not only the API: the new-case page takes the paper date, the
    step page offers it on a paper case only, and a refused date is said next to its input."""
    from tests.node.test_clerk_day import _case_id, _consult, _step

    assert 'name="paper_date"' in unlocked.get("/consultations/new").data.decode()
    on = _workdays_back(4).isoformat()
    case_id = _case_id(_consult(unlocked, paper_date=on, service_type="assist"))
    page = unlocked.get(f"/cases/{case_id}/steps/application").data.decode()
    assert 'name="paper_date"' in page
    from schemas.sample import catalog

    r = _step(unlocked, case_id, "application", channel="offline", mode="nearby",
              service_item=catalog()[0]["code"], paper_date=local_today().isoformat())
    assert r.status_code == 400 and "须早于今天" in r.data.decode()
    r = _step(unlocked, case_id, "application", channel="offline", mode="nearby",
              service_item=catalog()[0]["code"], paper_date=on)
    assert r.status_code == 302, r.data.decode()[:2000]
    state = unlocked.get(f"/api/cases/{case_id}").json
    steps = [e for e in state["events"] if e["event_type"] != "access"]
    # the consultation, its one-time notification (10.1.4) and the application
    assert len(steps) == 3 and {e["at"][:10] for e in steps} == {on}
    live = _case_id(_consult(unlocked, service_type="assist"))
    assert 'name="paper_date"' not in unlocked.get(
        f"/cases/{live}/steps/application").data.decode()


def test_a_live_step_typed_at_noon_on_a_clock_behind_its_case_is_no_paper_step(
        monkeypatch: Any) -> None:
    """A live step states the second it is typed; its hlc follows the case's newest clock
    (node.casework.next_clock). On a laptop a day behind its case, a step typed at
    12:00:00 stated the paper's noon of an earlier day than its hlc: a 补录 by the
    event's own words, and the hub refused it for good unless it was a paper step
    (hub.transitions.paper_refusal: a completion). It states 12:00:01 instead."""
    from types import SimpleNamespace

    from node import casework
    from schemas.hlc import HLC, pack
    from schemas.state import LOCAL_TZ

    noon = dt.datetime.combine(local_today(), dt.time(12), LOCAL_TZ)
    monkeypatch.setattr(casework, "now_iso", lambda: noon.isoformat(timespec="seconds"))
    ahead = pack(HLC(int((noon + dt.timedelta(days=1)).timestamp() * 1000), 0, "other-D2"))
    node = SimpleNamespace(device_id="410602101201-D9", institution="410602101201")
    ev = casework.Casework(node)._base("case-1", "completion", "staff-201-1", after=ahead)
    assert ev["hlc"] > ahead
    assert not entered_later(ev), ev["at"]
    assert dt.datetime.fromisoformat(ev["at"]) - noon == dt.timedelta(seconds=1)
    # any other second stays as typed
    monkeypatch.setattr(casework, "now_iso", lambda: (noon + dt.timedelta(seconds=5)).isoformat())
    assert casework.Casework(node)._base("case-1", "completion", "s", after=ahead)["at"] == \
        (noon + dt.timedelta(seconds=5)).isoformat()


def test_a_paper_case_of_last_year_is_numbered_in_its_own_year(client: Any) -> None:
    """A case accepted on paper in December and typed in after New Year (a station going
    live in January brings its ledger's open cases in) was numbered in the year it was
    typed: the 2026 case of the paper ledger was 2027-… on its forms and in the hub's
    lists, and the year's numbering (年度编号) of the new year began with last year's
    cases. The number's year is the year of the case's own opening date."""
    from schemas.ids import parse_case_no

    _unlock(client)
    # 31 December: within MAX_PAPER_DAYS (366) of every day of this year; the 30th was
    # 367 days before 31 December of a leap year (2028), refused as too old that day
    last_year = dt.date(local_today().year - 1, 12, 31)
    case_id, _ev = _paper_case(client, last_year)
    header = client.get(f"/api/cases/{case_id}").json["header"]
    assert header["opened_at"][:10] == last_year.isoformat()
    assert parse_case_no(header["case_no"]).year == last_year.year
    # a live case opened after it is numbered in this year, from its first serial
    r = client.post("/api/consultations", json={
        "applicant_name": "王小红", "phone": "13600002222", "question": "如何办理？",
        "answered": True, "outcome": "已当场答复"})
    assert r.status_code == 201, r.json
    live = client.get(f"/api/cases/{r.json['case_id']}").json["header"]["case_no"]
    assert parse_case_no(live).year == local_today().year
    assert parse_case_no(live).serial == 1
