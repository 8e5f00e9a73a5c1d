"""The staff roster (8.1.2 the staff on duty at the window; forms name their 经办人):
`bangban hub institution staff`, the institution schema's checks, the public page."""

from __future__ import annotations

import json
import subprocess
from typing import Any

import pytest

from ops.cli import main


@pytest.fixture
def hub_dir(tmp_path: Any, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("BANGBAN_SCRYPT_N", "1024")
    monkeypatch.delenv("BANGBAN_COUCHDB_URL", raising=False)
    folder = tmp_path / "hub"
    assert main(["hub", "--hub-dir", str(folder), "init"]) == 0
    for code, name in (("410602", "鹤山区"), ("410602101", "鹤壁集镇"),
                       ("410602101201", "鹤壁集村便民服务站")):
        assert main(["hub", "--hub-dir", str(folder), "institution", "add", "--code", code,
                     "--name", name]) == 0
    return str(folder)


def _staff(hub_dir: str, capsys: Any, *args: str) -> tuple[int, Any]:
    capsys.readouterr()
    rc = main(["hub", "--hub-dir", hub_dir, "institution", "staff", "410602101201", *args])
    out = capsys.readouterr()
    return rc, (json.loads(out.out) if "--json" in args and rc == 0 else out)


def test_roster_add_list_off_duty_remove(hub_dir: str, capsys: Any) -> None:
    assert _staff(hub_dir, capsys, "--add", "s2", "--name", "曾二丫", "--role", "assistant")[0] == 0
    rc, roster = _staff(hub_dir, capsys, "--add", "s1", "--name", "蒋一鸣", "--role", "proxy",
                        "--json")
    assert rc == 0 and [m["id"] for m in roster] == ["s1", "s2"]
    assert roster[0] == {"id": "s1", "name": "蒋一鸣", "role": "proxy", "on_duty": True}
    # the same id again replaces its entry (a name corrected), never a second entry
    rc, roster = _staff(hub_dir, capsys, "--add", "s1", "--name", "蒋一明", "--role", "both",
                        "--json")
    assert [(m["id"], m["name"], m["role"]) for m in roster] == [
        ("s1", "蒋一明", "both"), ("s2", "曾二丫", "assistant")]
    rc, roster = _staff(hub_dir, capsys, "--off-duty", "s2", "--json")
    assert rc == 0 and roster[1]["on_duty"] is False
    rc, out = _staff(hub_dir, capsys)  # the plain listing
    assert rc == 0 and "蒋一明" in out.out and "off duty" in out.out
    rc, out = _staff(hub_dir, capsys, "--remove", "nobody")
    assert rc == 2 and "nobody" in out.err and "not on the roster" in out.err
    rc, roster = _staff(hub_dir, capsys, "--remove", "s2", "--json")
    assert rc == 0 and [m["id"] for m in roster] == ["s1", "s2"]  # left: kept, by name
    assert roster[1]["left"] and roster[1]["on_duty"] is False
    # the roster rides on the institution document, signed, as reference data flows down
    from hub.core import Hub
    from hub.settings import Settings
    hub = Hub(Settings.load({"hub_dir": hub_dir}))
    try:
        doc = hub.stores.main.get("institution:410602101201")
        assert doc["staff"][0]["name"] == "蒋一明"
        assert doc["sig"]["device"] == hub.identity["device_id"]  # written by the hub only
    finally:
        hub.close()


def test_bad_roster_input_names_the_field_and_stores_nothing(hub_dir: str, capsys: Any) -> None:
    assert _staff(hub_dir, capsys, "--add", "s1", "--name", "蒋一鸣")[0] == 0
    rc, out = _staff(hub_dir, capsys, "--add", "s9", "--name", "  ")
    assert rc == 2 and "--name" in out.err
    rc, out = _staff(hub_dir, capsys, "--add", "s9", "--name", "名" * 41)
    assert rc == 2 and "staff" in out.err and "name" in out.err
    rc, roster = _staff(hub_dir, capsys, "--json")
    assert [m["id"] for m in roster] == ["s1"]  # nothing of the refused input was stored


def test_the_institution_schema_checks_the_roster() -> None:
    from schemas.errors import ValidationFailed
    from schemas.registry import validate_open
    from schemas.sample import institutions

    doc = next(d for d in institutions() if d["tier"] == "village")
    assert validate_open(doc)["staff"]  # the sample stations have rosters
    twice = {**doc, "staff": [*doc["staff"], dict(doc["staff"][0])]}
    with pytest.raises(ValidationFailed) as exc:
        validate_open(twice)
    assert "staff" in str(exc.value) and "twice" in str(exc.value)
    bad_role = {**doc, "staff": [{**doc["staff"][0], "role": "chief"}]}
    with pytest.raises(ValidationFailed) as exc:
        validate_open(bad_role)
    assert "role" in str(exc.value)


def test_the_public_page_shows_the_staff_on_duty_by_name(tmp_path: Any) -> None:
    from hub.app import create_app
    from hub.staff import set_on_duty, set_staff
    from tests.hub.oversight.conftest import make_hub
    from tests.hub.oversight.scenario import V1

    hub = make_hub(tmp_path)
    try:
        set_staff(hub, V1, "s1", name="蒋一鸣", role="proxy")
        set_staff(hub, V1, "s2", name="曾二丫", role="assistant")
        set_on_duty(hub, V1, "s2", False)
        page = create_app(hub=hub).test_client().get(f"/oversight/public/{V1}").text
    finally:
        hub.close()
    assert "蒋一鸣 · 代办员" in page and "曾二丫" not in page  # off duty: not at the window
    assert "人员名单尚未登记" not in page


def test_oversight_lists_and_exports_name_the_staff(tmp_path: Any) -> None:
    """11.2.2 counts each staff member (by the id the events carry); the supervisor reads
    the name beside it wherever the roster lists it: the staff page, its CSV, case lists."""
    import csv
    import io
    import re

    from hub.app import create_app
    from hub.oversight.supervisors import add_supervisor
    from hub.staff import set_staff
    from tests.hub.oversight.conftest import make_hub
    from tests.hub.oversight.scenario import AS_OF, V1, W, scenario, stored_histories

    hub = make_hub(tmp_path)
    try:
        hub.stores.main.bulk_docs([d for h in stored_histories(scenario()) for d in h])
        set_staff(hub, V1, "s1", name="蒋一鸣", role="proxy")
        set_staff(hub, W, "s9", name="曾二丫", role="both")  # c9's, overdue on AS_OF
        add_supervisor(hub, "city", "city-pass-1", institution="410600", name="市")
        client = create_app(hub=hub).test_client()
        page = client.get("/oversight/login")
        token = re.search(r'name="csrf" value="([^"]+)"', page.text).group(1)  # type: ignore[union-attr]
        client.post("/oversight/login", data={"login": "city", "password": "city-pass-1",
                                              "csrf": token})
        q = f"from=2026-02&to=2026-03&as_of={AS_OF}"
        staff_page = client.get(f"/oversight/staff?{q}&scope=410602").text
        exported = client.get(f"/oversight/export.csv?{q}&scope=410602&by=staff").data
        cases = client.get(f"/oversight/cases/overdue?{q}").text
        report = client.get(f"/oversight/report.pdf?{q}").data
    finally:
        hub.close()
    assert "蒋一鸣" in staff_page
    rows = list(csv.reader(io.StringIO(exported.decode("utf-8-sig"))))
    col = rows[0].index("姓名")
    assert rows[0][col - 1] == "工作人员"
    # the code as a text cell to a spreadsheet program (hub.oversight.exports._csv_cell)
    assert {r[col - 1]: r[col] for r in rows[1:-1] if r[0] == f'="{V1}"'}["s1"] == "蒋一鸣"
    assert "曾二丫（s9）" in cases
    pdf = tmp_path / "report.pdf"  # the monthly report's overdue list, too
    pdf.write_bytes(report)
    text = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True,
                          text=True, check=True).stdout
    assert "曾二丫（s9）" in text


