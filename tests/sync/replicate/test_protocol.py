"""The replicator's protocol logic between two in-memory stores."""

from __future__ import annotations

import base64
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, cast

import pytest

from sync.errors import Forbidden, TransportError
from sync.replicate import ReplicationOptions, Replicator, replicate
from sync.store import DocumentStore

from .helpers import Flaky, make_docs, snapshot, winners
from .memstore import MemStore


@pytest.fixture(params=["memory", "sqlite"])
def new_store(request: pytest.FixtureRequest, tmp_path: Path) -> Callable[[str], DocumentStore]:
    """A factory of empty stores: the in-memory fake, then the real SQLite backend."""
    if request.param == "memory":
        return MemStore

    from sync.sqlite import SQLiteStore

    opened: list[DocumentStore] = []

    def make(name: str) -> DocumentStore:
        store = SQLiteStore(tmp_path / f"{name}.sqlite", synchronous="NORMAL")
        opened.append(store)
        return store

    def close_all() -> None:
        for store in opened:
            store.close()

    request.addfinalizer(close_all)
    return make


def fill(store: DocumentStore, n: int = 60) -> None:
    make_docs(store, n)
    for i in range(0, n, 7):  # some updates
        doc = store.get(f"doc{i:05d}")
        store.put({**doc, "n": -i})
    for i in range(3, n, 11):  # some deletions
        doc = store.get(f"doc{i:05d}")
        store.delete(doc["_id"], doc["_rev"])


def make_conflicts(a: DocumentStore, b: DocumentStore, ids: list[str]) -> None:
    """Edit the same documents on both sides after a common ancestor."""
    for doc_id in ids:
        for side, store in (("a", a), ("b", b)):
            doc = store.get(doc_id)
            store.put({**doc, "edited_on": side})


def test_one_shot_copies_trees_exactly(new_store: Callable[[str], DocumentStore]) -> None:
    source, target = new_store("a"), new_store("b")
    fill(source)
    result = replicate(source, target, batch_size=10)
    assert result.ok and not result.failures
    assert snapshot(source) == snapshot(target)
    assert result.docs_written == result.docs_read == 60
    assert result.last_seq == source.info()["update_seq"]
    # A second run finds the checkpoint and has nothing to do.
    again = replicate(source, target)
    assert again.start_last_seq == result.last_seq
    assert again.docs_read == 0 and again.missing_checked == 0


def test_conflicts_replicate_both_ways_to_identical_trees(new_store: Callable[[str], DocumentStore]) -> None:
    a, b = new_store("a"), new_store("b")
    fill(a, 30)
    replicate(a, b)
    ids = [f"doc{i:05d}" for i in (1, 2, 4, 5)]
    make_conflicts(a, b, ids)
    replicate(a, b)
    replicate(b, a)
    assert snapshot(a) == snapshot(b)
    w = winners(a)
    assert w == winners(b)
    assert all(len(w[i][1]) == 1 for i in ids)  # one conflict each, on both sides
    # Deleting the losing leaf on one side and replicating resolves it on both.
    loser = w[ids[0]][1][0]
    a.delete(ids[0], loser)
    replicate(a, b)
    assert winners(b)[ids[0]][1] == ()
    assert snapshot(a) == snapshot(b)


def test_checkpoints_are_written_on_both_sides_after_every_batch() -> None:
    source, target = MemStore("a"), MemStore("b")
    make_docs(source, 100)
    r = Replicator(source, target, batch_size=10, max_batch_size=10, pipeline=False)
    result = r.run()
    key = result.replication_id
    src_log, tgt_log = source.get_local(key), target.get_local(key)
    assert src_log["session_id"] == tgt_log["session_id"] == result.session_id
    assert src_log["source_last_seq"] == 100
    assert src_log["history"][0]["docs_written"] == 100
    assert source.calls["put_local"] == target.calls["put_local"] == 10


