"""Adaptive batch size: small first batch, grow with the measured throughput.

A village link may carry 30 KB/s or 30 MB/s; one fixed batch size is wrong for
one of them (PouchDB's fixed 100 costs ~8 requests per 100 docs on a fast link
and a large re-send on a cut one). As TCP slow start: start small (the first
batch answers quickly and proves the link), then size each batch so that it
takes about ``target_seconds`` at the measured doc rate, at most doubling per
step and never above ``max_docs`` or ``max_bytes``; halve on a timeout or a
broken connection (a smaller request has a better chance to get through a link
that cuts every few hundred KB).

A link that breaks again and again also gets a byte cap: the bytes that got
through between two breaks estimate the link's "run length" L, and a request
of R bytes then wastes about R/2 per break, so batches are held to about L/8
(a few per cent of re-sent bytes) until the link has carried 3 L without a
break (a link that breaks every L never does), when the cap is doubled again.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class BatchSizer:
    start: int = 25
    max_docs: int = 1000
    max_bytes: int = 256_000
    min_docs: int = 1
    target_seconds: float = 4.0
    size: int = 0
    #: Exponentially smoothed bytes per doc and docs per second.
    bytes_per_doc: float = 0.0
    docs_per_second: float = 0.0
    failures_in_row: int = 0
    #: Bytes fetched since the last break, the smoothed run length between
    #: breaks, and the byte cap they imply (None: no break seen yet).
    bytes_since_failure: int = 0
    run_length: float = 0.0
    link_cap: float | None = None
    min_bytes: int = 16_000
    fast_growth_bytes: int = 32_000
    #: Until a link has carried ``trusted_bytes`` without a break, fetches stay under
    #: ``untrusted_max_bytes``. Since answers are parsed as they stream (fetch.py keeps
    #: the whole results of a cut answer) a break costs little of a big fetch; the smaller
    #: first fetches still shorten the wait for the first documents on a slow link.
    total_bytes: int = 0
    trusted_bytes: int = 1_000_000
    untrusted_max_bytes: int = 128_000

    def __post_init__(self) -> None:
        if not self.size:
            self.size = max(self.min_docs, min(self.start, self.max_docs))

    def _smooth(self, old: float, new: float) -> float:
        return new if old <= 0 else 0.5 * old + 0.5 * new

    def success(self, docs: int, nbytes: int, seconds: float) -> int:
        """Record a completed batch of ``docs`` documents (``nbytes`` fetched) and
        return the next size."""
        self.failures_in_row = 0
        self.bytes_since_failure += nbytes
        self.total_bytes += nbytes
        if self.link_cap is not None and self.bytes_since_failure > 3 * self.run_length:
            self.link_cap = min(float(self.max_bytes), self.link_cap * 2)
            self.bytes_since_failure = 0
        if docs > 0:
            self.bytes_per_doc = self._smooth(self.bytes_per_doc, nbytes / docs)
            if seconds > 0:
                self.docs_per_second = self._smooth(self.docs_per_second, docs / seconds)
        if docs < self.size // 2:
            # A short batch (the feed's tail, or few missing revs) says little
            # about the link: keep the size.
            return self.size
        # Small requests are all round trip and cost little when a link breaks:
        # grow them four-fold; from ``fast_growth_bytes`` on, double.
        small = self.bytes_per_doc * self.size < self.fast_growth_bytes
        grow = self.size * (4 if small else 2)
        if self.docs_per_second > 0:
            # Grow only as far as the link moves docs in ``target_seconds``;
            # a slow batch is the link, not the size: never shrink on success.
            grow = min(grow, max(self.size, int(self.docs_per_second * self.target_seconds)))
        cap = self.max_docs
        if self.bytes_per_doc > 0:
            cap = min(cap, max(1, int(self.byte_limit() / self.bytes_per_doc)))
        self.size = max(self.min_docs, min(grow, cap))
        return self.size

    def byte_limit(self) -> int:
        """Bytes one request should carry now: ``max_bytes``, held to the link's cap after
        breaks and to ``untrusted_max_bytes`` until the link has proved itself. Fetches
        are sized by it through the doc count; uploads are cut by it directly (the first
        batch's doc count knows nothing of the docs' size: 25 scan chunks are megabytes)."""
        limit = min(self.max_bytes, int(self.link_cap or self.max_bytes))
        if self.link_cap is None and self.total_bytes < self.trusted_bytes:
            limit = min(limit, self.untrusted_max_bytes)
        return limit

    @property
    def feed_size(self) -> int:
        """How many changes to read at once. On a link that breaks, fetches are
        held small by :attr:`link_cap`, but the feed (about 100 bytes a row) is
        read four chunks at a time so that its request and the checkpoint that
        follows each feed batch are amortised over more documents."""
        if self.link_cap is None:
            return self.size
        return min(self.max_docs, self.size * 4)

    def failure(self, timeout: bool = True, nbytes: int = 0) -> int:
        """A batch failed on the wire: halve (a timeout or cut says "too much at once")
        and learn the link's run length between breaks (``nbytes``: what still got
        through of the failed answer)."""
        self.failures_in_row += 1
        self.bytes_since_failure += nbytes
        self.total_bytes += nbytes
        if self.bytes_since_failure > 0:
            sample = float(self.bytes_since_failure)
            self.run_length = sample if self.run_length <= 0 else 0.5 * (self.run_length + sample)
            self.link_cap = max(float(self.min_bytes), self.run_length / 8)
        self.bytes_since_failure = 0
        self.size = max(self.min_docs, self.size // 2)
        if self.link_cap is not None and self.bytes_per_doc > 0:
            self.size = max(self.min_docs, min(self.size, int(self.link_cap / self.bytes_per_doc)))
        return self.size
