"""Case numbers never repeat on a device, whatever happened to its ``_local`` serial counter
(schemas.ids.case_no: unique per institution and year, design.md §2).

Before, the serial came only from ``_local/serial-YEAR``: the demo's stations held sample
cases 00101.. and the clerk's first case was 00001 again, and a laptop put back from an
older backup gave out again the numbers of the cases it opened after the backup (pushed,
and pulled back at its first sync, with the same numbers)."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from node.casework import today
from node.core import Node
from node.errors import NotSyncedSinceRestore
from node.settings import load
from tests.node.conftest import DEVICE, PASSPHRASE, VILLAGE, make_node_dir


def _node(folder: Path) -> Node:
    return Node(load({"node_dir": str(folder), "sync_interval": 0, "sync_timeout": 2.0}))


def _row(serial: int, *, year: int | None = None, device: str = DEVICE) -> dict[str, Any]:
    """An index row as a case of ``device`` numbered ``serial`` leaves it (a pulled case,
    the demo's sample cases written into the store and indexed)."""
    inst, short = device.split("-")
    return {"case_id": f"C-{device}-{year}-{serial}", "institution": inst,
            "case_no": f"{inst}-{year or today().year}-{short}-{serial:05d}",
            "updated": "2026-03-02T09:00:00+08:00", "status": "consulted"}


def _open(node: Node) -> str:
    cw = node.casework
    case_id = cw.open_case(service_type="assist", mode="nearby", focus_area="livelihood",
                           applicant_kind="person", private={"applicant_name": "赵六"})
    return str(cw.header(case_id)["case_no"])


def test_the_demo_station_numbers_past_its_sample_cases(tmp_path: Path) -> None:
    """ops/demo_node.py writes sample cases 00101..00110 into the store without the node's
    counter: the clerk's first case is 00111, not 00001."""
    node = _node(make_node_dir(tmp_path / "node", institution_path=[VILLAGE]))
    try:
        node.unlock(PASSPHRASE)
        year = today().year
        node.index.upsert_many([(_row(n), []) for n in range(101, 111)])
        # numbers of another laptop (A10 starts like A1), another year, another station
        node.index.upsert_many([(_row(900, device=f"{VILLAGE}-A10"), []),
                                (_row(901, year=year - 1), []),
                                (_row(902, device="410621100202-A1"), [])])
        assert _open(node) == f"{VILLAGE}-{year}-A1-00111"
        assert node.next_serial(year) == 112
        assert node.next_serial(year + 1) == 1  # a new year starts again
    finally:
        node.close()


@settings(max_examples=25, deadline=None)
@given(counter=st.integers(0, 60_000), held=st.lists(st.integers(1, 99_990), max_size=6),
       later=st.lists(st.lists(st.integers(1, 99_990), max_size=3), min_size=1, max_size=4))
def test_next_serial_passes_the_counter_and_every_held_number(
        counter: int, held: list[int], later: list[list[int]]) -> None:
    """Whatever the counter and the index hold, and whatever arrives between two calls
    (a pull), each serial is past both, and the serials strictly increase."""
    with tempfile.TemporaryDirectory() as tmp:
        node = _node(make_node_dir(Path(tmp) / "node"))
        try:
            year = today().year
            node.store.put_local({"_id": f"_local/serial-{year}", "serial": counter})
            node.index.upsert_many([(_row(n), []) for n in held])
            seen, last = [counter, *held], 0
            for arrived in later:
                node.index.upsert_many([(_row(n), []) for n in arrived])
                seen += arrived
                got = node.next_serial(year)
                assert got > max([last, *seen])
                last = got
        finally:
            node.close()


def test_the_highest_number_is_one_seek_of_the_case_number_index(tmp_path: Path) -> None:
    """Read at every new case: the statement the index runs walks ``cases_no`` from the
    top of the range, never every case of the station, nor a sort."""
    node = _node(make_node_dir(tmp_path / "node"))
    try:
        db = node.index._db
        ran: list[str] = []
        db.set_trace_callback(ran.append)
        assert node.index.highest_serial(f"{VILLAGE}-2026-A1-") == 0
        db.set_trace_callback(None)
        [sql] = [q for q in ran if "case_no" in q]
        plan = " ".join(str(r[-1]) for r in db.execute(f"EXPLAIN QUERY PLAN {sql}"))
        assert "SEARCH cases USING COVERING INDEX cases_no (case_no>? AND case_no<?)" in plan
        assert "TEMP B-TREE" not in plan
    finally:
        node.close()


def test_a_restored_store_opens_no_case_until_it_has_synced(tmp_path: Path) -> None:
    """The new-case page says why before the clerk types a form, the API answers 409 with
    the reason, and a form posted anyway comes back with what was typed."""
    from node.app import create_app
    from node.restore import stamp
    from tests.node.conftest import csrf
    from tests.node.test_clerk_day import _consult

    app = create_app({"node_dir": str(make_node_dir(tmp_path / "node")), "sync_interval": 0,
                      "secret_key": "test", "TESTING": True})
    node = app.extensions["bangban_node"]
    try:
        stamp(node.store, DEVICE, "2026-11-20T08:00:00+00:00")
        client = app.test_client()
        resp = client.post("/unlock", data={"passphrase": PASSPHRASE, "csrf": csrf(client)})
        assert resp.status_code == 302
        page = client.get("/consultations/new").get_data(as_text=True)
        assert 'id="restored-not-synced"' in page and "从备份恢复" in page
        # the page's language only (the English half was shown too), the time in Beijing time
        assert "restored from a backup" not in page and "2026-11-20 16:00" in page
        assert 'id="save" accesskey="s" disabled' in page
        resp = _consult(client, applicant_name="钱七")
        assert resp.status_code == 409 and "钱七" in resp.get_data(as_text=True)
        api = client.post("/api/consultations", json={"applicant_name": "钱七",
                                                      "question": "怎么办？"})
        assert api.status_code == 409
        assert api.get_json()["error"] == "restored_not_synced"
        assert "sync" in api.get_json()["reason"]
        assert node.store.all_docs(startkey="case:", endkey="case:\uffff")["rows"] == []
        with pytest.raises(NotSyncedSinceRestore):
            node.next_serial(today().year)
    finally:
        node.close()
