"""Is this laptop's clock right? Checked against the hub's at each sync (design.md §6).

Every step a clerk records states its time from this laptop's clock (``at``, and the
hybrid logical clock of its id), and deadlines are counted from those times (10.1.1.3,
10.1.5). A laptop whose battery-backed clock was reset, or set by hand, records wrong dates
without anyone noticing, and the hub's supervision later flags its completions
(hub/oversight/clocks.py). So the node compares its clock with the hub's HTTP ``Date``
header (RFC 9110 §6.6.1: second resolution) once in a while and warns the clerk on every
page while the two differ by more than ``clock_warn_seconds``. It does not correct the
times it writes: what a laptop states must stay what it said, for the hub to judge.

Public API: :func:`measure_offset`, :func:`offset_text`, :data:`CHECK_EVERY`.
"""

from __future__ import annotations

import time
import urllib.error
import urllib.request
from collections.abc import Callable
from email.utils import parsedate_to_datetime

#: Seconds between two clock checks (one small request to the hub, in a sync round).
CHECK_EVERY = 600.0


def measure_offset(request: urllib.request.Request, *, timeout: float,
                   now: Callable[[], float] = time.time) -> float | None:
    """Seconds this laptop's clock is *ahead* of the hub's (negative: behind), from one
    request's ``Date`` header taken against the middle of the round trip; ``None`` when
    the hub did not answer or sent no usable date. Accurate to about a second plus half
    the round trip: enough to see minutes or days, which is what matters."""
    sent = now()
    try:
        with urllib.request.urlopen(request, timeout=timeout) as resp:
            date = resp.headers.get("Date")
    except urllib.error.HTTPError as exc:  # a 401 or 404 still carries the hub's time
        date = exc.headers.get("Date") if exc.headers else None
    except OSError:
        return None
    received = now()
    if not date or received - sent > timeout:
        # No socket read waited that long: the laptop slept or the node was stopped
        # mid-request, and the middle of the round trip is nowhere near the answer's time.
        return None
    try:
        hub = parsedate_to_datetime(date).timestamp()
    except (TypeError, ValueError):
        return None
    # The header truncates to the second: its true time is within [hub, hub + 1).
    return (sent + received) / 2 - (hub + 0.5)


def offset_text(seconds: float, *, en: bool = False) -> str:
    """``快 3 分钟`` / ``慢 2.5 小时`` / ``慢 3 天`` (``3 minutes fast``, ``3 days slow``):
    how far and which way, in words."""
    v = abs(seconds)
    if v < 3600:
        n, zh_unit, en_unit = f"{max(1, round(v / 60))}", "分钟", "minutes"
    elif v < 86400:
        n, zh_unit, en_unit = f"{v / 3600:.1f}", "小时", "hours"
    else:
        n, zh_unit, en_unit = f"{v / 86400:.0f}", "天", "days"
    if en:
        return f"{n} {en_unit} {'fast' if seconds > 0 else 'slow'}"
    return f"{'快' if seconds > 0 else '慢'} {n} {zh_unit}"


__all__ = ["CHECK_EVERY", "measure_offset", "offset_text"]
