"""Progress of one replication: counters, transfer statistics, rate and ETA.

The counters are CouchDB's replication task fields (``docs_read``,
``docs_written``, ``doc_write_failures``, ``missing_checked``,
``missing_found``); the ETA uses the ``pending`` count the source returns
with each ``_changes`` batch (CouchDB 2+, PouchDB Server).
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

from sync.store import DocumentStore, Seq

STAT_KEYS = ("missing_checked", "missing_found", "docs_read", "docs_written", "doc_write_failures")


def transport_stats(store: DocumentStore) -> tuple[int, int, int]:
    """``(requests, bytes_sent, bytes_received)`` of a store that counts its
    traffic (the CouchDB backend's ``stats``); zeros for an embedded store."""
    stats: Any = getattr(store, "stats", None)
    if stats is None:
        return 0, 0, 0
    if not isinstance(stats, Mapping):
        stats = getattr(stats, "__dict__", {}) if not hasattr(stats, "as_dict") else stats.as_dict()

    def pick(*names: str) -> int:
        for name in names:
            if name in stats:
                return int(stats[name] or 0)
        return 0

    return (pick("requests"), pick("bytes_sent", "sent_bytes"),
            pick("bytes_received", "received_bytes", "bytes_recv"))


@dataclass
class Progress:
    """A snapshot handed to the progress callback after each batch."""

    docs_read: int = 0
    docs_written: int = 0
    doc_write_failures: int = 0
    missing_checked: int = 0
    missing_found: int = 0
    changes_read: int = 0
    pending: int | None = None
    last_seq: Seq = 0
    bytes_sent: int = 0
    bytes_received: int = 0
    requests: int = 0
    retries: int = 0
    batch_size: int = 0
    elapsed: float = 0.0
    state: str = "running"  # running | idle (continuous, caught up) | done | failed

    @property
    def rate(self) -> float:
        """Changes processed per second so far."""
        return self.changes_read / self.elapsed if self.elapsed > 0 else 0.0

    @property
    def eta(self) -> float | None:
        """Seconds left at the current rate, from the source's ``pending``."""
        if self.pending is None:
            return None
        if self.pending == 0:
            return 0.0
        return self.pending / self.rate if self.rate > 0 else None

    @property
    def fraction(self) -> float | None:
        if self.pending is None:
            return None
        total = self.changes_read + self.pending
        return self.changes_read / total if total else 1.0

    def as_json(self) -> dict[str, Any]:
        out = asdict(self)
        out.update(rate=round(self.rate, 1), eta=self.eta)
        return out


@dataclass
class TrafficMeter:
    """Differences of both stores' transport stats since the run started."""

    source: DocumentStore
    target: DocumentStore
    base: tuple[int, int, int] = field(default=(0, 0, 0))
    started: float = field(default_factory=time.monotonic)

    def __post_init__(self) -> None:
        self.base = self._now()

    def _now(self) -> tuple[int, int, int]:
        a = transport_stats(self.source)
        b = transport_stats(self.target) if self.target is not self.source else (0, 0, 0)
        return a[0] + b[0], a[1] + b[1], a[2] + b[2]

    def update(self, progress: Progress) -> Progress:
        req, sent, recv = self._now()
        progress.requests = req - self.base[0]
        progress.bytes_sent = sent - self.base[1]
        progress.bytes_received = recv - self.base[2]
        progress.elapsed = time.monotonic() - self.started
        return progress
