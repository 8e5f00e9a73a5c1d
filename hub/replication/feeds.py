"""How many waiting ``_changes`` feeds one device holds at once in a gateway process.

A longpoll or continuous feed holds one of the gateway's ``hub_threads`` request threads
while it waits (up to ``longpoll_timeout``). A replicator runs one at a time (PouchDB's
live replication, the node's pull); one device's credentials with ``hub_threads`` of them
held every thread, and every other station's request waited (measured against
``hub serve --processes 2``: 40 such feeds of one device, every other request 30 s late).
So a device's feeds beyond ``feeds_per_device`` are answered at once, as normal feeds:
what a longpoll whose timeout passed answers (CouchDB docs, "/db/_changes"), and a
replicator simply asks again.
"""

from __future__ import annotations

import threading

from sync.http.messages import QueryArgs, Request

#: ``feed`` values that wait (``live`` is CouchDB's alias of ``continuous``).
WAITING = ("longpoll", "continuous", "live")


def waiting_feed(request: Request) -> bool:
    """Whether ``request`` is a ``_changes`` feed that waits for changes."""
    return (request.segments[1:] == ["_changes"]
            and request.query.get("feed", "normal") in WAITING)


def at_once(query: QueryArgs) -> QueryArgs:
    """``query`` as a normal feed: answered with what there is now, without waiting."""
    kept = [(k, v) for k, v in query.pairs() if k not in ("feed", "heartbeat", "timeout")]
    return QueryArgs([*kept, ("feed", "normal")])


class Tally:
    """Counts per device shared by request threads, each at most ``limit`` (None: no bound);
    the feeds a device holds here, its ``_bulk_docs`` in flight (:mod:`hub.validate`)."""

    def __init__(self, limit: int | None = None):
        self.limit = limit
        self._held: dict[str, int] = {}
        self._lock = threading.Lock()

    def take(self, device_id: str) -> bool:
        """One more for ``device_id``, or False when it holds ``limit`` already."""
        with self._lock:
            held = self._held.get(device_id, 0)
            if self.limit is not None and held >= self.limit:
                return False
            self._held[device_id] = held + 1
            return True

    def give(self, device_id: str) -> None:
        with self._lock:
            held = self._held.get(device_id, 0) - 1
            if held > 0:
                self._held[device_id] = held
            else:
                self._held.pop(device_id, None)

    def held(self, device_id: str) -> int:
        with self._lock:
            return self._held.get(device_id, 0)


#: The waiting feeds of each device: ``FeedSlots(feeds_per_device)``.
FeedSlots = Tally


class FeedSignal:
    """Wakes longpolling feeds when the indexer wrote to their scope."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._version = 0

    def notify(self, _scopes: set[str] | None = None) -> None:
        with self._cond:
            self._version += 1
            self._cond.notify_all()

    @property
    def version(self) -> int:
        return self._version

    def wait(self, version: int, timeout: float) -> None:
        with self._cond:
            if self._version == version:
                self._cond.wait(timeout)
