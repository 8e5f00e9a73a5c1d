"""A clerk leaves the station, a colleague carries on with the open case (7, 6.2.2: stations
change their staff). The hub marks the leaver ``left`` on the roster (`hub institution staff
--remove`, hub/staff.py); the case page and the forms printed afterwards name the leaver on
the steps they recorded and the colleague on theirs, and the window never offers the leaver
again. Before, `--remove` dropped the entry: every form printed later named the leaver by a
bare staff id. A merged village (hub/closing.py) is handed no case."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tests.node.conftest import VILLAGE
from tests.node.test_clerk_day import SIG, _case_id, _consult, _step
from tests.node.test_window_staff import ROSTER, _accept, _choose, _docs, _form_a_line, _roster


def test_a_leavers_steps_keep_their_name_and_the_colleague_carries_on(
        app: Any, unlocked: Any, tmp_path: Path) -> None:
    _roster(app, ROSTER)
    _choose(unlocked, "S1")
    case_id = _case_id(_consult(unlocked))
    _accept(unlocked, case_id)
    # S1 leaves: the roster as `hub institution staff --remove S1` sends it down
    store = app.extensions["bangban_node"].store
    doc = store.get(f"institution:{VILLAGE}")
    store.put({**doc, "staff": [{**ROSTER[0], "on_duty": False, "left": "2026-11-20"},
                                *ROSTER[1:]]})
    page = unlocked.get("/").data.decode()
    assert ">蒋思远</option>" not in page and 'data-staff="S2"' in page  # S2 alone on duty
    r = unlocked.post("/api/staff", json={"staff": "S1"})
    assert r.status_code == 400 and "离职" in r.json["fields"]["staff"]
    assert _step(unlocked, case_id, "work_log", kind="handover",
                 text="接手办理").status_code == 302
    events = _docs(app, case_id)[1]
    assert [e["staff"] for e in events if e["event_type"] == "work_log"] == ["S2"]
    line = _form_a_line(unlocked, case_id, tmp_path / "a.pdf")
    # the acceptance's recorder, who left, by name alone on paper (printer15: no id)
    assert "蒋思远" in line and "S1" not in line
    detail = unlocked.get(f"/cases/{case_id}").data.decode()
    assert "蒋思远（S1）" in detail and "曾嘉豪（S2）" in detail


def test_form_b_names_who_completed_the_case_after_the_acceptors_leave(
        app: Any, unlocked: Any, tmp_path: Path) -> None:
    """Form A names the clerk who accepted (and left); form B, the colleague who completed
    the case: it named no one, so the applicant's papers did not say who finished it."""
    import subprocess

    _roster(app, ROSTER)
    _choose(unlocked, "S1")
    case_id = _case_id(_consult(unlocked, service_type="assist"))
    _accept(unlocked, case_id)
    _choose(unlocked, "S2")
    assert _step(unlocked, case_id, "completion", signature_data=SIG).status_code == 302
    out = tmp_path / "b.pdf"
    out.write_bytes(unlocked.get(f"/cases/{case_id}/forms/B.pdf").data)
    text = subprocess.run(["pdftotext", "-layout", str(out), "-"], capture_output=True,
                          text=True, check=True).stdout
    assert "曾嘉豪" in text and "蒋思远" not in text and "S2" not in text
    assert "蒋思远" in _form_a_line(unlocked, case_id, tmp_path / "a.pdf")


def test_no_case_is_handed_to_a_closed_institution(app: Any, unlocked: Any) -> None:
    """A merged village (`hub institution close`, hub/closing.py) has no laptop left: a
    case handed to it would be stranded. The step is refused next to its field, before the
    case key is wrapped for it, in Chinese and English (the hub refuses it too)."""
    import re

    from tests.node.conftest import TOWN

    app.extensions["bangban_node"].store.put({
        "_id": f"institution:{TOWN}", "type": "institution", "schema_version": 1,
        "code": TOWN, "name": "撤并的镇", "tier": "town", "active": False})
    case_id = _case_id(_consult(unlocked))
    r = _step(unlocked, case_id, "hand_up", reason_code="needs_coordination",
              to_institution=TOWN)
    err = re.search(r'id="to_institution-err"[^>]*>([^<]*)<', r.data.decode())
    assert r.status_code == 400 and err and "已撤并" in err.group(1) and "closed" in err.group(1)
