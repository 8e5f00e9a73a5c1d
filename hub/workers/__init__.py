"""The hub's workers, run by ``bangban hub serve`` in a process of their own
(:mod:`hub.workers.process`).

Each worker follows the main database's changes feed from its own checkpoint
(a ``_local`` document of the private database) and is idempotent, so several
gateway processes may run them over one store (design.md §7):

* the scope indexer and router (:mod:`hub.index`): scope indexes, hand-up/hand-down;
* the conflict resolver (:mod:`hub.workers.resolver`): E's header merge, one
  resolution per conflict, written by the hub only;
* the deadline watcher (:mod:`hub.workers.deadlines`): overdue marks and 10.2.5.2
  terminations written as hub-signed events;
* passes the app adds (``bangban hub serve`` adds the oversight materializer).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from hub.diskfull import is_disk_full, where
from hub.workers.deadlines import DeadlineWatcher
from hub.workers.resolver import ConflictResolver
from sync.errors import InsufficientStorage, SyncError

if TYPE_CHECKING:
    from hub.core import Hub
    from hub.workers.shared import SharedWorkerState

log = logging.getLogger("bangban.hub.workers")


class Workers:
    """Runs every worker pass each ``interval`` seconds (sooner when the feed moves)."""

    def __init__(self, hub: Hub, *, interval: float = 2.0,
                 passes: Sequence[Callable[[], Any]] = (),
                 state: SharedWorkerState | None = None):
        self.hub = hub
        #: Where the gateways read busy/idle and the counters (their own process under
        #: `hub serve`: hub.workers.process).
        self.state = state
        self.interval = interval
        #: More work of the same loop, after the workers (the app's oversight materializer:
        #: supervisors' pages then find the facts folded instead of folding on the read).
        self.passes = list(passes)
        self.resolver = ConflictResolver(hub)
        self.deadlines = DeadlineWatcher(hub)
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.errors = 0

    def run_once(self) -> dict[str, Any]:
        """One pass of every worker; returns counters."""
        # Busy until the extra passes are done as well: they write too (coordination
        # boards), and `/_hub/health` must not report idle in between.
        self.hub.workers_busy = True
        if self.state is not None:
            self.state.publish(busy=True)
        try:
            self.hub.indexer.catch_up()
            resolved = self.resolver.run_once()
            deadline = self.deadlines.run_once()
            if resolved or deadline:
                self.hub.indexer.catch_up()
            extra_stats: dict[str, Any] = {}
            for extra in self.passes:
                try:
                    result = extra()
                except Exception as exc:  # one failing pass must not stop the others
                    if is_disk_full(exc):  # the loop says it once, not a traceback a pass
                        raise InsufficientStorage(f"{exc}") from exc
                    self.errors += 1
                    log.exception("hub worker pass %r failed", extra)
                    continue
                if isinstance(result, dict):  # counters for /_hub/health
                    extra_stats.update(result)
        finally:
            self.hub.workers_busy = False
            if self.state is not None:
                self.state.publish(busy=False)
        self.hub.worker_stats = {**self.hub.worker_stats, **extra_stats,
                                 "conflicts_resolved": self.resolver.resolved,
                                 "terminated": self.deadlines.terminated,
                                 "overdue": self.deadlines.overdue}
        if self.state is not None:
            self.state.publish(busy=False, stats={**self.hub.worker_stats,
                                                  "routed": self.hub.indexer.routed})
        return self.hub.worker_stats

    def _loop(self) -> None:
        store_down = False  # the store failed the last pass
        while not self._stop.is_set():
            try:
                self.run_once()
            except Exception as exc:  # a worker failure must not stop the gateway
                self.errors += 1
                if not (isinstance(exc, SyncError) and exc.status >= 500):
                    log.exception("hub worker pass failed")  # a bug: retried next pass
                elif not store_down and is_disk_full(exc):
                    store_down = True
                    log.warning("hub workers: the hub's disk is full (%s): %s; trying again "
                                "every %g s (stations retry and keep working meanwhile)",
                                exc.reason, where(self.hub.settings), self.interval)
                elif not store_down:
                    # The store (CouchDB down, refusing the hub's credentials): every pass
                    # fails the same way until it is back, and each logged a 60-line
                    # traceback. Said once, with the cause, and again when it answers.
                    store_down = True
                    log.warning("hub workers: the hub's store failed: %s; trying again every "
                                "%g s (stations retry and keep working meanwhile)",
                                exc.reason, self.interval)
            else:
                if store_down:
                    store_down = False
                    log.warning("hub workers: the hub's store answers again; the workers "
                                "go on from their checkpoints")
            self._stop.wait(self.interval)

    def start(self) -> None:
        self._thread = threading.Thread(target=self._loop, name="bangban-hub-workers",
                                        daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)


__all__ = ["ConflictResolver", "DeadlineWatcher", "Workers"]
