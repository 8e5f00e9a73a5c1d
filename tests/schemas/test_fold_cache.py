"""check_received with a FoldCache (the hub's batch ingest) decides exactly as without one,
and actually folds each event once instead of once per later event."""

from __future__ import annotations

import importlib
import random
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from schemas.fold import FoldCache, check_received, fold, order_key
from schemas.workdays import Workdays
from tests.schemas.helpers import STEPS, CaseBuilder, random_events

# The module, not the function `schemas.fold` that the package re-exports under its name.
fold_module = importlib.import_module("schemas.fold")

Outcome = tuple[str, str, str | None, str | None] | None


def _outcome(known: list[dict[str, Any]], ev: dict[str, Any], wd: Workdays,
             cache: FoldCache | None) -> Outcome:
    try:
        check_received(known, ev, workdays=wd, cache=cache)
    except Exception as exc:  # any refusal (or crash) must be the same with the cache
        return (type(exc).__name__, str(getattr(exc, "reason", exc)),
                getattr(exc, "rule", None), getattr(exc, "clause", None))
    return None


def _case(spec: list[tuple[str, int, int]], rnd: random.Random) -> list[dict[str, Any]]:
    """Random events in fold order: some malformed ("broken": apply fails on them), some
    naming a ``base_hlc`` (an earlier event: concurrent writers; or one the hub lacks)."""
    events = random_events([("notification" if s == "broken" else s, m, d)
                            for s, m, d in spec])
    for ev, (step, _m, _d) in zip(events, spec, strict=True):
        if step == "broken":
            del ev["materials"]  # passes the rules, breaks apply: the fold restarts
    events.sort(key=order_key)
    for i, ev in enumerate(events):
        roll = rnd.random()
        if roll < 0.3 and i:
            ev["base_hlc"] = events[rnd.randrange(i)]["hlc"]
        elif roll < 0.35:
            ev["base_hlc"] = "0000000000000-0000-410621101201-A7"
    return events


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.tuples(st.sampled_from([*STEPS, "broken"]), st.integers(0, 5999),
                          st.integers(1, 2)), min_size=1, max_size=30),
       st.randoms(use_true_random=False), st.integers(0, 5), st.booleans())
def test_cached_receipt_check_decides_as_the_full_fold(spec: list[tuple[str, int, int]],
                                                      rnd: random.Random, n_stored: int,
                                                      disorder: bool) -> None:
    events = _case(spec, rnd)
    # Some events are already stored at the hub (read back in _id order), the rest arrive
    # in one batch in fold order, with redeliveries; sometimes slightly out of order.
    stored = sorted(rnd.sample(events, k=min(n_stored, len(events))), key=lambda e: e["_id"])
    incoming = [e for e in events if e not in stored]
    incoming += rnd.sample(events, k=min(3, len(events)))
    incoming.sort(key=order_key)
    if disorder and len(incoming) > 1:
        i = rnd.randrange(len(incoming) - 1)
        incoming[i], incoming[i + 1] = incoming[i + 1], incoming[i]
    wd, cache = Workdays(), FoldCache()
    known = list(stored)
    for ev in incoming:
        plain = _outcome(known, ev, wd, None)
        # as the hub does: fresh copies of the batch's events at every check
        cached = _outcome(stored + [dict(e) for e in known[len(stored):]], ev, wd, cache)
        assert cached == plain
        prefix = [e for e in known if order_key(e) < order_key(ev)]
        assert cache.fold(ev["case_id"], prefix, wd).as_dict() == \
            fold(prefix, workdays=wd).as_dict()
        if plain is None:
            known.append(ev)


def _long_case(n: int) -> list[dict[str, Any]]:
    c = CaseBuilder().proxy_in_handling()
    for i in range(n):
        c.ev("work_log", f"2026-03-03T{8 + i // 60:02d}:{i % 60:02d}", check=False,
             kind="tracking", private={"text": "t"})
    return c.events


@pytest.mark.parametrize("cached", [False, True])
def test_the_cache_folds_each_event_once(monkeypatch: pytest.MonkeyPatch, cached: bool) -> None:
    events = _long_case(40)
    applied: list[str] = []
    real_apply = fold_module._apply

    def counting(s: Any, e: Any, wd: Workdays) -> None:
        applied.append(e["_id"])
        real_apply(s, e, wd)

    monkeypatch.setattr(fold_module, "_apply", counting)
    wd, cache = Workdays(), FoldCache() if cached else None
    known: list[dict[str, Any]] = []
    for ev in events:
        check_received(known, ev, workdays=wd, cache=cache)
        known.append(ev)
    n = len(events)
    if cache is None:
        assert len(applied) == n * (n - 1) // 2  # the whole prefix again for every event
    else:
        assert len(applied) == n - 1 and len(set(applied)) == n - 1
        assert cache.extended == n - 1  # every check after the first extended the last fold


def test_a_prefix_that_is_no_extension_refolds() -> None:
    """An event ordered before the cached ones (a late arrival) is not appended to the
    cached state: the prefix is folded again, in order."""
    events = _long_case(5)
    late = events.pop(2)
    wd, cache = Workdays(), FoldCache()
    assert cache.fold("c", events, wd).as_dict() == fold(events, workdays=wd).as_dict()
    assert cache.fold("c", events + [late], wd).as_dict() == \
        fold(events + [late], workdays=wd).as_dict()
    assert cache.extended == 0