def test_interrupted_run_resumes_resending_at_most_one_batch(new_store: Callable[[str], DocumentStore]) -> None:
    source, target = new_store("a"), new_store("b")
    make_docs(source, 200)
    flaky = Flaky(target)
    calls = {"n": 0}

    def die_on_fifth(*_a: object, **_k: object) -> None:
        calls["n"] += 1
        if calls["n"] == 5:
            raise Forbidden("link gone for good")  # not retryable: the run aborts

    flaky.hooks["bulk_docs"] = die_on_fifth
    with pytest.raises(Forbidden):
        replicate(source, flaky.as_store(), batch_size=20, max_batch_size=20, pipeline=False)
    written_before = target.info()["doc_count"]
    assert written_before == 80
    result = replicate(source, target, batch_size=20, max_batch_size=20)
    assert result.start_last_seq == 80  # the checkpoint of the 4th batch
    assert result.docs_written == 120  # nothing written twice
    assert snapshot(source) == snapshot(target)


def test_interrupted_pipelined_run_writes_nothing_twice(
        new_store: Callable[[str], DocumentStore]) -> None:
    source, target = new_store("a"), new_store("b")
    make_docs(source, 300)
    flaky = Flaky(target)
    calls = {"n": 0}

    def die_on_seventh(*_a: object, **_k: object) -> None:
        calls["n"] += 1
        if calls["n"] == 7:
            raise Forbidden("link gone for good")

    flaky.hooks["bulk_docs"] = die_on_seventh
    with pytest.raises(Forbidden):
        replicate(source, flaky.as_store(), batch_size=20, max_batch_size=20)
    before = target.info()["doc_count"]
    assert 100 <= before < 300
    result = replicate(source, target, batch_size=20, max_batch_size=20)
    # The restart begins at the last checkpoint; the chunks written after it
    # are found by _revs_diff and not fetched again.
    assert before + result.docs_written == 300
    assert result.docs_read == result.docs_written
    assert result.missing_checked - result.missing_found <= (3 + 1) * 20  # loads + read-ahead
    assert snapshot(source) == snapshot(target)


def test_histories_find_a_common_session_when_the_last_logs_differ(new_store: Callable[[str], DocumentStore]) -> None:
    source, target = new_store("a"), new_store("b")
    make_docs(source, 30)
    first = replicate(source, target)
    make_docs(source, 30, start=30)
    second = replicate(source, target)
    # Lose the newest log on the target only (e.g. a restored backup of the target).
    key = second.replication_id
    tgt_log = target.get_local(key)
    tgt_log["session_id"] = first.session_id
    tgt_log["history"] = tgt_log["history"][1:]
    target.put_local(tgt_log)
    third = replicate(source, target)
    assert third.start_last_seq == first.last_seq == 30


def test_filtered_by_doc_ids_and_selector(new_store: Callable[[str], DocumentStore]) -> None:
    source = new_store("a")
    make_docs(source, 20)
    make_docs(source, 5, prefix="ev", type="event")
    by_ids, by_sel = new_store("b"), new_store("c")
    r1 = replicate(source, by_ids, doc_ids=["doc00001", "doc00003"])
    assert sorted(snapshot(by_ids)) == ["doc00001", "doc00003"]
    r2 = replicate(source, by_sel, selector={"type": "event"})
    assert sorted(snapshot(by_sel)) == [f"ev{i:05d}" for i in range(5)]
    assert r1.replication_id != r2.replication_id


def test_bulk_get_missing_falls_back_to_open_revs() -> None:
    source, target = MemStore("a", bulk_get=False), MemStore("b")
    fill(source, 40)
    result = replicate(source, target)
    assert source.calls["bulk_get"] == 1  # tried once, then remembered
    assert source.calls["open_revs"] >= 40
    assert snapshot(source) == snapshot(target) and result.docs_written == 40


def test_forbidden_documents_are_reported_and_skipped() -> None:
    source = MemStore("a")
    target = MemStore("b", validate=lambda d: "no secrets" if d.get("secret") else None)
    make_docs(source, 10)
    make_docs(source, 3, prefix="bad", secret=True)
    result = replicate(source, target)
    assert result.ok
    assert result.doc_write_failures == 3 and result.docs_written == 10
    assert {f["id"] for f in result.failures} == {"bad00000", "bad00001", "bad00002"}
    assert all(f["error"] == "forbidden" and f["rev"].startswith("1-") for f in result.failures)
    assert target.info()["doc_count"] == 10


