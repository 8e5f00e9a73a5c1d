"""The coordination board publisher: ``board:{code}`` documents (design.md §5).

A town's and a county's devices receive "the cleartext of their subtree for coordination"
(design §5) as one hub-written document per institution below them (schemas/boards.py):
the open cases it holds, one row of cleartext facts each. The rows come from the oversight
facts (:mod:`hub.oversight.facts`: top-level cleartext and E's fold, never ``sealed``), so
a board costs no fold of its own. :meth:`hub.oversight.materialize.FactStore.upsert` marks
the old and new holder of every changed case in ``board_dirty`` in the same transaction as
the facts, so no change is missed across restarts; this pass rebuilds those boards, each at
most once per ``board_interval`` seconds (a station entering fifty steps an hour gets one
new board revision per interval, not fifty), and skips a write that would change nothing
but the time. The hub's device signs each board: stations check it like every pulled
document (node/verify.py), so a board cannot be forged on the way either.

The hub scope indexer sends ``board:{code}`` to the institutions in its ``audience`` (every
institution above ``code`` in the directory's ``parent`` chain, hub/index.py).
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import time
from collections.abc import Callable, Iterable, Mapping
from typing import TYPE_CHECKING, Any

from hub import scope as scopes
from hub.oversight.facts import OPEN_SQL
from hub.oversight.materialize import FactStore, fact_from_dict
from schemas.boards import MAX_ROWS, board_doc_id, running_deadlines
from schemas.state import local_today
from schemas.vocab import SCHEMA_VERSION
from schemas.written import WRITTEN, stamp
from sync.errors import Conflict, NotFound

if TYPE_CHECKING:
    from hub.core import Hub

log = logging.getLogger("bangban.hub.boards")
#: Finished cases of this many days are counted on the board (on-time completions: 5 b).
RECENT_DAYS = 30
#: The fact file's meta key of the day the boards' 30-day windows were last moved to.
DAY_KEY = "boards_day"
#: Members that change on every rebuild; a board differing only in these is not rewritten.
VOLATILE = ("_rev", "as_of", "sig", WRITTEN)


def board_row(f: Any) -> dict[str, Any]:
    """One open case (a :class:`hub.oversight.facts.CaseFact`) as a board row."""
    row: dict[str, Any] = {"case": f.case_id, "no": f.case_no, "item": f.service_item,
                           "kind": f.service_type, "status": f.status,
                           # nobody at the holder yet (a hand-down, a hand-up): no one named,
                           # the registering clerk elsewhere was shown; the node says 待接办
                           "staff": "" if f.unclaimed else f.staff,
                           "opened": f.opened_on, "due": f.due, "reply_due": f.reply_due,
                           "resume_by": f.resumption_deadline, "since": f.suspended_since,
                           "review": bool(f.needs_review),
                           "complaints_open": sum(1 for c in f.complaints if not c.handled_on)}
    return {k: v for k, v in row.items() if v not in (None, "")}


def first_due(rows: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """Board rows by their nearest running deadline (schemas.boards.running_deadlines),
    the order a board is cut at :data:`MAX_ROWS`. By the time limit alone, a consultation
    (a reply deadline, no time limit) sorted after every case with one: at a station with
    more open cases than a board carries, the late replies (10.1.1.3) and passed resumption
    deadlines (10.2.5.2) were the rows left off, and the town never saw them."""
    def key(row: dict[str, Any]) -> tuple[str, str]:
        return (min(running_deadlines(row).values(), default="9999-12-31"),
                str(row.get("no") or row["case"]))
    return sorted(rows, key=key)


class BoardPublisher:
    """Rebuilds the boards of the institutions marked in the fact store's ``board_dirty``."""

    def __init__(self, hub: Hub, facts: FactStore,
                 institutions: Callable[[], Mapping[str, Mapping[str, Any]]], *,
                 interval: float = 30.0, clock: Callable[[], float] = time.monotonic,
                 today: Callable[[], dt.date] | None = None):
        self.hub = hub
        self.facts = facts
        self.institutions = institutions
        self.interval = interval
        self.clock = clock
        self.today = today or local_today
        self._written: dict[str, float] = {}  # code -> when its board was last built here
        self.published = 0

    def run_once(self) -> int:
        """Rebuild every due board; returns how many were written."""
        self._seed()
        self._new_day()
        now = self.clock()
        names = self.institutions()
        # An institution missing from the (cached) directory stays marked: it may have been
        # added a moment ago, and its board is built once its parent chain is known.
        due = [c for c in self.facts.board_marks()
               if c in names and now - self._written.get(c, -1e18) >= self.interval]
        if not due:
            return 0
        # Taken off the list *before* reading the facts: a case changing meanwhile marks its
        # institution again and the next pass rebuilds it; nothing is lost in between.
        self.facts.unmark_boards(due)
        written = 0
        for code in due:
            try:
                written += self.publish(code, names)
            except Exception:  # one bad board must not hold up the others' publication
                log.exception("board of %s not published; tried again next pass", code)
                self.facts.mark_boards([code])
                continue
            self._written[code] = now
        self.published += written
        return written

    def _seed(self) -> None:
        """A fact file folded before boards existed: every holder of a case, once."""
        if not self.facts.meta("boards_seeded"):
            self.facts.mark_boards([], all_holders=True)

    def _new_day(self) -> None:
        """A board's 30-day counts move with the date, not only when a case changes: on a
        new day (kept in the fact file: a hub stopped for a week catches up at its start),
        the boards of every institution with a case finished in the days that left the
        window are marked. Without it a quiet station's board said 近 30 日办结 3 a month
        after its last completion."""
        today = self.today()
        last = self.facts.meta(DAY_KEY)
        if last == today.isoformat():
            return
        window = dt.timedelta(days=RECENT_DAYS)
        new_since = (today - window).isoformat()
        old_since = (dt.date.fromisoformat(last) - window).isoformat() if last else ""
        with self.facts.transaction() as db:
            db.execute("INSERT OR IGNORE INTO board_dirty SELECT DISTINCT institution FROM "
                       "facts WHERE finished_on >= ? AND finished_on < ?",
                       (old_since, new_since))
            self.facts.set_meta(db, DAY_KEY, today.isoformat())

    def build(self, code: str, names: Mapping[str, Mapping[str, Any]]) -> dict[str, Any] | None:
        """The board of ``code`` (unsigned), or None when nobody is above it."""
        above = scopes.ancestors(code, names)
        if not above:
            return None
        db = self.facts.reader()
        open_facts = [fact_from_dict(json.loads(d)) for (d,) in db.execute(
            f"SELECT data FROM facts WHERE institution=? AND {OPEN_SQL}", (code,))]
        since = (self.today() - dt.timedelta(days=RECENT_DAYS)).isoformat()
        # Counted in SQL: a busy station finishes hundreds of cases a month, and decoding
        # each fact row only to count it was most of a board's cost at a million cases.
        finished, completed, on_time = db.execute(
            "SELECT count(*), count(json_extract(data, '$.completed_on')), "
            "count(CASE WHEN json_extract(data, '$.completed_on') IS NOT NULL "
            "AND json_extract(data, '$.on_time') THEN 1 END) "
            "FROM facts WHERE institution=? AND finished_on >= ?", (code, since)).fetchone()
        counts = {"open": len(open_facts),
                  "suspended": sum(1 for f in open_facts if f.status == "suspended"),
                  "review": sum(1 for f in open_facts if f.needs_review),
                  "finished_30d": int(finished), "completed_30d": int(completed),
                  "on_time_30d": int(on_time)}
        at = dt.datetime.now(dt.UTC).astimezone().isoformat(timespec="seconds")
        board = {"_id": board_doc_id(code), "type": "board", "schema_version": SCHEMA_VERSION,
                 "institution": code, "audience": above, "as_of": at, "counts": counts,
                 "cases": first_due(map(board_row, open_facts))[:MAX_ROWS]}
        if len(open_facts) > MAX_ROWS:
            board["more"] = len(open_facts) - MAX_ROWS
        return board

    def publish(self, code: str, names: Mapping[str, Mapping[str, Any]]) -> int:
        """Write ``code``'s board if it changed; 1 if written."""
        from schemas.registry import validate_sealed
        from sync.crypto import sign_document

        board = self.build(code, names)
        if board is None:
            return 0
        validate_sealed(board)  # the hub's own write obeys the schema it enforces
        main = self.hub.stores.main
        for _ in range(5):
            try:
                current = main.get(board["_id"])
            except NotFound:
                current = None
            if current is not None:
                if _same(current, board):
                    return 0
                board["_rev"] = current["_rev"]
            # the station shows the board the hub wrote last, after a restore too (schemas.written)
            board[WRITTEN] = stamp(current, self.hub.keys.signer.device_id)
            try:
                main.put(sign_document(board, self.hub.keys.signer))
                return 1
            except Conflict:  # another hub instance published meanwhile: compare again
                board.pop("_rev", None)
        log.warning("board %s kept changing; left for the next pass", code)
        return 0


def _same(a: Mapping[str, Any], b: Mapping[str, Any]) -> bool:
    strip = lambda d: {k: v for k, v in d.items() if k not in VOLATILE}  # noqa: E731
    return strip(a) == strip(b)
