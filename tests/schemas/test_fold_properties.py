"""design.md §3: any delivery order of the same events folds to the same state; concurrent
events that cannot both hold are kept and flag ``needs_review``; the hub's receipt check."""

from __future__ import annotations

import datetime as dt
import random
from typing import Any

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from schemas.build import make_event
from schemas.errors import IllegalTransition
from schemas.fold import FoldCache, check_received, fold, order_key
from schemas.hlc import HLC
from schemas.sample_cases import SCENARIOS, case_histories
from schemas.workdays import Workdays
from tests.schemas.helpers import PAPER, SIGNED, STEPS, VILLAGE, CaseBuilder, random_events

HISTORIES = list(case_histories(seed=11, n=2 * len(SCENARIOS)))
AS_OF = "2026-05-01"


def _state(events: list[dict[str, Any]]) -> dict[str, Any]:
    return fold(events, as_of=AS_OF).as_dict()


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(HISTORIES), st.randoms(use_true_random=False))
def test_any_delivery_order_of_sample_histories_folds_the_same(history: list[dict[str, Any]],
                                                                rnd: random.Random) -> None:
    events = history[1:]
    expected = _state(events)
    shuffled = list(events)
    rnd.shuffle(shuffled)
    shuffled += rnd.sample(events, k=min(3, len(events)))  # duplicates: redelivery
    assert _state(shuffled) == expected
    assert not expected["needs_review"]


@settings(max_examples=150, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(STEPS), st.integers(0, 5999), st.integers(1, 2)),
                min_size=1, max_size=25),
       st.randoms(use_true_random=False), PAPER)
def test_any_delivery_order_of_arbitrary_events_folds_the_same(
        spec: list[tuple[str, int, int]], rnd: random.Random, paper: set[int]) -> None:
    events = random_events(spec, paper)
    expected = _state(events)
    shuffled = list(events)
    rnd.shuffle(shuffled)
    assert _state(shuffled) == expected
    # nothing is dropped: every event is either applied or listed for review
    assert expected["applied"] + len(expected["reviews"]) == expected["events"] == len(
        {e["_id"] for e in events})


def _concurrent_suspension_and_completion() -> tuple[CaseBuilder, dict[str, Any],
                                                        dict[str, Any], dict[str, Any]]:
    """Two laptops of one station, offline: A1 suspends (10.2.5.1), A2 completes (10.1.5)."""
    c = CaseBuilder().proxy_in_handling()
    base = c.events[-1]
    susp = c.make("suspension", "2026-03-05T09:00", reason="c", base_hlc=base["hlc"],
                  resumption_deadline="2026-03-20")
    done = c.make("completion", "2026-03-05T09:30", short="A2", base_hlc=base["hlc"],
                  private=SIGNED)
    return c, base, susp, done


def test_concurrent_events_that_cannot_both_hold_are_kept_and_flagged() -> None:
    c, _base, susp, done = _concurrent_suspension_and_completion()
    for order in ([susp, done], [done, susp]):
        s = fold(c.events + order)
        assert s.status == "suspended" and s.needs_review
        assert [(r.event_type, r.clause, r.rule) for r in s.reviews] == \
            [("completion", "10.1.5", "status")]
        assert s.events == len(c.events) + 2  # both kept


def test_hub_accepts_concurrent_event_by_its_base_and_refuses_illegal_ones() -> None:
    c, base, susp, done = _concurrent_suspension_and_completion()
    known = c.events + [susp]
    check_received(known, susp)
    check_received(known, done)  # illegal after susp, legal in what its writer had seen
    without_base = dict(done)
    without_base.pop("base_hlc")
    with pytest.raises(IllegalTransition):
        check_received(known, without_base)
    unknown_base = dict(done, base_hlc=done["hlc"][:-2] + "A9")
    with pytest.raises(IllegalTransition) as e:
        check_received(known, unknown_base)
    assert e.value.rule == "base_unknown"
    rating = c.make("rating", "2026-03-06T09:00", level="satisfied", channel="haochaping",
                    base_hlc=base["hlc"])
    with pytest.raises(IllegalTransition) as e:  # 11.2.1: never legal before completion
        check_received(known, rating)
    assert e.value.clause == "11.2.1"


