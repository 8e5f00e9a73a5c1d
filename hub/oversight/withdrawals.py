"""撤销办结 for the auditor: every completion a station withdrew (schemas.withdraw), counted and
listed on the checks page (``/oversight/checks``, under 11.1 b) for the period and scope.

A withdrawn completion counts as no completion (the fold puts the case back in handling, so
its fact has no ``completed_on`` and 5 a's on-time rate does not see it); the withdrawal
itself must not vanish with it: a station that completes and withdraws often is either
clicking carelessly or trying the window's limits, and a supervisor asks why (11.1 b, e).
Each withdrawal is one row of ``withdrawals``, written with its case's fact
(:func:`write_rows`, inside the fold's transaction, as :mod:`hub.oversight.paper` does), so
the page reads an index range, not every fact. Cleartext only: the reason code; the clerk's
words stay sealed (design.md §5) and show on the station's case page.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

from schemas.vocab import WITHDRAWAL_REASONS

if TYPE_CHECKING:
    from hub.oversight.facts import CaseFact
    from schemas.state import CaseState

SCHEMA = """
CREATE TABLE IF NOT EXISTS withdrawals (
  event_id TEXT PRIMARY KEY, case_id TEXT NOT NULL, institution TEXT NOT NULL,
  on_day TEXT NOT NULL, reason TEXT NOT NULL, completion TEXT NOT NULL) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS withdrawals_inst ON withdrawals (institution, on_day);
CREATE INDEX IF NOT EXISTS withdrawals_case ON withdrawals (case_id);
"""
#: rows listed on the checks page (the count covers them all)
LISTED = 200


def withdrawal_rows(state: CaseState) -> list[list[str]]:
    """A fact's withdrawals: ``[event id, day, reason, completion, institution]`` each."""
    return [[str(w["event"]), str(w["on"]), str(w["reason"]), str(w["completion"]),
             str(w["institution"])] for w in state.withdrawals]


def counted_ids(state: CaseState) -> set[str]:
    """The ids of the applied steps that still count as handling: not a withdrawn
    completion, which finished nothing (the clerk who completes the case later did the
    work, 11.2.2: hub.oversight.facts.handlers stops at the step that finished it)."""
    withdrawn = {f"event:{state.case_id}:{w['completion']}" for w in state.withdrawals}
    return state.applied_ids - withdrawn if withdrawn else state.applied_ids


def write_rows(db: sqlite3.Connection, case_ids: Sequence[str],
               facts: Iterable[CaseFact]) -> None:
    """Replace the ``withdrawals`` rows of ``case_ids`` with those of their new facts."""
    for i in range(0, len(case_ids), 500):
        chunk = list(case_ids[i:i + 500])
        db.execute(f"DELETE FROM withdrawals WHERE case_id IN ({','.join('?' * len(chunk))})",
                   chunk)
    db.executemany("INSERT OR REPLACE INTO withdrawals VALUES (?, ?, ?, ?, ?, ?)",
                   [(eid, f.case_id, inst, day, reason, completion)
                    for f in facts for eid, day, reason, completion, inst in f.withdrawals])


def _where(prefix: str, first: str, last: str) -> tuple[str, dict[str, Any]]:
    from hub.oversight.indicators import month_end  # imports facts, which imports this

    return ("w.institution >= :lo AND w.institution < :hi AND w.on_day >= :first "
            "AND w.on_day <= :last",
            {"lo": prefix, "hi": prefix + "~", "first": first + "-01", "last": month_end(last)})


def report(db: sqlite3.Connection, prefix: str, first: str, last: str) -> dict[str, Any]:
    """The withdrawals made in months ``first``..``last`` in scope ``prefix``: their count
    per reason (with its label) and the latest :data:`LISTED` rows, each with its case."""
    where, params = _where(prefix, first, last)
    counts = dict(db.execute(f"SELECT reason, COUNT(*) FROM withdrawals w WHERE {where} "
                             "GROUP BY reason", params).fetchall())
    cols = ("case_id", "case_no", "institution", "on_day", "reason", "completion")
    rows = [dict(zip(cols, r, strict=True)) for r in db.execute(
        f"SELECT w.case_id, f.case_no, w.institution, w.on_day, w.reason, w.completion "
        f"FROM withdrawals w LEFT JOIN facts f ON f.case_id = w.case_id WHERE {where} "
        f"ORDER BY w.on_day DESC, w.event_id DESC LIMIT {LISTED}", params)]
    for r in rows:
        r["reason_zh"] = WITHDRAWAL_REASONS.get(r["reason"], (r["reason"],))[0]
    return {"total": sum(counts.values()), "rows": rows,
            "by_reason": [(WITHDRAWAL_REASONS.get(k, (k,))[0], n)
                          for k, n in sorted(counts.items())]}
