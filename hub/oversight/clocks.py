"""Laptop clocks against the hub's: receipt times folded into the oversight file, and the
two checks a supervisor reads from them (design.md §6, "oversight uses both and shows skew").

Every event states when it happened (``at``, from the recording laptop's clock); the hub
records when it received it (:mod:`hub.receipts`). For one event, ``received - at`` is the
time it spent offline plus how far the laptop's clock was behind; it cannot be negative
unless the laptop's clock was *ahead*. Per device, then:

* ``ahead``: events stated later than the hub received them (beyond :data:`TOLERANCE_MS`
  for the hubs' own clock error): the laptop's clock is fast, certainly;
* ``lag_min``: the smallest ``received - at`` of the period. A laptop that synced right
  after recording anything shows a few seconds; a large value means it never synced
  promptly, or its clock is behind by about that much. Either way its stated times are
  unconfirmed by that much;
* completions stated on time whose receipt came after the deadline (:func:`late_receipts`):
  on time by the laptop, late by the hub. Offline work explains some; a clock set back
  explains the rest (10.1.5 completion, 11.1 b 超期办理情况). The on-time rate itself stays
  the stated one: an offline station must not be penalised for its link.

The fold follows ``P-receipts``' changes feed; its checkpoint is written in the same SQLite
transaction as its rows, and the first receipt of an event wins (replays come later).
"""

from __future__ import annotations

import datetime as dt
import sqlite3
from typing import TYPE_CHECKING, Any

from hub import scope as scopes
from schemas.state import LOCAL_TZ

if TYPE_CHECKING:
    from hub.oversight.materialize import FactStore
    from hub.storage import HubStores

BATCH = 500
CHECKPOINT = "receipts_seq"
#: Stated times up to this far after receipt are not called "ahead": the hub's clock is
#: NTP-synchronised, but a gateway's may still be a little off.
TOLERANCE_MS = 2 * 60 * 1000

SCHEMA = """
CREATE TABLE IF NOT EXISTS receipts (
  event_id TEXT PRIMARY KEY, case_id TEXT NOT NULL, device TEXT NOT NULL,
  institution TEXT NOT NULL, event_type TEXT NOT NULL, at_ms INTEGER,
  received_ms INTEGER NOT NULL, via TEXT NOT NULL) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS receipts_inst ON receipts (institution, received_ms);
CREATE INDEX IF NOT EXISTS receipts_case ON receipts (case_id, event_type);
"""


def _ms(at: str) -> int | None:
    try:
        when = dt.datetime.fromisoformat(at)
    except ValueError:
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=LOCAL_TZ)
    return int(when.timestamp() * 1000)


def receipt_rows(doc: dict[str, Any]) -> list[tuple[Any, ...]]:
    """The ``receipts`` rows of one receipt document (pure)."""
    rows = []
    for item in doc.get("events") or ():
        if not isinstance(item, list) or len(item) != 3:
            continue
        event_id, event_type, at = (str(x) for x in item)
        case_id = scopes.case_id_of(event_id)
        if not case_id:
            continue
        rows.append((event_id, case_id, str(doc.get("device", "")),
                     str(doc.get("institution", "")), event_type, _ms(at),
                     int(doc.get("received_ms", 0)), str(doc.get("via", ""))))
    return rows


