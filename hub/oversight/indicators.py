"""The standard's indicators, read from the materialized facts (:mod:`.materialize`).

Period sums come from ``counters`` (a few rows per institution and month, so a city of
1,000 stations sums a year in milliseconds); what depends on *today* (overdue cases,
replies and complaints past their deadline, suspensions near their resumption deadline)
is read from indexed columns of ``facts`` and ``complaints`` at query time.

Definitions (clause numbers of DB4106/T 101—2023):

* on-time completion rate (5 a) = completed within the time limit / completed in the
  period (the limit runs in working days from acceptance, suspended time excluded:
  E's fold); terminated and refused cases are counted apart, not in the rate;
* overdue (超期未办结, 11.1 b) = still handled past the time limit: one definition with
  the towns' coordination boards and the fold (:mod:`schemas.overdue`);
* consultations answered in time (10.1.1.3, 5 c) = consultations answered at once or
  replied within 1 working day / consultations answered plus those still waiting past
  their day (as for complaints); each counted in the month it was asked;
* complaints handled in time (5 c) = handled within the hub setting
  ``complaint_working_days`` (5 c names no period: local policy) / complaints handled
  plus those open past their deadline;
* ratings (11.2): the five levels; bad ratings (不满意, 非常不满意) followed up by a
  later work-log entry or complaint handling;
* record completeness (5 d, 11.1 e) = finished cases with no missing record item /
  finished cases (forms A/B, C for proxy cases, D/E where suspended/resumed, device
  signatures on every event, a work log, archiving).
"""

from __future__ import annotations

import datetime as dt
import sqlite3
from dataclasses import dataclass, field
from typing import Any

from hub.oversight.facts import COUNTERS, RATING_LEVELS, RECORD_ITEMS
from schemas.overdue import time_limit_overdue_sql
from schemas.vocab import FOCUS_AREAS, MODES, SPECIAL_GROUPS

NEAR_RESUMPTION_DAYS = 5  # calendar days ahead shown as "near the resumption deadline"
#: Each rate's numerator and denominator in words (the module docstring), printed under the
#: dashboard's table and the monthly report's, so a reader can check a rate by its counts.
def rate_legend(complaint_days: int) -> str:
    """The legend, with the complaint period in force (the hub setting
    ``complaint_working_days``: built per page, not once at import)."""
    return ("按时办结率 = 按时办结 / 办结（终止、不予受理另计）；"
            "咨询及时答复率 = 1 个工作日内答复 / （已答复 + 超时未答复）；"
            f"投诉及时处理率 = {complaint_days}个工作日内处理 / （已处理 + 超期未处理）；"
            "满意率 = 非常满意、满意、基本满意 / 评价次数；差评回访率 = 已回访 / 差评；"
            "档案完整率 = 档案完整 / 已结办件（办结、终止、不予受理）；"
            "当前超期 = 办理时限已过仍在办理（统计截至日）。")


def child_length(prefix: str) -> int:
    """Code length of the units one level below a scope prefix (city → county → town → village)."""
    return {0: 6, 6: 9, 9: 12}.get(len(prefix), 12)


def _range(prefix: str) -> tuple[str, str]:
    return prefix, prefix + "~"  # "~" sorts after every digit


def _ratio(num: int, den: int) -> float | None:
    return None if den <= 0 else num / den


