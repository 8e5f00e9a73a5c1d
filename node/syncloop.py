"""The background loop of `node serve`'s sync (:class:`node.syncer.Syncer`'s rounds, one
every ``sync_interval``, sooner once the link is back): kept apart from the round itself
(node/syncer.py) so that neither module outgrows the house's 400 lines."""

from __future__ import annotations

import logging
import random
import threading
import time
from typing import TYPE_CHECKING, Any

from node.errors import NotEnrolled, SyncFailed, Wiped
from node.syncstate import SyncState, unexpected_words

if TYPE_CHECKING:
    from node.core import Node

log = logging.getLogger("bangban.node")


class SyncLoop:
    """The loop around :meth:`sync_once` (given by :class:`node.syncer.Syncer`)."""

    node: Node
    state: SyncState
    _stop: threading.Event
    _wake: threading.Event
    _cancel: threading.Event
    _thread: threading.Thread | None

    def sync_once(self) -> dict[str, Any]:
        raise NotImplementedError

    def hub_answers(self, timeout: float) -> bool:
        raise NotImplementedError

    def start_background(self) -> None:
        interval = float(self.node.settings.sync_interval)
        if interval <= 0 or self._thread is not None or not self.node.enrollment:
            return
        self._thread = threading.Thread(target=self._loop, args=(interval,), daemon=True,
                                        name="bangban-node-sync")
        self._thread.start()

    def wake(self) -> None:
        self._wake.set()

    @property
    def in_background(self) -> bool:
        """Whether rounds run in the background loop (``node serve`` once unlocked)."""
        return self._thread is not None and self._thread.is_alive()

    def _loop(self, interval: float) -> None:
        while not self._stop.is_set():
            try:
                self.sync_once()
            except (SyncFailed, NotEnrolled):
                pass
            except Wiped:
                return
            except Exception as exc:  # keep the loop alive; the page says it, the log has it
                log.error("sync round failed", exc_info=exc)
                self.state.status = "error"
                self.state.last_error = unexpected_words(exc, str(self.node.dir))
            self._pause(interval)
            self._wake.clear()

    def _pause(self, interval: float) -> None:
        """Wait for the next round; while offline, look for the link coming back every few
        seconds instead of waiting out the whole interval (design.md §4: sync by itself
        when the network returns): before, the clerk's work waited up to ``sync_interval``
        plus a timeout after the link was back. Offline is read at each look, so a round
        the clerk started (API ``POST /api/sync``) that found the hub gone counts too. The
        jitter keeps a thousand stations that lost the hub together from all starting a
        round in the same second when it returns. A hub that answered the round no (full,
        507; no database here, 404) answers a probe all the same: that round waits the
        interval, or it went up the link every few seconds."""
        probe = float(self.node.settings.sync_probe_interval)
        end = time.monotonic() + interval
        while not self._stop.is_set():
            left = end - time.monotonic()
            if left <= 0:
                return
            if probe <= 0:
                self._wake.wait(left)
                return
            if self._wake.wait(min(left, probe * random.uniform(0.5, 1.5))):
                return
            if self.state.status == "offline" and not self.state.hub_said_no() and \
                    self.hub_answers(min(5.0, float(self.node.settings.sync_timeout))):
                return

    def stop(self) -> None:
        self._stop.set()
        self._cancel.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None


def wait_for(pred: Any, timeout: float = 10.0) -> bool:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if pred():
            return True
        time.sleep(0.05)
    return False
