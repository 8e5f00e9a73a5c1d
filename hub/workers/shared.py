"""What the workers' process tells the gateways: busy or idle, and its counters.

Under ``hub serve`` the workers run in a process of their own (:mod:`hub.workers.process`),
so a gateway's ``/_hub/health`` no longer sees them in its own :class:`hub.core.Hub`:
``pending`` must stay true while a pass is running (its boards and terminations are
written after the checkpoints moved: the demo's ``--once`` and the tests wait for that),
and the counters (conflicts resolved, hand-overs routed, boards) are the workers'. One
page of memory shared before the fork carries both, as :mod:`hub.balance` does for the
gateways' connection counts.

One writer (the workers' process; its supervisor clears ``busy`` when it dies), many
readers: a sequence number odd while a write is under way, read again after the read, so a
reader never takes half of an old record and half of a new one (a seqlock).
"""

from __future__ import annotations

import json
import mmap
import struct
import time
from typing import Any

#: Sequence number (odd while writing), busy flag, length of the JSON counters.
HEAD = struct.Struct("QBI")
SIZE = 4096


class SharedWorkerState:
    """The shared page; made by ``hub serve`` before it forks anything."""

    def __init__(self) -> None:
        # Anonymous and MAP_SHARED (mmap's default): every forked process sees one page.
        self._page = mmap.mmap(-1, SIZE)

    def _write(self, busy: bool, stats: bytes) -> None:
        seq, _, _ = HEAD.unpack_from(self._page, 0)
        seq += seq % 2  # left odd by a writer killed half way
        HEAD.pack_into(self._page, 0, seq + 1, int(busy), len(stats))  # odd: under way
        self._page[HEAD.size:HEAD.size + len(stats)] = stats
        HEAD.pack_into(self._page, 0, seq + 2, int(busy), len(stats))

    def publish(self, *, busy: bool, stats: dict[str, Any] | None = None) -> None:
        """The workers' state; ``stats`` None keeps the counters last written."""
        if stats is None:
            body = bytes(self._read()[1])
        else:
            body = json.dumps(stats, sort_keys=True).encode()
            if len(body) > SIZE - HEAD.size:  # counters only: a handful of numbers
                body = b"{}"
        self._write(busy, body)

    def _read(self) -> tuple[bool, bytes]:
        for _ in range(1000):
            seq, busy, length = HEAD.unpack_from(self._page, 0)
            if seq % 2 == 0:
                body = self._page[HEAD.size:HEAD.size + length]
                if HEAD.unpack_from(self._page, 0)[0] == seq:
                    return bool(busy), body
            time.sleep(0.0001)
        return False, b""  # a writer that died half way (SIGKILL): nothing to trust

    @property
    def busy(self) -> bool:
        return self._read()[0]

    @property
    def stats(self) -> dict[str, Any]:
        body = self._read()[1]
        return dict(json.loads(body)) if body else {}