@dataclass
class Row:
    """Indicators of one unit (an institution subtree) or one staff member."""

    key: str
    staff: str = ""
    c: dict[str, int] = field(default_factory=dict)
    live: dict[str, int] = field(default_factory=dict)

    def get(self, name: str) -> int:
        return self.c.get(name, 0) or self.live.get(name, 0)

    @property
    def on_time_rate(self) -> float | None:
        return _ratio(self.c.get("on_time", 0), self.c.get("completed", 0))

    @property
    def consult_counted(self) -> int:
        """The denominator of :attr:`consult_rate`: answered (in time or late) plus still
        waiting past their day; the pages print it beside the rate."""
        return (self.c.get("consult_in_time", 0) + self.c.get("consult_late", 0)
                + self.live.get("consult_overdue", 0))

    @property
    def consult_not_in_time(self) -> int:
        """咨询答复超时 as the rate counts it (10.1.1.3): replied after their day plus still
        waiting past it, so the checks page's count is the rate's denominator less its
        numerator (the page counted the late replies alone)."""
        return self.consult_counted - self.c.get("consult_in_time", 0)

    @property
    def consult_rate(self) -> float | None:
        # 5 c) as for complaints: a consultation still unanswered past its day is not
        # handled in time (else a station that never replies would read 100 %)
        return _ratio(self.c.get("consult_in_time", 0), self.consult_counted)

    @property
    def complaints_counted(self) -> int:
        """The denominator of :attr:`complaint_rate`: handled (in time or late) plus still
        open past their deadline."""
        return (self.c.get("complaints_in_time", 0) + self.c.get("complaints_late", 0)
                + self.live.get("complaints_overdue", 0))

    @property
    def complaint_rate(self) -> float | None:
        return _ratio(self.c.get("complaints_in_time", 0), self.complaints_counted)

    @property
    def records_rate(self) -> float | None:
        return _ratio(self.c.get("records_complete", 0), self.c.get("finished", 0))

    @property
    def ratings(self) -> dict[str, int]:
        return {lv: self.c.get(f"rating_{lv}", 0) for lv in RATING_LEVELS}

    @property
    def satisfied(self) -> int:
        """The numerator of :attr:`satisfaction`: 非常满意, 满意 and 基本满意 (11.2)."""
        r = self.ratings
        return r["very_satisfied"] + r["satisfied"] + r["basic"]

    @property
    def satisfaction(self) -> float | None:
        return _ratio(self.satisfied, sum(self.ratings.values()))

    @property
    def follow_rate(self) -> float | None:
        return _ratio(self.c.get("bad_followed", 0), self.c.get("bad_ratings", 0))

    def as_dict(self) -> dict[str, Any]:
        return {"key": self.key, "staff": self.staff, **self.c, **self.live,
                "on_time_rate": self.on_time_rate, "consult_rate": self.consult_rate,
                "complaint_rate": self.complaint_rate, "records_rate": self.records_rate,
                "satisfaction": self.satisfaction, "follow_rate": self.follow_rate}


def _sums() -> str:
    return ", ".join(f"SUM({c})" for c in COUNTERS)


def rollup(db: sqlite3.Connection, prefix: str, first: str, last: str, *, today: dt.date,
           by_staff: bool = False) -> tuple[list[Row], Row]:
    """Rows per unit one level below ``prefix`` (or per staff member), and the total."""
    lo, hi = _range(prefix)
    n = child_length(prefix)
    unit = f"substr(institution, 1, {n})"
    if by_staff:
        sql = (f"SELECT institution, staff, {_sums()} FROM counters WHERE institution >= ? "
               f"AND institution < ? AND month >= ? AND month <= ? GROUP BY institution, staff")
        params: tuple[Any, ...] = (lo, hi, first, last)
    else:  # the rolled-up rows of the child units (materialize.UNIT_LEVELS)
        sql = (f"SELECT unit, '', {_sums()} FROM units WHERE level = ? AND unit >= ? "
               f"AND unit < ? AND month >= ? AND month <= ? GROUP BY unit")
        params = (n, lo, hi, first, last)
    rows: dict[tuple[str, str], Row] = {}
    for rec in db.execute(sql, params):
        if by_staff and not any(rec[2:]):
            # counters that moved away with their case (a hand-up counts it at the town under
            # the village's staff id until a town member writes a step) leave a zero row
            # behind: nobody is listed where nothing of theirs is counted (11.2.2)
            continue
        key = (rec[0], rec[1] or "")
        rows[key] = Row(rec[0], rec[1] or "", dict(zip(COUNTERS, (v or 0 for v in rec[2:]),
                                                       strict=True)))
    for name, count in _live_counts(db, prefix, first, last, today, unit, by_staff).items():
        for key, v in count.items():
            rows.setdefault(key, Row(key[0], key[1])).live[name] = v
    total = Row("")
    for r in rows.values():
        for k, v in r.c.items():
            total.c[k] = total.c.get(k, 0) + v
        for k, v in r.live.items():
            total.live[k] = total.live.get(k, 0) + v
    return sorted(rows.values(), key=lambda r: (r.key, r.staff)), total


