"""已超期 on the node is the hub's 超期 (the time limit, schemas/overdue.py); a passed deadline
of any other kind (materials 10.1.4, a reply 10.1.1.3, a resumption 10.2.5.2) is in the
to-do list 待办到期 (``deadline_passed``): on the home tiles, the lists and the JSON API."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path
from typing import Any

import pytest

from node.state import index_row
from schemas.state import local_today
from tests.hub.oversight.cases import CaseBuilder
from tests.node.conftest import VILLAGE


def _day(offset: int) -> str:
    return (local_today() + dt.timedelta(days=offset)).isoformat()


def _waiting_for_materials() -> CaseBuilder:
    """Accepted yesterday with 20 working days, the applicant told to bring a document by
    yesterday and not back yet: a passed materials deadline, well inside the time limit."""
    b = CaseBuilder(VILLAGE, "s1", _day(-1)).accepted(_day(-1), 20)
    b.ev("notification", _day(-1), materials_due=_day(-1), materials=[
        {"code": "M02", "name": "户口簿", "how_to_obtain": "本人户口簿原件"}])
    return b


def _late() -> CaseBuilder:
    """Accepted 30 days ago with 5 working days, still handled: past its time limit."""
    return CaseBuilder(VILLAGE, "s1", _day(-30)).accepted(_day(-30), 5)


def _tiles(page: str) -> dict[str, int]:
    return {v: int(n) for v, n in
            re.findall(r'view=(\w+)"[^>]*><div class="n">(\d+)</div>', page)}


def test_a_passed_materials_deadline_is_to_do_not_overdue(app: Any, unlocked: Any) -> None:
    """The station's 已超期 tile, list and ``/api/cases?view=overdue`` took a case whose
    materials deadline had passed though its time limit was weeks ahead: the supervisor's
    超期 did not count it, the clerk's did."""
    waiting, late = _waiting_for_materials(), _late()
    n = app.extensions["bangban_node"]
    n.index.upsert_many([(index_row(b.header, b.events), []) for b in (waiting, late)])
    client = unlocked
    no = {"waiting": waiting.header["case_no"], "late": late.header["case_no"]}

    def api(view: str) -> set[str]:
        rows = client.get(f"/api/cases?view={view}").get_json()["rows"]
        return {r["case_no"] for r in rows}

    assert api("overdue") == {no["late"]}
    assert api("deadline_passed") == {no["waiting"], no["late"]}
    counts = client.get("/api/counts").get_json()
    assert (counts["overdue"], counts["deadline_passed"]) == (1, 2)
    tiles = _tiles(client.get("/").get_data(as_text=True))
    assert (tiles["overdue"], tiles["deadline_passed"]) == (1, 2)
    for view, expected in (("overdue", {no["late"]}),
                           ("deadline_passed", {no["waiting"], no["late"]})):
        page = client.get(f"/cases/?view={view}").get_data(as_text=True)
        assert set(re.findall(r">(\d{12}-\d{4}-A1-\d{5})</a>", page)) == expected, view
        assert 'id="view-legend"' in page
    # the to-do list shows each case's time limit beside its nearest deadline, and says
    # which of them is 已超期 (the list's 最近期限 of the waiting case is its materials')
    page = client.get("/cases/?view=deadline_passed").get_data(as_text=True)
    rows = {no_: row for row in page.split("<tr>") for no_ in no.values() if no_ in row}
    assert 'class="badge overdue"' in rows[no["late"]]
    assert 'class="badge overdue"' not in rows[no["waiting"]]
    assert f"<td>{_day(-1)}</td>" in rows[no["waiting"]]  # the materials deadline
    assert re.search(r'class="time-limit">\d{4}-\d\d-\d\d</td>', rows[no["waiting"]])


