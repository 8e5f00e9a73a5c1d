"""Receipt times against laptop clocks (hub/oversight/clocks.py, design.md §6): the fold
keeps an event's first receipt, and the checks page names a fast clock and a completion
stated on time but received after its deadline."""

from __future__ import annotations

import datetime as dt
import re
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
        "SELECT received_ms FROM completion_receipts WHERE event_id=?", (completion,)).fetchone()
    assert got == (_ms("2026-02-26T10:00:00"),)  # not the replay of 2 Mar
    assert ov.clocks.catch_up() == 0  # checkpointed: nothing folded twice


def test_month_sums_count_fast_clocks_beyond_the_tolerance() -> None:
    received = _ms("2026-03-31T23:59:00")
    rows = [("e1", "c", "D", "I", "work_log", received + clk.TOLERANCE_MS + 1, received, "r"),
            ("e2", "c", "D", "I", "work_log", received + clk.TOLERANCE_MS, received, "r"),
            ("e3", "c", "D", "I", "work_log", received - 5_000, received + 120_000, "r"),
            ("e4", "c", "D", "I", "work_log", None, received, "r")]  # no stated time
    sums = clk.month_sums(rows)
    # 23:59 + 2 min is April in Beijing: the months are the receipts' local months
    assert sums[("I", "D", "2026-03")] == [2, 1, -clk.TOLERANCE_MS - 1, -clk.TOLERANCE_MS,
                                           received, 0]
    assert sums[("I", "D", "2026-04")] == [1, 0, 125_000, 125_000, received + 120_000, 0]


def _typed_at(when: str, stated: str, event_type: str) -> tuple[Any, ...]:
    """A receipt row of an event typed at ``when`` (its hlc) that states ``stated``."""
    from schemas.hlc import HLC, pack

    hlc = pack(HLC(_ms(when), 0, "410602101201-A1"))
    return (f"event:case:{hlc}", "case", "410602101201-A1", V1, event_type, _ms(stated),
            _ms(when) + 60_000, "replication")


def test_paper_steps_entered_later_are_timed_from_their_typing() -> None:
    """A station going live types its open paper cases in with the dates on their forms
    (补录, schemas.paper) and syncs a minute later. Each step stated its paper date, so the
    device read "never synced promptly" (a smallest lag of weeks) and, enrolled that day,
    "stated before enrollment: history loaded or a clock set back, verify the source": a
    new station flagged for going live honestly. The step's hlc says when it was typed:
    the lag runs from then, the step counted as paper (补录). A completion stating an earlier
    day is no paper step (never back-dated by the node) and stays judged as stated."""
    typed = "2026-03-09T10:00:00"
    paper = [_typed_at(typed, "2026-02-20T12:00:00", "acceptance"),
             _typed_at(typed, "2026-02-24T12:00:00", "suspension")]
    sums = clk.month_sums(paper)
    assert sums[("410602101201", "410602101201-A1", "2026-03")] == [
        2, 0, 60_000, 60_000, _ms(typed) + 60_000, 2]
    clocks = [{"device": "410602101201-A1", "last_ms": _ms(typed) + 60_000,
               "lag_max": 60_000}]
    clk.mark_before_enrollment(clocks, [], {"410602101201-A1": _ms("2026-03-09T09:00:00")})
    assert clocks[0]["before_enrollment"] is False
    done = clk.month_sums([_typed_at(typed, "2026-02-20T12:00:00", "completion")])
    lag = _ms(typed) + 60_000 - _ms("2026-02-20T12:00:00")
    assert done[("410602101201", "410602101201-A1", "2026-03")] == [
        1, 0, lag, lag, _ms(typed) + 60_000, 0]
    # typed the same Beijing day it states: a live step, as stated
    assert clk.typed_ms(paper[0][0], "acceptance", _ms("2026-03-09T08:00:00")) is None


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