class ClockFold:
    """Folds ``P-receipts`` into the ``receipts`` table of the oversight file."""

    def __init__(self, stores: HubStores, facts: FactStore):
        self.stores = stores
        self.facts = facts
        facts.ensure_schema(SCHEMA)

    def catch_up(self, max_batches: int | None = None) -> int:
        """Fold receipts since the checkpoint; returns how many events were folded."""
        folded, batches = 0, 0
        since = self.facts.meta(CHECKPOINT, 0)
        while max_batches is None or batches < max_batches:
            feed = self.stores.receipts.changes(since=since, limit=BATCH, include_docs=True)
            rows = [r for change in feed["results"] if change.get("doc")
                    for r in receipt_rows(change["doc"])]
            with self.facts.transaction() as db:
                db.executemany("INSERT OR IGNORE INTO receipts VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                               rows)
                self.facts.set_meta(db, CHECKPOINT, feed["last_seq"])
            folded += len(rows)
            batches += 1
            since = feed["last_seq"]
            if len(feed["results"]) < BATCH:
                break
        return folded


# -- queries (the checks page, 11.1 b) ----------------------------------------------------
def _bounds(prefix: str, first: str, last: str) -> dict[str, Any]:
    """Institution range and the period ``first``..``last`` (months) in epoch ms, local time."""
    start = dt.datetime.fromisoformat(f"{first}-01T00:00:00").replace(tzinfo=LOCAL_TZ)
    y, m = (int(x) for x in last.split("-"))
    end = dt.datetime(y + m // 12, m % 12 + 1, 1, tzinfo=LOCAL_TZ)
    return {"lo": prefix, "hi": prefix + "~", "start": int(start.timestamp() * 1000),
            "end": int(end.timestamp() * 1000), "tol": TOLERANCE_MS}


def device_clocks(db: sqlite3.Connection, prefix: str, first: str, last: str,
                  limit: int = 200) -> list[dict[str, Any]]:
    """Per device, events received in the period: how many, how many stated ahead of their
    receipt, the smallest and largest ``received - at`` (ms). Fast clocks first, then the
    largest smallest lag."""
    sql = ("SELECT device, institution, COUNT(*), SUM(at_ms > received_ms + :tol), "
           "MIN(received_ms - at_ms), MAX(received_ms - at_ms), MAX(received_ms) "
           "FROM receipts WHERE institution >= :lo AND institution < :hi "
           "AND received_ms >= :start AND received_ms < :end AND at_ms IS NOT NULL "
           "GROUP BY device ORDER BY 4 DESC, 5 DESC LIMIT :limit")
    cols = ("device", "institution", "events", "ahead", "lag_min", "lag_max", "last_ms")
    return [dict(zip(cols, r, strict=True))
            for r in db.execute(sql, {**_bounds(prefix, first, last), "limit": limit})]


def late_receipts(db: sqlite3.Connection, prefix: str, first: str, last: str,
                  limit: int = 100) -> list[dict[str, Any]]:
    """Completions of the period on time by their stated date whose first receipt at the
    hub came after the deadline (a day later than ``due`` in local time)."""
    b = _bounds(prefix, first, last)
    sql = ("SELECT f.case_id, f.case_no, f.institution, f.staff, f.due, "
           "json_extract(f.data, '$.completed_on'), MIN(r.received_ms), r.device "
           "FROM facts f JOIN receipts r ON r.case_id = f.case_id AND r.event_type = 'completion' "
           "WHERE f.institution >= :lo AND f.institution < :hi "
           "AND f.finished_on >= :first AND f.finished_on < :next "  # on time: completed
           "AND json_extract(f.data, '$.on_time') = 1 GROUP BY f.case_id "
           "HAVING date(MIN(r.received_ms) / 1000, 'unixepoch', '+8 hours') > f.due "
           "ORDER BY f.due LIMIT :limit")
    cols = ("case_id", "case_no", "institution", "staff", "due", "completed_on", "received_ms",
            "device")
    nxt = dt.datetime.fromtimestamp(b["end"] / 1000, LOCAL_TZ).date().isoformat()
    params = {**b, "first": f"{first}-01", "next": nxt, "limit": limit}
    return [dict(zip(cols, r, strict=True)) for r in db.execute(sql, params)]


def local_time(ms: int | None) -> str:
    """``YYYY-MM-DD HH:MM`` in local (Beijing) time, for the page."""
    if ms is None:
        return "—"
    return dt.datetime.fromtimestamp(ms / 1000, LOCAL_TZ).strftime("%Y-%m-%d %H:%M")


def duration(ms: int | None) -> str:
    """A lag in words: ``-3 分钟`` (ahead), ``12 秒``, ``5.2 小时``, ``3.0 天``."""
    if ms is None:
        return "—"
    sign, v = ("-" if ms < 0 else ""), abs(ms) / 1000
    if v < 60:
        return f"{sign}{v:.0f} 秒"
    if v < 3600:
        return f"{sign}{v / 60:.0f} 分钟"
    if v < 86400:
        return f"{sign}{v / 3600:.1f} 小时"
    return f"{sign}{v / 86400:.1f} 天"


__all__ = ["ClockFold", "TOLERANCE_MS", "device_clocks", "duration", "late_receipts",
           "local_time", "receipt_rows"]