def test_attachments_are_sent_once(new_store: Callable[[str], DocumentStore]) -> None:
    source, target = new_store("a"), new_store("b")
    data = base64.b64encode(b"x" * 5000).decode()
    source.put({"_id": "scan", "type": "case",
                "_attachments": {"a.bin": {"content_type": "application/octet-stream", "data": data}}})
    replicate(source, target)
    doc = source.get("scan")
    source.put({**doc, "note": "edited"})  # keeps the attachment as a stub
    seen: list[dict[str, object]] = []
    real = source.bulk_get

    def spy(docs: list[dict[str, object]], **kw: object) -> dict[str, object]:
        out = real(docs, **kw)  # type: ignore[arg-type]
        seen.append(out)
        return out

    source.bulk_get = spy  # type: ignore[method-assign,assignment]
    replicate(source, target)
    body, _ctype = target.get_attachment("scan", "a.bin")
    assert body == b"x" * 5000
    assert snapshot(source) == snapshot(target)
    sent = seen[0]["results"][0]["docs"][0]["ok"]["_attachments"]["a.bin"]  # type: ignore[index]
    # The target already had revpos 1: the source sends a stub (CouchDB's
    # atts_since with attachments=true, as the replicator asks).
    assert sent.get("stub") is True and "data" not in sent



def test_transport_errors_are_retried_and_shrink_the_batch(new_store: Callable[[str], DocumentStore]) -> None:
    source, target = new_store("a"), new_store("b")
    make_docs(source, 120)
    flaky = Flaky(source)
    flaky.fail["bulk_get"] = 2
    flaky.fail["changes"] = 1
    sizes: list[int] = []
    r = Replicator(flaky.as_store(), target, batch_size=40, backoff_base=0.001, pipeline=False)
    r.backoff.on_retry = lambda exc, n, wait: sizes.append(r.sizer.size)
    result = r.run()
    assert result.retries == 3
    assert sizes == [20, 10, 5]  # halved on every failure, then grown again
    assert r.sizer.size > 5
    assert snapshot(source) == snapshot(target)


class HalfAnswers:
    """A source whose ``_bulk_get`` answers break after half their results (as a
    streamed answer cut mid-body: TransportError.partial holds the whole ones)."""

    def __init__(self, inner: DocumentStore) -> None:
        self.inner = inner
        self.breaks = 0
        self.delivered: set[tuple[str, str]] = set()
        self.again: list[tuple[str, str]] = []

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)

    def bulk_get(self, docs: Any, **kwargs: Any) -> Any:
        asked = [(d["id"], d["rev"]) for d in docs]
        self.again += [r for r in asked if r in self.delivered]
        answer = self.inner.bulk_get(docs, **kwargs)
        whole = len(docs) if len(docs) < 2 else len(docs) // 2
        self.delivered.update(asked[:whole])
        if whole == len(docs):
            return answer
        self.breaks += 1
        exc = TransportError("connection reset mid-answer")
        exc.partial = answer["results"][:whole]
        raise exc


def test_a_broken_answer_keeps_its_whole_results_and_fetches_only_the_rest(
        new_store: Callable[[str], DocumentStore]) -> None:
    source, target = new_store("a"), new_store("b")
    make_docs(source, 60)
    half = HalfAnswers(source)
    r = Replicator(cast(DocumentStore, half), target, batch_size=20, backoff_base=0.0001,
                   pipeline=False)
    result = r.run()
    assert half.breaks >= 3 and result.retries >= 3
    # What arrived before a break was written, never fetched again.
    assert half.again == [] and len(half.delivered) == 60
    assert result.docs_written == 60
    assert snapshot(source) == snapshot(target)


