"""Hub-side materialization of the oversight facts, driven by the changes feed.

Why a hub-side SQLite file (``HUB_DIR/oversight.sqlite``) and not CouchDB views:
the :class:`sync.store.DocumentStore` interface has no views (the embedded backend
has none, and the replicator must see only the interface), while the dashboard needs
grouped sums over ranges of institution codes and months at 1,000,000 cases. The file
is a *derived cache*: every row comes from the main database's ``_changes`` and E's
fold, the feed checkpoint is written in the same SQLite transaction as the rows it
produced (so a crash never double-counts), and deleting the file rebuilds it. Several
gateways each keep their own file; all agree because they follow the same feed.

Tables: ``facts`` (one compact row per case, :class:`hub.oversight.facts.CaseFact`),
``complaints`` (one row per complaint, 5 c), ``counters`` (per institution, staff and
month: every column of :data:`hub.oversight.facts.COUNTERS`), ``units`` (the same
counters rolled up per code prefix of length 6, 9 and 12 and month: the city's dashboard
reads 5 counties x 12 months rows, whatever the number of cases), ``meta`` (checkpoint),
``refold`` (cases to fold again: the open ones when a calendar changed, those with a
complaint when the complaint period changed; their due dates move);
the schema and the row encoding are in :mod:`hub.oversight.tables`.
A changed case is re-folded and its counters move by ``new - old`` contributions.
Single writer (a lock), readers on their own connections (WAL), Datasette style.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from hub.oversight.calendars import CalendarCache
from hub.oversight.facts import COUNTERS, CaseFact, case_fact, contributions
from hub.oversight.paper import write_rows as write_paper
from hub.oversight.tables import (
    DEPT_COUNTERS,
    SCHEMA,
    UNIT_LEVELS,
    UPSERT_DEPT,
    UPSERT_STAFF,
    UPSERT_UNIT,
    department_contributions,
    fact_from_dict,
    fact_row,
)
from hub.oversight.withdrawals import write_rows as write_withdrawals
from hub.transitions import case_events
from schemas.workdays import Workdays
from sync.sqlite import enable_wal

if TYPE_CHECKING:
    from hub.storage import HubStores

BATCH = 500
#: ``PRAGMA user_version`` of the file: raise it when a change makes rows already folded
#: wrong; `hub serve` then folds again (hub.oversight.discard_if_stale). 2: Beijing days;
#: 3: the clause 9 counters (new columns: a file of version 2 has none of them);
#: 4: a consultation answered with nothing pending is ``consulted``, not open (10.1.1);
#: 5: a case's staff member is not whoever last opened it (facts.NOT_HANDLING);
#: 6: a time limit suspended over New Year keeps the new year's holidays (schemas.workdays);
#: 7: a hand-over to another county's institution is not applied (a review, schemas.rules);
#: 8: a resumption deadline on a weekend or holiday runs to the next working day (10.2.5.2,
#: schemas.state.resume_by), a materials period too (10.2.5.1 a); an acceptance on a
#: lapsed entrustment is a review (10.2.3);
#: 9: only a work-log entry of contact with the applicant follows up a bad rating (11.2.1,
#: schemas.state.followed_up); a restored hub's second termination of a suspension is the
#: same act, not a review (10.2.5.2, schemas.rules.repeats_termination);
#: 10: who did the work is settled by the step that finished the case, and a rating or a
#: complaint entered at the window does not move it; a case's 新立 counters are its
#: opener's (facts.handlers: staff turnover); a case's service mode is the application's or
#: entrustment's, not the consultation's (clause 9: 上门办 counted as 就近办); forms signed by
#: another or by thumbprint counted (new columns, schemas.event_signed);
#: every event's first receipt (``event_receipts``, a case's history and archive:
#: hub.oversight.archive); receipts folded before have none.
#: 11: a paper step entered later (补录, schemas.paper) is timed from when it was typed in
#: the device clock checks and counted apart (``clock_months.paper``, a new column).
#: 12: a paper step is one at noon (schemas.paper.stated_later): 11 took a live step whose
#: hlc its case moved to a later day (a clock behind, or dragged ahead) for 补录.
#: 13: 冲突复核 (review_resolved) is no handling: its recorder is not the case's staff member,
#: nor is the clerk of a step kept for review (facts.handlers);
#: two laptops' 冲突复核 of one step is one act, not a review (schemas.state.resettles).
#: 14: each 补录 step in ``paper_steps`` with the live steps after it (a fact's ``paper``),
#: each device's first receipt in ``device_first_sync`` (hub.oversight.paper): new tables.
#: 15: 撤销办结 (schemas.withdraw): a withdrawn completion counts as none (5 a), each
#: withdrawal a row of ``withdrawals`` (hub.oversight.withdrawals): a new table.
#: 16: a 补录 step behind a live step of its case (another laptop's, concurrent) is kept for
#: review, not applied: the case is 需复核 (schemas.paper_fold).
#: 17: a case's 新登记 (opened, clause 9, entrustments) and consultations stay at the station
#: that registered it when it is handed up or down (facts.contributions; 4.3, 11.1).
#: 18: a step kept for review while a completion stood applies once that completion is
#: withdrawn, if legal then (schemas.withdraw, schemas.fold._release); a fact names the
#: completion that stands (``completion``: the late-receipt check times it, not a withdrawn one).
#: 19, 20: a 冲突复核 of a released step and a refused one resolves the latter (schemas.state
#: .unsettled); a repeated 撤销办结, held and released or not, is the same act; a 补录 step held
#: by a withdrawn completion that made the case live is paper history (schemas.withdraw).
#: 21, 22, 23: a submission (11.1 d) counts at the station that recorded it, and only if
#: applied, as corrections, consultations and ratings; a case handed on, untouched, unclaimed.
FOLD_VERSION = 23


class FactStore:
    """The materialized facts in one SQLite file (``:memory:`` is not shared across threads)."""

    def __init__(self, path: str | Path):
        self.path = str(path)
        self._write = threading.Lock()
        self._local = threading.local()
        with self._write:
            db = self.reader()
            db.executescript(SCHEMA)
            if not db.execute("SELECT 1 FROM meta LIMIT 1").fetchone():
                db.execute(f"PRAGMA user_version = {FOLD_VERSION}")  # a new file

    # -- connections -----------------------------------------------------------------
    def _connect(self) -> sqlite3.Connection:
        db = sqlite3.connect(self.path, timeout=30, check_same_thread=False)
        try:
            enable_wal(db)  # retried: gateways starting at once race on a new file
        except sqlite3.Error:
            db.close()
            raise
        db.execute("PRAGMA synchronous=NORMAL")
        return db

    def reader(self) -> sqlite3.Connection:
        db = getattr(self._local, "db", None)
        if db is None:
            db = self._local.db = self._connect()
        return db

    class _Tx:
        def __init__(self, store: FactStore):
            self.store = store

        def __enter__(self) -> sqlite3.Connection:
            self.store._write.acquire()
            self.db = self.store.reader()
            self.db.execute("BEGIN IMMEDIATE")
            return self.db

        def __exit__(self, exc_type: Any, *rest: Any) -> None:
            try:
                self.db.execute("ROLLBACK" if exc_type else "COMMIT")
            finally:
                self.store._write.release()

    def _writer(self) -> FactStore._Tx:
        return FactStore._Tx(self)

    def transaction(self) -> FactStore._Tx:
        """A write transaction for the other folds of this file (:mod:`hub.oversight.clocks`):
        one writer for the whole file."""
        return self._writer()

    def ensure_schema(self, script: str) -> None:
        """Create another fold's tables (``CREATE ... IF NOT EXISTS``)."""
        with self._write:
            self.reader().executescript(script)

    def close(self) -> None:
        db = getattr(self._local, "db", None)
        if db is not None:
            db.close()
            self._local.db = None

    # -- meta ------------------------------------------------------------------------
    def meta(self, key: str, default: Any = None) -> Any:
        row = self.reader().execute("SELECT value FROM meta WHERE key=?", (key,)).fetchone()
        return json.loads(row[0]) if row else default

    @staticmethod
    def set_meta(db: sqlite3.Connection, key: str, value: Any) -> None:
        """Write a checkpoint inside the caller's :meth:`transaction`."""
        FactStore._set_meta(db, key, value)

    @staticmethod
    def _set_meta(db: sqlite3.Connection, key: str, value: Any) -> None:
        db.execute("INSERT INTO meta VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value="
                   "excluded.value", (key, json.dumps(value)))

    # -- coordination boards to rebuild (hub.oversight.boards) -------------------------
    def board_marks(self) -> list[str]:
        """Institutions whose board waits to be rebuilt (marked by :meth:`upsert`)."""
        return [c for (c,) in self.reader().execute("SELECT code FROM board_dirty ORDER BY code")]

    def mark_boards(self, codes: list[str], *, all_holders: bool = False) -> None:
        """Mark ``codes`` again; ``all_holders``: every institution holding a fact, once
        (``boards_seeded`` in meta: a file folded before boards existed)."""
        with self._writer() as db:
            db.executemany("INSERT OR IGNORE INTO board_dirty VALUES (?)", [(c,) for c in codes])
            if all_holders:
                db.execute("INSERT OR IGNORE INTO board_dirty SELECT DISTINCT institution "
                           "FROM facts WHERE institution != ''")
                self._set_meta(db, "boards_seeded", True)

    def unmark_boards(self, codes: list[str]) -> None:
        with self._writer() as db:
            db.executemany("DELETE FROM board_dirty WHERE code=?", [(c,) for c in codes])

    # -- cases to fold again (a calendar changed) -----------------------------------------
    def mark_refolds(self, year: int = 0) -> None:
        """Mark the cases whose deadlines are counted again when ``year``'s calendar changed
        (every year's: 0): those not finished yet, and those finished in that year or
        later, or with a complaint due then, whose verdicts (on time, 5 a; complaint in
        time, 5 c) were reached over that year's days, on a Mon-Fri estimate when the
        holidays were not published yet (design.md §6: an estimate, shown as one). A case
        finished before the year cannot move: its deadlines that reach into the year are
        after its end. :meth:`upsert` clears a case's mark when it folds it."""
        since = f"{year:04d}-01-01"
        with self._writer() as db:
            db.execute("INSERT OR IGNORE INTO refold SELECT case_id FROM facts "
                       "WHERE finished_on IS NULL OR finished_on >= ?", (since,))
            db.execute("INSERT OR IGNORE INTO refold SELECT DISTINCT case_id FROM complaints "
                       "WHERE due >= ?", (since,))

    def use_complaint_days(self, days: int) -> bool:
        """Fold complaints due ``days`` working days after receipt (the hub setting
        ``complaint_working_days``, 5 c). When the rows were folded with another period (or
        by a release that did not record it), every case with a complaint is marked to fold
        again, finished or not: its due dates and in-time counters move. The period is
        stored with the marks in one transaction, so a crash cannot lose them. True when
        cases were marked."""
        if self.meta("complaint_days") == days:
            return False  # no write transaction on every page read's catch-up
        with self._writer() as db:
            if self.meta("complaint_days") == days:  # another thread marked them
                return False
            marked = db.execute("INSERT OR IGNORE INTO refold SELECT DISTINCT case_id "
                                "FROM complaints").rowcount
            self._set_meta(db, "complaint_days", days)
        return marked > 0

    def refolds(self, limit: int) -> list[str]:
        return [c for (c,) in self.reader().execute(
            "SELECT case_id FROM refold ORDER BY case_id LIMIT ?", (limit,))]

    # -- writing ---------------------------------------------------------------------
    def get(self, case_id: str) -> CaseFact | None:
        row = self.reader().execute("SELECT data FROM facts WHERE case_id=?",
                                    (case_id,)).fetchone()
        return fact_from_dict(json.loads(row[0])) if row else None

    def upsert(self, facts: Iterable[CaseFact], *, checkpoint: Any = None) -> int:
        """Store facts and move the counters by their change; one transaction.

        Deltas (new - old contributions) are summed in memory over the whole batch and
        written once per counter row, so a batch of thousands of cases touches each
        (unit, month) row once.
        """
        batch = {f.case_id: f for f in facts}  # the last fact of a case wins
        with self._writer() as db:
            ids = list(batch)
            old: dict[str, CaseFact] = {}
            for i in range(0, len(ids), 500):
                chunk = ids[i:i + 500]
                marks = ",".join("?" * len(chunk))
                for case_id, data in db.execute(
                        f"SELECT case_id, data FROM facts WHERE case_id IN ({marks})", chunk):
                    old[case_id] = fact_from_dict(json.loads(data))
            staff_delta: dict[tuple[str, str, str], dict[str, int]] = {}
            unit_delta: dict[tuple[int, str, str], dict[str, int]] = {}
            for f in batch.values():
                for sign, contrib in ((-1, contributions(old.get(f.case_id))),
                                      (1, contributions(f))):
                    for (inst, staff, month), counts in contrib.items():
                        targets = [staff_delta.setdefault((inst, staff, month), {})]
                        targets += [unit_delta.setdefault((n, inst[:n], month), {})
                                    for n in UNIT_LEVELS]
                        for name, v in counts.items():
                            for slot in targets:
                                slot[name] = slot.get(name, 0) + sign * v
            dept_delta: dict[tuple[int, str, str, str], dict[str, int]] = {}
            for f in batch.values():
                for sign, dcontrib in ((-1, department_contributions(old.get(f.case_id))),
                                       (1, department_contributions(f))):
                    for (inst, dept, month), counts in dcontrib.items():
                        for n in UNIT_LEVELS:
                            slot = dept_delta.setdefault((n, inst[:n], month, dept), {})
                            for name, v in counts.items():
                                slot[name] = slot.get(name, 0) + sign * v
            db.executemany(UPSERT_DEPT, [(*key, *(d.get(c, 0) for c in DEPT_COUNTERS))
                                          for key, d in dept_delta.items() if any(d.values())])
            db.executemany(UPSERT_STAFF, [(*key, *(d.get(c, 0) for c in COUNTERS))
                                           for key, d in staff_delta.items() if any(d.values())])
            db.executemany(UPSERT_UNIT, [(*key, *(d.get(c, 0) for c in COUNTERS))
                                          for key, d in unit_delta.items() if any(d.values())])
            db.executemany("INSERT OR REPLACE INTO facts VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
                           [fact_row(f) for f in batch.values()])
            for i in range(0, len(ids), 500):
                chunk = ids[i:i + 500]
                db.execute(f"DELETE FROM complaints WHERE case_id IN ({','.join('?' * len(chunk))})",
                           chunk)
                db.execute(f"DELETE FROM refold WHERE case_id IN ({','.join('?' * len(chunk))})",
                           chunk)
            write_paper(db, ids, batch.values())  # 补录 steps (hub.oversight.paper)
            write_withdrawals(db, ids, batch.values())  # 撤销办结 (hub.oversight.withdrawals)
            db.executemany("INSERT OR REPLACE INTO complaints VALUES (?,?,?,?,?,?,?,?,?,?)",
                           [(c.complaint_id, c.case_id, c.institution, c.received_on, c.due,
                             c.handled_on, c.channel, c.category, c.result, int(c.by_hub))
                            for f in batch.values() for c in f.complaints])
            # Coordination boards (hub.oversight.boards) to rebuild: the old and new holder
            # of every changed case (a hand-up moves a case off the village's board).
            dirty = {c for f in batch.values() for c in (f.institution, f.origin) if c}
            dirty |= {o.institution for o in old.values() if o.institution}
            db.executemany("INSERT OR IGNORE INTO board_dirty VALUES (?)",
                           [(c,) for c in sorted(dirty)])
            if checkpoint is not None:
                self._set_meta(db, "checkpoint", checkpoint)
        return len(batch)


