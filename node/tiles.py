"""The home page's tile counts, kept up to date by triggers on the case index (no IO here:
SQL text and one pure function over its rows).

At 100,000 cases the home page counted its tiles by walking the holder indexes: 71,000
open cases, 40,000 past their time limit, 40,000 past a deadline, about 33 ms of the page's
50 ms budget (docs/benchmarks.md). The counts are now kept as they change, the way the
hub's oversight keeps its counters (hub/oversight/facts.py): one row per (holder, kind,
day) with how many open cases it has. A tile then sums a few rows for its day range, and
"today" stays a parameter: nothing has to be recounted at midnight.

Kinds, over the rows of ``cases`` that are open (``closed = 0``), keyed by who holds the
case now (``coalesce(holder, institution)``, 4.3):

* ``open`` (day ""): every open case;
* ``due`` (day = ``due``, the nearest deadline of any kind): 待办到期 counts the days before
  today, 即将到期 the days from today to ``soon``;
* ``limit`` (day = ``limit_due``) when the time limit holds (:func:`schemas.overdue.
  time_limit_holds`: the case is handled, or was suspended only after its limit had
  passed): 已超期 counts the days before today (:data:`node.index.OVERDUE_SQL`).

``tests/node/test_tiles.py`` checks, for random histories of writes, that every tile equals
the count of the list it opens.
"""

from __future__ import annotations

import sqlite3

#: Raise when the kinds or their conditions change: an index file with another version
#: has its tile rows rebuilt from ``cases`` when it is opened.
TILES_VERSION = "1"

#: (kind, day expression, condition) over a row ``R`` of ``cases`` (NEW or OLD in the
#: triggers, ``cases`` itself in the rebuild).
_KINDS = (
    ("open", "''", "R.closed = 0"),
    ("due", "R.due", "R.closed = 0 AND R.due IS NOT NULL"),
    ("limit", "R.limit_due",
     "R.closed = 0 AND R.limit_due IS NOT NULL AND (R.status = 'handling' OR "
     "(R.status = 'suspended' AND R.limit_due < R.suspended_since))"),
)


def _contributions(row: str) -> str:
    """A SELECT of ``(holder, kind, day)``, one per kind the row ``row`` counts in."""
    parts = [f"SELECT coalesce({row}.holder, {row}.institution) AS holder, '{kind}' AS kind, "
             f"{day.replace('R.', row + '.')} AS day WHERE {cond.replace('R.', row + '.')}"
             for kind, day, cond in _KINDS]
    return " UNION ALL ".join(parts)


_ADD = ("INSERT INTO tile_counts (holder, kind, day, n) SELECT holder, kind, day, 1 FROM "
        "({new}) WHERE true ON CONFLICT (holder, kind, day) DO UPDATE SET n = n + 1;")
_TAKE = ("UPDATE tile_counts SET n = n - 1 WHERE (holder, kind, day) IN ({old});")
#: The columns a tile reads: an update of others (``pending``, ``updated``) fires nothing.
_READ = "holder, institution, closed, due, limit_due, status, suspended_since"

SCHEMA = f"""
CREATE TABLE IF NOT EXISTS tile_counts (
  holder TEXT NOT NULL, kind TEXT NOT NULL, day TEXT NOT NULL, n INTEGER NOT NULL,
  PRIMARY KEY (holder, kind, day)) WITHOUT ROWID;
CREATE TRIGGER IF NOT EXISTS tiles_insert AFTER INSERT ON cases BEGIN
  {_ADD.format(new=_contributions('NEW'))}
END;
CREATE TRIGGER IF NOT EXISTS tiles_delete AFTER DELETE ON cases BEGIN
  {_TAKE.format(old=_contributions('OLD'))}
END;
CREATE TRIGGER IF NOT EXISTS tiles_update AFTER UPDATE OF {_READ} ON cases BEGIN
  {_TAKE.format(old=_contributions('OLD'))}
  {_ADD.format(new=_contributions('NEW'))}
END;
"""


def rebuild(db: sqlite3.Connection) -> None:
    """Count every row of ``cases`` again (a new or older index file); in the caller's
    transaction."""
    db.execute("DELETE FROM tile_counts")
    for kind, day, cond in _KINDS:
        db.execute(
            f"INSERT INTO tile_counts (holder, kind, day, n) "
            f"SELECT coalesce(R.holder, R.institution), '{kind}', {day}, count(*) "
            f"FROM cases R WHERE {cond} GROUP BY 1, 3")


def counts(db: sqlite3.Connection, holder: str, today: str, soon: str) -> dict[str, int]:
    """The tiles that read these rows, for the institution ``holder``: ``open``,
    ``overdue`` (已超期), ``deadline_passed`` (待办到期), ``due_soon`` and ``elsewhere`` (the
    open cases it handed to another institution)."""
    sql = ("SELECT "
           "sum(CASE WHEN holder = :h AND kind = 'open' THEN n END), "
           "sum(CASE WHEN holder = :h AND kind = 'limit' AND day < :today THEN n END), "
           "sum(CASE WHEN holder = :h AND kind = 'due' AND day < :today THEN n END), "
           "sum(CASE WHEN holder = :h AND kind = 'due' AND day >= :today AND day <= :soon "
           "THEN n END), "
           "sum(CASE WHEN holder <> :h AND kind = 'open' THEN n END) "
           "FROM tile_counts")
    row = db.execute(sql, {"h": holder, "today": today, "soon": soon}).fetchone()
    names = ("open", "overdue", "deadline_passed", "due_soon", "elsewhere")
    return {name: int(v or 0) for name, v in zip(names, row, strict=True)}
