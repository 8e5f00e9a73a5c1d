"""Uploads keep feed order while pipelined batches load at once (sync/replicate/turns.py).

The hub refuses an event whose case's earlier events it does not hold yet (design.md §3);
a scan's chunks once put an event in a later batch that reached the hub first."""

from __future__ import annotations

import threading
from typing import Any

import pytest

from sync.errors import Forbidden
from sync.replicate import replicate

from .helpers import Flaky, make_docs, snapshot
from .memstore import MemStore


def _late_first_diff(target: MemStore, hold: float) -> tuple[Flaky, list[int]]:
    """The target, its first ``_revs_diff`` answered late (a slow round trip), recording
    the first document number of each upload in the order they arrive. The late answer
    waits until a later batch's upload has arrived, or ``hold`` seconds (held for a fixed
    0.3 s, whether a later batch overtook was left to the threads' timing)."""
    flaky = Flaky(target, overlapping=True)  # as the hub's HTTP API: a late answer holds no other
    order: list[int] = []
    lock = threading.Lock()
    overtaken = threading.Event()

    def diff(revs: dict[str, list[str]], *_a: Any, **_k: Any) -> None:
        if "doc00000" in revs:  # the first batch's
            overtaken.wait(hold)

    def upload(docs: list[dict[str, Any]], *_a: Any, **_k: Any) -> None:
        with lock:
            order.append(min(int(d["n"]) for d in docs))
        if order[-1] > 0:
            overtaken.set()

    flaky.hooks["revs_diff"] = diff
    flaky.hooks["bulk_docs"] = upload
    return flaky, order


def test_a_late_first_batch_is_still_written_first() -> None:
    """Nothing may overtake: the first batch is held a second while the later ones load."""
    source, target = MemStore("a"), MemStore("b")
    make_docs(source, 60)
    flaky, order = _late_first_diff(target, hold=1.0)
    result = replicate(source, flaky.as_store(), batch_size=10, max_batch_size=10)
    assert result.docs_written == 60
    assert order == sorted(order) and order[0] == 0, order
    assert snapshot(source) == snapshot(target)


def test_without_ordered_writes_the_late_batch_comes_after_later_ones() -> None:
    """The setting is what keeps the order: the same run unordered overtakes the first
    (held until a later upload arrives: generous, it ends as soon as one does)."""
    source, target = MemStore("a"), MemStore("b")
    make_docs(source, 60)
    flaky, order = _late_first_diff(target, hold=60.0)
    replicate(source, flaky.as_store(), batch_size=10, max_batch_size=10, ordered_writes=False)
    assert order != sorted(order), order


def test_a_failed_batch_stops_the_later_ones_from_writing() -> None:
    source, target = MemStore("a"), MemStore("b")
    make_docs(source, 60)
    flaky, order = _late_first_diff(target, hold=1.0)

    def refuse_first(docs: list[dict[str, Any]], *_a: Any, **_k: Any) -> None:
        if min(int(d["n"]) for d in docs) == 0:
            raise Forbidden("link gone for good")  # not retryable: the run ends

    flaky.hooks["bulk_docs"] = refuse_first
    with pytest.raises(Forbidden):
        replicate(source, flaky.as_store(), batch_size=10, max_batch_size=10)
    # the batches loaded meanwhile waited for the first, and wrote nothing after it failed
    assert target.info()["doc_count"] == 0
