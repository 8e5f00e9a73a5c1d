"""The deadline watcher (design.md §6): overdue marks and 10.2.5.2 terminations.

For each case whose events changed it folds the events with engineer E's rules
(:func:`schemas.fold.fold`). A suspended case whose resumption deadline (10.2.5.1,
form D) has passed is terminated (10.2.5.2) by a ``termination`` event signed by
the hub's own device; cases past their time limit are counted as overdue.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

from hub import scope as scopes
from hub.transitions import case_events
from hub.workers.feed import FeedFollower

if TYPE_CHECKING:
    from hub.core import Hub

CHECKPOINT = "worker-deadlines"


class DeadlineWatcher:
    def __init__(self, hub: Hub, *, today: Any = None):
        self.hub = hub
        self.feed = FeedFollower(hub.stores, CHECKPOINT)
        self.today = today
        self.watch: set[str] = set()
        self.terminated = 0
        self.overdue = 0

    def run_once(self) -> int:
        for rows in self.feed.batches():
            for row in rows:
                case_id = scopes.case_id_of(row["id"])
                if case_id and row["id"].startswith(("case:", "event:")):
                    self.watch.add(case_id)
        return self.check(dt.date.today() if self.today is None else self.today)

    def check(self, today: dt.date) -> int:
        try:
            from hub.workers.terminate import terminate_if_due
        except ImportError:  # pragma: no cover - E's fold not available
            return 0
        written = 0
        overdue = 0
        for case_id in sorted(self.watch):
            events = case_events(self.hub.stores, case_id)
            outcome = terminate_if_due(self.hub, case_id, events, today)
            if outcome == "terminated":
                written += 1
            elif outcome == "overdue":
                overdue += 1
            elif outcome == "closed":
                self.watch.discard(case_id)
        self.terminated += written
        self.overdue = overdue
        return written
