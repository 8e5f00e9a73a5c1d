"""超期 (overdue): one definition for the hub's oversight, the coordination boards and the fold.

11.1 b) 超时限办理情况 and 5 a) 按时办结率 are about one deadline: the time limit promised at
acceptance (form A, 10.1.3) or at resumption (form E, 10.2.5), ``due`` of the fold
(:mod:`schemas.fold`: working days from acceptance, suspended time excluded). A case is
overdue when that deadline has passed while the case is still being handled:

* the due day itself is in time: a completion on it is on time (the fold's
  ``completed <= due``), so a case is overdue from the day after;
* a suspended case is not overdue when it was suspended in time: its clock stops (10.2.5)
  and its ``due`` is computed again at resumption with the suspended working days left
  out, so the ``due`` it carries meanwhile is stale; what runs then is the resumption
  deadline (10.2.5.2), after which the case counts as terminated, not late. A case
  suspended only after its time limit had passed (``due`` before the suspension day) stays
  overdue: it was handled beyond its limit (11.1 b), and the suspension cannot undo that
  (nor hide the case from the supervisor's list until it resumes);
* a finished case (completed, terminated, refused, archived) is not overdue: a late
  completion is counted by 5 a) as not on time;
* a consultation waiting for its reply (10.1.1.3) has no time limit: a late reply belongs
  to 5 c) and is counted apart (the oversight's ``reply_overdue``).

:func:`time_limit_overdue` is the rule; :func:`time_limit_overdue_sql` is the same rule
over the ``status`` and ``due`` columns of the hub's fact store, for its indexed queries
(``tests/schemas/test_overdue.py`` checks that the two agree).

Public API: :data:`RUNNING`, :func:`time_limit_runs`, :func:`time_limit_holds`,
:func:`time_limit_overdue`, :func:`time_limit_overdue_sql`, and the fold's marks at a date
(:func:`mark_overdue`, every deadline of design.md §6).
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from schemas.state import CONSULTATION, OPEN, resume_by

if TYPE_CHECKING:
    from schemas.state import CaseState
    from schemas.workdays import Workdays

#: The only status in which the time limit runs (applied: not accepted yet, no limit;
#: suspended: stopped, 10.2.5; the rest: finished).
RUNNING = "handling"


def _day(value: dt.date | str) -> str:
    return value.isoformat() if isinstance(value, dt.date) else str(value)[:10]


def time_limit_runs(status: str | None) -> bool:
    """Whether a case in ``status`` has a running time limit (see the module docstring)."""
    return status == RUNNING


def time_limit_holds(status: str | None, due: str | None,
                     suspended_since: str | None = None) -> bool:
    """Whether ``due`` is a time limit the case answers to now: while it is handled; while
    it is suspended (since ``suspended_since``) only if the limit had passed before (the
    stopped clock does not move it: it is late for good)."""
    if not due:
        return False
    if status == "suspended":
        return bool(suspended_since) and _day(str(due)) < _day(str(suspended_since))
    return time_limit_runs(status)


def time_limit_overdue(status: str | None, due: str | None, today: dt.date | str,
                       suspended_since: str | None = None) -> bool:
    """超期 on ``today``: the time limit holds (:func:`time_limit_holds`) and its last day
    ``due`` is before ``today``."""
    return time_limit_holds(status, due, suspended_since) and _day(str(due)) < _day(today)


def time_limit_overdue_sql(today: str = ":today",
                           since: str = "json_extract(data, '$.suspended_since')", *,
                           status: str = "status", due: str = "due") -> str:
    """:func:`time_limit_overdue` as an SQL condition over columns ``status`` and ``due``
    (ISO dates) and the expression ``since`` (the suspension day), ``today`` naming the
    parameter once (``:today`` or ``?``); an index on ``(status, due)`` serves it. The
    node's case index names its columns apart (its ``due`` is the nearest deadline of any
    kind), hence ``status`` and ``due`` as arguments."""
    return (f"{status} IN ('{RUNNING}', 'suspended') AND {due} < {today} "
            f"AND ({status} = '{RUNNING}' OR {due} < {since})")


def mark_overdue(s: CaseState, on: dt.date | str, wd: Workdays) -> None:
    """The fold's deadline marks at ``as_of`` (design.md §6; oversight 5 a, 5 c, 11.1 b):
    ``s.overdue``, its warnings, and the working days of a suspension still running."""
    as_of = on if isinstance(on, dt.date) else dt.date.fromisoformat(on)
    today, marks = as_of.isoformat(), []
    if any(due < today for due in s.pending_replies.values()):
        marks.append("reply")  # 10.1.1.3
    if time_limit_overdue(s.status, s.due, today, (s.suspension or {}).get("since")):
        marks.append("time_limit")  # 5 a), 11.1 b): the one definition (above)
    if s.status in ("handling", "suspended") and s.materials_missing and s.materials_by \
            and s.materials_by < today:
        marks.append("materials")  # 10.2.5.1 a)
    if s.status == "suspended" and s.suspension and resume_by(s.suspension) < today:
        marks.append("resumption_deadline")  # 10.2.5.2: the hub writes the termination
    if s.complaints_open:
        marks.append("complaint")  # 5 c)
    s.overdue = marks
    if s.status in OPEN - CONSULTATION and s.entrusted_until and s.entrusted_until < today:
        # 11.1 a) 委托书执行落实情况: the proxy case outlived its form C. A warning, not an
        # overdue mark: no time limit passed, and the steps after acceptance stay open
        # (schemas.rules._acceptance says why only the acceptance is refused)
        s.warnings.append("entrustment_expired")
    if s.suspension:
        since = dt.date.fromisoformat(s.suspension["since"]) - dt.timedelta(days=1)
        s.suspended_days += max(0, wd.working_days_between(since, as_of))
    if s.due_estimated or (s.due and not wd.known(s.due)):
        s.warnings.append("calendar_estimated")
