"""A dispute a year later (5 d, 11.1 b, c, e; 7.3.2): one case's whole history for the
supervisor whose area holds it, its signed archive, and the archive checked offline with
the root keys after the station's laptop was revoked and its institution key rotated
(hub.oversight.archive, archive_check, archive_cli, case_views). Real signatures: the
stations are SimNodes pushing through their device views (tests/hub/conftest.py)."""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from hub.oversight.archive_check import check_archive, header_versions, steps, timeline
from schemas.build import set_fields
from sync.crypto import sign_document
from tests.hub.conftest import TOWN, VILLAGE_A, World, open_world

OTHER_TOWN = "410602102"


def _messy(world: World) -> tuple[str, str]:
    """Two cases of village A. The first: entrusted (form C names two materials), a
    reminder, suspended (10.2.5.1 a), a material received, resumed, completed (form B),
    rated, archived. The second: handed up to the town and back after both edited its
    header offline (a conflict the hub resolves), the applicant's particulars corrected,
    a complaint taken at the hub."""
    from hub import admin
    from hub.oversight.complaints import take_complaint
    from schemas import sample

    admin.import_institutions(world.hub, [i for i in sample.institutions()
                                          if i["code"] == OTHER_TOWN])
    admin.import_catalog(world.hub, sample.catalog())  # the items of the sample cases
    a, town = world.node(VILLAGE_A), world.node(TOWN)
    first = a.sample_cases(1, town=TOWN, scenarios=("proxy_suspended_resumed",), seed=3)[0]
    second = a.new_case()
    a.hand_up(second, TOWN)
    world.round()
    town.edit_header(second, labels=["town"])
    a.edit_header(second, labels=["village"])
    world.round()
    town.hand_down(second, VILLAGE_A)
    world.round()
    stored = a.store.get(f"case:{second}")
    key = a.case_key(second)
    private = {"applicant_name": "更正后", "phone": "13900000001"}  # the whole new part
    body = {k: v for k, v in stored.items() if k != "sig"}
    edited = set_fields(body, {"private": private}, a.clock())
    a.store.put(sign_document(key.seal(edited), a.signer))
    world.round()
    take_complaint(world.hub, second, intake="phone", category="overdue",
                   text="代办员遗失了原件", received_by="city")
    world.round()
    return first, second


@pytest.fixture(scope="module")
def case(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[World, str, str]]:
    with open_world(tmp_path_factory.mktemp("archive")) as w:
        first, second = _messy(w)
        yield w, first, second


def _archive(world: World, case_id: str) -> dict[str, Any]:
    from hub.oversight import Oversight
    from hub.oversight.archive import case_archive
    from hub.oversight.clocks import case_receipts

    ov = Oversight(world.hub)
    try:
        ov.catch_up(force=True)
        return case_archive(world.hub, case_id, exported_by="test",
                            receipts=case_receipts(ov.facts.reader(), case_id))
    finally:
        ov.facts.close()


def _roots(world: World) -> list[str]:
    return list(world.hub.identity["root_keys"])


def test_the_history_names_who_when_and_what_changed(case: Any) -> None:
    world, _first, second = case
    archive = _archive(world, second)
    assert check_archive(archive, _roots(world))["ok"]
    rows = steps(archive)
    kinds = [r["event_type"] for r in rows]
    assert "hand_up" in kinds and "hand_down" in kinds and "complaint" in kinds
    for r in rows:  # the stations' steps: received by the hub; the hub's own: said so
        assert r["device"] and r["at"] and r["received"] != "—", r
    assert next(r for r in rows if r["event_type"] == "complaint")["received"] == "（中枢自记）"
    versions = header_versions(archive)
    labels = {(tuple(json.loads(h["value"])), h["current"]) for h in versions
              if h["field"] == "labels"}
    # the conflict's losing side is kept beside the winner
    assert {v for v, _cur in labels} >= {("town",), ("village",)}
    assert sum(cur for _v, cur in labels) == 1
    private = [h for h in versions if h["field"] == "private"]
    assert len(private) == 2 and sum(h["current"] for h in private) == 1  # the correction
    assert "更正后" not in json.dumps(archive, ensure_ascii=False)  # nothing in clear


def test_the_on_time_figures_are_folded_again_from_the_archive(case: Any) -> None:
    world, first, _second = case
    archive = _archive(world, first)
    report = check_archive(archive, _roots(world))
    assert report["ok"] and report["notes"] == []  # the offline fold agrees with the hub
    tl = timeline(archive)
    st = tl["state"]
    assert st["status"] in ("completed", "archived") and st["suspended_days"] > 0
    assert st["suspensions"] and st["due"] and tl["calendar_sources"]
    received = [r for r in tl["steps"] if r["event_type"] == "material_received"]
    assert received and all(r["fields"]["materials"] for r in received)
    item = {m["code"]: m for m in archive["service_item"]["materials"]}
    for r in received:  # each material by its code and its name in the 清单, originals marked
        for shown in r["fields"]["materials"]:
            code = shown.split(" ")[0]
            assert item[code]["name"] in shown
            assert ("（原件）" in shown) == bool(item[code].get("original"))