def test_hand_down_and_concurrent_village_step_flags_review() -> None:
    """4.3: the town hands the case down while the village (not yet synced) hands it up."""
    from tests.schemas.helpers import TOWN, VILLAGE

    c = CaseBuilder().proxy_in_handling()
    c.hand("hand_up", "2026-03-03T09:00", VILLAGE, TOWN)
    c.hand("hand_down", "2026-03-04T09:00", TOWN, VILLAGE)
    assert c.state().holder == VILLAGE
    stale = c.make("submitted", "2026-03-04T10:00", institution=TOWN, department="民政局",
                   channel="online")
    s = fold(c.events + [stale])
    assert s.needs_review and s.reviews[0].rule == "holder_only"


def test_review_resolved_clears_the_flag_and_keeps_the_event() -> None:
    """design.md §3 / 4.2: a coordinator acknowledges the conflict; nothing is deleted."""
    c, _base, susp, done = _concurrent_suspension_and_completion()
    c.events += [susp, done]
    assert c.state().needs_review
    from tests.schemas.helpers import TOWN

    with pytest.raises(IllegalTransition) as e:
        c.ev("review_resolved", "2026-03-06T09:00", institution=TOWN, events=[susp["hlc"]],
             decision="other", private={"note": "x"})
    assert e.value.rule == "review_not_open"
    c.ev("review_resolved", "2026-03-06T09:00", institution=TOWN, events=[done["hlc"]],
         decision="kept_as_record", private={"note": "两台电脑离线冲突，以中止为准"})
    s = c.state()
    assert not s.needs_review and s.status == "suspended"
    assert [r.event_id for r in s.resolved_reviews] == [done["hlc"]]
    assert s.events == len(c.events)


def test_both_laptops_settling_one_review_offline_is_one_act() -> None:
    """The review box shows on both laptops of the station (design.md §3); offline, each
    clerk records 冲突复核 for the same step. Each is legal where it was written (the hub
    takes both, check_received); folded, the second named a review already settled, was
    kept unapplied as a clash itself, and the case read 需复核 again, of its 冲突复核."""
    c, base, susp, done = _concurrent_suspension_and_completion()
    c.events += [susp, done]
    seen = done["hlc"]  # both laptops synced the clash, then went offline again
    first = c.make("review_resolved", "2026-03-06T09:00", events=[done["hlc"]], base_hlc=seen,
                   decision="kept_as_record", private={"note": "以中止为准"})
    second = c.make("review_resolved", "2026-03-06T09:30", short="A2", events=[done["hlc"]],
                    base_hlc=seen, decision="other", private={"note": "已收回办结单"})
    for doc in (first, second):
        check_received(c.events, doc)
    for order in ([first, second], [second, first]):
        s = fold(c.events + order)
        assert not s.needs_review and not s.reviews, s.reviews
        assert [r.event_id for r in s.resolved_reviews] == [done["hlc"]]
        assert s.status == "suspended" and s.events == len(c.events) + 2


def test_hub_accepts_every_sample_event_in_clock_order() -> None:
    """What the hub sees from honest devices: each event after those it was based on."""
    for history in HISTORIES:
        known: list[dict[str, Any]] = []
        for ev in sorted(history[1:], key=lambda e: e["hlc"]):
            check_received(known, ev)
            known.append(ev)


def test_malformed_and_foreign_documents_never_crash_the_fold() -> None:
    c = CaseBuilder().proxy_in_handling()
    bad = c.make("notification", "2026-03-03T09:00",
                 materials=[{"code": "M1", "name": "n", "how_to_obtain": "h"}])
    del bad["materials"]  # passes the status rule, breaks apply
    odd = dict(c.make("work_log", "2026-03-03T10:00", kind="other", private={"text": "t"}))
    del odd["event_type"]
    header = {"_id": "case:x", "type": "case"}
    s = fold(c.events + [bad, odd, header])
    assert s.status == "handling" and s.needs_review and s.events == len(c.events) + 2
    assert {r.rule for r in s.reviews} == {"malformed_event"}


def test_hub_and_node_fold_the_same_state() -> None:
    """The hub folds sealed events, a node open ones: only cleartext counts (design.md §3)."""
    from schemas.registry import split

    for history in HISTORIES:
        sealed = [dict(split(e)[0], sealed={"ct": "…"}) for e in history[1:]]
        assert _state(sealed) == _state(history[1:])


