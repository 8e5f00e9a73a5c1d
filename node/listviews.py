"""The case lists' views as SQL conditions over the index's ``cases c`` (no IO): one
definition for a list (:meth:`node.index.CaseIndex.search`) and the tile that counts it
(:meth:`node.index.CaseIndex.counts`, :mod:`node.tiles`), so the two never disagree."""

from __future__ import annotations

from typing import Any

from schemas.overdue import time_limit_overdue_sql

#: Who answers for a case now (4.3): the institution it was handed to, else its own.
HOLDER = "coalesce(c.holder, c.institution)"
#: The case-list views whose cases are "ours": those the institution holds now (4.3: one
#: holder at a time answers for a case; the one it was handed to counts it, and the
#: oversight's indicators follow the holder too, hub/oversight/facts.py).
OWN_VIEWS = frozenset({"open", "overdue", "deadline_passed", "due_soon", "needs_review"})
#: The views the home page counts (its tiles open these lists).
COUNTED_VIEWS = ("today", "open", "due_soon", "overdue", "deadline_passed", "needs_review",
                 "elsewhere", "pending")
#: 已超期 (5 a, 11.1 b): the time limit passed while the case is handled, the hub's
#: definition in the hub's own words (:func:`schemas.overdue.time_limit_overdue_sql`) over
#: the row's time limit (``limit_due``) and suspension day, not over ``due``, which is the
#: nearest deadline of any kind (a materials deadline, a reply, a resumption deadline).
OVERDUE_SQL = time_limit_overdue_sql("?", "c.suspended_since", status="c.status",
                                     due="c.limit_due")


def view_condition(view: str, *, today: str = "", soon: str = "",
                   holder: str = "") -> tuple[str, list[Any]]:
    """The SQL condition (over ``cases c``) of one list view and its arguments; the home
    tiles count exactly these lists (:meth:`CaseIndex.counts`), so a tile and the list
    behind it never disagree. With ``holder`` the work views (:data:`OWN_VIEWS`) keep to
    the cases this institution holds, ``today`` to those registered here, and
    ``elsewhere`` lists the open cases handed to another institution."""
    ours = f"{HOLDER} = ?"
    conds: dict[str, tuple[str, list[Any]]] = {
        "open": ("c.closed = 0", []),
        "overdue": (f"c.closed = 0 AND {OVERDUE_SQL}", [today]),
        # 待办到期: any running deadline passed (the clerk's to-do list, wider than 已超期)
        "deadline_passed": ("c.closed = 0 AND c.due IS NOT NULL AND c.due < ?", [today]),
        "due_soon": ("c.closed = 0 AND c.due >= ? AND c.due <= ?", [today, soon]),
        "needs_review": ("c.needs_review = 1", []),
        "today": ("c.created >= ?", [today]),
        "handed_up": ("c.handed_from IS NOT NULL", []),
        "pending": ("c.pending = 1", []),
        # "<> ?" as two ranges: SQLite searches an index for each, never for a "<>"
        "elsewhere": (f"c.closed = 0 AND ({HOLDER} < ? OR {HOLDER} > ?)", [holder, holder]),
    }
    if view not in conds or (view == "elsewhere" and not holder):
        return "", []
    cond, args = conds[view]
    if holder and view in OWN_VIEWS:
        cond, args = f"{cond} AND {ours}", [*args, holder]
    elif holder and view == "today":  # registered here today (not handed in today)
        cond, args = f"{cond} AND c.institution = ?", [*args, holder]
    return cond, args