def test_the_archive_still_verifies_after_revocation_and_key_rotation(case: Any) -> None:
    from hub import admin
    from hub.rotation import begin_key_rotation

    world, first, _second = case
    admin.revoke_device(world.hub, world.node(VILLAGE_A).device_id)
    begin_key_rotation(world.hub, VILLAGE_A)
    archive = _archive(world, first)
    assert check_archive(archive, _roots(world))["ok"]


def test_a_step_altered_or_removed_is_found(case: Any) -> None:
    world, first, _second = case
    archive = _archive(world, first)
    roots = _roots(world)
    events = [d for d in archive["documents"] if d.get("type") == "event"]
    removed = copy.deepcopy(archive)
    gone = events[len(events) // 2]["_id"]
    removed["documents"] = [d for d in removed["documents"] if d["_id"] != gone]
    report = check_archive(removed, roots)
    assert not report["ok"]
    assert any(p.startswith("archive:") for p in report["problems"])  # the hub's seal
    assert any("does not hold" in p for p in report["problems"])  # and the chain
    # the last step, which no later step names: its receipt at the hub still does
    last = copy.deepcopy(archive)
    tail = max(events, key=lambda d: d["hlc"])["_id"]
    last["documents"] = [d for d in last["documents"] if d["_id"] != tail]
    assert any(p.startswith(tail) and "received" in p
               for p in check_archive(last, roots)["problems"])
    altered = copy.deepcopy(archive)
    ev = next(d for d in altered["documents"] if d.get("event_type") == "completion")
    ev["at"] = ev["at"].replace(ev["at"][:4], str(int(ev["at"][:4]) - 1))
    assert any(ev["_id"] in p for p in check_archive(altered, roots)["problems"])
    other = copy.deepcopy(archive)
    from sync.crypto import SigningKeyPair
    from sync.crypto.directory import key_entry

    assert not check_archive(other, [key_entry(SigningKeyPair.generate())["key"]])["ok"]


def test_export_and_verify_commands(case: Any, tmp_path: Path,
                                    capsys: pytest.CaptureFixture[str]) -> None:
    from ops.cli import main

    world, first, _second = case
    hub_dir = world.hub.settings.hub_dir
    out = tmp_path / "case.json"
    no = world.hub.stores.main.get(f"case:{first}")["case_no"]
    assert main(["hub", "--hub-dir", str(hub_dir), "case", "export", no, "--out",
                 str(out), "--why=dispute"]) == 0
    assert out.stat().st_mode & 0o077 == 0
    assert main(["hub", "--hub-dir", str(hub_dir), "case", "export", no, "--out",
                 str(out), "--why=dispute"]) == 2  # never over a file
    capsys.readouterr()
    root = _roots(world)[0]
    assert main(["hub", "case", "verify", str(out), f"--root-key={root}"]) == 0
    said = capsys.readouterr().out
    assert "OK" in said and "suspended days excluded" in said and "suspension" in said
    data = json.loads(out.read_text("utf-8"))
    data["documents"] = data["documents"][:-1]
    out.write_text(json.dumps(data, ensure_ascii=False), "utf-8")
    assert main(["hub", "case", "verify", str(out), f"--root-key={root}"]) == 1


def _login(app: Any, user: str, password: str) -> Any:
    client = app.test_client()
    page = client.get("/oversight/login")
    token = re.search(r'name="csrf" value="([^"]+)"', page.text).group(1)  # type: ignore[union-attr]
    assert client.post("/oversight/login", data={"login": user, "password": password,
                                                 "csrf": token}).status_code == 302
    return client


def test_only_a_supervisor_whose_area_holds_the_case_reads_it(case: Any) -> None:
    from hub.app import create_app
    from hub.oversight.supervisors import add_supervisor

    world, first, _second = case
    add_supervisor(world.hub, "town-a", "town-pass-1", institution=TOWN)
    add_supervisor(world.hub, "town-b", "town-pass-2", institution=OTHER_TOWN)
    app = create_app(hub=world.hub)
    no = world.hub.stores.main.get(f"case:{first}")["case_no"]
    mine = _login(app, "town-a", "town-pass-1")
    page = mine.get(f"/oversight/case?no={no}&why=dispute")
    assert page.status_code == 200 and "全部通过" in page.text and "step-suspension" in page.text
    assert "中止期间不计入时限" in page.text
    got = mine.get(f"/oversight/case/archive.json?no={no}&why=dispute")
    assert got.status_code == 200
    assert json.loads(got.data)["exported_by"] == "supervisor:town-a"
    other = _login(app, "town-b", "town-pass-2")
    for path in (f"/oversight/case?no={no}&why=check",
                 f"/oversight/case/archive.json?no={no}&why=check"):
        refused = other.get(path)
        # answered as an unknown number is: nothing of the case
        assert refused.status_code == 400 and b"in your area" in refused.data
        assert b"documents" not in refused.data and b"step-" not in refused.data


def test_who_handled_it_stays_named_after_the_roster_changes(case: Any) -> None:
    """The roster says who a staff id is now; a year later the person who kept the
    materials (7.3.2) may have left, or the id been given to someone else (hub.staff)."""
    from hub.staff import remove_staff, set_staff

    world, first, _second = case
    row = next(r for r in steps(_archive(world, first)) if r["staff"])
    staff, name = row["staff"], row["staff_name"]
    assert name
    remove_staff(world.hub, VILLAGE_A, staff)
    world.hub.stores.forget_reference()
    after = next(r for r in steps(_archive(world, first)) if r["staff"] == staff)
    assert name in after["staff_name"] and "已离开名单" in after["staff_name"]
    set_staff(world.hub, VILLAGE_A, staff, name="接任者", role="proxy")
    world.hub.stores.forget_reference()
    again = next(r for r in steps(_archive(world, first)) if r["staff"] == staff)
    assert name in again["staff_name"] and "接任者" in again["staff_name"]


def test_a_scan_swapped_under_its_signed_digest_is_found(case: Any) -> None:
    """A signature covers an attachment's digest, not its bytes: the bytes of a signed scan
    replaced, and the archive sealed again with the hub's own key (its operator holds it),
    must still be found."""
    import base64
    import hashlib

    from hub.oversight.archive import DOMAIN
    from sync.crypto.sign import signing_payload

    world, first, _second = case
    a = world.node(VILLAGE_A)
    archive = _archive(world, first)
    i, ev = next((i, d) for i, d in enumerate(archive["documents"])
                 if d.get("event_type") == "material_received")
    real = b"scan of the original"
    md5 = "md5-" + base64.b64encode(hashlib.md5(real).digest()).decode()
    body = {k: v for k, v in ev.items() if k != "sig"}
    body["_attachments"] = {"scan-1": {"content_type": "image/png", "digest": md5,
                                       "data": base64.b64encode(real).decode()}}
    archive["documents"][i] = sign_document(body, a.signer)

    def sealed(arc: dict[str, Any]) -> dict[str, Any]:
        arc = {k: v for k, v in arc.items() if k != "sig"}
        arc["sig"] = world.hub.keys.signer.signature(signing_payload(arc, DOMAIN))
        return arc

    assert check_archive(sealed(archive), _roots(world))["ok"]  # a real scan passes
    swapped = copy.deepcopy(archive)
    swapped["documents"][i]["_attachments"]["scan-1"]["data"] = base64.b64encode(
        b"another paper").decode()
    problems = check_archive(sealed(swapped), _roots(world))["problems"]
    assert any("scan-1" in p and ev["_id"] in p for p in problems), problems


def test_a_malformed_archive_is_refused_by_name_not_with_a_traceback(
        case: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """`hub case verify` reads a file anyone may have edited: a member of the wrong shape
    (the signature a string, a receipt a number, a step's chunk list an object) stopped it
    with a Python traceback, no verdict at all. The file is not OK, and the answer names
    the member."""
    from ops.cli import main

    world, first, second = case
    roots = _roots(world)
    good = _archive(world, second)

    def event(arc: dict[str, Any]) -> dict[str, Any]:
        return next(d for d in arc["documents"] if d.get("type") == "event")

    def header(arc: dict[str, Any]) -> dict[str, Any]:
        return next(d for d in arc["documents"] if d.get("type") == "case")

    tampers = {
        "sig": lambda a: a.__setitem__("sig", "forged"),
        "documents": lambda a: a["documents"].append("x"),
        "receipts": lambda a: a.__setitem__("receipts", {"event:x": 1}),
        "chunked": lambda a: event(a).__setitem__("chunked", {"scan": 1}),
        "history": lambda a: header(a).__setitem__("history", [1]),
        "state": lambda a: a.__setitem__("state", {"suspensions": [1]}),
        "calendars": lambda a: a.__setitem__("calendars", [{"year": "x"}]),
    }
    for member, tamper in tampers.items():
        bad = copy.deepcopy(good)
        tamper(bad)
        report = check_archive(bad, roots)
        assert not report["ok"] and any(member in p for p in report["problems"]), (member, report)
        out = tmp_path / f"{member}.json"
        out.write_text(json.dumps(bad, ensure_ascii=False), "utf-8")
        assert main(["hub", "case", "verify", str(out), f"--root-key={roots[0]}"]) == 1, member
        said = capsys.readouterr().out
        assert "FAILED" in said and member in said, said
    out = tmp_path / "list.json"
    out.write_text("[1, 2]", "utf-8")
    assert main(["hub", "case", "verify", str(out), f"--root-key={roots[0]}"]) == 1
    assert "FAILED" in capsys.readouterr().out
