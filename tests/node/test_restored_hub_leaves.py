"""After the hub is restored from a backup, a station holds two leaves of a reference document
it had pulled: the lost hub's edit and the restored hub's (docs/operations.md, "Backup and
restore"). At equal depth CouchDB keeps the greater rev hash, here the lost hub's older leaf;
every reader of the node takes the leaf the hub wrote last (schemas.written) instead."""

from __future__ import annotations

from typing import Any

from schemas.hlc import HLC, pack
from schemas.written import WRITTEN
from sync.store import DocumentStore
from tests.node.conftest import TOWN, VILLAGE

HUB = "410600-HB"
BASE, STALE, FRESH = "a" * 32, "f" * 32, "0" * 32  # CouchDB's rule keeps STALE (greater hash)


def _conflicted(store: DocumentStore, doc: dict[str, Any], stale: dict[str, Any],
                fresh: dict[str, Any]) -> None:
    """``doc`` at 1-BASE, then two children: the lost hub's (``stale``, written first) and
    the restored hub's (``fresh``, written later)."""
    store.bulk_docs([{**doc, "_rev": f"1-{BASE}", WRITTEN: pack(HLC(1_000, 0, HUB))}],
                    new_edits=False)
    for rev, body, wall in ((STALE, stale, 2_000), (FRESH, fresh, 3_000)):
        store.bulk_docs([{**doc, **body, WRITTEN: pack(HLC(wall, 0, HUB)), "_rev": f"2-{rev}",
                          "_revisions": {"start": 2, "ids": [rev, BASE]}}], new_edits=False)
    got = store.get(doc["_id"], conflicts=True)
    assert got["_rev"] == f"2-{STALE}" and got["_conflicts"] == [f"2-{FRESH}"]


def test_the_node_reads_the_restored_hubs_reference_documents(app: Any, unlocked: Any) -> None:
    from node.state import _calendars
    from node.views.common import catalog
    from node.views.forms import _staff
    from node.views.town import boards, villages
    from schemas.sample import catalog as sample_catalog

    node = app.extensions["bangban_node"]
    store = node.store
    town = {"_id": f"institution:{TOWN}", "type": "institution", "code": TOWN, "tier": "town"}
    _conflicted(store, town, {"name": "撤并前的镇中心"}, {"name": "新镇便民服务中心"})
    village = {"_id": f"institution:{VILLAGE}", "type": "institution", "code": VILLAGE}
    _conflicted(store, village, {"staff": [{"id": "S1", "name": "旧名", "role": "both"}]},
                {"staff": [{"id": "S1", "name": "新名", "role": "both"}]})
    item = {**sample_catalog()[0]}
    item["_id"] = f"service_item:{item['code']}"
    _conflicted(store, item, {"name": "旧事项名", "active": True},
                {"name": "新事项名", "active": True})
    below = {"_id": f"institution:{VILLAGE}99", "type": "institution", "parent": VILLAGE}
    _conflicted(store, below, {"name": "旧下辖点"}, {"name": "新下辖点"})
    board = {"_id": f"board:{VILLAGE}99", "type": "board", "audience": [VILLAGE]}
    _conflicted(store, board, {"counts": {"open": 7}}, {"counts": {"open": 2}})
    year = {"_id": "calendar:2031", "type": "calendar", "year": 2031, "workdays": []}
    _conflicted(store, year, {"holidays": ["2031-01-01"]}, {"holidays": ["2031-01-02"]})

    assert node.name_of(TOWN) == "新镇便民服务中心"
    assert node.casework._item(item["code"])["name"] == "新事项名"
    assert [c["holidays"] for c in _calendars(node)] == [["2031-01-02"]]
    with app.test_request_context("/"):
        assert {i["code"]: i["name"] for i in catalog()}[item["code"]] == "新事项名"
        case = {"header": {"staff": "S1", "institution": VILLAGE}, "state": {}}
        assert _staff(case, None)[1] == "新名"
        assert [v["name"] for v in villages()] == ["新下辖点"]
        assert [b["counts"]["open"] for b in boards()] == [2]
