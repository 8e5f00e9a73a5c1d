"""The per-scope change indexes (design.md §7: they live in the store, not in memory).

For each scope (an institution code, or ``all`` for reference data) the database
``P-scope-CODE`` holds one small document per visible document of the main
database, ``{_id: <docid>, rev: <winning rev>, revs: [<leaf revs>], deleted}``.
Its own changes feed is then the scope's changes feed: a device's ``_changes``
is one read of its institution's index (plus ``all``), never a scan of the whole
feed, and it works unchanged on a sharded CouchDB cluster behind several
stateless gateways.

:class:`ScopeIndexer` follows the main database's ``_changes`` (``style=all_docs``)
from a checkpoint kept in the private database's ``_local/scope-indexer``, and
writes index entries. It is also the router (issue 6): a hand-up or hand-down
event adds the receiving institution to the case's route (``route:{case id}`` in
the private database) and back-fills every document of the case into the
receiving scope. Every gateway calls :meth:`ScopeIndexer.catch_up` before
answering a feed and after accepting writes, so a device reads its own writes.
The gateway processes of one hub directory share one position in the feed
(:mod:`hub.index_cursor`), so each row is indexed once, not once per process.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections import OrderedDict, defaultdict
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from hub import scope as scopes
from hub.index_cursor import Cursor, Position
from hub.storage import HubStores
from sync.errors import Conflict, NotFound
from sync.store import JSON, DocumentStore, Seq

CHECKPOINT_ID = "scope-indexer"
BATCH = 500
#: Cases whose route a gateway keeps in memory. A hub runs for months and sees every case
#: of the city (a million cases would hold ~200 MB); a case not cached costs one read, and
#: a batch reads all its missing routes in one request (:meth:`ScopeIndexer.prefetch_routes`).
ROUTE_CACHE_SIZE = 100_000


class RouteCache:
    """``case id -> institutions it was handed to``, the least recently used dropped beyond
    ``size``. Dropping is always safe: routes only grow and are re-read from the store."""

    def __init__(self, size: int = ROUTE_CACHE_SIZE):
        self.size = size
        self._routes: OrderedDict[str, set[str]] = OrderedDict()
        self._lock = threading.Lock()  # request threads share one indexer

    def get(self, case_id: str) -> set[str] | None:
        with self._lock:
            found = self._routes.get(case_id)
            if found is not None:
                self._routes.move_to_end(case_id)
            return found

    def __contains__(self, case_id: object) -> bool:
        return case_id in self._routes

    def __setitem__(self, case_id: str, handed: set[str]) -> None:
        with self._lock:
            self._routes[case_id] = handed
            self._routes.move_to_end(case_id)
            while len(self._routes) > self.size:
                self._routes.popitem(last=False)

    def pop(self, case_id: str) -> None:
        with self._lock:
            self._routes.pop(case_id, None)

    def __len__(self) -> int:
        return len(self._routes)


#: What a gateway has just written, handed to its own index pass: ``{doc id: (rev, body)}``.
Written = Mapping[str, tuple[str, Mapping[str, Any]]]


def winning_docs(store: DocumentStore, ids: list[str], *, conflicts: bool = False
                 ) -> dict[str, JSON]:
    """The winning revision of each of ``ids`` as ``_changes?include_docs=true`` gives it (a
    deleted one as its tombstone), in one ``_all_docs`` request; ids not stored are left out."""
    out: dict[str, JSON] = {}
    for row in store.all_docs(keys=ids, include_docs=True, conflicts=conflicts)["rows"]:
        doc = row.get("doc")
        if doc is None and (row.get("value") or {}).get("deleted"):
            doc = {"_id": row["key"], "_rev": row["value"]["rev"], "_deleted": True}
        if doc is not None:
            out[row["key"]] = doc
    return out


def index_entry(row: Mapping[str, Any]) -> JSON:
    """The index body of one ``_changes`` row (``style=all_docs``, ``include_docs``)."""
    revs = [c["rev"] for c in row.get("changes", ())]
    doc = row.get("doc") or {}
    return {"rev": doc.get("_rev") or (revs[0] if revs else None), "revs": revs,
            "deleted": bool(row.get("deleted"))}


class ScopeIndexer:
    """Keeps ``P-scope-*`` in step with the main database; routes handed cases."""

    #: Seconds between checkpoint writes: re-indexing is idempotent, so after a crash the
    #: indexer repeats at most this much work, and a push costs one fsync less.
    CHECKPOINT_EVERY = 2.0

    def __init__(self, stores: HubStores, cursor: Cursor | None = None):
        self.stores = stores
        self._lock = threading.Lock()
        #: The feed position, shared with the other gateways of the hub directory when a
        #: :class:`hub.index_cursor.FileCursor`.
        self.cursor = cursor or Cursor()
        #: The durable checkpoint's epoch this process has checked the cursor against.
        self._epoch: str | None = None
        #: Where this process's last pass ended: another start means another process
        #: indexed rows in between, whose hand-overs this process's route cache missed.
        self._ended: Seq | None = None
        self._saved_at = 0.0
        self._routes = RouteCache()
        self.listeners: list[Callable[[set[str]], None]] = []
        self.routed = 0

    # -- routes ------------------------------------------------------------------
    def route(self, case_id: str) -> set[str]:
        """Institutions a case was handed to (from ``route:{case id}``; cached, routes only grow)."""
        cached = self._routes.get(case_id)
        if cached is not None:
            return cached
        try:
            handed = set(self.stores.private.get(f"route:{case_id}").get("handed", []))
        except NotFound:
            handed = set()
        self._routes[case_id] = handed
        return handed

    def prefetch_routes(self, case_ids: Iterable[str], *, fresh: bool = False) -> None:
        """Read the routes of many cases in one request (a batch's cases), not one each;
        ``fresh`` reads the cached ones again too."""
        wanted = sorted({c for c in case_ids if fresh or c not in self._routes})
        if not wanted:
            return
        rows = self.stores.private.all_docs(keys=[f"route:{c}" for c in wanted],
                                            include_docs=True)["rows"]
        for case_id, row in zip(wanted, rows, strict=True):
            doc = row.get("doc") if "error" not in row else None
            self._routes[case_id] = set(doc.get("handed", [])) if doc else set()

    def forget_route(self, case_id: str) -> None:
        """Drop a cached route: another gateway may have recorded a hand-over since."""
        self._routes.pop(case_id)

    def case_scopes(self, case_id: str) -> set[str]:
        return scopes.case_scopes(case_id, self.route(case_id))

    def scopes_of(self, docid: str, doc: Mapping[str, Any] | None = None) -> set[str]:
        if scopes.is_reference(docid, doc):
            return {scopes.ALL}
        if scopes.is_board(docid, doc):
            return scopes.board_scopes(doc)
        if scopes.is_notice(docid, doc):
            return scopes.notice_scopes(doc)
        case_id = scopes.case_id_of(docid, doc)
        if case_id is None:
            return set()
        return self.case_scopes(case_id)

    def _add_route(self, case_id: str, target: str) -> bool:
        """Record that ``case_id`` was handed to ``target``; True if that is new."""
        private = self.stores.private
        for _ in range(5):
            try:
                doc = private.get(f"route:{case_id}")
            except NotFound:
                doc = {"_id": f"route:{case_id}", "type": "route", "handed": []}
            if target in doc["handed"]:
                self._routes[case_id] = set(doc["handed"])
                return False
            doc["handed"] = sorted({*doc["handed"], target})
            try:
                private.put(doc)
            except Conflict:
                continue
            self._routes[case_id] = set(doc["handed"])
            return True
        raise Conflict(f"route:{case_id} kept changing")

    # -- the loop ------------------------------------------------------------------
    def _durable(self) -> JSON:
        try:
            return self.stores.private.get_local(CHECKPOINT_ID)
        except NotFound:
            return {}

    def checkpoint(self) -> Seq:
        """The durable checkpoint's seq (``_local/scope-indexer``)."""
        return self._durable().get("seq", 0)

    def _save_checkpoint(self, seq: Seq, epoch: str) -> None:
        doc = self._durable() or {"_id": f"_local/{CHECKPOINT_ID}"}
        doc["seq"], doc["epoch"] = seq, epoch
        try:
            self.stores.private.put_local(doc)
        except Conflict:
            pass  # another gateway saved one meanwhile; indexing is idempotent

    def _start(self) -> Position:
        """Where this pass starts: the shared cursor while its epoch is the durable
        checkpoint's (checked once per process, and again when the epoch changes), else
        the durable checkpoint (hub.index_cursor: the cursor file is only a hint)."""
        found = self.cursor.read()
        if found is not None and self._epoch is not None and found.get("epoch") == self._epoch:
            return found
        durable = self._durable()
        epoch = durable.get("epoch")
        if not epoch:  # a new store, or a checkpoint saved before epochs existed
            epoch = uuid.uuid4().hex
            self._save_checkpoint(durable.get("seq", 0), epoch)
        self._epoch = str(epoch)
        if found is not None and found.get("epoch") == epoch:
            return found
        position: Position = {"seq": durable.get("seq", 0), "epoch": epoch}
        self.cursor.write(position)
        return position

    def catch_up(self, *, wait: bool = True, written: Written | None = None) -> int:
        """Index every change since the shared position; returns how many rows were read.

        ``wait=False`` returns at once when another thread or gateway process is indexing
        (readers use it: a writer indexes its own write before answering, so nothing of
        it can be missed). ``written``: what the caller has just written and need not be
        read back (:meth:`_attach_docs`)."""
        if not self._lock.acquire(blocking=wait):
            return 0
        try:
            with self.cursor.held(wait=wait) as held:
                return self._catch_up(written or {}) if held else 0
        finally:
            self._lock.release()

    def _attach_docs(self, rows: list[JSON], written: Written) -> None:
        """Give each feed row its winning revision's body, as ``include_docs`` would.

        The feed is read without bodies: nearly every row is a document this very gateway
        has just written and still holds (``written``), and reading each back and parsing
        it again was a third of the index pass (docs/benchmarks.md, hub). A row takes the
        body handed in only when that revision is the document's one leaf and not deleted,
        so it is the winner; the rest (other gateways' rows, conflicts, documents changed
        since) are read in one ``_all_docs`` request. The caller leaves out documents it
        found already stored (a replay: the body kept is the stored one, not the one sent)."""
        lacking: list[JSON] = []
        for row in rows:
            known = written.get(row["id"])
            if known is not None and not row.get("deleted") and \
                    [c.get("rev") for c in row.get("changes", ())] == [known[0]]:
                rev, body = known
                row["doc"] = body if body.get("_rev") == rev else {**body, "_rev": rev}
            elif not row["id"].startswith("_design/"):
                lacking.append(row)
        if lacking:
            found = winning_docs(self.stores.main, [row["id"] for row in lacking])
            for row in lacking:
                row["doc"] = found.get(row["id"])

    def _catch_up(self, written: Written) -> int:
        total = 0
        position = self._start()
        since, epoch = position["seq"], position["epoch"]
        # Rows another process indexed since this one's last pass may have handed cases
        # over: this pass's routes are read from the store, not from the cache.
        fresh = self._ended is not None and since != self._ended
        while True:
            feed = self.stores.main.changes(since=since, limit=BATCH, style="all_docs")
            rows = feed["results"]
            if rows:
                self._attach_docs(rows, written)
                self._index_rows(rows, fresh_routes=fresh)
                total += len(rows)
            if feed["last_seq"] != since:
                since = feed["last_seq"]
                self.cursor.write({"seq": since, "epoch": epoch})
            if rows and time.monotonic() - self._saved_at >= self.CHECKPOINT_EVERY:
                self._save_checkpoint(since, epoch)
                self._saved_at = time.monotonic()
            if len(rows) < BATCH:
                self._ended = since
                return total

    def reset(self) -> None:
        """Index from the start again (``hub restore`` into a fresh store): a new epoch in
        the durable checkpoint and in the shared cursor, so no gateway trusts the old one."""
        with self._lock, self.cursor.held() as _:
            epoch = uuid.uuid4().hex
            self._save_checkpoint(0, epoch)
            self.cursor.write({"seq": 0, "epoch": epoch})
            self._epoch, self._ended = epoch, None
            self._saved_at = 0.0

    def flush(self) -> None:
        """Write the checkpoint now (on shutdown): the shared position, if this process
        has checked it. Skipped while another gateway indexes (a long pass must not hold
        up this one's shutdown): that one saves its checkpoint itself, and a checkpoint
        that lags only means rows indexed again."""
        with self._lock, self.cursor.held(wait=False) as held:
            found = self.cursor.read() if held else None
            if self._epoch is not None and found is not None and found.get("epoch") == self._epoch:
                self._save_checkpoint(found["seq"], self._epoch)

    def close(self) -> None:
        self.cursor.close()

    def _index_rows(self, rows: list[Mapping[str, Any]], *, fresh_routes: bool = False) -> None:
        by_scope: dict[str, dict[str, JSON]] = defaultdict(dict)
        backfill: list[tuple[str, str, bool]] = []
        if fresh_routes:
            self.prefetch_routes((c for row in rows
                                  if (c := scopes.case_id_of(row["id"], row.get("doc")))),
                                 fresh=True)
        for row in rows:
            docid = row["id"]
            if docid.startswith("_design/"):
                continue
            doc = row.get("doc")
            target = scopes.hand_target(doc) if doc else None
            case_id = scopes.case_id_of(docid, doc)
            if target and case_id and target != scopes.origin_institution(case_id):
                new = target not in self.case_scopes(case_id) and self._add_route(case_id, target)
                # Back-filled on every pass over a hand-over, not only when its route is new:
                # a pass that died between recording the route and writing the entries left
                # the route behind, and the pass that repeats it must still write them
                # (idempotent: entries already there stay as they are).
                backfill.append((case_id, target, new))
            entry = index_entry(row)
            for scope in self.scopes_of(docid, doc):
                by_scope[scope][docid] = entry
        for case_id, target, new in backfill:
            for row in self._case_rows(case_id):
                by_scope[target][row["id"]] = index_entry(row)
            self.routed += new
        for scope, entries in by_scope.items():
            self._write(scope, entries)
        if by_scope:
            for listener in self.listeners:
                listener(set(by_scope))

    def _case_rows(self, case_id: str) -> list[JSON]:
        """Every document of a case, as ``_changes`` rows (for back-filling a new scope)."""
        main = self.stores.main
        ids: list[str] = []
        for prefix in scopes.CASE_PREFIXES:
            res = main.all_docs(startkey=f"{prefix}{case_id}", endkey=f"{prefix}{case_id}:\ufff0",
                                offset=False)
            ids.extend(r["id"] for r in res["rows"] if scopes.case_id_of(r["id"]) == case_id)
        if not ids:
            return []
        return list(main.changes(doc_ids=ids, style="all_docs", include_docs=True)["results"])

    def _write(self, scope: str, entries: Mapping[str, JSON]) -> None:
        db = self.stores.scope(scope)
        # Nearly every indexed change is a new document (events are immutable), so the
        # entries are first written as new: one request, not a read and then a write
        # (the index write is the hub's second write of every document). An entry that
        # exists comes back as a conflict and takes the read-then-update path below.
        result = db.bulk_docs([{"_id": docid, **entry} for docid, entry in entries.items()])
        exists = {r["id"] for r in result if r.get("error") == "conflict"}
        pending = {k: v for k, v in entries.items() if k in exists}
        if not pending:
            return
        for _ in range(20):  # several gateways may index the same rows at once
            current = db.all_docs(keys=list(pending), include_docs=True)["rows"]
            docs = []
            for row in current:
                entry = pending[row["key"]]
                old = row.get("doc")
                if "error" in row or not old:
                    docs.append({"_id": row["key"], **entry})
                elif any(old.get(k) != v for k, v in entry.items()):
                    docs.append({"_id": row["key"], "_rev": old["_rev"], **entry})
            if not docs:
                return
            result = db.bulk_docs(docs)
            retry = {r["id"] for r in result if r.get("error") == "conflict"}
            if not retry:
                return
            pending = {k: v for k, v in pending.items() if k in retry}
        raise Conflict(f"scope index {scope} kept changing")
