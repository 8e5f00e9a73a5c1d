"""Settings of one replication, declared once with defaults and help text."""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from sync.store import JSON

from .progress import Progress


@dataclass
class ReplicationOptions:
    #: Keep listening (``feed=longpoll``) after catching up, until cancelled.
    continuous: bool = False
    #: Replicate only these documents (CouchDB's ``doc_ids``).
    doc_ids: Sequence[str] | None = None
    #: Replicate only documents matching this Mango selector (``_selector`` filter).
    selector: Mapping[str, Any] | None = None
    #: Called to create a missing target (e.g. a server's ``create_db``); None: a
    #: missing target is an error.
    create_target: Callable[[], object] | None = None
    #: What the user called the endpoints (URL or path); the replication id is
    #: built from these without credentials. Default: the stores' url/path/name.
    source_location: str | None = None
    target_location: str | None = None
    #: First batch size in changes (small: the first answer proves the link).
    batch_size: int = 25
    #: Upper bounds of the adaptive batch: documents, and bytes fetched.
    max_batch_size: int = 1000
    #: (max_batch_bytes, JSON bytes per fetch request) 256 kB: about 1000 small docs, so
    #: on a fast link the doc cap binds (half the requests, commits and checkpoints of
    #: 128 kB); gzipped that is ~70 kB on the wire. A cut costs little whatever the size:
    #: the answer is parsed as it streams and its whole results are kept (fetch.py).
    max_batch_bytes: int = 256_000
    #: A batch should take about this long at the measured rate (seconds).
    batch_seconds: float = 4.0
    #: Seconds the source is asked to hold an up-to-date longpoll (continuous).
    longpoll_timeout: float = 25.0
    #: Attempts per protocol step before giving up; None retries forever (the
    #: default in continuous mode, where the link is expected to come back).
    max_attempts: int | None = 8
    #: Backoff: the n-th retry waits uniform(0, min(cap, base * 2**n)) seconds.
    backoff_base: float = 0.5
    backoff_cap: float = 30.0
    #: Try ``_bulk_get`` first (falls back to ``open_revs`` GETs automatically).
    use_bulk_get: bool = True
    #: Overlap the next ``_changes`` read and the source checkpoint with the
    #: fetch of the current batch (hides round trips on high-latency links).
    pipeline: bool = True
    #: Changes batches loaded (diffed, fetched, written) at once with ``pipeline``.
    max_inflight: int = 3
    #: Upload the batches in feed order: each waits until every earlier one is written,
    #: their diffs and fetches still overlap (turns.py). The hub checks an event against
    #: its case's events it holds (design.md §3): a later batch first was refused.
    ordered_writes: bool = True
    #: Changes read per fetch chunk once the fetch size is capped by bytes
    #: (fewer ``_changes`` requests and checkpoints for the same documents).
    feed_factor: int = 1
    #: Called with a :class:`Progress` after every batch and state change.
    progress: Callable[[Progress], None] | None = None
    #: Set it to stop the replication (checked between steps and during waits).
    cancel: threading.Event = field(default_factory=threading.Event)
    #: Called with (exception, attempt, delay) before each retry.
    on_retry: Callable[[BaseException, int, float], None] | None = None


@dataclass
class ReplicationResult:
    """The summary of one run (CouchDB's history entry plus transfer figures)."""

    ok: bool
    replication_id: str
    session_id: str
    start_last_seq: Any
    last_seq: Any
    docs_read: int
    docs_written: int
    doc_write_failures: int
    missing_checked: int
    missing_found: int
    bytes_sent: int
    bytes_received: int
    requests: int
    retries: int
    seconds: float
    cancelled: bool = False
    #: One entry per refused document: ``{"id", "rev", "error", "reason"}``.
    failures: list[JSON] = field(default_factory=list)
    #: Revisions the source could not deliver (compacted away meanwhile).
    fetch_errors: list[JSON] = field(default_factory=list)

    def summary(self) -> JSON:
        """The ``bangban replicate --json`` summary."""
        return {
            "ok": self.ok,
            "replication_id": self.replication_id,
            "docs_read": self.docs_read,
            "docs_written": self.docs_written,
            "doc_write_failures": self.doc_write_failures,
            "bytes_sent": self.bytes_sent,
            "bytes_received": self.bytes_received,
            "requests": self.requests,
            "seconds": round(self.seconds, 3),
            "retries": self.retries,
            "start_last_seq": self.start_last_seq,
            "last_seq": self.last_seq,
            "failures": self.failures,
            "cancelled": self.cancelled,
        }