def test_times_stated_before_the_device_was_enrolled_are_said_apart(tmp_path: Any) -> None:
    """`bangban demo` loads sample history dated months back; pushed at its start, every
    on-time completion was listed "received after its deadline" and a village's device
    read "never synced promptly" (a 246-day smallest lag). A node starts from its
    enrollment, so a time stated before it is history loaded into the station or a clock
    set back, not late syncing: the page marks those rows and says so. The receipts stay
    what the hub saw, and the count is unchanged."""
    from hub import admin
    from hub.app import create_app
    from hub.oversight.supervisors import add_supervisor

    hub = make_hub(tmp_path)
    try:
        cases = scenario()
        c1, c10 = cases["c1"], cases["c10"]
        hub.stores.main.bulk_docs([d for h in stored_histories(cases) for d in h])
        # c1's laptop enrolled now (after its history: 2026-02); c10's back in January
        admin.enroll_device(hub, institution_code=V1, short="A1")
        admin.enroll_device(hub, institution_code=W, short="A1")
        early = hub.stores.main.get(f"device:{c10.device}")
        admin.put_reference(hub, {**early, "enrolled_at": "2026-01-05T09:00:00+08:00"})
        c10_done = _event(c10, "completion")
        hub.stores.receipts.bulk_docs([
            receipt_doc(c1.device, V1, c1.events, _ms("2026-02-26T10:00:00")),
            receipt_doc(c10.device, W, [c10_done],
                        int(dt.datetime.fromisoformat(c10_done["at"]).timestamp() * 1000)
                        + 60_000)])
        add_supervisor(hub, "city", "city-pass-1", institution="410600", name="市监督员")
        client, _ = login(create_app(hub=hub), "city", "city-pass-1")
        page = client.get(f"/oversight/checks?{Q}").text
        assert '<strong id="late-count">1</strong>' in page  # still counted
        said = re.search(r'id="late-before-enrollment">(.*?)</span>', page, re.S)
        assert said is not None and "其中 <strong>1</strong> 件" in said.group(1)
        rows = {m.group(1): m.group(0) for m in re.finditer(
            r"<tr><td class=\"l\">([0-9]{12}-A1)</td>.*?</tr>", page)}
        assert "登记前" in rows[c1.device] and "登记前" not in rows[c10.device]
        assert "2026-01-05 09:00" in rows[c10.device]
    finally:
        hub.close()


def test_only_what_is_certain_is_marked_before_enrollment() -> None:
    enrolled = _ms("2026-03-10T15:00:00")
    clocks = [{"device": "D", "last_ms": _ms("2026-03-12T10:00:00"), "lag_max": lag}
              for lag in (86_400_000, 2 * 86_400_000)]  # stated by 11 Mar 10:00, 10 Mar 10:00
    late = [{"device": "D", "completed_on": day} for day in ("2026-03-10", "2026-03-09")]
    late.append({"device": "unknown", "completed_on": "2020-01-01"})  # no record: unmarked
    clk.mark_before_enrollment(clocks, late, {"D": enrolled})
    assert [d["before_enrollment"] for d in clocks] == [False, True]
    # the day of enrollment is not before it (the time of the completion is not known)
    assert [c["before_enrollment"] for c in late] == [False, True, False]
    assert late[0]["enrolled_ms"] == enrolled and late[2]["enrolled_ms"] is None


def test_completions_received_again_after_a_restore_are_said_apart(tmp_path: Any) -> None:
    """The hub's store was lost and restored from a backup of 20 Feb; c1's station pushed
    its completion (stated 24 Feb, on time) again on 26 Feb, after the restore. The lost
    hub's receipt of it went with the store, so the page read "received after its
    deadline": the row is marked 恢复后 and the page says why; the count is unchanged."""
    from hub.app import create_app
    from hub.backup import RESTORE_PREFIX
    from hub.oversight.supervisors import add_supervisor

    hub = make_hub(tmp_path)
    try:
        cases = scenario()
        c1 = cases["c1"]
        hub.stores.main.bulk_docs([d for h in stored_histories(cases) for d in h])
        hub.stores.receipts.bulk_docs([
            receipt_doc(c1.device, V1, c1.events, _ms("2026-02-26T10:00:00"))])
        hub.stores.private.put({"_id": f"{RESTORE_PREFIX}2026-02-26T01:00:00+00:00",
                                "type": "restore", "taken_at": "2026-02-20T02:00:00+00:00",
                                "restored_at": "2026-02-26T01:00:00+00:00"})
        add_supervisor(hub, "city", "city-pass-1", institution="410600", name="市监督员")
        client, _ = login(create_app(hub=hub), "city", "city-pass-1")
        page = client.get(f"/oversight/checks?{Q}").text
        assert '<strong id="late-count">1</strong>' in page
        said = re.search(r'id="late-receipt-lost">(.*?)</span>', page, re.S)
        assert said is not None and "其中 <strong>1</strong> 件" in said.group(1)
        assert 'class="receipt-lost"' in page
    finally:
        hub.close()


