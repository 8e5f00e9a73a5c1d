"""End-to-end, a real ``bangban hub serve`` with a county center (鹤山区 410602) working: a
case handed village → town → county, worked there and handed back down to the village that
opened it (4.3, clause 10's 帮办代办 process); a case the county takes itself; the keyring
wrapped at each hop and who sees what (design.md §5); the county's notices down the
hierarchy (schemas/notices.py); and what a tier may not do, refused with the rule named."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from ops.demo import TOWN, VILLAGE_A, VILLAGE_B, DemoNetwork
from tests.e2e.test_hub_network import ids_in_view
from tests.e2e.test_hub_routes import _holder

pytestmark = pytest.mark.e2e

COUNTY = "410602"  # 鹤山区政务服务中心, the town's parent
OTHER = "410621"  # 浚县政务服务中心, another county of the city


@pytest.fixture(scope="module")
def net(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DemoNetwork]:
    network = DemoNetwork(tmp_path_factory.mktemp("hubcounty"),
                          db_prefix=f"k{uuid.uuid4().hex[:10]}",
                          stations=(COUNTY, OTHER, TOWN, VILLAGE_A, VILLAGE_B))
    try:
        network.start()
        yield network
    finally:
        network.stop()


def _event(node: Any, case_id: str, event_type: str, private: dict[str, Any],
           **fields: Any) -> dict[str, Any]:
    """A step of ``node`` on ``case_id``, sealed with the case key and signed (not stored)."""
    from schemas import build

    ev = build.make_event(event_type, case_id=case_id, clock=node.clock(), at=node.now(),
                          institution=node.institution, private=private,
                          base_hlc=node.last_event(case_id), **fields)
    return dict(node._seal_sign(ev, node.case_key(case_id)))


def _push(node: Any, doc: dict[str, Any]) -> dict[str, Any]:
    """``doc`` written straight to the hub, past the node's own checks (as a mistaken or
    forged client would): the hub's answer for that one document."""
    (row,) = node.remote.bulk_docs([doc])
    return dict(row)


def test_a_case_goes_up_to_the_county_and_back_down_to_its_village(net: DemoNetwork) -> None:
    a, b, town, county, other = (net.nodes[c] for c in (VILLAGE_A, VILLAGE_B, TOWN, COUNTY,
                                                        OTHER))
    case_id = a.new_case()
    a.hand_up(case_id, TOWN)
    net.round()
    # at the town: the county sees neither the case nor its keyring yet, only boards
    assert case_id in town.cases() and case_id not in county.cases()
    assert not any(case_id in i for i in ids_in_view(net, COUNTY))
    town.hand_up(case_id, COUNTY)  # the town wraps the case key for the county
    net.round()
    assert {_holder(n, case_id) for n in (a, town, county)} == {COUNTY}
    # the county opens the particulars the village typed (its own wrap, design.md §5)
    header = county.store.get(f"case:{case_id}")
    assert county.case_key(case_id)._open(header), "the county cannot open the case"
    # another county and the other village of the town never see it
    for code in (OTHER, VILLAGE_B):
        assert not any(case_id in i for i in ids_in_view(net, code)), code
    # worked at the county: a work log (7.3.2), then handed back down one tier at a time
    note = "县中心已协调民政局加快审批"
    log = _event(county, case_id, "work_log", {"text": note}, kind="tracking")
    county.store.put(log)
    county.hand_down(case_id, TOWN)
    net.round()
    town.hand_down(case_id, VILLAGE_A)
    net.round()
    assert {_holder(n, case_id) for n in (a, town, county)} == {VILLAGE_A}
    # the village opens the county's entry with the wrap it always had
    stored = a.store.get(log["_id"])
    assert a.case_key(case_id)._open(stored)["text"] == note
    # and completes the case itself (10.1.5); the hub takes it
    done = _event(a, case_id, "completion", {"applicant_signature": "signature.png"})
    assert "error" not in _push(a, done), done


