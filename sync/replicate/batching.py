"""Adaptive batch size: small first batch, grow with the measured throughput.

A village link may carry 30 KB/s or 30 MB/s; one fixed batch size is wrong for
one of them (PouchDB's fixed 100 costs ~8 requests per 100 docs on a fast link
and a large re-send on a cut one). As TCP slow start: start small (the first
batch answers quickly and proves the link), then size each batch so that it
takes about ``target_seconds`` at the measured doc rate, at most doubling per
step and never above ``max_docs`` or ``max_bytes``; halve on a timeout or a
broken connection (a smaller request has a better chance to get through a link
that cuts every few hundred KB).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class BatchSizer:
    start: int = 25
    max_docs: int = 1000
    max_bytes: int = 1_000_000
    min_docs: int = 1
    target_seconds: float = 4.0
    size: int = 0
    #: Exponentially smoothed bytes per doc and docs per second.
    bytes_per_doc: float = 0.0
    docs_per_second: float = 0.0
    failures_in_row: int = 0

    def __post_init__(self) -> None:
        if not self.size:
            self.size = max(self.min_docs, min(self.start, self.max_docs))

    def _smooth(self, old: float, new: float) -> float:
        return new if old <= 0 else 0.5 * old + 0.5 * new

    def success(self, docs: int, nbytes: int, seconds: float) -> int:
        """Record a completed batch of ``docs`` documents (``nbytes`` fetched) and
        return the next size."""
        self.failures_in_row = 0
        if docs > 0:
            self.bytes_per_doc = self._smooth(self.bytes_per_doc, nbytes / docs)
            if seconds > 0:
                self.docs_per_second = self._smooth(self.docs_per_second, docs / seconds)
        if docs < self.size // 2:
            # A short batch (the feed's tail, or few missing revs) says little
            # about the link: keep the size.
            return self.size
        grow = self.size * 2
        if self.docs_per_second > 0:
            # Grow only as far as the link moves docs in ``target_seconds``;
            # a slow batch is the link, not the size: never shrink on success.
            grow = min(grow, max(self.size, int(self.docs_per_second * self.target_seconds)))
        cap = self.max_docs
        if self.bytes_per_doc > 0:
            cap = min(cap, int(self.max_bytes / self.bytes_per_doc))
        self.size = max(self.min_docs, min(grow, cap))
        return self.size

    def failure(self, timeout: bool = True) -> int:
        """A batch failed on the wire: halve (a timeout or cut says "too much at once")."""
        self.failures_in_row += 1
        self.size = max(self.min_docs, self.size // 2)
        return self.size
