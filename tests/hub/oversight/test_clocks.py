"""Receipt times against laptop clocks (hub/oversight/clocks.py, design.md §6): the fold
keeps an event's first receipt, and the checks page names a fast clock and a completion
stated on time but received after its deadline."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import pytest

from hub.oversight import clocks as clk
from hub.receipts import receipt_doc
from tests.hub.oversight.cases import TZ, CaseBuilder
from tests.hub.oversight.conftest import make_hub
from tests.hub.oversight.scenario import AS_OF, V1, W, scenario, stored_histories
from tests.hub.oversight.test_web import login

Q = f"from=2026-02&to=2026-03&as_of={AS_OF}"


def _ms(when: str) -> int:
    return int(dt.datetime.fromisoformat(when).replace(tzinfo=TZ).timestamp() * 1000)


def _event(b: CaseBuilder, event_type: str) -> dict[str, Any]:
    return next(e for e in b.events if e["event_type"] == event_type)


@pytest.fixture(scope="module")
def world(tmp_path_factory: Any) -> Iterator[tuple[Any, dict[str, CaseBuilder]]]:
    hub = make_hub(tmp_path_factory.mktemp("clocks"))
    cases = scenario()
    hub.stores.main.bulk_docs([d for h in stored_histories(cases) for d in h])
    c1, c10, c3 = cases["c1"], cases["c10"], cases["c3"]
    receipts = [
        # c1 (V1, due 24 Feb, completed 24 Feb: on time by the laptop) reached the hub
        # on 26 Feb; the same completion replayed on 2 Mar must not move its receipt.
        receipt_doc(c1.device, V1, c1.events, _ms("2026-02-26T10:00:00")),
        receipt_doc(c1.device, V1, [_event(c1, "completion")], _ms("2026-03-02T10:00:00")),
        # c10 (W) synced a minute after its completion: nothing to flag.
        receipt_doc(c10.device, W, [_event(c10, "completion")],
                    int(dt.datetime.fromisoformat(_event(c10, "completion")["at"])
                        .timestamp() * 1000) + 60_000),
        # c3 (V1, 2nd laptop's clock 1 hour fast): stated an hour after the hub got it.
        receipt_doc("410602101201-B2", V1, [_event(c3, "completion")],
                    int(dt.datetime.fromisoformat(_event(c3, "completion")["at"])
                        .timestamp() * 1000) - 3_600_000),
    ]
    hub.stores.receipts.bulk_docs([r for r in receipts if r])
    from hub.app import create_app
    from hub.oversight.supervisors import add_supervisor

    add_supervisor(hub, "city", "city-pass-1", institution="410600", name="市中心监督员")
    app = create_app(hub=hub)
    yield app, cases
    hub.close()


def test_receipt_rows_list_only_events_of_a_batch() -> None:
    b = CaseBuilder(V1, "s1", "2026-02-12").accepted("2026-02-12", 3)
    doc = receipt_doc(b.device, V1, [b.header, *b.events], 1_000)
    assert doc is not None and doc["device"] == b.device and doc["received_ms"] == 1_000
    rows = clk.receipt_rows(doc)
    assert [r[0] for r in rows] == [e["_id"] for e in b.events]  # no header
    assert {r[1] for r in rows} == {b.case_id}
    assert receipt_doc(b.device, V1, [b.header], 1_000) is None


def test_the_fold_keeps_the_first_receipt(world: Any) -> None:
    from hub.oversight import oversight_for

    app, cases = world
    ov = oversight_for(app)
    ov.catch_up(force=True)
    completion = _event(cases["c1"], "completion")["_id"]
    got = ov.facts.reader().execute(
        "SELECT received_ms FROM receipts WHERE event_id=?", (completion,)).fetchone()
    assert got == (_ms("2026-02-26T10:00:00"),)  # not the replay of 2 Mar
    assert ov.clocks.catch_up() == 0  # checkpointed: nothing folded twice


def test_late_receipts_and_device_clocks(world: Any) -> None:
    from hub.oversight import oversight_for

    app, cases = world
    ov = oversight_for(app)
    ov.catch_up(force=True)
    db = ov.facts.reader()
    late = clk.late_receipts(db, "", "2026-02", "2026-03")
    assert [c["case_id"] for c in late] == [cases["c1"].case_id]
    assert late[0]["due"] == "2026-02-24" and late[0]["completed_on"] == "2026-02-24"
    assert clk.late_receipts(db, W, "2026-02", "2026-03") == []  # scoped by institution
    by_device = {d["device"]: d for d in clk.device_clocks(db, "", "2026-02", "2026-03")}
    fast = by_device["410602101201-B2"]
    assert fast["ahead"] == 1 and fast["lag_min"] == -3_600_000
    assert by_device[cases["c10"].device]["ahead"] == 0
    assert by_device[cases["c10"].device]["lag_min"] == 60_000
    # the first row is the fast clock
    assert clk.device_clocks(db, "", "2026-02", "2026-03")[0]["device"] == "410602101201-B2"


def test_the_checks_page_shows_both(world: Any) -> None:
    app, cases = world
    client, _ = login(app, "city", "city-pass-1")
    page = client.get(f"/oversight/checks?{Q}").text
    assert 'id="device-clocks"' in page and "410602101201-B2" in page
    assert "-1.0 小时" in page  # the fast clock's smallest lag
    assert '<strong id="late-count">1</strong>' in page
    assert cases["c1"].header["case_no"] in page and "2026-02-26 10:00" in page


def test_durations_read_as_words() -> None:
    assert clk.duration(None) == "—" and clk.duration(12_000) == "12 秒"
    assert clk.duration(-180_000) == "-3 分钟" and clk.duration(3 * 86_400_000) == "3.0 天"
