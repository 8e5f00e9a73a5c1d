"""End-to-end, a real ``bangban hub serve``: a case's route through the town (4.3), who
sees it after each step (design.md §5), and a hand-over out of the county refused."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from ops.demo import TOWN, VILLAGE_A, VILLAGE_B, DemoNetwork
from tests.e2e.test_hub_network import ids_in_view

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def net(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DemoNetwork]:
    network = DemoNetwork(tmp_path_factory.mktemp("hubroutes"),
                          db_prefix=f"r{uuid.uuid4().hex[:10]}")
    try:
        network.start()
        yield network
    finally:
        network.stop()


def _wrap_for(node: Any, case_id: str, to: str) -> None:
    """The case key wrapped for ``to`` (SimNode.hand_down leaves the keyring as it is: the
    station a case came from holds a wrap; another village of the town has none yet)."""
    from sync.crypto import add_recipient

    directory = node.directory()
    ring = node.store.get(f"keyring:{case_id}")
    ring2 = add_recipient(ring, node.case_key(case_id), to, directory, node.signer)
    node.store.put({**ring2, "_rev": ring["_rev"]})


def _holder(node: Any, case_id: str) -> str | None:
    from schemas.fold import fold

    rows = node.store.all_docs(startkey=f"event:{case_id}:", endkey=f"event:{case_id}:\ufff0",
                               include_docs=True)["rows"]
    return fold([r["doc"] for r in rows]).holder


def test_handed_up_offline_then_down_to_another_village_and_not_out_of_the_county(
        net: DemoNetwork) -> None:
    a, b, town = net.nodes[VILLAGE_A], net.nodes[VILLAGE_B], net.nodes[TOWN]
    case_id = a.new_case()
    a.hand_up(case_id, TOWN)  # offline: the others sync first, village A only later
    town.sync()
    b.sync()
    assert case_id not in town.cases()
    net.round()
    assert case_id in town.cases() and case_id not in b.cases()
    assert not any(case_id in i for i in ids_in_view(net, VILLAGE_B))
    # the town hands it down to the other village of the town (4.3: door-to-door there)
    _wrap_for(town, case_id, VILLAGE_B)
    town.hand_down(case_id, VILLAGE_B)
    net.round()
    for node in (a, b, town):  # every replica holds the case and folds the same holder
        assert case_id in node.cases() and _holder(node, case_id) == VILLAGE_B, node.institution
    b_view = ids_in_view(net, VILLAGE_B)
    a_events = {r["id"] for r in a.store.all_docs(startkey=f"event:{case_id}:",
                                                  endkey=f"event:{case_id}:\ufff0")["rows"]}
    assert a_events <= b_view  # every event before the hand-down reached village B
    # village B hands it back up; the town's hand-up out of its county (浚县 410621 is not
    # the parent of 鹤壁集镇, a town of 鹤山区 410602) is refused and stored nowhere: the
    # other county never sees the case
    b.hand_up(case_id, TOWN)
    net.round()
    assert {_holder(n, case_id) for n in (a, b, town)} == {TOWN}
    out = _out_of_county(town, case_id)
    assert out["error"] == "forbidden" and "handover_adjacent_tier" in out["reason"], out


def _out_of_county(town: Any, case_id: str) -> dict[str, Any]:
    from schemas import build
    from sync.crypto import sign_document

    # written past the node's own checks, as a mistaken or forged client would: the hub
    # answers for that one document
    ev = build.make_event("hand_up", case_id=case_id, clock=town.clock(), at=town.now(),
                          institution=TOWN, private={}, base_hlc=town.last_event(case_id),
                          **build.handover_fields(TOWN, "410621", "needs_coordination"))
    doc = sign_document(town.case_key(case_id).seal(ev), town.signer)
    (row,) = town.remote.bulk_docs([doc])
    return dict(row)
