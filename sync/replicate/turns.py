"""Uploads in feed order while several batches load at once (``ordered_writes``).

With ``pipeline`` up to ``max_inflight`` changes batches are diffed, fetched and written
by a pool of threads, so a later batch could reach the target before an earlier one.
CouchDB does not mind; the hub does: it checks each event against the events of its case
it already holds (design.md §3, ``schemas.fold.check_received``), and an event whose case
header and earlier events are in the batch before it is refused for good (``base_unknown``)
when it arrives first and no other request of the device is yet in flight. It happened
to a scan: its chunks filled the first batches, so the event went in a batch of its own.

Each batch takes a turn in feed order; before its first upload it waits until every
earlier batch is written. The revs diffs and fetches still overlap (the round trips the
pipeline hides), only the writes keep their order, as PouchDB's replicator writes one
batch after the other.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager

from .retry import Cancelled


class Turn:
    """One batch's place in the feed: ``done`` once it and every batch before it are
    written (or one of them failed: ``failed``)."""

    def __init__(self, after: Turn | None) -> None:
        self.after = after
        self.done = threading.Event()
        self.failed = False


class Turns:
    """Hands out turns (the main thread, in feed order) and makes uploads wait for them."""

    def __init__(self, cancel: threading.Event) -> None:
        self._cancel = cancel
        self._last: Turn | None = None
        self._local = threading.local()

    def next(self) -> Turn:
        turn = Turn(self._last)
        self._last = turn
        return turn

    @contextmanager
    def holding(self, turn: Turn) -> Iterator[None]:
        """Run one batch's load in ``turn``: its uploads wait (:meth:`wait`); it is done
        only after the batches before it, even if it had nothing to write."""
        self._local.turn = turn
        try:
            yield
            self.wait()
        except BaseException:
            turn.failed = True
            raise
        finally:
            self._local.turn = None
            turn.done.set()

    def wait(self) -> None:
        """Before an upload of this thread's batch: every earlier batch is written. An
        earlier batch that failed stops this one (its error ends the run; written after
        it, this batch's events would meet a hub without their case)."""
        turn: Turn | None = getattr(self._local, "turn", None)
        if turn is None or turn.after is None:
            return
        after = turn.after
        while not after.done.wait(0.1):
            if self._cancel.is_set():
                raise Cancelled("replication cancelled")
        if after.failed:
            raise Cancelled("an earlier batch failed")
        turn.after = None  # its turn came: later uploads of the batch go straight on
