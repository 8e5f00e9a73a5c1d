"""The 补录 audit: the cases a station brought in from its paper ledger (schemas.paper),
listed for the county's supervisor to hold against that ledger (11.1; docs/operations.md
"Going live"), ``/oversight/paper`` and its exports (``paper_views.py``).

A step entered later states the paper's date (``at``, noon Beijing time) while its hlc,
signed with it, says when it was typed (:func:`schemas.paper.entered_later`). The checks
page only counted such steps per laptop; a supervisor could not see *which* cases came in,
with which paper dates, nor tell a station that keeps "bringing in paper" weeks after going
live, which is a way to back-date a step (a suspension dated before its deadline, 10.2.5;
an acceptance dated to the day the applicant came, 10.1.3). So:

* the fold (:func:`paper_steps`, called by :func:`hub.oversight.facts.case_fact`) keeps
  every 补录 step of a case (type, paper date, typing time, device, staff, the institution
  that typed it) and how many live steps followed, in ``paper_steps`` (one row a step,
  written with the case's fact, :func:`write_rows`) and the case's fact;
* :mod:`hub.oversight.clocks` keeps each device's first receipt at the hub
  (``device_first_sync``): when its station went live;
* a step typed more than ``paper_entry_days`` (hub setting) after its device's first sync
  is flagged (:func:`station_rows`, :func:`step_rows`): the runbook has the ledger typed in
  on the first day.

Only cleartext the hub holds is read (design.md §5). The list names cases and staff as the
overdue lists do; a case's details stay behind its page's reason (hub.oversight.readlog).
"""

from __future__ import annotations

import datetime as dt
import sqlite3
from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from schemas.state import LOCAL_TZ, local_timestamp

if TYPE_CHECKING:
    from hub.oversight.facts import CaseFact

DAY_MS = 86_400_000
#: steps that record no handling: a read (7.2.2.2 audit) is no sign the case went on live
NOT_LIVE = frozenset({"access"})
SCHEMA = """
CREATE TABLE IF NOT EXISTS paper_steps (
  event_id TEXT PRIMARY KEY, case_id TEXT NOT NULL, institution TEXT NOT NULL,
  event_type TEXT NOT NULL, paper_on TEXT NOT NULL, typed_ms INTEGER NOT NULL,
  device TEXT NOT NULL, staff TEXT NOT NULL) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS paper_steps_typed ON paper_steps (institution, typed_ms);
CREATE INDEX IF NOT EXISTS paper_steps_case ON paper_steps (case_id);
"""
#: the columns of a listed step (:func:`step_rows`) and of the exports, in order
STEP_HEAD = ("机构代码", "机构", "办件编号", "事项", "环节", "纸质表单日期", "设备录入时间",
             "平台接收时间", "设备", "工作人员", "此后现场登记步骤", "首次同步", "超期补录")


def typed_at(event: Mapping[str, Any]) -> int | None:
    """When a step of the paper ledger was typed (its hlc's wall time, epoch ms) if it is
    one (:func:`schemas.paper_fold.is_paper_step`: a type of
    :data:`schemas.paper.PAPER_STEPS` declaring itself entered later), else ``None``: a
    live step."""
    from schemas.hlc import unpack
    from schemas.paper_fold import is_paper_step

    return int(unpack(str(event["hlc"])).wall_ms) if is_paper_step(event) else None


def paper_steps(events: Sequence[Mapping[str, Any]]) -> tuple[list[list[Any]], int, str | None]:
    """``(steps, live, first live day)`` of a case's events in hlc order (pure): each 补录
    step as ``[event id, type, paper day, typed ms, device, staff, institution]``; how many
    live steps came after the last of them (reads aside, :data:`NOT_LIVE`), and the Beijing
    day the first of those states. No paper step: ``([], 0, None)``."""
    steps: list[list[Any]] = []
    live, first = 0, None
    for e in events:
        typed = typed_at(e)
        if typed is not None:
            steps.append([str(e.get("_id")), str(e["event_type"]),
                          local_timestamp(str(e["at"]))[:10], typed, str(e.get("device") or ""),
                          str(e.get("staff") or ""), str(e.get("institution") or "")])
            live, first = 0, None  # live steps count after the last paper step
        elif steps and e.get("event_type") not in NOT_LIVE:
            live += 1
            first = first or local_timestamp(str(e.get("at") or ""))[:10]
    return steps, live, first


def write_rows(db: sqlite3.Connection, case_ids: Sequence[str],
               facts: Iterable[CaseFact]) -> None:
    """Replace the ``paper_steps`` rows of ``case_ids`` with those of their new facts
    (inside the fold's transaction, :meth:`hub.oversight.materialize.FactStore.upsert`)."""
    for i in range(0, len(case_ids), 500):
        chunk = list(case_ids[i:i + 500])
        db.execute(f"DELETE FROM paper_steps WHERE case_id IN ({','.join('?' * len(chunk))})",
                   chunk)
    db.executemany("INSERT OR REPLACE INTO paper_steps VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                   [(eid, f.case_id, inst or f.origin or f.institution, etype, day, typed,
                     device, staff)
                    for f in facts for eid, etype, day, typed, device, staff, inst in f.paper])


def _period(first: str, last: str) -> tuple[int, int]:
    """Epoch ms of the start of month ``first`` and of the month after ``last`` (Beijing)."""
    def start(month: str) -> int:
        y, m = (int(x) for x in month.split("-"))
        return int(dt.datetime(y, m, 1, tzinfo=LOCAL_TZ).timestamp() * 1000)

    y, m = (int(x) for x in last.split("-"))
    return start(first), start(f"{y + m // 12}-{m % 12 + 1:02d}")


