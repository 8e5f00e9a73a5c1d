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
* stated before the device was enrolled (:func:`mark_before_enrollment`): a node starts
  from its enrollment, so such a time is history loaded into the station (``bangban demo``
  pushes sample cases dated months back at its start) or a clock set back. Their rows are
  marked and explained on the page, not dropped; receipt times stay what the hub saw.
* steps of the paper ledger entered later (补录, schemas.paper): a station going live
  states the dates on its old forms; each such step's hlc says when it was typed, and the
  two checks above time it from then (:func:`typed_ms`), counted apart (``paper``).

The fold follows ``P-receipts``' changes feed, its checkpoint written in the same SQLite
transaction as its rows. It keeps sums per device and month of receipt (``clock_months``:
a city's page reads devices x months rows, not one row per event: at 2,000,000 events a scan
of per-event rows took 40 s) and one row per completion (``completion_receipts``, the first
receipt kept). The gateway writes no receipt for an event the hub already had, so a replay
does not count twice.
"""

from __future__ import annotations

import datetime as dt
import sqlite3
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

from hub import scope as scopes
from hub.oversight.indicators import month_end
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
CREATE TABLE IF NOT EXISTS clock_months (
  institution TEXT NOT NULL, device TEXT NOT NULL, month TEXT NOT NULL,
  events INTEGER NOT NULL, ahead INTEGER NOT NULL, lag_min INTEGER NOT NULL,
  lag_max INTEGER NOT NULL, last_ms INTEGER NOT NULL, paper INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY (institution, device, month)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS completion_receipts (
  event_id TEXT PRIMARY KEY, case_id TEXT NOT NULL, device TEXT NOT NULL,
  received_ms INTEGER NOT NULL) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS completion_receipts_case ON completion_receipts (case_id);
CREATE TABLE IF NOT EXISTS event_receipts (
  event_id TEXT PRIMARY KEY, device TEXT NOT NULL, received_ms INTEGER NOT NULL,
  via TEXT NOT NULL) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS device_first_sync (
  device TEXT PRIMARY KEY, first_ms INTEGER NOT NULL) WITHOUT ROWID;
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


def month_of(ms: int) -> str:
    """``YYYY-MM`` of an epoch-ms time, in local (Beijing) time."""
    return dt.datetime.fromtimestamp(ms / 1000, LOCAL_TZ).strftime("%Y-%m")


def typed_ms(event_id: str, event_type: str, at_ms: int) -> int | None:
    """When a step of the paper ledger entered later (补录, schemas.paper) was typed: its
    hlc's wall time, for a step of :data:`schemas.paper.PAPER_STEPS` that declares itself
    one (:func:`schemas.paper.stated_later`: noon of an earlier Beijing day than that);
    else ``None`` (a live step: its stated time is when it was typed). Its ``at`` is the
    paper's date, a claim about history the receipt cannot confirm or deny; the laptop's
    clock and how promptly it synced are judged on when it was typed, as for every other
    step. A completion or termination stating an earlier day is no paper step (the node
    never back-dates them) and stays judged by what it states. Nor is a live step whose
    hlc a case's newest clock moved to a later day than it states (node.casework.
    next_clock): typed on a clock set back, or behind a colleague's fast one, timed from
    that hlc its clock was hidden, or read "ahead"."""
    from schemas.hlc import unpack
    from schemas.paper import PAPER_STEPS, stated_later

    if event_type not in PAPER_STEPS:
        return None
    try:
        wall = unpack(event_id.rsplit(":", 1)[-1]).wall_ms
    except Exception:  # not an event id of ours: judged as stated
        return None
    return wall if stated_later(dt.datetime.fromtimestamp(at_ms / 1000, LOCAL_TZ), wall) \
        else None


def month_sums(rows: list[tuple[Any, ...]]) -> dict[tuple[str, str, str], list[int]]:
    """``(institution, device, month) -> [events, ahead, lag_min, lag_max, last_ms, paper]``
    of :func:`receipt_rows` rows with a stated time (pure). A paper step entered later
    counts in ``paper`` and is timed from when it was typed (:func:`typed_ms`): a station's
    first sync after bringing its ledger in is not "never synced promptly" nor "stated
    before enrollment" for the dates on its old forms. ``paper`` sums by month of receipt
    and no page reads it: the checks page counts 补录 by the month typed, as the 补录 audit
    does (:func:`device_clocks`)."""
    sums: dict[tuple[str, str, str], list[int]] = {}
    for eid, _case, device, institution, etype, at_ms, received_ms, _via in rows:
        if at_ms is None:
            continue
        typed = typed_ms(eid, etype, at_ms)
        lag = received_ms - (at_ms if typed is None else typed)
        s = sums.setdefault((institution, device, month_of(received_ms)),
                            [0, 0, lag, lag, received_ms, 0])
        s[0] += 1
        s[1] += int(-lag > TOLERANCE_MS)
        s[2], s[3], s[4] = min(s[2], lag), max(s[3], lag), max(s[4], received_ms)
        s[5] += typed is not None
    return sums


class ClockFold:
    """Folds ``P-receipts`` into ``clock_months`` and ``completion_receipts``."""

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
                db.executemany(
                    "INSERT INTO clock_months VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) "
                    "ON CONFLICT DO UPDATE SET events = events + excluded.events, "
                    "paper = paper + excluded.paper, "
                    "ahead = ahead + excluded.ahead, lag_min = MIN(lag_min, excluded.lag_min), "
                    "lag_max = MAX(lag_max, excluded.lag_max), "
                    "last_ms = MAX(last_ms, excluded.last_ms)",
                    [(*k, *v) for k, v in month_sums(rows).items()])
                db.executemany("INSERT OR IGNORE INTO completion_receipts VALUES (?, ?, ?, ?)",
                               [(r[0], r[1], r[2], r[6]) for r in rows if r[4] == "completion"])
                # every event's first receipt: a case's history and archive show when the
                # hub got each step beside when its laptop said it happened. Read by case
                # as a range of the key (``event:{case}:…``): no case column, no index
                db.executemany("INSERT OR IGNORE INTO event_receipts VALUES (?, ?, ?, ?)",
                               [(r[0], r[2], r[6], r[7]) for r in rows])
                # when each device first reached the hub: its station went live (the 补录
                # audit flags paper steps typed long after, hub.oversight.paper)
                db.executemany("INSERT INTO device_first_sync VALUES (?, ?) ON CONFLICT DO "
                               "UPDATE SET first_ms = MIN(first_ms, excluded.first_ms)",
                               list(_firsts(rows).items()))
                self.facts.set_meta(db, CHECKPOINT, feed["last_seq"])
            folded += len(rows)
            batches += 1
            since = feed["last_seq"]
            if len(feed["results"]) < BATCH:
                break
        return folded


def _firsts(rows: list[tuple[Any, ...]]) -> dict[str, int]:
    """device -> its earliest receipt among :func:`receipt_rows` rows."""
    out: dict[str, int] = {}
    for r in rows:
        out[r[2]] = min(out.get(r[2], r[6]), r[6])
    return out


# -- queries (the checks page, 11.1 b) ----------------------------------------------------
def case_receipts(db: sqlite3.Connection, case_id: str) -> dict[str, dict[str, Any]]:
    """event id -> its first receipt at the hub (``received_ms``, ``device``, ``via``)."""
    sql = ("SELECT event_id, received_ms, device, via FROM event_receipts "
           "WHERE event_id >= ? AND event_id < ?")
    lo = f"event:{case_id}:"
    return {str(e): {"received_ms": int(ms), "device": str(d), "via": str(v)}
            for e, ms, d, v in db.execute(sql, (lo, lo + "\uffff"))}



def device_clocks(db: sqlite3.Connection, prefix: str, first: str, last: str,
                  limit: int = 200) -> list[dict[str, Any]]:
    """Per device, events received in the months ``first``..``last``: how many, how many
    stated ahead of their receipt, the smallest and largest ``received - at`` (ms); and how
    many paper steps entered later it *typed* in those months (``paper``, the 补录 audit's
    rows: :data:`hub.oversight.paper.BY_DEVICE`), not received: counted by the month of
    receipt (``clock_months.paper``) a step typed on the 31st and synced on the 1st fell in
    another month than on the audit, and the two pages of one station and month did not
    reconcile. A device that typed 补录 but sent nothing in the period has a row of its
    own (no lags). Fast clocks first, then the largest smallest lag."""
    from hub.oversight.paper import BY_DEVICE, period_params

    sql = ("SELECT device, MAX(institution), SUM(events), SUM(ahead), MIN(lag_min), "
           "MAX(lag_max), MAX(last_ms), SUM(paper) FROM ("
           "SELECT device, institution, events, ahead, lag_min, lag_max, last_ms, 0 AS paper "
           "FROM clock_months WHERE institution >= :lo AND institution < :hi "
           "AND month >= :first AND month <= :last "
           f"UNION ALL SELECT device, institution, 0, 0, NULL, NULL, NULL, n FROM ({BY_DEVICE})) "
           "GROUP BY device ORDER BY 4 DESC, 5 DESC LIMIT :limit")
    cols = ("device", "institution", "events", "ahead", "lag_min", "lag_max", "last_ms", "paper")
    params = {**period_params(prefix, first, last), "first": first, "last": last,
              "limit": limit}
    return [dict(zip(cols, r, strict=True)) for r in db.execute(sql, params)]


def late_receipts(db: sqlite3.Connection, prefix: str, first: str, last: str,
                  limit: int = 100) -> list[dict[str, Any]]:
    """Completions of the months ``first``..``last``, on time by their stated date, whose
    first receipt at the hub came after the deadline (a later day than ``due``, local time).
    The completion timed is the one that stands (the fact's ``completion``, the fold's): not
    the earliest received of the case, which may be a completion withdrawn since (撤销办结,
    schemas.withdraw: received in time, it hid the late receipt of the real one) or one
    kept for review."""
    sql = ("SELECT f.case_id, f.case_no, f.institution, f.staff, f.due, "
           "json_extract(f.data, '$.completed_on'), r.received_ms, r.device "
           "FROM facts f JOIN completion_receipts r ON r.event_id = "
           "'event:' || f.case_id || ':' || json_extract(f.data, '$.completion') "
           "WHERE f.institution >= :lo AND f.institution < :hi "
           "AND f.finished_on >= :first AND f.finished_on <= :last "  # on time: completed
           "AND json_extract(f.data, '$.on_time') = 1 "
           # the receipt's day in Beijing time (schemas.state.LOCAL_TZ, no daylight saving)
           "AND date(r.received_ms / 1000, 'unixepoch', '+8 hours') > f.due "
           "ORDER BY f.due LIMIT :limit")
    cols = ("case_id", "case_no", "institution", "staff", "due", "completed_on", "received_ms",
            "device")
    params = {"lo": prefix, "hi": prefix + "~", "first": f"{first}-01", "last": month_end(last),
              "limit": limit}
    return [dict(zip(cols, r, strict=True)) for r in db.execute(sql, params)]


def enrollments(stores: HubStores, devices: Iterable[str]) -> dict[str, int]:
    """device id -> when the hub enrolled it (epoch ms, its record's ``enrolled_at``), for
    the devices named; one ``_all_docs?keys=`` read. A record without it is left out."""
    ids = sorted(set(devices))
    if not ids:
        return {}
    res = stores.main.all_docs(keys=[f"device:{d}" for d in ids], include_docs=True)
    out: dict[str, int] = {}
    for row in res["rows"]:
        doc = row.get("doc") or {}
        ms = _ms(str(doc.get("enrolled_at") or ""))
        if ms is not None:
            out[str(doc.get("device_id"))] = ms
    return out


def mark_before_enrollment(clocks: list[dict[str, Any]], late: list[dict[str, Any]],
                           enrolled: Mapping[str, int]) -> None:
    """Mark the rows whose device stated a time before the hub enrolled it
    (``before_enrollment``, with ``enrolled_ms``). A node starts from its enrollment
    (``bangban node init``), so such a time was not recorded then by that device: it is
    history loaded into the station (the demo's sample data, records carried over from
    another laptop) or a clock set back. Its lag says nothing of how promptly the device
    syncs, and its receipt cannot confirm its date: the page says so instead of calling
    it an offline station late to sync. Only what is certain is marked: for a device, the
    event of the largest lag was stated at most ``last_ms - lag_max``; for a completion,
    its stated day is before the day of enrollment (Beijing days)."""
    for d in clocks:
        e = d["enrolled_ms"] = enrolled.get(str(d["device"]))
        d["before_enrollment"] = e is not None and d["last_ms"] is not None and \
            d["last_ms"] - d["lag_max"] < e  # none received in the period: only 补录 typed
    for c in late:
        e = c["enrolled_ms"] = enrolled.get(str(c["device"]))
        c["before_enrollment"] = e is not None and str(c["completed_on"]) < local_time(e)[:10]


def restores(stores: HubStores) -> list[tuple[int, int]]:
    """``(backup taken, restored)`` in epoch ms of every restore of this hub's store
    (:func:`hub.backup._note_restore`), from the private database."""
    from hub.backup import RESTORE_PREFIX

    rows = stores.private.all_docs(startkey=RESTORE_PREFIX, endkey=RESTORE_PREFIX + "\ufff0",
                                   include_docs=True, offset=False)["rows"]
    found = [(_ms(str(d.get("taken_at") or "")), _ms(str(d.get("restored_at") or "")))
             for r in rows if (d := r.get("doc"))]
    return [(t, r) for t, r in found if t is not None and r is not None]


def mark_restored(late: list[dict[str, Any]], windows: Iterable[tuple[int, int]]) -> None:
    """Mark (``receipt_lost``) the late completions stated between a backup and the
    restore from it (Beijing days) and first received after that restore: the lost hub
    may have received them on time, and its receipt went with it. Their receipt time is
    an upper bound only, not evidence of late syncing (docs/operations.md, Backups)."""
    spans = [(local_time(t)[:10], local_time(r)[:10], r) for t, r in windows]
    for c in late:
        day, got = str(c["completed_on"]), int(c["received_ms"])
        c["receipt_lost"] = any(t <= day <= r and got >= r_ms for t, r, r_ms in spans)


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


__all__ = ["ClockFold", "TOLERANCE_MS", "case_receipts", "device_clocks", "duration", "enrollments",
           "late_receipts", "local_time", "mark_before_enrollment", "mark_restored", "month_of",
           "month_sums", "receipt_rows", "restores", "typed_ms"]
