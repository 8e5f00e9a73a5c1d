"""Coordination boards: the cleartext of a town's or county's subtree (design.md §5).

Design §5 lets a town and a county see "the cleartext of their subtree for coordination",
and the brief's town coordinator "sees and coordinates the villages' cases". A village's
case *documents* reach the town only once handed up (4.3; issue 6: "the town once handed
up, never village B"), so the hub publishes, per institution, one small ``board``
document instead: ``_id = "board:{code}"``, the open cases that institution holds, one row
of cleartext facts each (case number, service item, status, staff id, deadlines: what the
hub already reads for oversight, never ``sealed``), plus counts of the last 30 days. It
flows to every institution above ``code`` (``audience``) and is signed by the hub's
device, so a station checks it like any pulled document (node/verify.py).

Overdue is *not* stored: the node computes it from the deadlines and its own date
(:func:`overdue_marks`), so a board read offline a week later still shows what is late.
超期 means what the oversight counts (:mod:`schemas.overdue`): the time limit passed while
the case is handled; a late reply and a passed resumption deadline are marked apart.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from typing import Any

from marshmallow import ValidationError, validates_schema

from schemas.fields import (
    Bool,
    DateStr,
    DateTimeStr,
    InstitutionCode,
    Int,
    Part,
    Str,
    fields,
    msg,
    validate,
)
from schemas.overdue import time_limit_holds, time_limit_overdue
from schemas.reference import ReferenceBase
from schemas.written import BOARD_PREFIX

#: Rows a board carries at most, those whose running deadline comes first (hub.oversight.
#: boards.first_due; a station holding more open cases is told how many more, ``more``):
#: at ~200 bytes a row the document stays far below the hub's 1 MiB document limit.
MAX_ROWS = 1000
#: Deadlines a row may carry, and what passing each means (labels: zh, en).
DEADLINES = {"due": ("办理时限", "time limit"),
             "reply_due": ("咨询答复期限（10.1.1.3）", "consultation reply (10.1.1.3)"),
             "resume_by": ("续办期限（10.2.5.2）", "resumption deadline (10.2.5.2)")}


def board_doc_id(code: str) -> str:
    return f"{BOARD_PREFIX}{code}"


class BoardRow(Part):
    """One open case of the board's institution (cleartext facts only)."""

    case = Str(required=True, max_len=100)  # the case id
    no = Str(max_len=60)  # the human case number
    item = Str(max_len=60)  # the service item code
    kind = Str(max_len=20)  # assist / proxy
    status = Str(required=True, max_len=30)
    staff = Str(max_len=60)
    opened = Str(max_len=10)
    due = DateStr(allow_none=True)
    reply_due = DateStr(allow_none=True)
    resume_by = DateStr(allow_none=True)
    since = DateStr(allow_none=True)  # suspended since (10.2.5.1): late before it, or not
    review = Bool()  # needs_review: concurrent steps made an illegal sequence (design §3)
    complaints_open = Int(validate=validate.Range(min=0))


class BoardCounts(Part):
    open = Int(required=True, validate=validate.Range(min=0))
    suspended = Int(validate=validate.Range(min=0))
    review = Int(validate=validate.Range(min=0))
    finished_30d = Int(validate=validate.Range(min=0))
    on_time_30d = Int(validate=validate.Range(min=0))
    completed_30d = Int(validate=validate.Range(min=0))


class BoardSchema(ReferenceBase):
    """``board:{code}``, written by the hub only (devices are refused, hub/validate.py)."""

    DOC_TYPE = "board"
    institution = InstitutionCode(required=True)
    #: who receives it: every institution above ``institution`` (the hub's scope index)
    audience = fields.List(InstitutionCode(), required=True)
    as_of = DateTimeStr(required=True)  # when the hub built it
    counts = fields.Nested(BoardCounts, required=True)
    cases = fields.List(fields.Nested(BoardRow), required=True,
                        validate=validate.Length(max=MAX_ROWS, error=msg(
                            "length", f"a board lists at most {MAX_ROWS} cases",
                            f"看板最多列出 {MAX_ROWS} 件")))
    more = Int(validate=validate.Range(min=0))  # open cases beyond MAX_ROWS

    def expected_id(self, data: dict[str, Any]) -> str | None:
        return board_doc_id(data["institution"]) if "institution" in data else None

    @validates_schema
    def _audience(self, data: dict[str, Any], **kw: Any) -> None:
        if data.get("institution") in data.get("audience", ()):
            raise ValidationError(msg("audience", "a board goes to the institutions above its own",
                                      "看板只发给上级机构"), "audience")