def _asdict_reference(state: Any) -> dict[str, Any]:
    import dataclasses

    d = dataclasses.asdict(state)
    d.pop("applied_ids")
    d.pop("held")  # the fold's own (schemas.withdraw.hold), never written out
    d.pop("live_from")  # the fold's own too (schemas.paper_fold.mark_live)
    d["problems_open"] = state.problems_open
    return d


@settings(max_examples=150, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(STEPS), st.integers(0, 5999), st.integers(1, 2)),
                min_size=1, max_size=25))
def test_as_dict_is_dataclasses_asdict_and_shares_nothing(spec: list[tuple[str, int, int]]) -> None:
    # CaseState.as_dict is written out for speed (the node's refold); it must stay what
    # dataclasses.asdict gives, reviews included, and be a copy the caller may change
    state = fold(random_events(spec), as_of=AS_OF)
    got = state.as_dict()
    assert got == _asdict_reference(state)
    for name, value in got.items():
        if isinstance(value, (list, dict)) and value:
            assert value is not getattr(state, name)
    for h in HISTORIES[:6]:
        s = fold(h[1:], as_of=AS_OF)
        assert s.as_dict() == _asdict_reference(s)


def _late(kind: str, after: dict[str, Any], seconds: int, device: int, k: int,
          **fields: Any) -> dict[str, Any]:
    """A ``kind`` event of ``after``'s case, ``seconds`` after it, on laptop A``device``."""
    moment = dt.datetime.fromisoformat(after["at"]) + dt.timedelta(seconds=seconds)
    return make_event(kind, case_id=after["case_id"],
                      clock=HLC(int(moment.timestamp() * 1000), 100 + k, f"{VILLAGE}-A{device}"),
                      at=moment.isoformat(), institution=VILLAGE, staff="staff-1", **fields)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.tuples(st.sampled_from([*STEPS, "completion", "completion"]),
                          st.integers(2, 1199), st.integers(1, 2)), min_size=1, max_size=16),
       st.lists(st.tuples(st.integers(0, 9), st.integers(1, 4000), st.integers(1, 3)),
                min_size=1, max_size=3),
       st.lists(st.tuples(st.lists(st.integers(0, 30), min_size=1, max_size=2),
                          st.integers(1, 40_000), st.integers(1, 3)), max_size=2),
       st.randoms(use_true_random=False), PAPER)
def test_withdrawals_and_reviews_resolved_fold_alike_fresh_and_extended(
        spec: list[tuple[str, int, int]], picks: list[tuple[int, int, int]],
        resolves: list[tuple[list[int], int, int]], rnd: Any, paper: set[int]) -> None:
    """Several 撤销办结 (repeats among them) and 冲突复核 naming any events, from three
    laptops, 补录 steps among them: any arrival order folds alike, and the hub's FoldCache,
    extending its fold by one event at a time as it checks a batch, reaches the fresh fold
    at every step (the steps held by a completion and released by its withdrawal,
    schemas.fold._release, a paper step by a completion that made the case live too)."""
    events = random_events([("application", 0, 1), ("acceptance", 1, 1), *spec], paper)
    completions = [e for e in events if e["event_type"] == "completion"]
    assume(completions)
    events += [_late("completion_withdrawn", completions[i % len(completions)], seconds, device,
                     k, completion=completions[i % len(completions)]["hlc"], reason="other",
                     private={"details": "点错了"}) for k, (i, seconds, device) in enumerate(picks)]
    named = list(events)
    events += [_late("review_resolved", completions[0], seconds, device, 50 + k,
                     events=sorted({named[j % len(named)]["hlc"] for j in idx}),
                     decision="kept_as_record", private={"note": "已核对"})
               for k, (idx, seconds, device) in enumerate(resolves)]
    expected = fold(events, as_of=AS_OF).as_dict()
    shuffled = list(events)
    rnd.shuffle(shuffled)
    assert fold(shuffled, as_of=AS_OF).as_dict() == expected
    ordered, cache, wd = sorted(events, key=order_key), FoldCache(), Workdays()
    for n in range(len(ordered) + 1):
        assert cache.fold(events[0]["case_id"], ordered[:n], wd).as_dict() == \
            fold(ordered[:n], workdays=wd).as_dict(), n
