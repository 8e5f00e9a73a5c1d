"""The staff member at the window (8.1.2, 11.2.2; node/window.py): chosen in the page header
from the institution's roster, every step recorded through the UI and the API carries that
id, the API's ``staff`` is checked against the roster, and an institution without a roster
records the device as before. Before, every step was the device id's."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

from tests.node.conftest import DEVICE, PASSPHRASE, VILLAGE, csrf
from tests.node.test_clerk_day import _case_id, _consult, _step

ROSTER = [{"id": "S1", "name": "蒋思远", "role": "proxy", "on_duty": True},
          {"id": "S2", "name": "曾嘉豪", "role": "assistant", "on_duty": True},
          {"id": "S3", "name": "程立群", "role": "both", "on_duty": False}]


def _roster(app: Any, members: list[dict[str, Any]]) -> None:
    """This institution's document with ``members``, as the hub sends it down."""
    app.extensions["bangban_node"].store.put({
        "_id": f"institution:{VILLAGE}", "type": "institution", "schema_version": 1,
        "code": VILLAGE, "name": "测试村便民服务站", "tier": "village", "staff": members})


def _choose(client: Any, staff: str) -> Any:
    return client.post("/staff", data={"csrf": csrf(client), "staff": staff, "next": "/"})


def _docs(app: Any, case_id: str) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    cw = app.extensions["bangban_node"].casework
    return cw.header(case_id), cw.events(case_id)


def _staff_of(events: list[dict[str, Any]], event_type: str) -> set[str]:
    return {e["staff"] for e in events if e["event_type"] == event_type}


def _accept(client: Any, case_id: str) -> None:
    from schemas.sample import catalog

    assert _step(client, case_id, "application", channel="offline", mode="nearby",
                 service_item=catalog()[0]["code"]).status_code == 302
    r = _step(client, case_id, "acceptance", zone="assisted_zone", time_limit_days="5")
    assert r.status_code == 302, r.data.decode()[:3000]


def _form_a_line(client: Any, case_id: str, out: Path) -> str:
    out.write_bytes(client.get(f"/cases/{case_id}/forms/A.pdf").data)
    text = subprocess.run(["pdftotext", "-layout", str(out), "-"], capture_output=True,
                          text=True, check=True).stdout
    return next(x for x in text.splitlines() if "经办人" in x)


def test_the_chosen_member_records_the_steps(app: Any, unlocked: Any, tmp_path: Path) -> None:
    _roster(app, ROSTER)
    page = unlocked.get("/").data.decode()
    # the header lists who is on duty (8.1.2), not the member off duty, none chosen yet
    assert 'id="window-staff"' in page and ">蒋思远</option>" in page and ">曾嘉豪</option>" in page
    assert "程立群" not in page and "请选择" in page
    # several on duty, none chosen: the step is refused naming staff, nothing written
    r = _consult(unlocked)
    assert r.status_code == 400 and "当前经办人" in r.data.decode()
    assert app.extensions["bangban_node"].store.all_docs(
        startkey="case:", endkey="case:\uffff")["rows"] == []
    assert _choose(unlocked, "S2").status_code == 302
    assert 'data-staff="S2"' in unlocked.get("/").data.decode()
    case_id = _case_id(_consult(unlocked))
    _accept(unlocked, case_id)
    header, events = _docs(app, case_id)
    assert header["staff"] == "S2"
    for kind in ("consultation", "application", "acceptance"):
        assert _staff_of(events, kind) == {"S2"}, kind
    # the second clerk takes the window: her step is hers, on the case page and on form A
    _choose(unlocked, "S1")
    case2 = _case_id(_consult(unlocked, applicant_name="李桂兰"))
    _choose(unlocked, "S2")
    from schemas.sample import catalog

    assert _step(unlocked, case2, "application", channel="offline", mode="nearby",
                 service_item=catalog()[0]["code"]).status_code == 302
    _choose(unlocked, "S1")
    assert _step(unlocked, case2, "acceptance", zone="assisted_zone",
                 time_limit_days="5").status_code == 302
    header2, events2 = _docs(app, case2)
    assert header2["staff"] == "S1" and _staff_of(events2, "application") == {"S2"}
    assert _staff_of(events2, "acceptance") == {"S1"}
    line = _form_a_line(unlocked, case2, tmp_path / "a.pdf")
    # the acceptance's recorder, named from the roster (the name alone: the id is the
    # events', not the applicant's)
    assert "蒋思远" in line and "S1" not in line
    detail = unlocked.get(f"/cases/{case2}").data.decode()
    assert "曾嘉豪（S2）" in detail and "蒋思远（S1）" in detail
    # an off-duty member cannot be chosen
    _choose(unlocked, "S3")
    assert 'data-staff="S1"' in unlocked.get("/").data.decode()


