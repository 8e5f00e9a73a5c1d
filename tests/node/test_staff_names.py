"""Form A names its 经办人 from the institution's roster (8.1.2; `hub institution staff`),
by the name alone; without a roster entry the line is left for the clerk to write in."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

from tests.node.test_clerk_day import _case_id, _consult, _step


def _form_a_text(client: Any, case_id: str, out: Path) -> str:
    out.write_bytes(client.get(f"/cases/{case_id}/forms/A.pdf").data)
    return subprocess.run(["pdftotext", "-layout", str(out), "-"], capture_output=True,
                          text=True, check=True).stdout


def _accepted_case(client: Any) -> str:
    from schemas.sample import catalog

    case_id = _case_id(_consult(client))
    assert _step(client, case_id, "application", channel="offline", mode="nearby",
                 service_item=catalog()[0]["code"]).status_code == 302
    assert _step(client, case_id, "acceptance", zone="assisted_zone",
                 time_limit_days="5").status_code == 302
    return case_id


def test_form_a_names_the_staff_from_the_roster(app: Any, unlocked: Any, tmp_path: Path) -> None:
    from sync.errors import NotFound

    node = app.extensions["bangban_node"]
    case_id = _accepted_case(unlocked)
    staff = node.enrollment_staff()
    before = _form_a_text(unlocked, case_id, tmp_path / "before.pdf")
    # no roster entry: the line is left for the clerk's hand, never the device's id
    line = next(x for x in before.splitlines() if "经办人" in x and "签字" not in x)
    assert staff not in before and line.split() == ["经办人"]
    doc_id = f"institution:{node.institution}"
    try:
        doc = node.store.get(doc_id)
    except NotFound:  # as the hub sends it down (reference data)
        doc = {"_id": doc_id, "type": "institution", "code": node.institution}
    doc["staff"] = [{"id": staff, "name": "蒋思远", "role": "proxy", "on_duty": True},
                    {"id": "someone-else", "name": "曾嘉豪", "role": "assistant"}]
    node.store.put(doc)
    text = _form_a_text(unlocked, case_id, tmp_path / "after.pdf")
    line = next(x for x in text.splitlines() if "经办人" in x)
    assert "蒋思远" in line and staff not in line and "曾嘉豪" not in text  # the name alone


def test_a_handed_up_case_names_the_staff_of_the_station_that_recorded_it(app: Any) -> None:
    """A case handed up to the town (4.3) is held there, but its 经办人 id is the village's
    (the header's staff, written by the opening station's device): the village's roster
    names it. Form A looked in the holder's roster first, so a town staff member with the
    same id (rosters are per institution) was printed as the village clerk."""
    from node.views.forms import _staff
    from tests.node.conftest import TOWN, VILLAGE

    node = app.extensions["bangban_node"]
    for code, parent, person in ((TOWN, "410621", "程立群"), (VILLAGE, TOWN, "蒋思远")):
        node.store.put({"_id": f"institution:{code}", "type": "institution", "code": code,
                        "name": code, "parent": parent, "schema_version": 1,
                        "staff": [{"id": "001", "name": person, "role": "proxy"}]})
    case = {"header": {"institution": VILLAGE, "staff": "001"}, "state": {"holder": TOWN}}
    with app.app_context():
        assert _staff(case, None)[1] == "蒋思远"
        # a staff id only the holder's roster lists: named from it
        case["header"]["staff"] = "002"
        node.store.put({**node.store.get(f"institution:{TOWN}"),
                        "staff": [{"id": "002", "name": "程立群", "role": "proxy"}]})
        assert _staff(case, None)[1] == "程立群"