def test_an_old_index_gets_the_new_columns_and_is_refolded(node_dir: Path) -> None:
    """An index file written before 已超期 read the time limit has no ``limit_due``: it is
    given the columns, and the unlock's catch-up refolds every case from the store
    (node.indexer), rather than leaving them out of 已超期 until they next change."""
    import sqlite3

    from node.app import create_app
    from tests.node.conftest import PASSPHRASE

    config = {"node_dir": str(node_dir), "sync_interval": 0, "secret_key": "test",
              "TESTING": True}
    app = create_app(config)
    client = app.test_client()
    assert client.post("/api/unlock", json={"passphrase": PASSPHRASE}).status_code == 200
    case_id = client.post("/api/consultations", json={"applicant_name": "甲", "question": "问"}
                          ).get_json()["case_id"]
    for step, body in (("application", {"channel": "offline", "service_item": "MS-001",
                                        "mode": "nearby"}),
                       ("acceptance", {"zone": "assisted_zone", "time_limit_days": 5})):
        assert client.post(f"/api/cases/{case_id}/events/{step}", json=body).status_code == 201
    n = app.extensions["bangban_node"]
    limit = n.index.get(case_id)["limit_due"]
    assert limit and limit > _day(0)
    path = n.index.path
    n.close()
    db = sqlite3.connect(path)  # the index as the release before wrote it
    old = ("case_id, case_no, institution, holder, service_item, service_type, status, "
           "needs_review, created, updated, due, closed, handed_from, pending")
    db.executescript("CREATE TABLE old (case_id TEXT PRIMARY KEY, case_no TEXT, "
                     "institution TEXT NOT NULL, holder TEXT, service_item TEXT, "
                     "service_type TEXT, status TEXT, needs_review INTEGER NOT NULL DEFAULT 0, "
                     "created TEXT, updated TEXT NOT NULL, due TEXT, "
                     "closed INTEGER NOT NULL DEFAULT 0, handed_from TEXT, "
                     "pending INTEGER NOT NULL DEFAULT 0);"
                     f"INSERT INTO old SELECT {old} FROM cases; DROP TABLE cases; "
                     "ALTER TABLE old RENAME TO cases;")
    db.commit()
    db.close()
    app = create_app(config)
    try:
        n = app.extensions["bangban_node"]
        assert n.index.get(case_id)["limit_due"] is None  # the new column, empty
        client = app.test_client()
        assert client.post("/api/unlock", json={"passphrase": PASSPHRASE}).status_code == 200
        assert n.index.get(case_id)["limit_due"] == limit
    finally:
        app.extensions["bangban_node"].close()


def test_the_case_page_calls_only_a_passed_time_limit_overdue(
        app: Any, unlocked: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """The case page marked every passed deadline 已超期: a case waiting for materials past
    their deadline read 已超期 on its own page, and was in no 已超期 list. Only the time
    limit is 已超期; another passed deadline is 已过期 (the to-do list's)."""
    from flask import Flask
    from flask_babel import Babel

    from node.labels import case_deadlines
    from node.state import fold

    waiting, late = _waiting_for_materials(), _late()
    flask = Flask(__name__)
    Babel(flask)
    with flask.test_request_context():
        assert [p for _label, _d, p in case_deadlines(fold(waiting.header, waiting.events))] \
            == ["passed", False]  # materials (yesterday), then the time limit (ahead)
        assert [p for _label, _d, p in case_deadlines(fold(late.header, late.events))] \
            == ["overdue"]
    # through the page: a case of this station, opened from its list
    r = unlocked.post("/api/consultations", json={"applicant_name": "甲", "question": "问"})
    case_id = r.get_json()["case_id"]
    for step, body in (("application", {"channel": "offline", "service_item": "MS-001",
                                        "mode": "nearby"}),
                       ("acceptance", {"zone": "assisted_zone", "time_limit_days": 20}),
                       ("notification", {"materials_due": _day(0), "materials": [
                           {"code": "M02", "name": "户口簿", "how_to_obtain": "原件"}]})):
        resp = unlocked.post(f"/api/cases/{case_id}/events/{step}", json=body)
        assert resp.status_code == 201, (step, resp.get_json())
    page = unlocked.get(f"/cases/{case_id}").get_data(as_text=True)
    assert "已过期" not in page  # the materials are due today: still in time
    # ten days on (the page's clock only): the materials deadline has passed, the limit of 20
    # working days not. Ten, not two: a deadline on a day off runs to the next working day
    # (10.2.5.1 a), so "today" on a Saturday in Beijing was still in time two days later, and
    # over a holiday of up to eight days too
    monkeypatch.setattr("node.labels.local_today", lambda: local_today() + dt.timedelta(days=10))
    page = unlocked.get(f"/cases/{case_id}").get_data(as_text=True)
    assert "已过期" in page and 'class="badge overdue"' not in page


def test_an_unknown_list_is_refused_by_name(app: Any, unlocked: Any) -> None:
    """``/api/cases?view=deadlines_passed`` (one letter off) answered every case of the
    node, unfiltered, as if they were the list asked for."""
    late = _late()
    app.extensions["bangban_node"].index.upsert(index_row(late.header, late.events))
    r = unlocked.get("/api/cases?view=deadlines_passed")
    assert r.status_code == 400 and "deadline_passed" in r.get_json()["fields"]["view"]
    assert unlocked.get("/api/cases?view=deadline_passed").get_json()["rows"]
    assert unlocked.get("/api/cases").get_json()["rows"]  # no view: every case, as before