def test_only_completions_stated_between_backup_and_restore_are_marked() -> None:
    taken, restored = _ms("2026-03-02T09:00:00"), _ms("2026-03-05T09:00:00")
    late = [{"completed_on": day, "received_ms": got} for day, got in (
        ("2026-03-03", restored + 1),        # stated after the backup, received after: lost
        ("2026-03-01", restored + 1),        # before the backup: its receipt was backed up
        ("2026-03-03", restored - 1),        # received before the restore: a real receipt
        ("2026-03-06", restored + 86_400_000))]  # stated after the restore
    clk.mark_restored(late, [(taken, restored)])
    assert [c["receipt_lost"] for c in late] == [True, False, False, False]
    clk.mark_restored(late, [])
    assert not any(c["receipt_lost"] for c in late)


def test_a_live_step_whose_clock_another_laptop_dragged_ahead_is_judged_as_stated() -> None:
    """A step follows its case's newest clock (node.casework.next_clock, the HLC's receive
    rule): a colleague's laptop set a day fast drags the clocks of the steps this laptop
    writes after it, and its process clock with them. Such a live step, its ``at`` from
    this laptop's right clock, has an hlc on a later Beijing day than it states: it was
    read as a paper step (补录) typed by its hlc, a day after the hub received it, and the
    laptop with the right clock was counted "时钟超前" on the checks page, its live steps as
    补录. A typing time after the hub's receipt is no typing time: judged as stated."""
    dragged = _typed_at("2026-03-10T09:00:00", "2026-03-09T09:00:00", "acceptance")
    dragged = dragged[:6] + (_ms("2026-03-09T09:02:00"),) + dragged[7:]
    sums = clk.month_sums([dragged])
    assert sums[("410602101201", "410602101201-A1", "2026-03")] == [
        1, 0, 120_000, 120_000, _ms("2026-03-09T09:02:00"), 0]


def test_a_live_step_typed_on_a_clock_set_back_is_judged_as_stated() -> None:
    """A clock set back eight days writes its steps on a case after the case's newest
    clock (next_clock): the hlc says today, ``at`` eight days ago. Taken for a paper step
    (补录) and timed from the hlc, the lag of a minute hid the clock that the lag of eight
    days showed before; a paper step states the paper's noon, this one 09:13:22."""
    live = _typed_at("2026-03-09T10:00:00", "2026-03-01T09:13:22", "acceptance")
    lag = _ms("2026-03-09T10:01:00") - _ms("2026-03-01T09:13:22")
    assert clk.month_sums([live])[("410602101201", "410602101201-A1", "2026-03")] == [
        1, 0, lag, lag, _ms("2026-03-09T10:01:00"), 0]


def test_a_late_receipt_is_the_standing_completions_not_a_withdrawn_ones(tmp_path: Any) -> None:
    """撤销办结 (schemas.withdraw): a clerk completed the case by mistake on 13 Feb (synced at
    once) and withdrew it; it was completed for real on its due day, 24 Feb, and synced on
    26 Feb. The check took the case's earliest completion receipt, the withdrawn one's, and
    passed a completion the hub got after its deadline. A second case, completed for real
    and synced on its due day, stays off the list."""
    from hub.app import create_app
    from hub.oversight import oversight_for

    hub = make_hub(tmp_path)
    try:
        late, prompt = (CaseBuilder(V1, "s1", "2026-02-12").accepted("2026-02-12", 3)
                        for _ in range(2))  # 3 working days: due 24 Feb
        for b in (late, prompt):
            slip = b.ev("completion", "2026-02-13", private={"applicant_signature": "b.png"})
            b.ev("completion_withdrawn", "2026-02-13", completion=slip["hlc"],
                 reason="wrong_case", private={"details": "点错了办件"})
            b.completed("2026-02-24")
        hub.stores.main.bulk_docs([d for b in (late, prompt) for d in b.history()])
        hub.stores.receipts.bulk_docs([r for r in (
            receipt_doc(late.device, V1, late.events[:-2], _ms("2026-02-13T10:00:00")),
            receipt_doc(late.device, V1, late.events[-2:], _ms("2026-02-26T10:00:00")),
            receipt_doc(prompt.device, V1, prompt.events, _ms("2026-02-24T18:00:00"))) if r])
        ov = oversight_for(create_app(hub=hub))
        ov.catch_up(force=True)
        got = clk.late_receipts(ov.facts.reader(), "", "2026-02", "2026-03")
        assert [(c["case_id"], c["completed_on"], c["received_ms"]) for c in got] == \
            [(late.case_id, "2026-02-24", _ms("2026-02-26T10:00:00"))]
    finally:
        hub.close()