def test_enroll_a_laptop_of_one_person(hub_dir: str, capsys: Any) -> None:
    """`hub device enroll --staff ID`: the enrollment carries a roster id (8.1.2), which the
    node records its steps under by default (node/window.py); an id not on the roster is
    refused before any credential is made."""
    assert _staff(hub_dir, capsys, "--add", "s1", "--name", "蒋一鸣")[0] == 0
    enroll = ["hub", "--hub-dir", hub_dir, "device", "enroll", "--institution", "410602101201",
              "--json"]
    capsys.readouterr()
    assert main([*enroll, "--short", "B1", "--staff", "s9"]) == 2
    err = capsys.readouterr().err
    assert "--staff" in err and "s9" in err and "not on the roster" in err
    assert main([*enroll, "--short", "B1", "--staff", "s1"]) == 0  # B1 was not used up
    assert json.loads(capsys.readouterr().out)["staff"] == "s1"
    assert main([*enroll, "--short", "B2"]) == 0
    assert "staff" not in json.loads(capsys.readouterr().out)


def test_a_clerk_who_left_keeps_their_name_and_never_takes_the_window_again(
        hub_dir: str, capsys: Any) -> None:
    """A clerk leaves the station (7, 6.2.2): `--remove` took the entry off the roster, so
    the steps they had recorded (whose events carry their id for good) were named by a bare
    id on the case page, on every form printed afterwards and on the 11.2.2 staff page. The
    entry now stays, marked ``left`` and off duty for good; the window, `--on-duty` and an
    enrollment refuse them; `--add` takes the person on again."""
    from hub.core import Hub
    from hub.settings import Settings
    from hub.staff import staff_label
    from schemas.reference import on_duty
    from schemas.state import local_today

    assert _staff(hub_dir, capsys, "--add", "s1", "--name", "蒋一鸣", "--role", "proxy")[0] == 0
    assert _staff(hub_dir, capsys, "--add", "s2", "--name", "曾二丫")[0] == 0
    rc, roster = _staff(hub_dir, capsys, "--remove", "s1", "--json")
    assert rc == 0
    s1 = next(m for m in roster if m["id"] == "s1")
    assert s1["name"] == "蒋一鸣" and s1["left"] == local_today().isoformat()
    assert not on_duty(s1)
    hub = Hub(Settings.load({"hub_dir": hub_dir}))
    try:
        docs = {"410602101201": hub.stores.main.get("institution:410602101201")}
    finally:
        hub.close()
    assert staff_label(docs, "410602101201", "s1") == "蒋一鸣（s1）"  # was the bare "s1"
    rc, out = _staff(hub_dir, capsys)
    assert f"left {s1['left']}" in out.out
    rc, out = _staff(hub_dir, capsys, "--on-duty", "s1")
    assert rc == 2 and "left" in out.err and "--add s1" in out.err
    assert _staff(hub_dir, capsys, "--off-duty", "s1")[0] == 0  # already so: kept as it is
    assert _staff(hub_dir, capsys, "--remove", "s1", "--json")[1][0]["left"] == s1["left"]
    capsys.readouterr()
    assert main(["hub", "--hub-dir", hub_dir, "device", "enroll", "--institution",
                 "410602101201", "--staff", "s1", "--json"]) == 2
    assert "left" in capsys.readouterr().err
    rc, roster = _staff(hub_dir, capsys, "--add", "s1", "--name", "蒋一鸣", "--json")
    assert rc == 0 and on_duty(roster[0]) and "left" not in roster[0]  # taken on again