def _params(prefix: str, first: str, last: str, late_days: int) -> dict[str, Any]:
    lo, hi = _period(first, last)
    return {"lo": prefix, "hi": prefix + "~", "start": lo, "end": hi,
            "late": late_days * DAY_MS}


_JOIN = "FROM paper_steps p LEFT JOIN device_first_sync s ON s.device = p.device "
#: a step of the period is one *typed* in it (its hlc), not received: what the auditor
#: holds against the paper ledger is the day the station typed it in (the day it went
#: live), which the step signs; its receipt waits on the link (typed on the 31st, synced
#: on the 1st, it belongs with the rest of that day's ledger). The checks page counts by
#: the same month (:data:`BY_DEVICE`).
_WHERE = ("WHERE p.institution >= :lo AND p.institution < :hi "
          "AND p.typed_ms >= :start AND p.typed_ms < :end ")
#: typed more than ``late`` after its device's first receipt at the hub
_LATE = "(s.first_ms IS NOT NULL AND p.typed_ms - s.first_ms > :late)"
#: per device and station, the 补录 steps this list holds for the period (params of
#: :func:`period_params`): the checks page's 补录 column (hub.oversight.clocks.
#: device_clocks) counts these rows, so the two pages of one station and month agree
BY_DEVICE = ("SELECT p.device AS device, p.institution AS institution, COUNT(*) AS n "
             "FROM paper_steps p "
             f"{_WHERE}GROUP BY p.device, p.institution")


def period_params(prefix: str, first: str, last: str) -> dict[str, Any]:
    """The parameters of :data:`BY_DEVICE`: the institutions under ``prefix``, the steps
    typed in the months ``first``..``last``."""
    return _params(prefix, first, last, 0)


def station_rows(db: sqlite3.Connection, prefix: str, first: str, last: str,
                 late_days: int) -> list[dict[str, Any]]:
    """Per station, the 补录 typed in the months ``first``..``last``: cases, steps, the
    first and last typing, its devices' first sync, and the steps typed more than
    ``late_days`` after their device's first sync (``late``). Late ones first."""
    sql = ("SELECT p.institution, COUNT(DISTINCT p.case_id), COUNT(*), MIN(p.typed_ms), "
           f"MAX(p.typed_ms), MIN(s.first_ms), SUM({_LATE}) {_JOIN}{_WHERE}"
           "GROUP BY p.institution ORDER BY 7 DESC, 1")
    cols = ("institution", "cases", "steps", "first_typed", "last_typed", "first_sync", "late")
    return [dict(zip(cols, r, strict=True))
            for r in db.execute(sql, _params(prefix, first, last, late_days))]


def step_rows(db: sqlite3.Connection, prefix: str, first: str, last: str, late_days: int,
              limit: int | None = None) -> list[dict[str, Any]]:
    """Every 补录 step typed in the months ``first``..``last`` in the institutions under
    ``prefix``, by station and case (the case's steps in their order), with the case's
    number, item and live steps after, the step's receipt at the hub and its device's first
    sync; ``late`` when typed more than ``late_days`` after that first sync."""
    sql = ("SELECT p.institution, f.case_no, json_extract(f.data, '$.service_item'), "
           "p.event_type, p.paper_on, p.typed_ms, r.received_ms, p.device, p.staff, "
           "json_extract(f.data, '$.paper_live'), json_extract(f.data, '$.paper_live_first'), "
           f"s.first_ms, {_LATE}, p.case_id, p.event_id {_JOIN}"
           "LEFT JOIN facts f ON f.case_id = p.case_id "
           f"LEFT JOIN event_receipts r ON r.event_id = p.event_id {_WHERE}"
           "ORDER BY p.institution, f.case_no, p.case_id, p.event_id"
           + (" LIMIT :limit" if limit is not None else ""))
    cols = ("institution", "case_no", "service_item", "event_type", "paper_on", "typed_ms",
            "received_ms", "device", "staff", "live", "live_first", "first_sync", "late",
            "case_id", "event_id")
    params = _params(prefix, first, last, late_days) | {"limit": limit}
    return [dict(zip(cols, r, strict=True)) | {"late": bool(r[12]), "live": r[9] or 0}
            for r in db.execute(sql, params)]


def export_table(rows: Iterable[Mapping[str, Any]], name: Any, staff: Any,
                 local_time: Any) -> list[list[Any]]:
    """The header row and one row per step, for :mod:`hub.oversight.exports`; dates and
    times as values (``local_time``: ms to a datetime), so the XLSX holds date cells."""
    out: list[list[Any]] = [list(STEP_HEAD)]
    for r in rows:
        live = (f"{r['live']} 步，首次 {r['live_first']}" if r["live"] else "无")
        out.append([r["institution"], name(r["institution"]), r["case_no"] or r["case_id"],
                    r["service_item"] or "", r["event_type"], _date(r["paper_on"]),
                    local_time(r["typed_ms"]), local_time(r["received_ms"]), r["device"],
                    staff(r["institution"], r["staff"]) if r["staff"] else "", live,
                    local_time(r["first_sync"]), "是" if r["late"] else ""])
    return out


def _date(text: str) -> dt.date | str:
    """The paper date (schemas.paper: ``YYYY-MM-DD``) as a date; other text as it is."""
    try:
        return dt.date.fromisoformat(text)
    except (TypeError, ValueError):
        return text


__all__ = ["BY_DEVICE", "SCHEMA", "STEP_HEAD", "export_table", "paper_steps", "period_params",
           "station_rows", "step_rows", "typed_at", "write_rows"]
