"""The replication loop: the protocol steps in order, batch after batch.

CouchDB docs, "Replication Protocol": Verify Peers -> Get Peers Information ->
Generate Replication ID -> Retrieve Replication Logs -> Compare Replication Logs
-> (Listen to Changes -> Calculate Revision Difference -> Fetch Changed
Documents -> Upload Batch -> Ensure In Commit -> Record Replication Checkpoint)
repeated until the feed ends (one-shot) or forever (continuous). Each step is a
small module of this package; this one only orders them, retries them and
keeps the statistics.

Poor links: a checkpoint follows every batch, so an interrupted run resumes at
most one batch back; a batch whose fetch breaks is retried in smaller chunks
(each chunk written as soon as it arrives, so a cut costs at most the chunks in
flight); uploads are cut to the batch sizer's byte limit and one the link breaks is
halved (a push of scan chunks through a link cut every ~200 kB); with ``pipeline`` several batches are fetched at once while the next
``_changes`` read and the checkpoints overlap them, so round trips hide behind
transfers on a high-latency link (an interrupted run then re-sends at most the
chunks that were in flight, one per loading batch).
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections import deque
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any, TypeVar

from sync.store import DocumentStore, Seq

from .batching import BatchSizer
from .changes import ChangesBatch, read_changes
from .checkpoint import Checkpointer
from .fetch import DocFetcher, Fetched, Missing, dedupe_docs, revs_diff
from .options import ReplicationOptions, ReplicationResult
from .peers import verify_peers
from .progress import STAT_KEYS, Progress, TrafficMeter
from .repid import endpoint_identity, replication_id
from .retry import Backoff, Cancelled, is_not_now, is_retryable, is_timeout
from .turns import Turn, Turns
from .write import pieces, write_docs

T = TypeVar("T")


class Replicator:
    """One replication from ``source`` to ``target`` (any two DocumentStores)."""

    def __init__(self, source: DocumentStore, target: DocumentStore,
                 options: ReplicationOptions | None = None, **kwargs: Any) -> None:
        self.source = source
        self.target = target
        self.options = options or ReplicationOptions(**kwargs)
        opts = self.options
        self.rep_id = replication_id(
            endpoint_identity(source, opts.source_location),
            endpoint_identity(target, opts.target_location),
            doc_ids=opts.doc_ids, selector=opts.selector,
        )
        attempts = None if opts.continuous and opts.max_attempts == 8 else opts.max_attempts
        self.backoff = Backoff(base=opts.backoff_base, cap=opts.backoff_cap,
                               max_attempts=attempts, cancel=opts.cancel, on_retry=opts.on_retry)
        self.sizer = BatchSizer(start=opts.batch_size, max_docs=opts.max_batch_size,
                                max_bytes=opts.max_batch_bytes, target_seconds=opts.batch_seconds)
        self.fetcher = DocFetcher(source, use_bulk_get=opts.use_bulk_get)
        self.checkpointer = Checkpointer(source, target, self.rep_id)
        self.progress = Progress(batch_size=self.sizer.size)
        self.stats = dict.fromkeys(STAT_KEYS, 0)
        self.failures: list[dict[str, Any]] = []
        self.fetch_errors: list[dict[str, Any]] = []
        self._meter: TrafficMeter | None = None
        self.turns = Turns(opts.cancel) if opts.ordered_writes else None
        # Stores are called from the pipeline's threads. Backends serve
        # concurrent requests (the HTTP layer is threaded), so they are assumed
        # thread-safe; one that is not says ``thread_safe = False`` and gets a lock.
        self._locks = {id(s): threading.Lock() for s in (source, target)}
        self._stats_lock = threading.RLock()
        self._started = time.monotonic()

    # -- helpers -------------------------------------------------------------
    def cancel(self) -> None:
        self.options.cancel.set()

    def _call(self, store: DocumentStore, fn: Callable[[], T]) -> T:
        if getattr(store, "thread_safe", True):
            return fn()
        with self._locks[id(store)]:
            return fn()

    def _retry(self, fn: Callable[[], T], on_failure: Callable[[BaseException], None] | None = None
               ) -> T:
        return self.backoff.call(fn, on_failure=on_failure)

    def _report(self, state: str | None = None) -> None:
        p = self.progress
        for key in STAT_KEYS:
            setattr(p, key, self.stats[key])
        p.retries = self.backoff.retries
        p.batch_size = self.sizer.size
        if state:
            p.state = state
        if self._meter is not None:
            self._meter.update(p)
        if self.options.progress is not None:
            self.options.progress(p)

    def _shrink(self, exc: BaseException) -> None:
        self.sizer.failure(timeout=is_timeout(exc))

    # -- protocol steps ------------------------------------------------------
    def _read(self, since: Seq, longpoll: bool) -> ChangesBatch:
        opts = self.options
        limit = self.sizer.feed_size if self.sizer.link_cap is not None else min(
            self.sizer.max_docs, self.sizer.size * self.options.feed_factor)
        return self._retry(lambda: self._call(self.source, lambda: read_changes(
            self.source, since, limit, doc_ids=opts.doc_ids, selector=opts.selector,
            longpoll=opts.longpoll_timeout if longpoll else None)), on_failure=self._shrink)

    def _add(self, key: str, n: int) -> None:
        with self._stats_lock:
            self.stats[key] += n

    def _transfer(self, wanted: list[Missing]) -> None:
        """Fetch and write ``wanted`` in chunks of the current batch size; each chunk
        is written as soon as it arrives, so a break costs only the chunk in flight."""
        queue = list(wanted)
        failed_in_row = 0
        while queue:
            if self.options.cancel.is_set():
                raise Cancelled("replication cancelled")
            chunk: list[Missing] = []
            nrevs = 0
            size = self.sizer.size
            # A remainder under half a chunk rides along (one round trip less).
            if sum(len(m.missing) for m in queue) <= size * 3 // 2:
                size = size * 3 // 2
            while queue and (not chunk or nrevs + len(queue[0].missing) <= size):
                item = queue.pop(0)
                chunk.append(item)
                nrevs += len(item.missing)
            started = time.monotonic()
            try:
                # Retried here rather than by Backoff.call: a failed chunk is
                # split before the next attempt.
                fetched = self._call(self.source, lambda c=chunk: self.fetcher.fetch(c))  # type: ignore[misc]
            except Exception as exc:
                if not is_retryable(exc):
                    raise
                queue[:0] = chunk
                self._shrink(exc)
                failed_in_row += 1
                self._backoff_once(exc, failed_in_row)
                continue
            if fetched.broken is not None:
                # Half an answer: write what arrived whole, then go on as for a
                # failed fetch with the revs that did not arrive.
                queue[:0] = fetched.unanswered
                self._write_fetched(fetched, 0, 0.0)
                self.sizer.failure(timeout=is_timeout(fetched.broken), nbytes=fetched.nbytes)
                # A break that still delivered documents is progress: a link that
                # always breaks but always moves on must not run out of attempts.
                failed_in_row = 1 if fetched.docs else failed_in_row + 1
                self._backoff_once(fetched.broken, failed_in_row)
                continue
            failed_in_row = 0
            self._write_fetched(fetched, nrevs, time.monotonic() - started)

    def _write_fetched(self, fetched: Fetched, nrevs: int, seconds: float) -> None:
        """Write one fetched chunk; ``nrevs`` > 0 also tells the batch sizer it went through."""
        docs = dedupe_docs(fetched.docs)
        self._add("docs_read", len(docs))
        self._upload(docs)
        with self._stats_lock:
            self.fetch_errors.extend(fetched.errors)
            if nrevs:
                self.sizer.success(nrevs, fetched.nbytes, seconds)

    def _upload(self, docs: list[Any]) -> None:
        """Write ``docs`` in uploads of at most the sizer's byte limit; an upload the link
        breaks is halved before it is tried again (each half its own request), as a broken
        fetch is. Only a single document that keeps failing runs out of attempts: halving
        ends by itself, and an upload that gets through resets the count, so a link that
        cuts every few hundred kB but moves on is never given up (design.md §4)."""
        queue = pieces(docs, self.sizer.byte_limit())
        failed_in_row = broken = 0  # failures that count toward the attempts; all failures
        while queue:
            if self.options.cancel.is_set():
                raise Cancelled("replication cancelled")
            part = queue.pop(0)
            if self.turns is not None:
                self.turns.wait()
            try:
                res = self._call(self.target, lambda p=part: write_docs(self.target, p))  # type: ignore[misc]
            except Exception as exc:
                if not is_retryable(exc):
                    raise
                self._shrink(exc)
                broken += 1
                # A cut: less may get through. A timeout or an answer "not now" (a full
                # hub, 507) says the same to any size: the part waits whole for its attempt.
                cut = len(part) > 1 and not is_timeout(exc) and not is_not_now(exc)
                if cut:
                    half = len(part) // 2
                    queue[:0] = [part[:half], part[half:]]
                else:
                    queue.insert(0, part)
                if cut:
                    # a cut: the halves are the retry (halving ends by itself)
                    with self._stats_lock:
                        self.backoff.retries += 1
                    if self.backoff.on_retry is not None:
                        self.backoff.on_retry(exc, broken, 0.0)
                    if self.options.cancel.wait(self.backoff.delay(0)):  # a breath, no more
                        raise Cancelled("replication cancelled") from exc
                    continue
                # A single document that fails, or a peer that answers nothing at any size
                # (a black hole times out whatever is sent): the attempts count, as before.
                failed_in_row += 1
                self._backoff_once(exc, failed_in_row)
                continue
            failed_in_row = broken = 0
            with self._stats_lock:
                self.stats["docs_written"] += res.written
                self.stats["doc_write_failures"] += len(res.failures)
                self.failures.extend(res.failures)
            if queue:
                # A batch of scan chunks on a slow link takes minutes: say each upload
                # that got through, not only the batch's end (the node's sync badge counts).
                self._report()

    def _backoff_once(self, exc: BaseException, attempt: int) -> None:
        limit = self.backoff.max_attempts
        if limit is not None and attempt >= limit:
            raise exc
        wait = self.backoff.delay(attempt - 1)
        with self._stats_lock:
            self.backoff.retries += 1
        if self.backoff.on_retry is not None:
            self.backoff.on_retry(exc, attempt, wait)
        if self.options.cancel.wait(wait):
            raise Cancelled("replication cancelled") from exc

    def _load(self, batch: ChangesBatch, turn: Turn | None = None) -> None:
        """Revs diff, fetch and write one changes batch (runs in the pipeline's pool);
        its uploads wait for ``turn`` (turns.py)."""
        in_turn = self.turns.holding(turn) if self.turns is not None and turn is not None \
            else contextlib.nullcontext()
        with in_turn:
            if not batch.rows:
                return
            self._add("missing_checked", sum(len(r) for r in batch.revs.values()))
            wanted = self._retry(lambda: self._call(self.target, lambda: revs_diff(self.target, batch.revs)))
            self._add("missing_found", sum(len(m.missing) for m in wanted))
            self._transfer(wanted)

    # -- the loop --------------------------------------------------------------
    def run(self) -> ReplicationResult:
        """Replicate until the feed ends (one-shot) or until cancelled (continuous).

        With ``pipeline`` up to ``max_inflight`` changes batches are loaded (diffed,
        fetched, written) at once while the main thread reads ahead; checkpoints
        are written strictly in feed order, each after every batch up to it is
        written, by one background writer.
        """
        opts = self.options
        self._started = time.monotonic()
        self._meter = TrafficMeter(self.source, self.target)
        verify = lambda: verify_peers(self.source, self.target, create_target=opts.create_target)  # noqa: E731
        self._retry(verify)
        start_seq = self._retry(self.checkpointer.read)
        since: Seq = start_seq
        recorded: Seq = start_seq
        cancelled = False
        depth = max(1, opts.max_inflight) if opts.pipeline else 1
        ahead = depth + 1 if opts.pipeline else 1
        loads = ThreadPoolExecutor(max_workers=depth, thread_name_prefix="replicate-load")
        writer = ThreadPoolExecutor(max_workers=1, thread_name_prefix="replicate-checkpoint")
        inflight: deque[tuple[ChangesBatch, Future[None]]] = deque()
        checkpoint: Future[None] | None = None
        done_reading = idle = stopped_by_error = False
        try:
            while True:
                if opts.cancel.is_set():
                    raise Cancelled("replication cancelled")
                # Keep the pipeline full; a longpoll only when nothing is in flight.
                # One batch more than the loads in flight is read ahead, so a load
                # that finishes hands its worker to a batch already read.
                while not done_reading and len(inflight) < ahead and not (idle and inflight):
                    batch = self._read(since, longpoll=idle)
                    since = batch.last_seq
                    if opts.pipeline:
                        turn = self.turns.next() if self.turns is not None else None
                        inflight.append((batch, loads.submit(self._load, batch, turn)))
                    else:
                        done: Future[None] = Future()
                        self._load(batch)
                        done.set_result(None)
                        inflight.append((batch, done))
                    idle = batch.complete
                    if idle:
                        done_reading = not opts.continuous
                        break
                if not inflight:
                    if done_reading:
                        break
                    continue
                batch, load = inflight.popleft()
                load.result()
                # Progress counts the batches done, not the ones read ahead.
                self.progress.changes_read += len(batch.rows)
                self.progress.pending = batch.pending
                self.progress.last_seq = batch.last_seq
                if batch.rows or batch.last_seq != recorded:
                    if checkpoint is not None:
                        checkpoint.result()
                    with self._stats_lock:
                        stats = dict(self.stats)
                    record = lambda s=batch.last_seq, st=stats: self._retry(  # noqa: E731
                        lambda: self.checkpointer.record(s, st))
                    checkpoint = writer.submit(record) if opts.pipeline else None
                    if checkpoint is None:
                        record()
                    recorded = batch.last_seq
                self._report("idle" if opts.continuous and idle and not inflight else "running")
            if checkpoint is not None:
                checkpoint.result()
                checkpoint = None
        except Cancelled:
            cancelled = True
        except BaseException:
            # Stop the loads still in flight (they check the cancel event, also
            # during backoff waits) instead of letting them retry on their own.
            if not opts.cancel.is_set():
                opts.cancel.set()
                stopped_by_error = True
            raise
        finally:
            for _batch, load in inflight:
                load.cancel()
            loads.shutdown(wait=True, cancel_futures=True)
            if checkpoint is not None:
                # The run's own error (if any) is the one to report.
                with contextlib.suppress(Exception):
                    checkpoint.result()
            writer.shutdown(wait=True)
            if stopped_by_error:
                opts.cancel.clear()
        self._report("cancelled" if cancelled else "done")
        return self.result(cancelled=cancelled)

    def result(self, *, cancelled: bool | None = None) -> ReplicationResult:
        """The summary so far (also usable from another thread while a
        continuous replication waits for changes)."""
        if cancelled is None:
            cancelled = self.options.cancel.is_set()
        if self._meter is not None:
            self._meter.update(self.progress)
        p = self.progress
        last = self.checkpointer.last_recorded
        with self._stats_lock:
            return ReplicationResult(
                ok=not cancelled,
                replication_id=self.rep_id,
                session_id=self.checkpointer.session_id,
                start_last_seq=self.checkpointer.start_seq,
                last_seq=last if last is not None else self.checkpointer.start_seq,
                cancelled=cancelled,
                failures=list(self.failures),
                fetch_errors=list(self.fetch_errors),
                bytes_sent=p.bytes_sent, bytes_received=p.bytes_received, requests=p.requests,
                retries=self.backoff.retries, seconds=time.monotonic() - self._started,
                **{k: self.stats[k] for k in STAT_KEYS},
            )


def replicate(source: DocumentStore, target: DocumentStore,
              options: ReplicationOptions | None = None, **kwargs: Any) -> ReplicationResult:
    """Replicate ``source`` to ``target`` once (or continuously) and return the summary."""
    return Replicator(source, target, options, **kwargs).run()
