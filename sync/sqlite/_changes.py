"""``_changes`` on SQLite: one row per document, at the seq of its latest update.

Each write replaces the document's row in ``docs`` with a fresh seq, so ordering
by seq gives CouchDB's feed (couch_changes: a document appears once, at its
latest change).

``pending`` is ``max(seq) - last_seq``: an upper bound on the rows left (every row
after ``last_seq`` holds its own seq in ``(last_seq, max(seq)]``; the seqs that an
update left behind are gaps), exact when nothing was updated twice and exactly 0
when nothing is left, which is what replicators test. Counting the rows instead
scanned every one of them on each call (a full read of a big feed in pages cost
O(N^2)). CouchDB documents ``pending`` as the count of remaining items, and on a
cluster derives it from per-shard seqs, so it is approximate there too (it can even
be negative: apache/couchdb#513). Filters (``doc_ids``, selectors) are not applied
to it, as before. Longpoll waits on a condition that writers of this process
notify after COMMIT, and re-checks every half second to see writes of other
processes.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from sync import mango, revtree
from sync.errors import BadRequest
from sync.sqlite._read import DocOptions, build_doc, load_bodies, to_docrow
from sync.store import JSON, Seq

if TYPE_CHECKING:
    import threading

    from sync.sqlite._db import Connections

#: CouchDB's default longpoll timeout (``[chttpd] changes_timeout``, 60 s).
DEFAULT_LONGPOLL_TIMEOUT = 60.0
_POLL_INTERVAL = 0.5
_CHUNK = 500
_PLAIN = DocOptions()


#: SQLite's largest INTEGER: a seq a client sends beyond it (JSON numbers have no bound) is
#: past every change there will ever be, and SQLite cannot compare with it (OverflowError).
MAX_SEQ = 2**63 - 1


def parse_since(since: Seq, current: int) -> int:
    """``0``, ``"now"``, an int or an int-prefixed string (``"12"``, ``"12-g1..."``)."""
    if since == "now":
        return current
    if isinstance(since, bool):
        raise BadRequest("since must be an update sequence, 0 or \"now\"")
    if isinstance(since, int):
        return min(max(0, since), MAX_SEQ)
    if isinstance(since, str):
        head = since.split("-", 1)[0]
        if head.isdigit():
            return min(int(head), MAX_SEQ)
    raise BadRequest(f"Malformed sequence supplied in 'since' parameter: {since!r}")


class ChangesMixin:
    _db: Connections
    _cond: threading.Condition

    def changes(
        self,
        *,
        since: Seq = 0,
        limit: int | None = None,
        descending: bool = False,
        style: str = "main_only",
        include_docs: bool = False,
        conflicts: bool = False,
        attachments: bool = False,
        doc_ids: Sequence[str] | None = None,
        selector: Mapping[str, Any] | None = None,
        feed: str = "normal",
        timeout: float | None = None,
        seq_interval: int | None = None,
    ) -> JSON:
        if style not in ("main_only", "all_docs"):
            raise BadRequest("style must be main_only or all_docs")
        if feed not in ("normal", "longpoll", "continuous", "eventsource"):
            raise BadRequest("Supported `feed` types: normal, continuous, longpoll, eventsource")
        if limit is not None and (not isinstance(limit, int) or limit < 0):
            raise BadRequest("limit must be a positive integer")
        if limit == 0:
            # "using 0 here has the same effect as 1" (CouchDB API, /{db}/_changes, limit)
            limit = 1
        compiled = mango.compile_selector(selector) if selector is not None else None
        if doc_ids is not None and (
            isinstance(doc_ids, str) or not all(isinstance(i, str) for i in doc_ids)
        ):
            raise BadRequest("`doc_ids` filter parameter is not a list of doc ids.")
        with self._db.read() as conn:
            start = parse_since(since, _current_seq(conn))
        opts = DocOptions(conflicts=conflicts, attachments=attachments)
        wait = feed != "normal" and not descending
        deadline = time.monotonic() + (DEFAULT_LONGPOLL_TIMEOUT if timeout is None else timeout)
        while True:
            result, scanned = self._changes_once(
                start, limit, descending, style, include_docs, opts, doc_ids, compiled
            )
            if result["results"] or not wait:
                return result
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return result
            start = scanned
            with self._cond:
                with self._db.read() as conn:
                    current = _current_seq(conn)
                if current <= scanned:
                    self._cond.wait(min(remaining, _POLL_INTERVAL))

    def _changes_once(
        self,
        since: int,
        limit: int | None,
        descending: bool,
        style: str,
        include_docs: bool,
        opts: DocOptions,
        doc_ids: Sequence[str] | None,
        selector: mango.Selector | None,
    ) -> tuple[JSON, int]:
        results: list[JSON] = []
        id_filter = set(doc_ids) if doc_ids is not None else None
        with self._db.read() as conn:
            current = _current_seq(conn)
            cursor = since if not descending else current + 1
            scanned = since
            done = limit == 0
            while not done:
                if descending:
                    sql = "SELECT id, seq, winner, deleted, tree FROM docs WHERE seq < ? AND seq > ? ORDER BY seq DESC LIMIT ?"
                    params: tuple[Any, ...] = (cursor, since, _CHUNK)
                else:
                    sql = "SELECT id, seq, winner, deleted, tree FROM docs WHERE seq > ? ORDER BY seq LIMIT ?"
                    params = (cursor, _CHUNK)
                rows = conn.execute(sql, params).fetchall()
                if not rows:
                    break
                docs = [to_docrow(r) for r in rows if id_filter is None or r[0] in id_filter]
                wanted = {
                    d.id: revtree.leaves(d.tree) if style == "all_docs" else [d.winner]
                    for d in docs
                }
                pairs = []
                if selector is not None:
                    pairs = [(i, r) for i, revs in wanted.items() for r in revs]
                if include_docs:
                    pairs += [(d.id, d.winner) for d in docs]
                bodies = load_bodies(conn, pairs) if pairs else {}
                by_id = {d.id: d for d in docs}
                for r in rows:
                    cursor = r[1]
                    d = by_id.get(r[0])
                    if d is None:
                        continue
                    revs = wanted[d.id]
                    if selector is not None:
                        # couch_changes:filter/3: each rev of the style is matched on
                        # its own (as couch_doc:to_json_obj/2 with no options gives it)
                        revs = [x for x in revs if mango.matches(
                            selector, build_doc(conn, d, x, bodies[(d.id, x)], _PLAIN))]
                        if not revs:
                            continue
                    row: JSON = {"seq": d.seq, "id": d.id, "changes": [{"rev": x} for x in revs]}
                    if d.deleted:
                        row["deleted"] = True
                    if include_docs:
                        row["doc"] = build_doc(conn, d, d.winner, bodies[(d.id, d.winner)], opts)
                    results.append(row)
                    if limit is not None and len(results) >= limit:
                        done = True
                        break
                if len(rows) < _CHUNK:
                    break
            if descending:
                last_seq = results[-1]["seq"] if results else since
                pending = 0
            else:
                scanned = cursor if done else current
                last_seq = max(scanned, since)
                pending = max(0, current - last_seq)
        return {"results": results, "last_seq": last_seq, "pending": pending}, max(scanned, since)


def _current_seq(conn: Any) -> int:
    (seq,) = conn.execute("SELECT coalesce(max(seq), 0) FROM docs").fetchone()
    return int(seq)
