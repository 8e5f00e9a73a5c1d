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
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict, defaultdict
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from hub import scope as scopes
from hub.storage import HubStores
from sync.errors import Conflict, NotFound
from sync.store import JSON, Seq

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

    def __init__(self, stores: HubStores):
        self.stores = stores
        self._lock = threading.Lock()
        self._since: Seq | None = None
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

    def prefetch_routes(self, case_ids: Iterable[str]) -> None:
        """Read the routes of many cases in one request (a batch's cases), not one each."""
        wanted = sorted({c for c in case_ids if c not in self._routes})
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
    def checkpoint(self) -> Seq:
        try:
            return self.stores.private.get_local(CHECKPOINT_ID).get("seq", 0)
        except NotFound:
            return 0

    def _save_checkpoint(self, seq: Seq) -> None:
        private = self.stores.private
        try:
            doc = private.get_local(CHECKPOINT_ID)
        except NotFound:
            doc = {"_id": f"_local/{CHECKPOINT_ID}"}
        doc["seq"] = seq
        try:
            private.put_local(doc)
        except Conflict:
            pass  # another gateway saved one meanwhile; indexing is idempotent

    def catch_up(self, *, wait: bool = True) -> int:
        """Index every change since the checkpoint; returns how many rows were read.

        ``wait=False`` returns at once when another thread is indexing (readers use it: a
        writer indexes its own write before answering, so nothing of it can be missed)."""
        if not self._lock.acquire(blocking=wait):
            return 0
        try:
            return self._catch_up()
        finally:
            self._lock.release()

    def _catch_up(self) -> int:
        total = 0
        since = self.checkpoint() if self._since is None else self._since
        while True:
            feed = self.stores.main.changes(since=since, limit=BATCH, style="all_docs",
                                            include_docs=True)
            rows = feed["results"]
            if rows:
                self._index_rows(rows)
                total += len(rows)
            since = self._since = feed["last_seq"]
            if rows and time.monotonic() - self._saved_at >= self.CHECKPOINT_EVERY:
                self._save_checkpoint(since)
                self._saved_at = time.monotonic()
            if len(rows) < BATCH:
                return total

    def flush(self) -> None:
        """Write the checkpoint now (on shutdown)."""
        with self._lock:
            if self._since is not None:
                self._save_checkpoint(self._since)

    def _index_rows(self, rows: Iterable[Mapping[str, Any]]) -> None:
        by_scope: dict[str, dict[str, JSON]] = defaultdict(dict)
        backfill: list[tuple[str, str]] = []
        for row in rows:
            docid = row["id"]
            if docid.startswith("_design/"):
                continue
            doc = row.get("doc")
            target = scopes.hand_target(doc) if doc else None
            case_id = scopes.case_id_of(docid, doc)
            if target and case_id and target not in self.case_scopes(case_id):
                if self._add_route(case_id, target):
                    backfill.append((case_id, target))
            entry = index_entry(row)
            for scope in self.scopes_of(docid, doc):
                by_scope[scope][docid] = entry
        for case_id, target in backfill:
            for row in self._case_rows(case_id):
                by_scope[target][row["id"]] = index_entry(row)
            self.routed += 1
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