def test_gives_up_after_max_attempts() -> None:
    source, target = MemStore("a"), MemStore("b")
    make_docs(source, 5)
    flaky = Flaky(source)
    flaky.fail["bulk_get"] = 100
    with pytest.raises(Exception, match="connection reset"):
        replicate(flaky.as_store(), target, backoff_base=0.0001, max_attempts=3)
    assert flaky.failed["bulk_get"] == 3


def test_continuous_follows_new_changes_until_cancelled(new_store: Callable[[str], DocumentStore]) -> None:
    source, target = new_store("a"), new_store("b")
    make_docs(source, 5)
    states: list[str] = []
    opts = ReplicationOptions(continuous=True, longpoll_timeout=0.2,
                              progress=lambda p: states.append(p.state))
    r = Replicator(source, target, opts)
    out: list[object] = []
    thread = threading.Thread(target=lambda: out.append(r.run()))
    thread.start()
    try:
        deadline = time.monotonic() + 60  # generous: ends as the documents arrive
        while target.info()["doc_count"] < 5 and time.monotonic() < deadline:
            time.sleep(0.02)
        make_docs(source, 5, start=5)
        while target.info()["doc_count"] < 10 and time.monotonic() < deadline:
            time.sleep(0.02)
        assert target.info()["doc_count"] == 10
    finally:
        r.cancel()
        thread.join(10)
    assert not thread.is_alive()
    result = out[0]
    assert result.cancelled and "idle" in states  # type: ignore[attr-defined]
    assert snapshot(source) == snapshot(target)


def test_progress_reports_pending_rate_and_eta(new_store: Callable[[str], DocumentStore]) -> None:
    source, target = new_store("a"), new_store("b")
    make_docs(source, 100)
    reports: list[dict[str, object]] = []
    replicate(source, target, batch_size=25, max_batch_size=25,
              progress=lambda p: reports.append(p.as_json()))
    running = [p for p in reports if p["state"] == "running"]
    assert [p["pending"] for p in running] == [75, 50, 25, 0]
    assert reports[-1]["state"] == "done" and reports[-1]["docs_written"] == 100
    assert all(p["eta"] is not None for p in running)
    assert running[-1]["eta"] == 0.0


def test_batch_sizer_learns_the_run_length_of_a_breaking_link() -> None:
    from sync.replicate.batching import BatchSizer

    sizer = BatchSizer(start=25, max_docs=1000, max_bytes=1_000_000,
                       untrusted_max_bytes=1_000_000)
    sizes = []
    for _ in range(4):
        sizer.success(sizer.size, sizer.size * 500, 0.01)
        sizes.append(sizer.size)
    # Slow start: x4 while requests are small (< 32 kB), then x2; no cap yet.
    assert sizes == [100, 200, 400, 800] and sizer.feed_size == 800
    sizer.failure()  # 362.5 kB got through before the break
    assert sizer.link_cap == pytest.approx((25 + 100 + 200 + 400) * 500 / 8)
    assert sizer.link_cap is not None and sizer.size * 500 <= sizer.link_cap  # fits the run
    assert sizer.feed_size == min(1000, sizer.size * 4)
    for _ in range(80):  # the link holds again: the cap relaxes
        sizer.success(sizer.size, sizer.size * 500, 0.01)
    assert sizer.link_cap == 1_000_000 and sizer.size == 1000


def test_batch_sizer_keeps_fetches_small_until_the_link_has_proven_itself() -> None:
    """Issue 3: before the first break nothing is known of the link, so a fetch stays
    under 128 kB until 1 MB went through; then it may grow to ``max_bytes``."""
    from sync.replicate.batching import BatchSizer

    sizer = BatchSizer(start=25, max_docs=1000, max_bytes=256_000, untrusted_max_bytes=128_000)
    sizes = []
    while True:
        sizer.success(sizer.size, sizer.size * 500, 0.01)
        if sizer.total_bytes >= 1_000_000:
            break
        sizes.append(sizer.size)
    assert max(sizes) * 500 <= 128_000
    assert sizer.size * 500 == 256_000  # proven: the next fetch may be twice as large
