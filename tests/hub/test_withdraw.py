"""撤销办结 at the hub: a station's ``completion_withdrawn`` is judged on receipt by the same
rule as on the laptop (schemas.withdraw through schemas.fold.check_received): taken while
the completion is the case's last step and within its window, refused per document
(403 forbidden, the rule named) otherwise, so a laptop with an older or altered app cannot
take back a completion that was rated, or one a month old that counted in a report (5 a)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from hub.transitions import case_events
from schemas import build
from schemas.fold import fold
from schemas.hlc import HLC
from schemas.state import LOCAL_TZ
from sync.crypto import sign_document

from .conftest import VILLAGE_A, World

SIGNED = {"applicant_signature": "sig-form-b.png", "documents": ["审批结果"]}
WHY = {"details": "点错了办件"}


def _step(node: Any, case_id: str, event_type: str, *, clock: HLC | None = None,
          private: dict[str, Any] | None = None, **fields: Any) -> dict[str, Any]:
    clock = clock or node.clock()
    at = dt.datetime.fromtimestamp(clock.wall_ms / 1000, LOCAL_TZ).isoformat(timespec="seconds")
    ev = build.make_event(event_type, case_id=case_id, clock=clock, at=at,
                          institution=node.institution, staff="staff-201-1",
                          private=private or {}, base_hlc=node.last_event(case_id), **fields)
    doc = sign_document(node.case_key(case_id).seal(ev), node.signer)
    node.store.put(doc)
    return doc


def _completed(world: World, *, days_ago: int = 0) -> tuple[Any, str, dict[str, Any]]:
    """Village A's case in handling, completed ``days_ago`` (typed then), pushed."""
    a = world.node(VILLAGE_A)
    case_id = a.new_case()
    clock = None
    if days_ago:
        then = dt.datetime.now(LOCAL_TZ) - dt.timedelta(days=days_ago)
        clock = HLC(int(then.timestamp() * 1000), 0, a.device_id)
    done = _step(a, case_id, "completion", clock=clock, private=SIGNED)
    assert a.sync()["refused"] == 0
    return a, case_id, done


def test_a_withdrawal_of_the_last_step_is_taken_and_the_case_is_open_again(world: World) -> None:
    a, case_id, done = _completed(world)
    w = _step(a, case_id, "completion_withdrawn", completion=done["hlc"], reason="wrong_case",
              private=WHY)
    assert a.sync()["refused"] == 0
    assert world.hub.stores.main.get(w["_id"])["reason"] == "wrong_case"
    state = fold(case_events(world.hub.stores, case_id))
    assert state.status == "handling" and state.completed_on is None
    assert [x["completion"] for x in state.withdrawals] == [done["hlc"]]


def test_a_withdrawal_after_a_rating_is_refused(world: World) -> None:
    a, case_id, done = _completed(world)
    _step(a, case_id, "rating", level="satisfied", channel="window")
    w = _step(a, case_id, "completion_withdrawn", completion=done["hlc"], reason="wrong_case",
              private=WHY)
    reason = world.refused(w)
    assert "只能撤销作为本件最后一步的办结" in reason and "last step" in reason


def test_a_withdrawal_past_its_window_is_refused(world: World) -> None:
    a, case_id, done = _completed(world, days_ago=20)  # past the longest holiday (国庆, 春节)
    w = _step(a, case_id, "completion_withdrawn", completion=done["hlc"], reason="wrong_case",
              private=WHY)
    assert "个工作日内" in world.refused(w)


def test_the_demo_station_withdraws_a_completion_and_completes_the_case_again(
        world: World) -> None:
    """`bangban demo` holds one 撤销办结 (ops.demo_node.SimNode.withdrawn_completion, on a
    village's case in handling): the hub takes its three steps, none refused (the demo's
    summary prints 0 refusals), and the case stands completed by the second completion,
    the first one listed as withdrawn for the oversight's checks page."""
    a = world.node(VILLAGE_A)
    case_id = a.new_case()
    a.withdrawn_completion(case_id)
    assert a.sync()["refused"] == 0
    events = case_events(world.hub.stores, case_id)
    slip, real = [e["hlc"] for e in events if e["event_type"] == "completion"]
    state = fold(events)
    assert (state.status, state.completion, state.reviews) == ("completed", real, [])
    assert [(w["completion"], w["reason"]) for w in state.withdrawals] == [(slip, "wrong_case")]
