"""The node-local case index: fast lists and search over 100,000 cases, no plaintext PII.

A separate SQLite file beside the store (``index.sqlite``), rebuilt from the store at any time
(:meth:`CaseIndex.rebuild` via casework), so it is a cache, never the record. It holds only
cleartext fields (ids, case number, item code, status, dates, counts). Applicants are found by a
*keyed hash*: HMAC-SHA256 with a key derived from the unlocked institution key, of each
normalized token of the name, ID number and phone. Without the passphrase the hashes cannot even
be tested against a dictionary of names (design §5: a node's SQLite file at rest contains no
plaintext personal data). Pages use keyset pagination (``updated``, ``case_id``): page 2,000
costs what page 1 costs; all list orders are backed by an index.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import re
import sqlite3
import threading
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from node import tiles
from node.errors import IndexFull, Locked, index_write_failed
from node.indexschema import ADDED_COLUMNS, COLUMNS, FOLD_VERSION, SCHEMA, TOKENS_OWED, Kept
from node.listviews import COUNTED_VIEWS, HOLDER, OWN_VIEWS, view_condition
from node.nametokens import name_tokens, normalize
from node.state import CLOSED

__all__ = ["COUNTED_VIEWS", "FOLD_VERSION", "OWN_VIEWS", "CaseIndex", "Page", "name_tokens",
           "normalize", "view_condition"]

CLOSED_STATUSES = CLOSED  # one set with the rows' ``closed`` (node.state.index_row)
@dataclass
class Page:
    rows: list[dict[str, Any]]
    next_cursor: str | None
    total: int | None = None


class CaseIndex:
    """The index; thread-safe through one connection behind a lock (single writer)."""

    def __init__(self, path: Path | str):
        self.path = str(path)
        self._db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
        self._db.row_factory = sqlite3.Row
        self._mutex = threading.Lock()
        with self._mutex:
            have = {r[1] for r in self._db.execute("PRAGMA table_info(cases)")}
            if have:  # an index written by an older release (the table exists)
                self._db.execute("CREATE TABLE IF NOT EXISTS meta (k TEXT PRIMARY KEY, v TEXT)")
                row = self._db.execute("SELECT v FROM meta WHERE k = 'fold'").fetchone()
                for name, kind in ADDED_COLUMNS.items():
                    if name not in have:
                        self._db.execute(f"ALTER TABLE cases ADD COLUMN {name} {kind}")
                if row is None or row[0] != FOLD_VERSION or not set(ADDED_COLUMNS) <= have:
                    # refold every case at the next catch-up (node.indexer)
                    self._db.execute("INSERT OR REPLACE INTO meta VALUES ('store_seq', '0')")
                    # the fold replaced ("1": unrecorded), said and cleared by node.indexer
                    self._db.execute("INSERT OR REPLACE INTO meta VALUES ('refold_from', ?)",
                                     ("1" if row is None else str(row[0]),))
            self._db.executescript(SCHEMA)
            self._db.execute("CREATE TABLE IF NOT EXISTS meta (k TEXT PRIMARY KEY, v TEXT)")
            self._db.execute("INSERT OR REPLACE INTO meta VALUES ('fold', ?)", (FOLD_VERSION,))
            row = self._db.execute("SELECT v FROM meta WHERE k = 'tokens_owed'").fetchone()
            if row is None or row[0] != TOKENS_OWED:
                self._db.execute(
                    "INSERT OR IGNORE INTO tokens_owed SELECT case_id, 1 FROM cases c WHERE NOT "
                    "EXISTS (SELECT 1 FROM name_tokens t WHERE t.case_id = c.case_id)")
                self._db.execute("INSERT OR REPLACE INTO meta VALUES ('tokens_owed', ?)",
                                 (TOKENS_OWED,))
            self._db.execute("PRAGMA synchronous=NORMAL")
            self._tiles_ready()
        #: HMAC key for name tokens; set while the keys are unlocked.
        self.name_key: bytes | None = None

    def _tiles_ready(self) -> None:
        """The tile counts' table and triggers (:mod:`node.tiles`), rebuilt from the rows
        when the file was written without them or by another version of them."""
        self._db.executescript(tiles.SCHEMA)
        self._db.execute("CREATE TABLE IF NOT EXISTS meta (k TEXT PRIMARY KEY, v TEXT)")
        row = self._db.execute("SELECT v FROM meta WHERE k = 'tiles'").fetchone()
        if row is None or row[0] != tiles.TILES_VERSION:
            self._db.execute("BEGIN")
            tiles.rebuild(self._db)
            self._db.execute("INSERT OR REPLACE INTO meta VALUES ('tiles', ?)",
                             (tiles.TILES_VERSION,))
            self._db.execute("COMMIT")

    def close(self) -> None:
        with self._mutex:
            self._db.close()

    # -- hashing -----------------------------------------------------------------
    def hash_token(self, token: str, key: bytes | None = None) -> bytes:
        """``key``: the name key as its caller read it once (a lock may clear it meanwhile)."""
        key = key or self.name_key
        if key is None:
            raise Locked("unlock to search by applicant")
        return hmac.new(key, token.encode("utf-8"), hashlib.sha256).digest()[:16]

    # -- writing -------------------------------------------------------------------
    def upsert(self, row: Mapping[str, Any], tokens: Iterable[str] | None = ()) -> None:
        with contextlib.suppress(IndexFull):  # stored already: node.indexer catches up later
            self.upsert_many([(row, tokens)])

    def upsert_many(self, items: Sequence[tuple[Mapping[str, Any], Iterable[str] | None]],
                    *, later: bool = False) -> None:
        """Rows with their tokens, which replace the case's old ones (a name corrected
        elsewhere no longer finds it); tokens None: not made (node.tokenmaker), the old
        ones dropped too (they may be of the old name) and the case owed its tokens, to be
        made at the next catch-up with the keys (``later``, or locked now) or when its
        keyring changes (no key opens it here)."""
        values = []
        for row, _ in items:
            rec = {c: row.get(c) for c in COLUMNS}
            rec["needs_review"] = int(bool(rec["needs_review"]))
            rec["closed"] = int(bool(rec["closed"]) or rec.get("status") in CLOSED_STATUSES)
            rec["pending"] = int(rec["pending"] or 0)
            values.append(tuple(rec[c] for c in COLUMNS))
        tokens = self._token_rows([(str(r["case_id"]), t, r.get("header_rev"))
                                   for r, t in items], later)
        placeholders = ",".join("?" * len(COLUMNS))
        # a row is the whole truth about its case: a deadline that ended is cleared (None)
        # except ``pending``: set by local writes and cleared by a push (:meth:`set_pending`)
        updates = ",".join(f"{c}=excluded.{c}" for c in COLUMNS[1:] if c != "pending")
        with self._mutex:
            try:
                self._db.execute("BEGIN")
                self._db.executemany(
                    f"INSERT INTO cases ({','.join(COLUMNS)}) VALUES ({placeholders}) "
                    f"ON CONFLICT(case_id) DO UPDATE SET {updates}", values)
                self._put_tokens(*tokens)
                self._db.execute("COMMIT")
            except sqlite3.Error as exc:
                raise index_write_failed(exc, self._db) from exc

    def set_tokens(self, items: Sequence[tuple[str, Iterable[str] | None, str | None]]
                   ) -> None:
        """The tokens of cases owed them (``(case id, tokens, header _rev)``, tokens as
        :meth:`upsert_many` takes them), rows left as they are, as are cases owed no more."""
        tokens = self._token_rows(items, False)
        with self._mutex:
            try:
                self._db.execute("BEGIN")
                marks = ",".join("?" * len(tokens[0]))
                still = {r[0] for r in self._db.execute(
                    f"SELECT case_id FROM tokens_owed WHERE case_id IN ({marks})",
                    [i for i, in tokens[0]])}
                # a clerk's write since made those of a newer header (node.tokenmaker)
                self._put_tokens(*([r for r in rows if r[col] in still]  # (hash, case_id)
                                   for rows, col in zip(tokens, (0, 1, 0, 0), strict=True)))
                self._db.execute("COMMIT")
            except sqlite3.Error as exc:
                raise index_write_failed(exc, self._db) from exc

    def _token_rows(self, items: Sequence[tuple[str, Iterable[str] | None, str | None]],
                    later: bool) -> tuple[list[Any], ...]:
        ids, token_rows, owed, made = [], [], [], []
        key = self.name_key  # read once: a lock while hashing raised Locked from the write
        for case_id, tokens, rev in items:
            if isinstance(tokens, Kept):
                continue
            ids.append((case_id,))
            toks = None if tokens is None else list(tokens)
            if toks is None or (toks and key is None):  # or locked meanwhile
                owed.append((case_id, int(later or key is None)))
                continue
            token_rows += [(self.hash_token(t, key), case_id) for t in toks]
            made.append((case_id, rev or ""))
        return ids, token_rows, owed, made

    def _put_tokens(self, ids: list[Any], token_rows: list[Any], owed: list[Any],
                    made: list[Any]) -> None:
        for table in ("name_tokens", "tokens_owed", "tokens_made"):
            self._db.executemany(f"DELETE FROM {table} WHERE case_id=?", ids)
        self._db.executemany("INSERT OR IGNORE INTO name_tokens VALUES (?,?)", token_rows)
        self._db.executemany("INSERT OR REPLACE INTO tokens_owed VALUES (?,?)", owed)
        self._db.executemany("INSERT OR REPLACE INTO tokens_made VALUES (?,?)", made)

    def tokens_current(self, case_id: str, header_rev: str) -> bool:
        """Whether the case's tokens were made from this revision of its header."""
        with self._mutex:
            return self._db.execute("SELECT 1 FROM tokens_made WHERE case_id=? AND header=?",
                                    (case_id, header_rev)).fetchone() is not None

    def set_pending(self, case_ids: Iterable[str], pending: bool) -> None:
        """Mark rows 待上传 (or pushed) in one transaction; a failure is the node's error
        (IndexFull on a full disk, conventions: sqlite3's errors end at this boundary)."""
        self._write("UPDATE cases SET pending=? WHERE case_id=?",
                    [(int(pending), c) for c in case_ids])

    def mark_pending(self, case_id: str) -> None:
        """After a local write was stored: without room the case is not marked 待上传 in
        the list, and the step stands (its page must not say "not saved"); it is pushed
        all the same (the push reads the store's feed), as :meth:`upsert` leaves its row."""
        with contextlib.suppress(IndexFull):
            self.set_pending([case_id], True)

    def _write(self, sql: str, rows: Sequence[tuple[Any, ...]]) -> None:
        with self._mutex:
            try:
                self._db.execute("BEGIN")
                self._db.executemany(sql, rows)
                self._db.execute("COMMIT")
            except sqlite3.Error as exc:
                raise index_write_failed(exc, self._db) from exc

    def open_case_ids(self) -> set[str]:
        """The cases not closed (their deadlines still run)."""
        with self._mutex:
            return {r[0] for r in self._db.execute("SELECT case_id FROM cases WHERE closed = 0")}

    def pending_ids(self) -> set[str]:
        """Cases with local writes not yet pushed (the list's 待上传)."""
        with self._mutex:
            return {r[0] for r in self._db.execute("SELECT case_id FROM cases WHERE pending = 1")}

    def tokenless(self, case_id: str | None = None, *, later: bool | None = None) -> int:
        """How many cases (of ``case_id`` alone: 0 or 1) no name search finds: their
        tokens are owed (node.tokenmaker: no key opens them here yet, or locked since);
        ``later``: only those the catch-up makes (True), or those no key opens (False)."""
        sql = "SELECT count(*) FROM tokens_owed WHERE " + ("case_id = ?" if case_id else "1")
        sql += "" if later is None else f" AND later = {int(later)}"
        with self._mutex:
            return int(self._db.execute(sql, (case_id,) if case_id else ()).fetchone()[0])

    def owed_later(self, after: str = "", limit: int = -1) -> list[str]:
        """The cases whose tokens the next catch-up with the keys makes (node.tokenmaker),
        in order: ``limit`` of them (-1: all) past ``after``."""
        with self._mutex:
            return [r[0] for r in self._db.execute(
                "SELECT case_id FROM tokens_owed WHERE later = 1 AND case_id > ? "
                "ORDER BY case_id LIMIT ?", (after, limit))]

    def owe_again(self) -> None:
        """Every case owed its tokens is made by the next catch-up with the keys (``later``)."""
        self._write("UPDATE tokens_owed SET later = 1", [()])

    def highest_serial(self, prefix: str) -> int:
        """The greatest serial of the case numbers ``prefix`` + 5 digits here, else 0 (one
        device's year: ``{institution}-{year}-{short}-``): one backward seek of ``cases_no``."""
        with self._mutex:
            row = self._db.execute(
                "SELECT case_no FROM cases WHERE case_no >= ? AND case_no < ? AND "
                "length(case_no) = ? ORDER BY case_no DESC LIMIT 1",
                (prefix, prefix + "\uffff", len(prefix) + 5)).fetchone()
        tail = str(row[0])[len(prefix):] if row else ""
        return int(tail) if tail.isdigit() else 0

    def clear(self) -> None:
        with self._mutex:
            self._db.execute("DELETE FROM cases")
            self._db.execute("DELETE FROM name_tokens")
            self._db.execute("DELETE FROM tokens_owed")
            self._db.execute("DELETE FROM tokens_made")

    # -- meta (last indexed seq of the store) ---------------------------------------
    def get_meta(self, key: str, default: str = "") -> str:
        with self._mutex:  # the table is made in __init__
            row = self._db.execute("SELECT v FROM meta WHERE k=?", (key,)).fetchone()
        return str(row[0]) if row else default

    def set_meta(self, key: str, value: str) -> None:
        self._write("INSERT OR REPLACE INTO meta VALUES (?,?)", [(key, value)])

    # -- reading -------------------------------------------------------------------
    def get(self, case_id: str) -> dict[str, Any] | None:
        with self._mutex:
            row = self._db.execute("SELECT * FROM cases WHERE case_id=?", (case_id,)).fetchone()
        return dict(row) if row else None

    def search(self, *, q: str = "", status: str = "", service_item: str = "",
               view: str = "", today: str = "", soon: str = "", cursor: str | None = None,
               limit: int = 50, institution: str = "", holder: str = "",
               handed: bool = False) -> Page:
        """One page of cases, newest change first (deadline views: nearest deadline first).
        ``q`` is a case number (or its prefix) or
        an applicant's name / ID number / phone (matched through the keyed hash). ``view``:
        ``open``, ``overdue`` (已超期: the time limit), ``deadline_passed`` (待办到期: any
        deadline), ``due_soon``, ``needs_review``, ``today``, ``handed_up``,
        ``elsewhere``, ``pending`` (:func:`view_condition`; ``holder``: this institution,
        whose own cases the work views keep to); ``handed``: only cases that came or went by
        a hand-over, as :meth:`counts` with ``handed`` counts them."""
        where: list[str] = []
        args: list[Any] = []
        join = ""
        # a case number pasted in full-width characters (a Word file, a chat message) is the
        # case number: NFKC, as the name tokens are (node.nametokens.normalize)
        q = unicodedata.normalize("NFKC", q or "").strip()
        if q:
            if re.fullmatch(r"[0-9A-Za-z-]{4,}", q) and not re.fullmatch(r"\d{11}|\d{17}[\dXx]", q):
                cond = "(c.case_no >= ? AND c.case_no < ?)"
                args += [q.upper(), q.upper() + "\uffff"]
                if self.name_key is not None:  # or a phone as written: "0392-1234567"
                    cond = (f"({cond} OR c.case_id IN "
                            "(SELECT case_id FROM name_tokens WHERE token = ?))")
                    args.append(self.hash_token(normalize(q)))
                where.append(cond)
            else:
                join = "JOIN name_tokens t ON t.case_id = c.case_id AND t.token = ?"
                args.insert(0, self.hash_token(normalize(q)))
        if status:
            where.append("c.status = ?")
            args.append(status)
        if service_item:
            where.append("c.service_item = ?")
            args.append(service_item)
        if institution:
            where.append("c.institution = ?")
            args.append(institution)
        if handed:
            where.append("c.handed_from IS NOT NULL")
        cond, more = view_condition(view, today=today, soon=soon, holder=holder)
        if cond:
            where.append(cond)
            args += more
        # Deadline views list the nearest deadline first (and use the (closed, due) index);
        # 已超期 the earliest time limit first (the one it is overdue by, and the holder's
        # index over it); the others list the latest change first. All page by keyset,
        # never by OFFSET.
        if view == "overdue":
            col, op, direction = "limit_due", ">", "ASC"
        elif view in ("deadline_passed", "due_soon"):
            col, op, direction = "due", ">", "ASC"
        elif view == "today":  # today's new cases, newest first
            col, op, direction = "created", "<", "DESC"
        else:
            col, op, direction = "updated", "<", "DESC"
        if cursor:
            value, _, cid = cursor.rpartition("|")
            where.append(f"(c.{col} {op} ? OR (c.{col} = ? AND c.case_id {op} ?))")
            args += [value, value, cid]
        # The few cases handed elsewhere are found through the holder index and sorted;
        # walking every open case in order of change to find them took 11 ms per 20,000.
        order = "+" if view == "elsewhere" else ""
        sql = (f"SELECT c.* FROM cases c {join} "
               + (f"WHERE {' AND '.join(where)} " if where else "")
               + f"ORDER BY {order}c.{col} {direction}, c.case_id {direction} LIMIT ?")
        args.append(limit + 1)
        with self._mutex:
            rows = [dict(r) for r in self._db.execute(sql, args)]
        nxt = None
        if len(rows) > limit:
            rows = rows[:limit]
            nxt = f"{rows[-1][col]}|{rows[-1]['case_id']}"
        return Page(rows, nxt)

    def counts(self, *, today: str, soon: str, handed: bool = False,
               holder: str = "") -> dict[str, int]:
        """The home page's numbers, each one indexed query and each the count of the list its
        tile opens (:func:`view_condition`, shared with :meth:`search`); ``holder``: this
        institution, so the work views count only the cases it holds now (a case handed up
        or down is counted by its new holder, and here under ``elsewhere``); ``handed``: only
        cases that came or went by a hand-over (the town's handed-up boxes)."""
        extra = " AND c.handed_from IS NOT NULL" if handed else ""
        out: dict[str, int] = {}
        with self._mutex:
            if holder and not handed:  # kept as they change (node.tiles)
                out = tiles.counts(self._db, holder, today, soon)
            for view in COUNTED_VIEWS:
                if view in out:
                    continue
                cond, args = view_condition(view, today=today, soon=soon, holder=holder)
                if not cond:  # "elsewhere" needs to know who "here" is
                    out[view] = 0
                    continue
                if view == "elsewhere":
                    # the list's cases (:func:`view_condition`) as two ranges of the holder
                    # index: for the OR SQLite walked all of it (15 ms at 100,000 cases)
                    part = f"SELECT count(*) FROM cases c WHERE c.closed = 0 AND {HOLDER} %s ?{extra}"
                    cond = f"({part % '<'}) + ({part % '>'})"
                    out[view] = int(self._db.execute(f"SELECT {cond}", args).fetchone()[0])
                    continue
                out[view] = int(self._db.execute(
                    f"SELECT count(*) FROM cases c WHERE {cond}"
                    f"{extra if view != 'pending' else ''}", args).fetchone()[0])
        return out

    def by_institution(self, *, today: str, holder: str = "") -> list[dict[str, Any]]:
        """Per originating institution (the town's view): ``handed_ever``, its cases that
        reached this node by a hand-over, whoever holds them now and open or not; and of
        those, ``held_open`` and ``held_overdue``, the ones this institution (``holder``)
        holds and answers for now (4.3), exactly as the town's 上报在办 and 上报超期 tiles
        count them (:meth:`counts` with ``handed``, :func:`view_condition`)."""
        sums, args = [], []
        for name, view in (("held_open", "open"), ("held_overdue", "overdue")):
            cond, more = view_condition(view, today=today, holder=holder)
            sums.append(f"sum(c.handed_from IS NOT NULL AND {cond}) AS {name}")
            args += more
        sql = ("SELECT c.institution, count(*) AS total, "
               "sum(c.handed_from IS NOT NULL) AS handed_ever, " + ", ".join(sums)
               + " FROM cases c GROUP BY c.institution ORDER BY c.institution")
        with self._mutex:
            return [dict(r) for r in self._db.execute(sql, args)]
