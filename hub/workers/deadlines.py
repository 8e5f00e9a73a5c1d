"""The deadline watcher (design.md §6): overdue marks and 10.2.5.2 terminations.

It follows the main feed from its own checkpoint and keeps the set of open cases it
watches in the private database (``deadlines:watch``), so a restart forgets none. For
each open case it folds the events with engineer E's rules (:func:`schemas.fold.fold`
with ``as_of`` today): a suspended case whose resumption deadline (10.2.5.1, form D) has
passed is terminated (10.2.5.2) by a ``termination`` event signed by the hub's own device
(:mod:`hub.workers.terminate`); the overdue marks of every open case (reply 10.1.1.3,
time limit, materials, complaint) are written to ``deadlines:overdue`` for oversight.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from typing import TYPE_CHECKING, Any

from hub import scope as scopes
from hub.transitions import case_events
from hub.workers.feed import FeedFollower
from schemas.state import local_today
from sync.crypto.errors import CryptoError
from sync.errors import Conflict, NotFound

if TYPE_CHECKING:
    from hub.core import Hub

CHECKPOINT = "worker-deadlines"
WATCH_ID = "deadlines:watch"
OVERDUE_ID = "deadlines:overdue"
log = logging.getLogger("bangban.hub.deadlines")


class DeadlineWatcher:
    #: Seconds between sweeps of every open case (cases whose documents changed are
    #: looked at in the next pass; the others only move with the calendar).
    SWEEP_EVERY = 300.0

    def __init__(self, hub: Hub, *, today: dt.date | None = None):
        self.hub = hub
        self.feed = FeedFollower(hub.stores, CHECKPOINT)
        self.today = today
        self.watch: set[str] | None = None
        self.marks: dict[str, Any] = {}
        self.terminated = 0
        self.overdue = 0
        #: Cases past their resumption deadline whose termination could not be written yet
        #: (no keyring at the hub, or a recipient without an active key during a key
        #: rotation): looked at again every pass, not only at the next sweep.
        self.waiting: set[str] = set()
        self._swept_at: float | None = None

    def _load(self) -> set[str]:
        try:
            return set(self.hub.stores.private.get(WATCH_ID).get("cases", []))
        except NotFound:
            return set()

    def _save(self, docid: str, body: dict[str, Any]) -> None:
        private = self.hub.stores.private
        for _ in range(3):
            try:
                current = private.get(docid)
                if all(current.get(k) == v for k, v in body.items()):
                    return
                private.put({**current, **body})
                return
            except NotFound:
                try:
                    private.put({"_id": docid, **body})
                    return
                except Conflict:
                    continue
            except Conflict:
                continue

    def run_once(self) -> int:
        if self.watch is None:
            self.watch = self._load()
        before = set(self.watch)
        changed: set[str] = set()
        for rows in self.feed.batches():
            for row in rows:
                case_id = scopes.case_id_of(row["id"])
                if case_id and row["id"].startswith(("case:", "event:")):
                    changed.add(case_id)
        self.watch |= changed
        now = time.monotonic()
        sweep = self._swept_at is None or now - self._swept_at >= self.SWEEP_EVERY
        if sweep:
            self._swept_at = now
        written = self.check(local_today() if self.today is None else self.today,
                             None if sweep else changed | self.waiting)
        if self.watch != before:
            self._save(WATCH_ID, {"type": "deadline_watch", "cases": sorted(self.watch)})
        return written

    def check(self, today: dt.date, only: set[str] | None = None) -> int:
        """Fold the watched cases (``only`` those, when given) and act on their deadlines."""
        from hub.workers.terminate import terminate_if_due

        assert self.watch is not None
        written = 0
        marks: dict[str, Any] = dict(self.marks) if only is not None else {}
        for case_id in sorted(self.watch if only is None else only & self.watch):
            events = case_events(self.hub.stores, case_id)
            try:
                outcome, state = terminate_if_due(self.hub, case_id, events, today)
            except (NotFound, CryptoError) as exc:
                # One case the hub cannot seal a termination for must not stop the pass:
                # raised, it held up every other termination of the city and the oversight
                # fold behind it until a station's new key came (README "Lost laptop").
                # The fold dates the termination the day after the deadline however late
                # it is written (schemas.fold), so waiting changes no report.
                if case_id not in self.waiting:
                    log.warning("deadlines: case %s is past its resumption deadline but its "
                                "termination cannot be sealed yet (%s); tried again every "
                                "pass", case_id, exc)
                self.waiting.add(case_id)
                if case_id in self.marks:  # its marks as last known
                    marks[case_id] = self.marks[case_id]
                continue
            self.waiting.discard(case_id)
            marks.pop(case_id, None)
            if outcome == "terminated":
                written += 1
            elif outcome == "closed":
                self.watch.discard(case_id)
            elif state is not None and state.overdue:
                marks[case_id] = {"institution": state.holder, "marks": list(state.overdue)}
        self.terminated += written
        self.overdue = len(marks)
        if marks != self.marks:
            self.marks = marks
            self._save(OVERDUE_ID, {"type": "overdue_marks", "as_of": today.isoformat(),
                                    "cases": marks})
        return written
