"""The tables of ``HUB_DIR/oversight.sqlite`` and the rows a :class:`CaseFact` makes.

Split from :mod:`hub.oversight.materialize` (which folds the feed into them): the schema,
the counter upserts (``new - old`` deltas added in SQL) and the fact row's encoding.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from hub.oversight.facts import COUNTERS, CaseFact, Complaint
from hub.oversight.paper import SCHEMA as PAPER_SCHEMA
from hub.oversight.withdrawals import SCHEMA as WITHDRAWAL_SCHEMA

DEPT_COUNTERS = ("submitted", "corrections", "decided", "approved", "returned")


def department_contributions(f: CaseFact | None) -> dict[tuple[str, str, str], dict[str, int]]:
    """11.1 d): what a case adds per (institution, approval department, month submitted).

    Counted at the station that submitted (10.2.4: its device recorded the step), not at the
    case's holder: a later hand-up or hand-down (4.3) moved it to the town or another village
    and changed a month already reported. A fact stored before ``submitted_by`` counted at
    its holder: taken back from there."""
    if f is None or not f.submitted_on:
        return {}
    return {(f.submitted_by or f.institution, f.department, f.submitted_on[:7]): {
        "submitted": 1, "corrections": f.corrections, "decided": 1 if f.decision else 0,
        "approved": 1 if f.decision == "approved" else 0,
        "returned": 1 if f.decision in ("rejected", "returned") else 0}}


#: Code lengths of the tree (county, town, village): every counter is also kept per
#: ``code[:n]`` so a scope's dashboard reads one row per child unit and month.
UNIT_LEVELS = (6, 9, 12)
_COLS = ", ".join(f"{c} INTEGER NOT NULL DEFAULT 0" for c in COUNTERS)
SCHEMA = f"""
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS facts (
  case_id TEXT PRIMARY KEY, case_no TEXT, institution TEXT NOT NULL, staff TEXT,
  status TEXT, opened_on TEXT, due TEXT, finished_on TEXT, needs_review INTEGER,
  resumption_deadline TEXT, reply_due TEXT, department TEXT, submitted_on TEXT,
  corrections INTEGER, decision TEXT, data TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS facts_submitted ON facts (submitted_on) WHERE submitted_on IS NOT NULL;
CREATE INDEX IF NOT EXISTS facts_due ON facts (status, due);
CREATE INDEX IF NOT EXISTS facts_inst ON facts (institution, finished_on);
CREATE INDEX IF NOT EXISTS facts_review ON facts (institution) WHERE needs_review;
CREATE INDEX IF NOT EXISTS facts_resume ON facts (resumption_deadline)
  WHERE resumption_deadline IS NOT NULL;
CREATE INDEX IF NOT EXISTS facts_reply ON facts (reply_due) WHERE reply_due IS NOT NULL;
CREATE INDEX IF NOT EXISTS facts_no ON facts (case_no);
CREATE TABLE IF NOT EXISTS complaints (
  complaint_id TEXT PRIMARY KEY, case_id TEXT NOT NULL, institution TEXT NOT NULL,
  received_on TEXT, due TEXT, handled_on TEXT, channel TEXT, category TEXT, result TEXT,
  by_hub INTEGER);
CREATE INDEX IF NOT EXISTS complaints_inst ON complaints (institution, received_on);
CREATE INDEX IF NOT EXISTS complaints_case ON complaints (case_id);
CREATE INDEX IF NOT EXISTS complaints_open ON complaints (due) WHERE handled_on IS NULL;
CREATE INDEX IF NOT EXISTS complaints_received ON complaints (received_on);
CREATE INDEX IF NOT EXISTS complaints_handled ON complaints (handled_on)
  WHERE handled_on IS NOT NULL;
CREATE TABLE IF NOT EXISTS counters (
  institution TEXT NOT NULL, staff TEXT NOT NULL, month TEXT NOT NULL, {_COLS},
  PRIMARY KEY (institution, staff, month)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS units (
  level INTEGER NOT NULL, unit TEXT NOT NULL, month TEXT NOT NULL, {_COLS},
  PRIMARY KEY (level, unit, month)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS departments (
  level INTEGER NOT NULL, unit TEXT NOT NULL, department TEXT NOT NULL, month TEXT NOT NULL,
  submitted INTEGER NOT NULL DEFAULT 0, corrections INTEGER NOT NULL DEFAULT 0,
  decided INTEGER NOT NULL DEFAULT 0, approved INTEGER NOT NULL DEFAULT 0,
  returned INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY (level, unit, month, department)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS board_dirty (code TEXT PRIMARY KEY) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS refold (case_id TEXT PRIMARY KEY) WITHOUT ROWID;
""" + PAPER_SCHEMA + WITHDRAWAL_SCHEMA


def fact_from_dict(d: Mapping[str, Any]) -> CaseFact:
    """A fact as stored in ``facts.data`` (:func:`fact_row`) back as a :class:`CaseFact`."""
    data = dict(d)
    data["complaints"] = [Complaint(**c) for c in data.get("complaints", [])]
    return CaseFact(**data)


def fact_row(f: CaseFact) -> tuple[Any, ...]:
    # only non-default members: fact_from_dict restores the defaults (1M rows stay small)
    data = {k: v for k, v in f.as_dict().items() if v not in (None, "", 0, False, [], {})
            or k == "case_id"}
    return (f.case_id, f.case_no, f.institution, f.staff, f.status, f.opened_on, f.due,
            f.finished_on, 1 if f.needs_review else 0, f.resumption_deadline, f.reply_due,
            f.department, f.submitted_on, f.corrections, f.decision,
            json.dumps(data, ensure_ascii=False, separators=(",", ":")))


UPSERT_DEPT = (f"INSERT INTO departments (level, unit, month, department, "
               f"{', '.join(DEPT_COUNTERS)}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) "
               f"ON CONFLICT(level, unit, month, department) DO UPDATE SET "
               + ", ".join(f"{c}={c}+excluded.{c}" for c in DEPT_COUNTERS))
_ADD = ", ".join(f"{c}={c}+excluded.{c}" for c in COUNTERS)
_MARKS = ", ".join("?" for _ in COUNTERS)
UPSERT_STAFF = (f"INSERT INTO counters (institution, staff, month, {', '.join(COUNTERS)}) "
                f"VALUES (?, ?, ?, {_MARKS}) ON CONFLICT(institution, staff, month) "
                f"DO UPDATE SET {_ADD}")
UPSERT_UNIT = (f"INSERT INTO units (level, unit, month, {', '.join(COUNTERS)}) "
               f"VALUES (?, ?, ?, {_MARKS}) ON CONFLICT(level, unit, month) DO UPDATE SET {_ADD}")
