"""补录 checked at the hub (hub.transitions.paper_refusal): a step stating its paper date is
judged as the node judges it (schemas.paper.check_paper_day), against the case's earlier
steps and the day it was typed. Before, only the node's form refused the rest, so a laptop
with an older or altered app could back-date a suspension onto a live case whose time limit
had run out (10.2.5), or a completion (5 a, 11.1 b), and the hub stored it."""

from __future__ import annotations

import datetime as dt
from typing import Any

from schemas import build
from schemas.hlc import HLC
from schemas.paper import paper_at
from schemas.state import LOCAL_TZ, event_date

from .conftest import VILLAGE_A, World


def _today() -> dt.date:
    return dt.datetime.now(LOCAL_TZ).date()


def _typed(day: dt.date, minute: int) -> int:
    """Epoch ms of ``day`` at 10:``minute`` Beijing time."""
    return int(dt.datetime.combine(day, dt.time(10, minute), LOCAL_TZ).timestamp() * 1000)


def _bring_in(node: Any, *, typed_on: dt.date | None = None, accepted_days_ago: int = 20) -> str:
    """A case of the paper ledger, its steps stating their paper dates, typed in together:
    on ``typed_on`` (its hlc), or now. The sample history of a case in handling gives the
    steps; each states the paper's noon (node/paper.py)."""
    from ops.demo_node import sample_histories

    start = _today() - dt.timedelta(days=accepted_days_ago)
    header, *events = sample_histories(node.institution, 1, town=node.institution[:9],
                                       seed=node.rng.randrange(10**6), scenarios=("in_handling",), start=start,
                                       serial=node.serial)[0]
    node.serial += 1
    header = {**header, "opened_at": paper_at(event_date(events[0]))}
    paper, base = [], None
    for n, ev in enumerate(events):
        clock = HLC(_typed(typed_on, n), 0, node.device_id) if typed_on else node.clock()
        fields = {k: v for k, v in ev.items() if k not in (
            "_id", "type", "schema_version", "event_type", "case_id", "hlc", "at", "device",
            "institution", "staff", "base_hlc", "private")}
        made = build.make_event(ev["event_type"], case_id=header["case_id"], clock=clock,
                                at=paper_at(event_date(ev)), institution=node.institution,
                                staff=ev.get("staff"), base_hlc=base,
                                private=ev.get("private"), **fields)
        base = made["hlc"]
        paper.append(made)
    (case_id,) = node.load_histories([[header, *paper]])
    return str(case_id)


def _paper_step(node: Any, case_id: str, event_type: str, day: dt.date, *,
                private: dict[str, Any] | None = None, **fields: Any) -> dict[str, Any]:
    """One more step of ``case_id``, typed now, stating the paper date ``day``."""
    from sync.crypto import sign_document

    ev = build.make_event(event_type, case_id=case_id, clock=node.clock(), at=paper_at(day),
                          institution=node.institution, staff="staff-201-1", private=private or {},
                          base_hlc=node.last_event(case_id), **fields)
    doc = sign_document(node.case_key(case_id).seal(ev), node.signer)
    node.store.put(doc)
    return doc


def _paper_log(node: Any, case_id: str) -> dict[str, Any]:
    """A work-log entry of the paper ledger dated yesterday, typed now."""
    return _paper_step(node, case_id, "work_log", _today() - dt.timedelta(days=1),
                       kind="tracking", private={"text": "纸质台账记载的跟踪"})


def test_a_case_brought_in_from_paper_is_taken(world: World) -> None:
    a = world.node(VILLAGE_A)
    case_id = _bring_in(a)
    more = _paper_log(a, case_id)
    result = a.sync()
    assert result["refused"] == 0, result["failures"]
    assert world.hub.stores.main.get(more["_id"])["at"] == more["at"]


def test_a_paper_step_after_live_ones_is_refused(world: World) -> None:
    """Paper steps come first: one slipped in behind live steps rewrites a running case's
    history (a proxy case's suspension dated before its deadline would stop a clock that
    has run out, 10.2.5)."""
    a = world.node(VILLAGE_A)
    case_id = a.new_case()  # steps recorded live (each typed when it happened)
    a.sync()
    doc = _paper_step(a, case_id, "material_received", _today() - dt.timedelta(days=3),
                      materials=["ID"])
    reason = world.refused(doc)
    assert reason.startswith("at: 补录：本案已有当日登记的步骤") and "recorded live" in reason


def test_a_completion_is_never_entered_from_paper(world: World) -> None:
    a = world.node(VILLAGE_A)
    case_id = _bring_in(a)
    doc = _paper_step(a, case_id, "completion", _today() - dt.timedelta(days=1),
                      private={"applicant_signature": "sig-form-b.png",
                               "materials_returned": [], "documents": ["审批结果"]})
    assert "不能补录" in world.refused(doc)


def test_paper_steps_are_typed_on_the_day_the_case_is_brought_in(world: World) -> None:
    """A case brought in yesterday takes no paper step today: typed in weeks later, a
    suspension dated before the deadline would stop a clock that had run out."""
    a = world.node(VILLAGE_A)
    case_id = _bring_in(a, typed_on=_today() - dt.timedelta(days=1))
    doc = _paper_step(a, case_id, "work_log", _today() - dt.timedelta(days=1), kind="tracking",
                       private={"text": "纸质台账记载的跟踪"})
    assert "须当天录完" in world.refused(doc)



