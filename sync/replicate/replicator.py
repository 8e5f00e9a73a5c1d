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
(each chunk written before the next is fetched, so a cut costs at most the chunk
in flight); with ``pipeline`` the next ``_changes`` read and the source-side
checkpoint overlap the current fetch, hiding two round trips per batch.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any, TypeVar

from sync.store import DocumentStore, Seq

from .batching import BatchSizer
from .changes import ChangesBatch, read_changes
from .checkpoint import Checkpointer
from .fetch import DocFetcher, Missing, dedupe_docs, revs_diff
from .options import ReplicationOptions, ReplicationResult
from .peers import verify_peers
from .progress import STAT_KEYS, Progress, TrafficMeter
from .repid import endpoint_identity, replication_id
from .retry import Backoff, Cancelled, is_retryable, is_timeout
from .write import write_docs

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
        # Stores are called from the pipeline's threads. Backends serve
        # concurrent requests (the HTTP layer is threaded), so they are assumed
        # thread-safe; one that is not says ``thread_safe = False`` and gets a lock.
        self._locks = {id(s): threading.Lock() for s in (source, target)}

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
        limit = self.sizer.feed_size
        return self._retry(lambda: self._call(self.source, lambda: read_changes(
            self.source, since, limit, doc_ids=opts.doc_ids, selector=opts.selector,
            longpoll=opts.longpoll_timeout if longpoll else None)), on_failure=self._shrink)

    def _transfer(self, wanted: list[Missing]) -> None:
        """Fetch and write ``wanted`` in chunks of the current batch size."""
        queue = list(wanted)
        while queue:
            if self.options.cancel.is_set():
                raise Cancelled("replication cancelled")
            chunk: list[Missing] = []
            nrevs = 0
            while queue and (not chunk or nrevs + len(queue[0].missing) <= self.sizer.size):
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
                # Give the chunk back and retry it smaller after a backoff.
                queue[:0] = chunk
                self._shrink(exc)
                self._backoff_once(exc)
                continue
            docs = dedupe_docs(fetched.docs)
            self.stats["docs_read"] += len(docs)
            self.fetch_errors.extend(fetched.errors)
            result = self._retry(lambda d=docs: self._call(self.target, lambda: write_docs(self.target, d)))  # type: ignore[misc]
            self.stats["docs_written"] += result.written
            self.stats["doc_write_failures"] += len(result.failures)
            self.failures.extend(result.failures)
            self.sizer.success(nrevs, fetched.nbytes, time.monotonic() - started)

    def _backoff_once(self, exc: BaseException) -> None:
        self._failed_in_row = getattr(self, "_failed_in_row", 0) + 1
        limit = self.backoff.max_attempts
        if limit is not None and self._failed_in_row >= limit:
            self._failed_in_row = 0
            raise exc
        wait = self.backoff.delay(self._failed_in_row - 1)
        self.backoff.retries += 1
        if self.backoff.on_retry is not None:
            self.backoff.on_retry(exc, self._failed_in_row, wait)
        if self.options.cancel.wait(wait):
            raise Cancelled("replication cancelled") from exc

    def _process(self, batch: ChangesBatch) -> None:
        self.stats["missing_checked"] += sum(len(r) for r in batch.revs.values())
        wanted = self._retry(lambda: self._call(self.target, lambda: revs_diff(self.target, batch.revs)))
        self.stats["missing_found"] += sum(len(m.missing) for m in wanted)
        self._transfer(wanted)
        self._failed_in_row = 0

    # -- the loop --------------------------------------------------------------
    def run(self) -> ReplicationResult:
        opts = self.options
        started = time.monotonic()
        self._meter = TrafficMeter(self.source, self.target)
        verify = lambda: verify_peers(self.source, self.target, create_target=opts.create_target)  # noqa: E731
        self._retry(verify)
        start_seq = self._retry(self.checkpointer.read)
        since: Seq = start_seq
        cancelled = False
        pool = ThreadPoolExecutor(max_workers=2, thread_name_prefix="replicate") if opts.pipeline else None
        pending_read: Future[ChangesBatch] | None = None
        pending_checkpoint: Future[None] | None = None
        idle = False
        try:
            while True:
                if opts.cancel.is_set():
                    raise Cancelled("replication cancelled")
                if pending_read is not None:
                    batch = pending_read.result()
                    pending_read = None
                else:
                    batch = self._read(since, longpoll=idle)
                self.progress.changes_read += len(batch.rows)
                self.progress.pending = batch.pending
                self.progress.last_seq = batch.last_seq
                if pool is not None and not batch.complete:
                    # Read ahead while this batch is fetched and written.
                    nxt = batch.last_seq
                    pending_read = pool.submit(self._read, nxt, False)
                if batch.rows:
                    self._process(batch)
                if batch.rows or batch.last_seq != since:
                    if pending_checkpoint is not None:
                        pending_checkpoint.result()
                    stats = dict(self.stats)
                    seq = batch.last_seq
                    record = lambda s=seq, st=stats: self._retry(  # noqa: E731
                        lambda: self.checkpointer.record(s, st))
                    if pool is not None:
                        pending_checkpoint = pool.submit(record)
                    else:
                        record()
                since = batch.last_seq
                if batch.complete:
                    if not opts.continuous:
                        break
                    idle = True
                    self._report("idle")
                else:
                    idle = False
                    self._report("running")
            if pending_checkpoint is not None:
                pending_checkpoint.result()
                pending_checkpoint = None
        except Cancelled:
            cancelled = True
        finally:
            if pool is not None:
                if pending_read is not None:
                    pending_read.cancel()
                if pending_checkpoint is not None and not pending_checkpoint.cancel():
                    # The run's own error (if any) is the one to report.
                    with contextlib.suppress(Exception):
                        pending_checkpoint.result()
                pool.shutdown(wait=True, cancel_futures=True)
        self._report("cancelled" if cancelled else "done")
        p = self.progress
        return ReplicationResult(
            ok=not cancelled,
            replication_id=self.rep_id,
            session_id=self.checkpointer.session_id,
            start_last_seq=start_seq,
            last_seq=self.checkpointer.last_recorded if self.checkpointer.last_recorded is not None else since,
            cancelled=cancelled,
            failures=list(self.failures),
            fetch_errors=list(self.fetch_errors),
            bytes_sent=p.bytes_sent, bytes_received=p.bytes_received, requests=p.requests,
            retries=self.backoff.retries, seconds=time.monotonic() - started,
            **{k: self.stats[k] for k in STAT_KEYS},
        )


def replicate(source: DocumentStore, target: DocumentStore,
              options: ReplicationOptions | None = None, **kwargs: Any) -> ReplicationResult:
    """Replicate ``source`` to ``target`` once (or continuously) and return the summary."""
    return Replicator(source, target, options, **kwargs).run()