def test_what_a_tier_may_not_do_is_refused_with_the_rule(net: DemoNetwork) -> None:
    from schemas import build
    from sync.crypto import sign_document

    a, b, town, county, other = (net.nodes[c] for c in (VILLAGE_A, VILLAGE_B, TOWN, COUNTY,
                                                        OTHER))
    case_id = b.new_case()
    net.round()
    # 4.3: a village hands up to its town, never straight to the county
    up = _event(b, case_id, "hand_up", {}, **build.handover_fields(VILLAGE_B, COUNTY,
                                                                   "needs_coordination"))
    refused = _push(b, up)
    assert refused["error"] == "forbidden" and "handover_adjacent_tier" in refused["reason"]
    assert "上报只能移交给直接上级机构" in refused["reason"]
    # the county writes nothing into a case of its village it was not handed (it sees the
    # board's row only) ...
    b.hand_up(case_id, TOWN)
    net.round()
    key = town.case_key(case_id)  # what a forger holding the key could seal with

    def forged(node: Any, event_type: str, private: dict[str, Any], **fields: Any) -> Any:
        ev = build.make_event(event_type, case_id=case_id, clock=node.clock(), at=node.now(),
                           institution=node.institution, private=private, **fields)
        return sign_document(key.seal(ev), node.signer)

    for node in (county, other):  # ... nor does another county
        row = _push(node, forged(node, "work_log", {"text": "x"}, kind="tracking"))
        assert row["error"] == "forbidden" and f"not held by institution {node.institution}" \
            in row["reason"], row
    # a county hands down to a town, never past it to a village
    town.hand_up(case_id, COUNTY)
    net.round()
    past = _event(county, case_id, "hand_down", {},
                  **build.handover_fields(COUNTY, VILLAGE_B, "returned"))
    row = _push(county, past)
    assert row["error"] == "forbidden" and "handover_adjacent_tier" in row["reason"], row


def test_the_county_coordinates_its_subtree_and_takes_cases_itself(net: DemoNetwork) -> None:
    from schemas.notices import notice_doc_id
    from schemas.vocab import SCHEMA_VERSION
    from sync.crypto import sign_document

    a, b, town, county, other = (net.nodes[c] for c in (VILLAGE_A, VILLAGE_B, TOWN, COUNTY,
                                                        OTHER))
    own = county.new_case()  # a case the county takes directly
    at_b = b.new_case()
    net.round()
    # the county's own case stays with it; the boards (cleartext, design.md §5) of its town
    # and villages reach it, and none reach another county
    assert own in county.cases() and all(own not in n.cases() for n in (a, b, town, other))
    view = ids_in_view(net, COUNTY)
    assert {f"board:{c}" for c in (TOWN, VILLAGE_A, VILLAGE_B)} <= view
    assert not any(i.startswith("board:") for i in ids_in_view(net, OTHER))
    assert f"board:{COUNTY}" not in ids_in_view(net, TOWN)  # boards go up, never down
    # a notice down the hierarchy, past the town, to the village holding the case (4.2)

    def notice(node: Any, to: str) -> dict[str, Any]:
        hlc = str(node.clock())
        return sign_document({"_id": notice_doc_id(to, hlc), "type": "notice",
                              "schema_version": SCHEMA_VERSION, "hlc": hlc, "at": node.now(),
                              "device": node.device_id, "institution": node.institution,
                              "to_institution": to, "case_id": at_b,
                              "reason": "follow_up"}, node.signer)

    sent = notice(county, VILLAGE_B)
    assert "error" not in _push(county, sent)
    net.round()
    assert sent["_id"] in {r["id"] for r in b.store.all_docs(startkey="notice:",
                                                             endkey="notice:\ufff0")["rows"]}
    assert sent["_id"] not in ids_in_view(net, VILLAGE_A)
    # another county may not urge a village of this one
    row = _push(other, notice(other, VILLAGE_B))
    assert row["error"] == "forbidden" and "is not below 410621" in row["reason"], row