def _live_step(node: Any, case_id: str) -> dict[str, Any]:
    """A work-log entry of ``case_id`` recorded live on ``node`` (stating when it is typed)."""
    from sync.crypto import sign_document

    now = dt.datetime.now(LOCAL_TZ).isoformat(timespec="seconds")
    ev = build.make_event("work_log", case_id=case_id, clock=node.clock(), at=now,
                          institution=node.institution, staff="staff-201-1",
                          base_hlc=node.last_event(case_id), kind="tracking",
                          private={"text": "当日跟踪"})
    doc = sign_document(node.case_key(case_id).seal(ev), node.signer)
    node.store.put(doc)
    return doc


def test_a_paper_step_concurrent_with_a_live_one_is_taken(world: World, tmp_path: Any) -> None:
    """Two laptops of the station: one records a live step of a case brought in today,
    the other, not synced since, types one more paper step of it. From its writer's view
    (its base_hlc) the paper step came before any live one; the hub takes it as it takes
    any step legal from its writer's view (design.md §3, check_received), and the 补录
    audit lists it. It was refused for good, judged against the live step its laptop had
    never seen: a station's honest step lost. Behind a live step it breaks the rule all the
    same: the case is 需复核 where the supervisor looks (the oversight's fact, the board)
    and on the laptops, the step kept and not applied (schemas.paper_fold); only the
    audit listed it."""
    from tests.hub.test_view_pending import _new_laptop

    a, b = world.node(VILLAGE_A), _new_laptop(world, tmp_path / "a2")
    case_id = _bring_in(a)
    a.sync()
    b.sync()  # the second laptop has the case as brought in
    _live_step(a, case_id)
    assert a.sync()["refused"] == 0
    doc = _paper_log(b, case_id)
    result = b.sync()
    assert result["refused"] == 0, result["failures"]
    assert world.hub.stores.main.get(doc["_id"])["at"] == doc["at"]
    from hub.oversight import Oversight
    from hub.transitions import case_events
    from schemas.fold import fold
    from schemas.paper_fold import RULE

    ov = Oversight(world.hub)
    try:
        ov.catch_up(force=True)
        fact = ov.facts.get(case_id)
    finally:
        ov.facts.close()
    assert fact is not None and fact.needs_review and fact.reviews == 1
    a.sync()  # the station's other laptop gets the paper step
    on_a = [r["doc"] for r in a.store.all_docs(
        startkey=f"event:{case_id}:", endkey=f"event:{case_id}:\ufff0", include_docs=True)["rows"]]
    for events in (case_events(world.hub.stores, case_id), on_a):
        state = fold(events)
        assert [(r.event_id, r.rule) for r in state.reviews] == [(doc["hlc"], RULE)]


def test_a_paper_step_behind_its_own_laptop_s_live_step_is_refused(world: World) -> None:
    """The same laptop recorded the live step: its own steps are in its view whatever
    base_hlc it names, so naming an earlier one does not make a back-dated step
    concurrent (an altered app's way round the rule above)."""
    from sync.crypto import sign_document

    a = world.node(VILLAGE_A)
    case_id = _bring_in(a)
    base = a.last_event(case_id)
    _live_step(a, case_id)
    ev = build.make_event("work_log", case_id=case_id, clock=a.clock(),
                          at=paper_at(_today() - dt.timedelta(days=1)),
                          institution=a.institution, staff="staff-201-1", base_hlc=base,
                          kind="tracking", private={"text": "纸质台账记载的跟踪"})
    doc = sign_document(a.case_key(case_id).seal(ev), a.signer)
    a.store.put(doc)
    assert "recorded live" in world.refused(doc)


def test_a_paper_step_whose_base_is_still_in_flight_is_judged_again() -> None:
    """Its writer's base not here yet (in the device's other batch, written out of order by
    an older app's replicator), the steps it had seen are not known: the refusal waits for
    that batch (RETRY, hub.replication.scoped) instead of standing for good."""
    from hub.transitions import RETRY, paper_refusal
    from schemas.hlc import pack

    yesterday = _today() - dt.timedelta(days=1)
    now = dt.datetime.now(LOCAL_TZ)
    case_id = pack(HLC(int(now.timestamp() * 1000) - 1000, 0, "410602101201-A2"))

    def ev(n: int, device: str, at: str, base: str | None) -> dict[str, Any]:
        clock = HLC(int(now.timestamp() * 1000) + n, 0, device)
        return build.make_event("work_log", case_id=case_id, clock=clock, at=at,
                                institution="410602101201", staff="s", base_hlc=base,
                                kind="tracking", private={"text": "x"})

    first = ev(0, "410602101201-A2", paper_at(yesterday), None)
    live = ev(1, "410602101201-A1", now.isoformat(timespec="seconds"), first["hlc"])
    paper = ev(2, "410602101201-A2", paper_at(yesterday), first["hlc"])
    assert paper_refusal(paper, [first, live]) is None  # concurrent with the live step
    held = paper_refusal(paper, [live])  # its base in flight
    assert held is not None and held.get(RETRY) == "1"
