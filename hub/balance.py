"""Spreading connections evenly over the gateway processes of ``hub serve --processes N``.

Every gateway waits on one listening socket and the first to call ``accept()`` gets a new
connection (:mod:`hub.serve`). A device keeps its connection open (keep-alive) for all its
requests, so with few devices at once the split is often lopsided: in the hub bench's
HTTP ingest (8 devices pushing, 2 gateways) one run split them 7:1 and another 5:3, and
the gateway holding 7 ran their checks on one core (Python's GIL lets one process use about
one) while the other core waited. Rules on what to accept when belong in the accepting
loop, so each gateway publishes how many connections it holds in a page of memory shared
with its siblings (created before the fork) and leaves a new connection to a sibling
holding fewer: that one accepts it instead.

Only fresh entries count (each gateway's loop writes its own at least every second, waitress's
``asyncore_loop_timeout``): a dead or stuck sibling stops counting after :data:`STALE`
seconds and the others accept as before.

A gateway leaves a connection only to a sibling whose last word was that it accepts. One
that declined sleeps in its poll without the listening socket until something of its own
wakes it (at most ``asyncore_loop_timeout``, a second): when every gateway declined on
counts that have changed since, idle connections were accepted one every half second or
so, and a burst of a hundred (stations reconnecting after a restart, or anyone without
credentials) held every later request, a station's included, for half a minute.
"""

from __future__ import annotations

import mmap
import struct
import time
from typing import Any

#: One gateway's entry: connections it holds, when it last wrote them (CLOCK_MONOTONIC, one
#: clock for every process of the machine), and whether it then polled the listening socket.
SLOT = struct.Struct("qdq")
#: Seconds after which a sibling's entry no longer counts.
STALE = 3.0


class Balance:
    """The shared page of ``gateways`` entries; :meth:`attach` one waitress server each."""

    def __init__(self, gateways: int):
        self.gateways = gateways
        # Anonymous and MAP_SHARED (mmap's default): the forked gateways see one page.
        self._page = mmap.mmap(-1, SLOT.size * gateways)

    def publish(self, index: int, held: int, now: float, accepting: bool = True) -> None:
        SLOT.pack_into(self._page, index * SLOT.size, held, now, int(accepting))

    def fewer_elsewhere(self, index: int, held: int, now: float) -> bool:
        """Whether a live sibling holding fewer connections than ``held`` accepts them."""
        for i in range(self.gateways):
            if i == index:
                continue
            count, written, accepting = SLOT.unpack_from(self._page, i * SLOT.size)
            if now - written < STALE and count < held and accepting:
                return True
        return False

    def wait_for_siblings(self, index: int, timeout: float) -> bool:
        """Until every other gateway's loop has written its entry (it accepts connections),
        at most ``timeout`` seconds; whether they all did. ``hub serve`` announces itself
        only then: connections made before a sibling runs all land on the gateways already
        running and stay there (keep-alive), which balancing cannot undo."""
        deadline = time.monotonic() + timeout
        while True:
            if all(SLOT.unpack_from(self._page, i * SLOT.size)[1] > 0
                   for i in range(self.gateways) if i != index):
                return True
            if time.monotonic() >= deadline:
                return False
            time.sleep(0.01)

    def attach(self, server: Any, index: int) -> None:
        """Make waitress's ``server`` gateway ``index``: its listening socket is polled only
        while no sibling holds fewer connections (waitress polls a dispatcher whose
        ``readable()`` is true, and asks again at every turn of its loop)."""
        readable = server.readable

        def balanced_readable() -> bool:
            held = len(server._map)  # its channels, plus the same fixed dispatchers everywhere
            now = time.monotonic()
            # waitress's own rule (its connection limit) first
            accepting = readable() and not self.fewer_elsewhere(index, held, now)
            self.publish(index, held, now, accepting)
            return accepting

        server.readable = balanced_readable