def _live_counts(db: sqlite3.Connection, prefix: str, first: str, last: str, today: dt.date,
                 unit: str, by_staff: bool) -> dict[str, dict[tuple[str, str], int]]:
    lo, hi = _range(prefix)
    t = today.isoformat()
    near = (today + dt.timedelta(days=NEAR_RESUMPTION_DAYS)).isoformat()
    key = "institution, staff" if by_staff else f"{unit}, ''"
    end = month_end(last)
    queries = {
        "overdue": time_limit_overdue_sql("?"), "reply_overdue": "reply_due < ?",
        "review": "needs_review", "suspended_near": "resumption_deadline <= ?",
        "resumption_passed": "resumption_deadline < ?"}
    params: dict[str, tuple[Any, ...]] = {"overdue": (t,), "reply_overdue": (t,), "review": (),
                                          "suspended_near": (near,), "resumption_passed": (t,)}
    out: dict[str, dict[tuple[str, str], int]] = {}
    for name, cond in queries.items():
        # "+institution": let SQLite pick the deadline index, not the institution range
        sql = (f"SELECT {key}, COUNT(*) FROM facts WHERE {cond} AND +institution >= ? "
               f"AND +institution < ? GROUP BY 1, 2")
        out[name] = {(r[0], r[1] or ""): r[2] for r in db.execute(sql, (*params[name], lo, hi))}
    # 10.1.1.3: the consultations of the period still waiting for a reply past their day
    # (one per consultation, CaseFact.consults; the reply_due index finds their cases)
    # INDEXED BY: grouped per staff member, SQLite walked every fact in the order of
    # facts_inst for the GROUP BY and opened each one's JSON (1.2 s for a county's staff
    # page at 1,000,000 cases); the few facts with a reply due are the ones to read.
    sql = (f"SELECT {key}, COUNT(*) FROM facts INDEXED BY facts_reply, "
           f"json_each(facts.data, '$.consults') AS j "
           f"WHERE reply_due < ? AND json_extract(j.value, '$[1]') = 'pending' "
           f"AND json_extract(j.value, '$[2]') < ? AND json_extract(j.value, '$[0]') >= ? "
           f"AND json_extract(j.value, '$[0]') <= ? AND +institution >= ? "
           f"AND +institution < ? GROUP BY 1, 2")
    out["consult_overdue"] = {(r[0], r[1] or ""): r[2] for r in db.execute(
        sql, (t, t, first + "-01", end, lo, hi))}
    # by staff, a complaint counts against the staff member of its case, as its counters
    # do (facts.contributions): keyed by institution alone, its overdue landed on a row of
    # nobody, and the staff member's complaint rate left it out
    ckey, join = (("c.institution, f.staff", "JOIN facts f ON f.case_id = c.case_id")
                  if by_staff else (f"{unit}, ''", ""))
    sql = (f"SELECT {ckey}, COUNT(*) FROM complaints c {join} WHERE c.handled_on IS NULL "
           f"AND c.due < ? AND +c.received_on >= ? AND +c.received_on <= ? "
           f"AND +c.institution >= ? AND +c.institution < ? GROUP BY 1, 2")  # open: partial index
    out["complaints_overdue"] = {(r[0], r[1] or ""): r[2] for r in db.execute(
        sql, (t, first + "-01", end, lo, hi))}
    return out


def month_end(month: str) -> str:
    """The upper bound of a month for ``<=`` on ISO dates (also :mod:`hub.oversight.clocks`)."""
    return month + "-31"  # string comparison: every date of the month sorts before "-31"+


CASE_LISTS = {
    "overdue": ("超期未办结（5 a、11.1 b）", time_limit_overdue_sql(":today"), "due"),
    "reply_overdue": ("咨询超过 1 个工作日未答复（10.1.1.3）", "reply_due < :today", "reply_due"),
    "review": ("需复核（并发离线修改）", "needs_review", "opened_on"),
    "suspended_near": ("中止临近续办期限（10.2.5.1）", "resumption_deadline <= :near",
                       "resumption_deadline"),
}


def _list_query(name: str, prefix: str, today: dt.date) -> tuple[str, dict[str, Any]]:
    """The WHERE clause of one live list and its parameters."""
    _label, cond, _order = CASE_LISTS[name]
    lo, hi = _range(prefix)
    near = (today + dt.timedelta(days=NEAR_RESUMPTION_DAYS)).isoformat()
    return (f"{cond} AND +institution >= :lo AND +institution < :hi",
            {"today": today.isoformat(), "near": near, "lo": lo, "hi": hi})


def case_list(db: sqlite3.Connection, name: str, prefix: str, today: dt.date,
              limit: int = 50, offset: int = 0) -> list[dict[str, Any]]:
    """The cases of one live list, oldest deadline first (cleartext columns only)."""
    where, params = _list_query(name, prefix, today)
    # accepted_on beside opened_on: the time limit runs from acceptance (10.1.3), and a
    # case may be opened (a consultation, an application) days before it is accepted
    # a case handed on that nobody at its holder has taken (facts.CaseFact.unclaimed): its
    # staff is the registering clerk at another station, no one to name here (待接办)
    sql = (f"SELECT case_id, case_no, institution, iif(json_extract(data, '$.unclaimed'), "
           f"'', staff), status, opened_on, json_extract(data, '$.accepted_on'), due, "
           f"resumption_deadline, reply_due, json_extract(data, '$.unclaimed') IS NOT NULL "
           f"FROM facts WHERE {where} "
           f"ORDER BY {CASE_LISTS[name][2]}, case_no LIMIT :limit OFFSET :offset")
    cols = ("case_id", "case_no", "institution", "staff", "status", "opened_on", "accepted_on",
            "due", "resumption_deadline", "reply_due", "unclaimed")
    return [dict(zip(cols, r, strict=True))
            for r in db.execute(sql, {**params, "limit": limit, "offset": offset})]


