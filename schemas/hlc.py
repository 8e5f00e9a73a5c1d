"""Hybrid logical clocks (Kulkarni et al., "Logical Physical Clocks", 2014).

Laptops' clocks drift (design.md §6), so every event carries an HLC: the
physical time in ms as the writer saw it, a counter that orders events within
the same ms (and after receiving a clock from the future), and the writer's
node (device) id as the last tie-break. The string form is sortable::

    "019ac1f2e3a0-0000-410621100201-A3"
     wall ms, 12 hex | counter, 4 hex | node (device id)

so ``sorted(strings)`` is the clock order and CouchDB key ranges work on it.

Public API: :class:`HLC`, :func:`pack`, :func:`unpack`, :func:`compare`,
:func:`tick`, :func:`receive`, :func:`skew_ms`, :func:`is_hlc`.
"""

from __future__ import annotations

import re
from typing import NamedTuple

from schemas.errors import ClockError

MAX_WALL = 16**12 - 1
MAX_COUNTER = 16**4 - 1
_RE = re.compile(r"^([0-9a-f]{12})-([0-9a-f]{4})-([A-Za-z0-9][A-Za-z0-9_.-]{0,63})$")


class HLC(NamedTuple):
    """One clock reading. Tuple order is the clock order."""

    wall_ms: int
    counter: int
    node: str

    def __str__(self) -> str:
        return pack(self)


def pack(h: HLC) -> str:
    """The sortable string form."""
    if not (0 <= h.wall_ms <= MAX_WALL and 0 <= h.counter <= MAX_COUNTER):
        raise ClockError(f"clock out of range: {h!r}")
    if not _RE.match(f"{0:012x}-{0:04x}-{h.node}"):
        raise ClockError(f"bad node id in clock: {h.node!r}")
    return f"{h.wall_ms:012x}-{h.counter:04x}-{h.node}"


def unpack(s: str) -> HLC:
    """Parse the string form; raises :class:`ClockError` if malformed."""
    m = _RE.match(s) if isinstance(s, str) else None
    if not m:
        raise ClockError(f"not a hybrid logical clock: {s!r}")
    return HLC(int(m.group(1), 16), int(m.group(2), 16), m.group(3))


def is_hlc(s: object) -> bool:
    return isinstance(s, str) and _RE.match(s) is not None


def compare(a: HLC | str, b: HLC | str) -> int:
    """-1, 0 or 1 as ``a`` is before, equal to or after ``b``."""
    ta = unpack(a) if isinstance(a, str) else a
    tb = unpack(b) if isinstance(b, str) else b
    return (ta > tb) - (ta < tb)


def _bump(wall: int, counter: int, node: str) -> HLC:
    # Counter overflow (65,536 events in one ms) borrows the next ms: still monotonic.
    if counter > MAX_COUNTER:
        return HLC(wall + 1, 0, node)
    return HLC(wall, counter, node)


def tick(local_wall_ms: int, last: HLC | None, node: str) -> HLC:
    """The clock for a new local event (send/record rule of the HLC paper)."""
    if last is None or local_wall_ms > last.wall_ms:
        return HLC(local_wall_ms, 0, node)
    return _bump(last.wall_ms, last.counter + 1, node)


def receive(local_wall_ms: int, last: HLC | None, remote: HLC, node: str,
            *, max_ahead_ms: int | None = None) -> HLC:
    """The local clock after seeing ``remote`` (receive rule of the HLC paper).

    With ``max_ahead_ms`` a remote clock further ahead of the local wall clock is
    refused (:class:`ClockError`). No caller passes it: the hub takes a laptop's clock
    as stated and shows how far off it was (hub/oversight/clocks.py), since an event it
    refused, signed and immutable, could never be sent again; and a station's step
    follows its case's newest clock whatever that says (node.casework.next_clock), so
    a laptop set to 2099 drags the clocks of those who write on its cases after it.
    """
    if max_ahead_ms is not None and remote.wall_ms - local_wall_ms > max_ahead_ms:
        raise ClockError(
            f"remote clock {pack(remote)} is {remote.wall_ms - local_wall_ms} ms ahead "
            f"(limit {max_ahead_ms} ms)")
    last_wall = last.wall_ms if last else -1
    last_counter = last.counter if last else -1
    wall = max(local_wall_ms, last_wall, remote.wall_ms)
    if wall == last_wall and wall == remote.wall_ms:
        counter = max(last_counter, remote.counter) + 1
    elif wall == last_wall:
        counter = last_counter + 1
    elif wall == remote.wall_ms:
        counter = remote.counter + 1
    else:
        counter = 0
    return _bump(wall, counter, node)


def skew_ms(clock: HLC | str, received_wall_ms: int) -> int:
    """How far the writer's clock was ahead (+) or behind (-) the receiver's (design.md §6)."""
    h = unpack(clock) if isinstance(clock, str) else clock
    return h.wall_ms - received_wall_ms
