"""Coordination notices (schemas/notices.py, 4.2): a town urges one of its villages about a
case; the hub delivers it to that village only and refuses notices that go up, sideways, in
another institution's name, with a reason not in the list, or a second time."""

from __future__ import annotations

from typing import Any

import pytest

from tests.hub.conftest import CITY, TOWN, VILLAGE_A, VILLAGE_B, World


def _notice(node: Any, to: str, case_id: str, **over: Any) -> dict[str, Any]:
    from schemas.notices import notice_doc_id
    from schemas.vocab import SCHEMA_VERSION
    from sync.crypto import sign_document

    hlc = str(node.clock())
    doc = {"_id": notice_doc_id(to, hlc), "type": "notice", "schema_version": SCHEMA_VERSION,
           "hlc": hlc, "at": node.now(), "device": node.device_id,
           "institution": node.institution, "to_institution": to, "case_id": case_id,
           "case_no": "NO-1", "reason": "due", **over}
    return sign_document(doc, node.signer)


def _push(node: Any, doc: dict[str, Any]) -> list[dict[str, Any]]:
    return list(node.remote.bulk_docs([{**doc, "_rev": "1-" + "a" * 32}], new_edits=False))


def test_a_town_urges_its_village_and_only_that_village_receives_it(world: World) -> None:
    a, b, town = world.node(VILLAGE_A), world.node(VILLAGE_B), world.node(TOWN)
    case_id = a.new_case()
    world.round()
    doc = _notice(town, VILLAGE_A, case_id)
    assert _push(town, doc) == []
    world.sync()
    assert a.store.get(doc["_id"])["reason"] == "due"
    assert town.store.get(doc["_id"])  # the town keeps what it sent
    from sync.errors import NotFound

    with pytest.raises(NotFound):
        b.store.get(doc["_id"])
    # never changed once stored
    changed = _push(town, {**_notice(town, VILLAGE_A, case_id), "_id": doc["_id"],
                           "hlc": doc["hlc"]})
    assert changed and changed[0]["error"] == "forbidden"


@pytest.mark.parametrize(("sender", "to", "over", "rule"), [
    (VILLAGE_A, TOWN, {}, "not below"),  # upwards
    (VILLAGE_A, VILLAGE_B, {}, "not below"),  # sideways
    (TOWN, CITY, {}, "not below"),
    (TOWN, VILLAGE_A, {"reason": "shout"}, "schema"),
    (TOWN, VILLAGE_A, {"institution": "410602101999", "device": "410602101999-A1"},
     "institution"),  # in another institution's name
])
def test_notices_that_do_not_go_down_are_refused(world: World, sender: str, to: str,
                                                  over: dict[str, Any], rule: str) -> None:
    node = world.node(sender)
    result = _push(node, _notice(node, to, "01a217786f36-0000-410602101201-A1", **over))
    assert result and result[0]["error"] == "forbidden" and rule in result[0]["reason"], result


def test_a_notice_names_a_case_of_the_station_it_goes_to(world: World) -> None:
    """A town's notice to village B about village A's case was delivered: B learned the
    number of a case it was never handed, and was urged about a case it cannot open."""
    a, town = world.node(VILLAGE_A), world.node(TOWN)
    case_id = a.new_case()
    world.round()
    result = _push(town, _notice(town, VILLAGE_B, case_id))
    assert result and result[0]["error"] == "forbidden" and "case_id" in result[0]["reason"]
    assert "不是" in result[0]["reason"]