class Materializer:
    """Follows the main database's ``_changes`` and keeps a :class:`FactStore` current."""

    def __init__(self, stores: HubStores, facts: FactStore, *, complaint_days: int,
                 hub_devices: Iterable[str] = ()):
        self.stores = stores
        self.facts = facts
        self.complaint_days = complaint_days  # the hub setting complaint_working_days (5 c)
        self.hub_devices = set(hub_devices)
        self._calendars = CalendarCache(stores.main)
        self._lock = threading.Lock()
        self.folded = 0
        self.behind = False  # the last catch-up stopped before the end of the feed

    def workdays(self) -> Workdays:
        return self._calendars.workdays()

    def headers(self, case_ids: list[str]) -> dict[str, dict[str, Any]]:
        """The case headers of a batch in one ``_all_docs?keys=`` request."""
        if not case_ids:
            return {}
        res = self.stores.main.all_docs(keys=[f"case:{c}" for c in case_ids], include_docs=True)
        return {r["key"][5:]: r["doc"] for r in res["rows"] if r.get("doc")}

    def events(self, case_id: str) -> list[dict[str, Any]]:
        return case_events(self.stores, case_id)

    def fact(self, case_id: str, header: dict[str, Any] | None = None) -> CaseFact:
        if header is None:
            header = self.headers([case_id]).get(case_id)
        return case_fact(header, self.events(case_id), self.workdays(),
                         complaint_days=self.complaint_days, hub_devices=self.hub_devices)

    def _batches(self) -> Iterator[tuple[list[str], Any]]:
        since = self.facts.meta("checkpoint", 0)
        self.facts.use_complaint_days(self.complaint_days)  # a changed period: refold them
        while True:
            # Cases marked when a calendar changed, a batch at a time (each fold clears its
            # mark, so a catch-up stopped half way resumes where it stopped).
            while stale := self.facts.refolds(BATCH):
                self.behind = True
                # checked after the marks are read: marked, the calendar was written before
                self._calendars.check()
                yield stale, since
            feed = self.stores.main.changes(since=since, limit=BATCH)
            self._calendars.check()  # set since, its row read by another process's catch-up
            rows = feed["results"]
            ids: list[str] = []
            calendar = False
            years: set[int] = set()
            for row in rows:
                docid = row["id"]
                if docid.startswith("calendar:"):
                    self._calendars.drop()  # later folds use the new calendar
                    calendar = True
                    year = docid.split(":", 1)[1]
                    years.add(int(year) if year.isdigit() else 0)
                if docid.startswith(("case:", "event:")):
                    case_id = docid.split(":")[1]
                    if case_id not in ids:
                        ids.append(case_id)
            if calendar:
                # A year's holidays set or corrected (the State Council's notice comes late
                # in the year before): the deadlines of every case they may move are counted
                # again in working days (design.md §6), not only those of cases that change
                # later. Marked before the checkpoint passes the calendar, so a crash cannot
                # lose the marks.
                self.facts.mark_refolds(min(years))
            self.behind = len(rows) == BATCH or calendar
            yield ids, feed["last_seq"]
            since = feed["last_seq"]
            if len(rows) < BATCH and not calendar:
                return

    def catch_up(self, max_batches: int | None = None) -> int:
        """Fold every case changed since the checkpoint (at most ``max_batches`` feed
        batches; :attr:`behind` tells whether more remain); returns how many were folded."""
        with self._lock:
            total = 0
            for k, (ids, seq) in enumerate(self._batches()):
                headers = self.headers(ids)
                facts = [self.fact(case_id, headers.get(case_id)) for case_id in ids]
                self.facts.upsert(facts, checkpoint=seq)
                total += len(facts)
                if max_batches is not None and k + 1 >= max_batches:
                    break
            self.folded += total
            return total
