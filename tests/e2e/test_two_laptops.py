"""End to end with real processes (tests/e2e/stationnet.py): a village station's two laptops,
offline all morning, both accept one case (3 and 5 working days). After the network
returns, each clerk, on each laptop, reads the same: which acceptance counts and why the
other does not, form A with the time limit and the date the case page and the town's board
give; a clerk records the review, and the mark goes from both laptops and the town."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.linknet import wait_until
from tests.e2e.stationnet import StationNet
from tests.node.net import TOWN, VILLAGE
from tests.node.test_paper_forms import _pdf_text

pytestmark = pytest.mark.e2e


@pytest.fixture
def net(tmp_path: Path) -> Iterator[StationNet]:
    n = StationNet(tmp_path / "net")
    try:
        n.start()
        yield n
    finally:
        n.close()


def _board_row(net: StationNet, case_id: str) -> dict[str, Any]:
    rows = net.http["T"].get(net.urls["T"] + "/api/town", timeout=60).json()["board_rows"]
    return next((r for r in rows if r["case"] == case_id), {})


def test_two_laptops_accept_one_case_offline_and_the_station_settles_it(
        net: StationNet, tmp_path: Path) -> None:
    case_id = net.applied_case("L1")
    wait_until(lambda: net.case("L2", case_id).get("state", {}).get("status") == "applied",
               120, "laptop 2 has the case")

    for name in ("L1", "L2"):
        net.link(name, False)  # the network is down until noon
    first = net.step("L1", case_id, "acceptance", zone="assisted_zone", time_limit_days=3)
    second = net.step("L2", case_id, "acceptance", member=1, zone="assisted_zone",
                      time_limit_days=5)
    for name in ("L1", "L2"):
        net.link(name, True)

    def both_have_both() -> bool:
        return all({first.rsplit(":", 1)[1], second.rsplit(":", 1)[1]} <= {
            e["hlc"] for e in net.case(name, case_id).get("events", [])} for name in ("L1", "L2"))

    wait_until(both_have_both, 180, "both acceptances on both laptops")
    states = {name: net.case(name, case_id)["state"] for name in ("L1", "L2")}
    assert states["L1"]["time_limit_days"] == states["L2"]["time_limit_days"] == 3
    assert states["L1"]["due"] == states["L2"]["due"] and states["L1"]["needs_review"]
    due = states["L1"]["due"]
    hlc = second.rsplit(":", 1)[1]
    for name in ("L1", "L2"):
        page = net.page(name, f"/cases/{case_id}")
        assert 'id="reviews"' in page and f'data-event="{hlc}"' in page, name
        assert "电脑 A2" in page and "不能受理" in page, name
        text = _pdf_text(net.pdf(name, case_id, "A"), tmp_path)
        assert f"承诺办理时限 3 个工作日 预计办结日期 {due}" in text, (name, text)
    row = wait_until(lambda: _board_row(net, case_id).get("review") and _board_row(net, case_id),
                     120, "the town's board marks the case for review")
    assert row["due"] == due and row["institution"] == VILLAGE

    net.step("L2", case_id, "review_resolved", member=1, events=[hlc],
             decision="kept_as_record", private={"note": "以 A1 的受理为准，第二张受理单已收回"})
    wait_until(lambda: not net.case("L1", case_id)["state"]["needs_review"], 120,
               "laptop 1 learns the review")
    assert 'id="reviews"' not in net.page("L1", f"/cases/{case_id}")
    wait_until(lambda: _board_row(net, case_id).get("review") is False, 120,
               "the town's board no longer marks it")


def test_the_town_sends_a_case_down_while_both_laptops_are_offline(net: StationNet) -> None:
    """The town hands a case back down (4.3) while the village is offline. The laptop whose
    link returns first has it and takes it; the other, still offline, is told the town
    holds it by the town's name (it read "只有当前承办机构（410602101）…"), and once it syncs
    it sees the case taken, by whom, with nothing to review."""
    case_id = net.applied_case("L1")
    net.step("L1", case_id, "hand_up", to_institution=TOWN, reason_code="needs_coordination")
    wait_until(lambda: net.case("T", case_id).get("state", {}).get("holder") == TOWN, 180,
               "the town holds the case")
    wait_until(lambda: net.case("L2", case_id).get("state", {}).get("holder") == TOWN, 180,
               "laptop 2 knows it went up")
    for name in ("L1", "L2"):
        net.link(name, False)
    net.step("T", case_id, "hand_down", to_institution=VILLAGE, reason_code="door_service")
    net.link("L1", True)
    wait_until(lambda: net.case("L1", case_id)["state"]["holder"] == VILLAGE, 180,
               "laptop 1 gets the case back")
    taken = net.step("L1", case_id, "acceptance", zone="assisted_zone", time_limit_days=3)
    net.at_window("L2", 1)
    r = net.http["L2"].post(f"{net.urls['L2']}/api/cases/{case_id}/events/acceptance",
                            json={"zone": "assisted_zone", "time_limit_days": 3}, timeout=60)
    assert r.status_code == 409 and "鹤壁集镇便民服务中心" in r.json()["reason"], r.text
    assert TOWN not in r.json()["reason"].split(" / ")[0]
    net.link("L2", True)
    wait_until(lambda: taken.rsplit(":", 1)[1] in {
        e["hlc"] for e in net.case("L2", case_id)["events"]}, 180, "laptop 2 learns it was taken")
    state = net.case("L2", case_id)["state"]
    assert state["holder"] == VILLAGE and state["status"] == "handling"
    assert not state["needs_review"]
    page = net.page("L2", f"/cases/{case_id}")
    assert "唐思琪" in page  # who took it, on the record


def _rows(net: StationNet, name: str, q: str) -> list[dict[str, Any]]:
    """The cases a search on laptop ``name`` lists (a search by a person writes an access
    event on each; one by a case number reads nobody: node.reading.note_search)."""
    r = net.http[name].get(net.urls[name] + "/api/cases", params={"q": q}, timeout=60)
    assert r.status_code == 200, r.text
    return list(r.json()["rows"])


def _found(net: StationNet, name: str, q: str) -> list[str]:
    return [str(r["case_id"]) for r in _rows(net, name, q)]


def _read_on(net: StationNet, case_id: str, short: str) -> list[list[str]]:
    """What the access events laptop ``short`` wrote on the case say was read, as laptop 1
    has them (every event's hlc ends with the device that wrote it)."""
    return [e["fields_read"] for e in net.case("L1", case_id)["events"]
            if e["event_type"] == "access" and str(e["hlc"]).endswith(f"-{short}")]


def test_laptop_2_finds_the_applicant_of_a_case_laptop_1_registered(net: StationNet) -> None:
    """The applicant registered at laptop 1 in the morning came back after lunch to laptop 2,
    whose clerk searched the name, the ID number or the phone and read 没有办件 (the case had
    search tokens only once opened there) and opened a second case. Laptop 2 now finds it as
    soon as it has pulled it, without anyone opening it there (no access event until the
    search lists it), after the town sent it back down, and by the name as corrected on
    laptop 1 (更正), no longer by the old one."""
    case_id = net.applied_case("L1", who="司马光明")
    case_no = str(_rows(net, "L1", "司马光明")[0]["case_no"])
    wait_until(lambda: _found(net, "L2", case_no) == [case_id], 180, "laptop 2 has the case")
    wait_until(lambda: _found(net, "L2", "司马光明") == [case_id], 60,
               "laptop 2 finds it by name")
    assert _found(net, "L2", "13800000000") == [case_id]
    assert _found(net, "L2", "光明") == [case_id]
    wait_until(lambda: _read_on(net, case_id, "A2"), 120, "laptop 1 has laptop 2's access")
    assert _read_on(net, case_id, "A2") == [["search"]]  # the search's, nothing before it

    net.step("L1", case_id, "hand_up", to_institution=TOWN, reason_code="needs_coordination")
    wait_until(lambda: net.case("T", case_id).get("state", {}).get("holder") == TOWN, 180,
               "the town holds the case")
    net.step("T", case_id, "hand_down", to_institution=VILLAGE, reason_code="door_service")
    wait_until(lambda: net.case("L1", case_id)["state"]["holder"] == VILLAGE, 180,
               "the case is back down")
    r = net.http["L1"].post(f"{net.urls['L1']}/api/cases/{case_id}/applicant", timeout=60,
                            json={"applicant_name": "司马光亮", "phone": "13900000000"})
    assert r.status_code == 200, r.text
    wait_until(lambda: _found(net, "L2", "司马光亮") == [case_id], 180,
               "laptop 2 finds it by the corrected name")
    assert _found(net, "L2", "13900000000") == [case_id]
    assert _found(net, "L2", "司马光明") == [] and _found(net, "L2", "13800000000") == []
    assert _rows(net, "L2", case_no)[0]["holder"] == VILLAGE
