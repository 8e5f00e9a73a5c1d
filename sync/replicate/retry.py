"""Retries with exponential backoff and full jitter.

A poor link drops, stalls and times out; such failures are retried, answers
that will not change on retry (400, 401, 403, 404, 409, 413) are not. The delay
is "full jitter" (AWS Architecture Blog, "Exponential Backoff And Jitter"):
``uniform(0, min(cap, base * 2**attempt))``, so that many village laptops
coming back at once do not hammer the hub in lock step. A 507 (the peer's disk is
full, CouchDB's disk monitor) is retried too: it passes once its operator frees space,
and the documents wait at the source meanwhile.
"""

from __future__ import annotations

import random
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TypeVar

from sync.errors import SyncError, TransportError

T = TypeVar("T")

#: Statuses worth another try: transport failures, timeouts, overload.
RETRYABLE_STATUSES = frozenset({408, 429, 500, 502, 503, 504, 507})


class Cancelled(SyncError):
    """The replication was cancelled by its caller."""

    status = 499
    error = "cancelled"


def is_retryable(exc: BaseException) -> bool:
    """Transport errors and 5xx/408/429 answers; never a definite client error."""
    if isinstance(exc, TransportError):
        return True
    if isinstance(exc, SyncError):
        return exc.status in RETRYABLE_STATUSES
    return isinstance(exc, ConnectionError | TimeoutError)


#: Answers that say "not now" whatever a request's size: slow down (429), the store down
#: (503), the disk full (507, CouchDB docs "Disk Monitor Configuration"). Retried after a
#: backoff, never by sending less: halving an upload only sends it again in pieces.
NOT_NOW_STATUSES = frozenset({429, 503, 507})


def is_not_now(exc: BaseException) -> bool:
    """Did the peer answer "not now" (rather than the link break)?"""
    return (isinstance(exc, SyncError) and not isinstance(exc, TransportError)
            and exc.status in NOT_NOW_STATUSES)


def is_timeout(exc: BaseException) -> bool:
    """Did the peer go silent (a timeout) rather than answer badly?"""
    text = f"{getattr(exc, 'error', '')} {getattr(exc, 'reason', '')} {exc}".lower()
    return isinstance(exc, TimeoutError) or "timeout" in text or "timed out" in text


@dataclass
class Backoff:
    """Retry policy. ``max_attempts=None`` retries forever (continuous mode)."""

    base: float = 0.5
    cap: float = 30.0
    max_attempts: int | None = 8
    rng: random.Random = field(default_factory=random.Random)
    #: Set to abort the waits early (the replication's cancel hook).
    cancel: threading.Event = field(default_factory=threading.Event)
    #: Called with (exception, attempt, delay) before each wait, e.g. to log.
    on_retry: Callable[[BaseException, int, float], None] | None = None
    retries: int = 0

    def delay(self, attempt: int) -> float:
        return self.rng.uniform(0, min(self.cap, self.base * (2 ** attempt)))

    def call(self, fn: Callable[[], T], *, on_failure: Callable[[BaseException], None] | None = None
             ) -> T:
        """Run ``fn`` until it succeeds, a non-retryable error, or the attempts run out."""
        attempt = 0
        while True:
            if self.cancel.is_set():
                raise Cancelled("replication cancelled")
            try:
                return fn()
            except Exception as exc:
                if not is_retryable(exc):
                    raise
                if on_failure is not None:
                    on_failure(exc)
                attempt += 1
                if self.max_attempts is not None and attempt >= self.max_attempts:
                    raise
                wait = self.delay(attempt - 1)
                self.retries += 1
                if self.on_retry is not None:
                    self.on_retry(exc, attempt, wait)
                if self.cancel.wait(wait):
                    raise Cancelled("replication cancelled") from exc