def test_the_api_takes_staff_and_refuses_one_not_on_duty(app: Any, client: Any) -> None:
    from schemas.sample import catalog

    _roster(app, ROSTER)
    assert client.post("/api/unlock", json={"passphrase": PASSPHRASE}).status_code == 200
    body = {"applicant_name": "王小明", "phone": "13800000000", "question": "怎么办理？",
            "service_item": catalog()[0]["code"], "service_type": "proxy", "answered": True, "outcome": "已当场答复"}
    for bad, rule in (("S9", "不在本机构人员名册中"), ("S3", "不在岗"), (7, "在岗人员的编号")):
        r = client.post("/api/consultations", json={**body, "staff": bad})
        assert r.status_code == 400 and "staff" in r.json["fields"], r.json
        assert rule in r.json["fields"]["staff"] and "staff" in r.json["reason"]
    r = client.post("/api/consultations", json=body)  # none named, none chosen
    assert r.status_code == 400 and "staff" in r.json["fields"]
    r = client.post("/api/consultations", json={**body, "staff": "S1"})
    assert r.status_code == 201, r.json
    case_id = r.json["case_id"]
    step = {"channel": "offline", "mode": "nearby", "service_item": catalog()[0]["code"]}
    r = client.post(f"/api/cases/{case_id}/events/application", json={**step, "staff": "S3"})
    assert r.status_code == 400 and "不在岗" in r.json["fields"]["staff"]
    # the session's choice (POST /api/staff) serves when a call names none
    assert client.post("/api/staff", json={"staff": "S9"}).status_code == 400
    state = client.post("/api/staff", json={"staff": "S2"}).json
    assert state["staff"] == "S2" and {m["id"] for m in state["on_duty"]} == {"S1", "S2"}
    r = client.post(f"/api/cases/{case_id}/events/application", json=step)
    assert r.status_code == 201, r.json
    r = client.post(f"/api/cases/{case_id}/events/acceptance",
                    json={"zone": "assisted_zone", "time_limit_days": 5, "staff": "S1"})
    assert r.status_code == 201, r.json
    header, events = _docs(app, case_id)
    assert header["staff"] == "S1" and _staff_of(events, "consultation") == {"S1"}
    assert _staff_of(events, "application") == {"S2"}
    assert _staff_of(events, "acceptance") == {"S1"}


def test_one_member_on_duty_is_chosen_by_itself(app: Any, unlocked: Any) -> None:
    _roster(app, [{**ROSTER[0], "on_duty": False}, ROSTER[1]])
    assert 'data-staff="S2"' in unlocked.get("/").data.decode()
    case_id = _case_id(_consult(unlocked))
    header, events = _docs(app, case_id)
    assert header["staff"] == "S2" and _staff_of(events, "consultation") == {"S2"}


def test_without_a_roster_the_device_is_recorded(app: Any, unlocked: Any) -> None:
    page = unlocked.get("/").data.decode()
    assert "名册为空：以设备记录" in page and f'data-staff="{DEVICE}"' in page
    case_id = _case_id(_consult(unlocked))
    _accept(unlocked, case_id)
    header, events = _docs(app, case_id)
    assert header["staff"] == DEVICE
    assert {e["staff"] for e in events} == {DEVICE}
    r = unlocked.post("/api/staff", json={"staff": "S1"})
    assert r.status_code == 400 and "名册为空" in r.json["fields"]["staff"]


def test_the_choice_ends_with_the_lock(app: Any, unlocked: Any) -> None:
    """The next clerk to unlock chooses again (node.sessions: the choice lives with the
    session, which a lock ends)."""
    _roster(app, ROSTER)
    _choose(unlocked, "S1")
    assert 'data-staff="S1"' in unlocked.get("/").data.decode()
    case_id = _case_id(_consult(unlocked))
    unlocked.post("/lock", data={"csrf": csrf(unlocked)})
    assert unlocked.post("/unlock", data={"passphrase": PASSPHRASE,
                                          "csrf": csrf(unlocked)}).status_code == 302
    assert 'data-staff=""' in unlocked.get("/").data.decode()
    # reading the case is recorded (7.2.2.2 access event) under who sits at the window
    _choose(unlocked, "S2")
    assert unlocked.get(f"/cases/{case_id}").status_code == 200
    assert _staff_of(_docs(app, case_id)[1], "access") == {"S2"}
    # and nothing leaks into this thread after the requests (waitress reuses threads)
    node = app.extensions["bangban_node"]
    assert node.acting_staff() == DEVICE


def test_the_enrollments_staff_is_the_default(tmp_path: Path) -> None:
    """A laptop of one person (`hub device enroll --staff S2`): recorded under S2 while on
    duty, with no choice made; another member on duty may still be chosen."""
    from node.app import create_app
    from tests.node.conftest import make_node_dir

    folder = make_node_dir(tmp_path / "one", staff="S2")
    app = create_app({"node_dir": str(folder), "sync_interval": 0, "secret_key": "test",
                      "TESTING": True})
    try:
        _roster(app, ROSTER)
        client = app.test_client()
        assert client.post("/unlock", data={"passphrase": PASSPHRASE,
                                            "csrf": csrf(client)}).status_code == 302
        assert 'data-staff="S2"' in client.get("/").data.decode()
        case_id = _case_id(_consult(client))
        assert _docs(app, case_id)[0]["staff"] == "S2"
        _choose(client, "S1")
        assert _case_id(_consult(client)) and 'data-staff="S1"' in client.get("/").data.decode()
    finally:
        app.extensions["bangban_node"].close()