def case_count(db: sqlite3.Connection, name: str, prefix: str, today: dt.date) -> int:
    """How many cases one live list holds (the dashboard shows the first few)."""
    where, params = _list_query(name, prefix, today)
    return int(db.execute(f"SELECT COUNT(*) FROM facts WHERE {where}", params).fetchone()[0])


def complaints(db: sqlite3.Connection, prefix: str, first: str, last: str,
               limit: int = 200) -> list[dict[str, Any]]:
    """Every complaint still open at the period's end, whatever month it came in (earliest
    deadline first: tracking, 5 c), then the latest handled in the period."""
    lo, hi = _range(prefix)
    cols = ("complaint_id", "case_id", "institution", "received_on", "due", "handled_on",
            "channel", "category", "result", "by_hub")
    scope = "+institution >= :lo AND +institution < :hi"
    params = {"lo": lo, "hi": hi, "first": first + "-01", "last": month_end(last),
              "limit": limit}
    # an open complaint from an earlier month stays listed until handled (it was listed
    # only in the month it came in, so the default view, this month, lost it); a past
    # period lists what was open at its end, even if handled since
    select = f"SELECT {', '.join(cols)} FROM complaints WHERE {scope} AND +received_on <= :last"
    open_rows = db.execute(f"{select} AND handled_on IS NULL UNION ALL "  # the partial index
                           f"{select} AND handled_on > :last ORDER BY due LIMIT :limit",
                           params).fetchall()
    params["limit"] = max(0, limit - len(open_rows))
    # handled in the period, whatever month it came in: a complaint of 28 March handled on
    # 2 April is April's work (it was listed by receipt, so April's table never showed it)
    done = db.execute(f"{select} AND handled_on >= :first AND handled_on <= :last "
                      f"ORDER BY handled_on DESC, received_on DESC LIMIT :limit",
                      params).fetchall()
    rows = [dict(zip(cols, r, strict=True)) for r in [*open_rows, *done]]
    # the case number the supervisor typed in and reads on every other list, not the id
    ids = sorted({r["case_id"] for r in rows})
    numbers = dict(db.execute(f"SELECT case_id, case_no FROM facts WHERE case_id IN "
                              f"({', '.join('?' * len(ids))})", ids).fetchall()) if ids else {}
    for r in rows:
        r["case_no"] = numbers.get(r["case_id"]) or ""
    return rows


def departments(db: sqlite3.Connection, prefix: str, first: str, last: str) -> list[dict[str, Any]]:
    """11.1 d) cooperation of approval departments: submissions, corrections, decisions."""
    lo, hi = _range(prefix)
    sql = ("SELECT department, SUM(submitted), SUM(corrections), SUM(decided), SUM(approved), "
           "SUM(returned) FROM departments WHERE level = ? AND unit >= ? AND unit < ? "
           "AND month >= ? AND month <= ? GROUP BY department ORDER BY 2 DESC, 1")
    cols = ("department", "submitted", "corrections", "decided", "approved", "returned")
    return [dict(zip(cols, r, strict=True))
            for r in db.execute(sql, (child_length(prefix), lo, hi, first, last))
            if r[1] or r[2] or r[3]]


def missing_breakdown(total: Row) -> list[tuple[str, str, int]]:
    """11.1 e): how many finished cases miss each record item."""
    return [(k, zh, total.c.get(f"missing_{k}", 0)) for k, (zh, _en) in RECORD_ITEMS.items()]


#: Clause 9 columns (dashboard, monthly report): (heading, [(counter, label)]) per group;
#: counted per case opened in the period (hub.oversight.facts.CLAUSE9).
CLAUSE9_COLUMNS = (
    ("重点领域（9.1、9.2）", [(f"area_{k}", zh) for k, (zh, _en) in FOCUS_AREAS.items()]),
    ("服务模式（9）", [(f"mode_{k}", zh) for k, (zh, _en) in MODES.items()]),
    ("特殊群体（9.2）", [(f"group_{k}", zh) for k, (zh, _en) in SPECIAL_GROUPS.items()]),
    # 10.2.2 "voluntary": forms signed for the applicant by someone else, or by thumbprint
    ("签字（9.2）", [("signed_other", "他人代签"), ("signed_thumbprint", "按指印")]))