def running_deadlines(row: Mapping[str, Any]) -> dict[str, str]:
    """The deadlines of ``row`` that hold (keys of :data:`DEADLINES`, in their order): the
    time limit while the case is handled, or passed before it was suspended (:func:`schemas.
    overdue.time_limit_holds`: a suspended case's clock stops, 10.2.5), a reply always, the
    resumption deadline only while it is suspended."""
    status, out = row.get("status"), {}
    if row.get("due") and time_limit_holds(status, row["due"], row.get("since")):
        out["due"] = str(row["due"])
    if row.get("reply_due"):
        out["reply_due"] = str(row["reply_due"])
    if row.get("resume_by") and status == "suspended":
        out["resume_by"] = str(row["resume_by"])
    return out


def overdue_marks(row: Mapping[str, Any], today: dt.date | str) -> list[str]:
    """The running deadlines of ``row`` that have passed on ``today`` (keys of
    :data:`DEADLINES`): ``due`` exactly when the case is 超期 (:mod:`schemas.overdue`, the
    oversight's definition); a late reply (10.1.1.3) or a passed resumption deadline
    (10.2.5.2) is marked too, but is not 超期. A deadline day is still in time."""
    day = today if isinstance(today, str) else today.isoformat()
    return _marks(row, running_deadlines(row), day)


def _marks(row: Mapping[str, Any], running: Mapping[str, str], day: str) -> list[str]:
    """:func:`overdue_marks` given the row's :func:`running_deadlines` (read once a row:
    a county's page orders and counts 28,000 rows)."""
    marks = ["due"] if time_limit_overdue(row.get("status"), running.get("due"), day,
                                          row.get("since")) else []
    return marks + [k for k in ("reply_due", "resume_by") if k in running and running[k] < day]


def summarize(board: Mapping[str, Any], today: dt.date | str,
              soon: dt.date | str | None = None) -> dict[str, Any]:
    """Counts for one board as of ``today``: open, overdue (超期: the time limit passed,
    :mod:`schemas.overdue`, as the oversight counts it), replies overdue (10.1.1.3) and
    resumption deadlines passed (10.2.5.2) apart, due soon (a running deadline by
    ``soon``, none passed), plus the stored ones (suspended, needs review, finished /
    completed on time in 30 days)."""
    return board_view([board], today, soon)[0][0]


def ordered_rows(boards: Iterable[Mapping[str, Any]], today: dt.date | str
                 ) -> list[dict[str, Any]]:
    """Every board's rows with their institution and overdue marks: late cases first, then
    by the nearest deadline (what a coordinator calls about first)."""
    return board_view(boards, today)[1]


def board_view(boards: Iterable[Mapping[str, Any]], today: dt.date | str,
               soon: dt.date | str | None = None
               ) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """:func:`summarize` of each board and :func:`ordered_rows` of them all, in one pass
    over the rows (each row's deadlines read once: a county's page shows 600 boards, 28,000
    rows, and read each row four times)."""
    day = today if isinstance(today, str) else today.isoformat()
    soon_day = None if soon is None else (soon if isinstance(soon, str) else soon.isoformat())
    summaries, out = [], []
    for board in boards:
        rows = []
        for row in board.get("cases") or ():
            running = running_deadlines(row)
            rows.append({**row, "institution": board.get("institution"),
                         "late": _marks(row, running, day),
                         "next": min(running.values(), default="9999-12-31")})
        summaries.append(_summary(board, rows, soon_day))
        out += rows
    out.sort(key=lambda r: (not r["late"], r["next"], str(r.get("no") or r["case"])))
    return summaries, out


def _summary(board: Mapping[str, Any], rows: list[dict[str, Any]], soon_day: str | None
             ) -> dict[str, Any]:
    """:func:`summarize` of ``board`` from its rows as :func:`board_view` marks them."""
    counts = dict(board.get("counts") or {})
    return {"institution": board.get("institution"), "as_of": board.get("as_of"),
            "open": int(counts.get("open", len(rows))),
            "overdue": sum(1 for r in rows if "due" in r["late"]),
            "reply_overdue": sum(1 for r in rows if "reply_due" in r["late"]),
            "resumption_passed": sum(1 for r in rows if "resume_by" in r["late"]),
            # a running deadline by ``soon`` and none passed: the nearest is by then
            "due_soon": sum(1 for r in rows if soon_day and not r["late"]
                            and r["next"] <= soon_day),
            "suspended": int(counts.get("suspended", 0)),
            "review": int(counts.get("review", 0)),
            "finished_30d": int(counts.get("finished_30d", 0)),
            "on_time_30d": int(counts.get("on_time_30d", 0)),
            "completed_30d": int(counts.get("completed_30d", 0)),
            "more": int(board.get("more") or 0)}
