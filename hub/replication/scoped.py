"""One device's view of the hub as a :class:`sync.store.DocumentStore`.

Served unchanged by the CouchDB HTTP core (:mod:`sync.http`), so the wire
behaviour is CouchDB's (Cloudant Envoy and Couchbase Sync Gateway follow the same
model: one database, each client replicating its own view through a filter).

* ``changes`` reads the scope indexes (:mod:`hub.index`), never the whole feed.
* ``get``/``open_revs``/``bulk_get``/``all_docs``/attachments show only visible
  documents; anything else is ``not_found`` as if it did not exist.
* ``revs_diff`` answers for invisible ids as for unknown ones (nothing leaks).
* ``bulk_docs`` checks each document (:mod:`hub.validate`) and refuses it alone
  with ``forbidden`` and a reason; accepted ones go to the main database.
* ``_local`` documents live per device in the private database, so two devices'
  checkpoints never collide and backups carry them.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from hub import scope as scopes
from hub.index import Written, winning_docs
from hub.receipts import record_receipt
from hub.replication.feeds import FeedSignal
from hub.replication.local import LocalDocs
from hub.replication.seqs import join_seq, split_seq
from hub.transitions import RETRY
from sync.errors import BadRequest, Forbidden, NotFound, SyncError
from sync.store import JSON, LOCAL_PREFIX, DocumentStore, Seq

if TYPE_CHECKING:
    from hub.auth import Device
    from hub.index import ScopeIndexer
    from hub.storage import HubStores
    from hub.validate import WriteValidator


def taken(docs: Sequence[Mapping[str, Any]], results: Sequence[JSON], *, new_edits: bool,
          stored: set[str]) -> dict[str, tuple[str, Mapping[str, Any]]]:
    """``{id: (rev, body)}`` of the documents of a ``bulk_docs`` call that the store took
    and the hub did not have before (``stored``: a replay is not a second receipt, and the
    body it keeps is the stored one, not the one sent): what the receipt lists
    (:mod:`hub.receipts`) and the index pass need not read back (:mod:`hub.index`)."""
    if new_edits:  # one result per document, with the revision the store made
        return {str(d["_id"]): (str(r["rev"]), d) for d, r in zip(docs, results, strict=True)
                if "error" not in r and d["_id"] not in stored}
    failed = {r.get("id") for r in results}  # only the failures come back
    out: dict[str, tuple[str, Mapping[str, Any]]] = {}
    for d in docs:
        # setdefault: a revision sent twice keeps its first body (couch_key_tree:merge
        # keeps the value already in the tree; sync.sqlite alike)
        if d["_id"] not in failed and d["_id"] not in stored:
            out.setdefault(str(d["_id"]), (str(d.get("_rev")), d))
    return out


def dependency_key(docid: str) -> tuple[str, int, str]:
    """Sort key: by case, then header, keyring, events (their ids end in their clock)."""
    kind = {"case:": 0, "keyring:": 1, "event:": 2}.get(docid[:docid.find(":") + 1], 3)
    return (scopes.case_id_of(docid) or "", kind, docid)


class ScopedStore(DocumentStore):
    """The hub's main database as one device is allowed to see and write it."""

    changes_filters = ("_doc_ids",)  # the feed is already the device's: no selector

    def __init__(self, stores: HubStores, indexer: ScopeIndexer, validator: WriteValidator,
                 device: Device, *, signal: FeedSignal | None = None,
                 changes_limit: int = 1000, longpoll_timeout: float = 30.0,
                 via: str = "replication", name: str = ""):
        self.stores = stores
        self.via = via  # how documents written here arrive: "replication" or "bundle"
        self.indexer = indexer
        self.validator = validator
        self.device = device
        self.name = name or stores.prefix  # the database name devices ask for (Hub.endpoint)
        self.signal = signal or FeedSignal()
        self.changes_limit = changes_limit
        self.longpoll_timeout = longpoll_timeout
        self._locals = LocalDocs(stores.private, device.device_id)

    # -- visibility ------------------------------------------------------------
    @property
    def _scopes(self) -> tuple[DocumentStore, DocumentStore]:
        return self.stores.scope(self.device.institution), self.stores.scope(scopes.ALL)

    def visible(self, ids: Sequence[str]) -> set[str]:
        """The ids among ``ids`` that are in this device's scope indexes."""
        wanted = list(dict.fromkeys(ids))
        if not wanted:
            return set()
        found: set[str] = set()
        for db in self._scopes:
            rows = db.all_docs(keys=[i for i in wanted if i not in found])["rows"]
            found.update(r["key"] for r in rows if "error" not in r
                         and not r.get("value", {}).get("deleted"))
        return found

    def _check_visible(self, docid: str) -> None:
        if docid not in self.visible([docid]):
            raise NotFound("missing")

    # -- database --------------------------------------------------------------------
    def _update_seqs(self) -> tuple[Seq, Seq]:
        own, ref = self._scopes
        return own.info()["update_seq"], ref.info()["update_seq"]

    def _doc_count(self) -> int:
        # total_rows is the database's count whatever keys or range were asked (CouchDB's
        # _all_docs): the view's, as doc_count; never the store's (what the device may not see)
        return sum(db.info().get("doc_count", 0) for db in self._scopes)

    def info(self) -> JSON:
        self._index_written(wait=False)
        own, ref = self._scopes
        own_info, ref_info = own.info(), ref.info()
        return {
            "db_name": self.name,
            "doc_count": own_info.get("doc_count", 0) + ref_info.get("doc_count", 0),
            "doc_del_count": 0,
            "update_seq": join_seq(own_info["update_seq"], ref_info["update_seq"]),
            "purge_seq": 0,
            "compact_running": False,
            "disk_format_version": 8,
            "instance_start_time": "0",
            "sizes": {"active": 0, "external": 0, "file": 0},
            "props": {},
        }

    # -- documents ---------------------------------------------------------------------
    def get(self, docid: str, **options: Any) -> JSON:
        if docid.startswith(LOCAL_PREFIX):
            return self.get_local(docid)
        self._check_visible(docid)
        return self.stores.main.get(docid, **options)

    def open_revs(self, docid: str, revs: Sequence[str] | str, **options: Any) -> list[JSON]:
        self._check_visible(docid)
        return self.stores.main.open_revs(docid, revs, **options)

    def bulk_docs(self, docs: Sequence[Mapping[str, Any]], *, new_edits: bool = True) -> list[JSON]:
        """Validate each document, write the accepted ones, refuse the others one by one.

        A document refused for a missing dependency (earlier events of its case, the
        keyring wrap of a hand-over) is checked again while another request of the same
        device is being handled: replicators write several batches at once (D's pipelines
        two, PouchDB's ``batches_limit``), and a ``forbidden`` answer is final for them.
        """
        device = self.device.device_id
        self.validator.enter(device)
        try:
            outcome: dict[int, JSON | None] = {}
            failures: list[JSON] = []
            todo = list(range(len(docs)))
            deadline = time.monotonic() + self.validator.dependency_wait
            # Other gateway processes' requests are not counted by in_flight: with several,
            # a missing dependency may be in this device's other batch, being written there.
            peers_until = time.monotonic() + self.validator.peer_wait
            while True:
                finished = self.validator.finished(device)
                stored: set[str] = set()
                refusals = self.validator.check_batch(self.device, [docs[i] for i in todo],
                                                      new_edits=new_edits, stored=stored)
                accepted = [i for i, r in zip(todo, refusals, strict=True) if r is None]
                if accepted:
                    written = self.stores.main.bulk_docs([docs[i] for i in accepted],
                                                         new_edits=new_edits)
                    new = taken([docs[i] for i in accepted], written, new_edits=new_edits,
                                stored=stored)
                    self._index_written(written=new)
                    # The hub's receipt time of the events written (design.md §6)
                    record_receipt(self.stores, device, self.device.institution,
                                   [doc for _, doc in new.values()], via=self.via)
                    if new_edits:
                        outcome.update(zip(accepted, written, strict=True))
                    else:
                        failures.extend(written)
                retry = [i for i, r in zip(todo, refusals, strict=True) if r and RETRY in r]
                for i, r in zip(todo, refusals, strict=True):
                    if r is not None and i not in retry:
                        outcome[i] = r
                # Another request of this device still running, or one that finished while
                # this batch was being checked (its writes may have come after our reads).
                others = (self.validator.in_flight(device) > 1
                          or self.validator.finished(device) != finished
                          or time.monotonic() < peers_until)
                if not retry or not accepted and not (others and time.monotonic() < deadline):
                    for i, r in zip(todo, refusals, strict=True):
                        if r is not None and i in retry:
                            outcome[i] = r
                    break
                if not accepted:
                    time.sleep(0.1)
                todo = retry
        finally:
            self.validator.leave(device)
        out: list[JSON] = []
        for i, doc in enumerate(docs):
            result = outcome.get(i)
            if result is not None and "error" in result and "ok" not in result and \
                    result.get("error") == "forbidden":
                result = {"id": doc.get("_id"), **self.validator.final(result)}
                if not new_edits:
                    result["rev"] = doc.get("_rev")
            if new_edits:
                out.append(result if result is not None else {"id": doc.get("_id")})
            elif result is not None:
                out.append(result)
        return out + failures

    def _index_written(self, *, wait: bool = True, written: Written | None = None) -> None:
        """Index what was written; a write stands and a read answers even if that fails
        (a busy store): the next catch-up of any request or of the workers indexes it."""
        try:
            self.indexer.catch_up(wait=wait, written=written)
        except SyncError as exc:
            # One line, at most every 30 s with the requests' own (hub.app.store_failed):
            # with CouchDB down every request of every station met this, each logging a
            # traceback that said no more than its cause.
            from hub.app import store_failed

            store_failed("indexing what was written (the next catch-up retries it)", exc)

    def all_docs(self, *, keys: Sequence[str] | None = None, startkey: str | None = None,
                 endkey: str | None = None, inclusive_end: bool = True,
                 limit: int | None = None, skip: int = 0, descending: bool = False,
                 include_docs: bool = False, conflicts: bool = False, offset: bool = True
                 ) -> JSON:
        if keys is not None:
            vis = self.visible(keys)
            res = self.stores.main.all_docs(keys=list(keys), include_docs=include_docs,
                                            conflicts=conflicts)
            # rows of the keys asked for, by the asked key: never a key the store added
            by_key = {r.get("key"): r for r in res["rows"]}
            rows = [by_key[k] if k in vis and k in by_key else {"key": k, "error": "not_found"}
                    for k in keys]
            return {"total_rows": self._doc_count(), "offset": 0, "rows": rows}
        ids: set[str] = set()
        for db in self._scopes:
            res = db.all_docs(startkey=startkey, endkey=endkey, inclusive_end=inclusive_end,
                              descending=descending, include_docs=True, offset=False)
            ids.update(r["id"] for r in res["rows"] if not (r.get("doc") or {}).get("deleted"))
        ordered = sorted(ids, reverse=descending)
        page = ordered[skip:] if limit is None else ordered[skip:skip + limit]
        res = self.stores.main.all_docs(keys=page, include_docs=include_docs,
                                        conflicts=conflicts) if page else {"rows": []}
        rows = [r for r in res["rows"] if "error" not in r and not r.get("value", {}).get("deleted")]
        return {"total_rows": self._doc_count(), "offset": skip, "rows": rows}

    # -- replication ------------------------------------------------------------------
    def changes(self, *, since: Seq = 0, limit: int | None = None, descending: bool = False,
                style: str = "main_only", include_docs: bool = False, conflicts: bool = False,
                attachments: bool = False, doc_ids: Sequence[str] | None = None,
                selector: Mapping[str, Any] | None = None, feed: str = "normal",
                timeout: float | None = None, seq_interval: int | None = None) -> JSON:
        if descending:
            raise BadRequest("descending is not supported on a device's view")
        if selector is not None:
            raise BadRequest("selector filters are not supported on a device's view; "
                             "it is already filtered to the device's institution")
        if feed not in ("normal", "longpoll"):
            raise BadRequest(f"feed={feed} is not supported on a device's view")
        self._index_written(wait=False)
        if since == "now":
            own_seq, ref_seq = self._update_seqs()
            if feed != "longpoll":
                return {"results": [], "last_seq": join_seq(own_seq, ref_seq), "pending": 0}
        else:
            own_seq, ref_seq = split_seq(since)
        # limit=0 "has the same effect as 1" (CouchDB API, /db/_changes): it read a full page
        limit = min(self.changes_limit if limit is None else max(limit, 1), self.changes_limit)
        wait = min(self.longpoll_timeout if timeout is None else timeout, self.longpoll_timeout)
        deadline = time.monotonic() + wait
        while True:
            version = self.signal.version
            result = self._changes_once(own_seq, ref_seq, limit, style, include_docs,
                                        conflicts, attachments, doc_ids)
            remaining = deadline - time.monotonic()
            if result["results"] or feed != "longpoll" or remaining <= 0:
                return result
            self.signal.wait(version, min(remaining, 1.0))
            self._index_written(wait=False)

    def _changes_once(self, own_seq: Seq, ref_seq: Seq, limit: int, style: str,
                      include_docs: bool, conflicts: bool, attachments: bool,
                      doc_ids: Sequence[str] | None) -> JSON:
        own, ref = self._scopes
        rows: list[JSON] = []
        pending = 0
        last = [own_seq, ref_seq]
        for i, db in ((1, ref), (0, own)):  # reference data first: nodes need it to verify
            room = limit - len(rows)
            if room <= 0:
                pending += 1
                break
            feed = db.changes(since=last[i], limit=room, include_docs=True, doc_ids=doc_ids)
            for row in feed["results"]:
                entry = row.get("doc") or {}
                if not entry.get("revs"):
                    continue
                last[i] = row["seq"]
                revs = entry["revs"] if style == "all_docs" else [entry["rev"]]
                out: JSON = {"seq": join_seq(*last), "id": row["id"],
                             "changes": [{"rev": r} for r in revs]}
                if entry.get("deleted"):
                    out["deleted"] = True
                rows.append(out)
            last[i] = feed["last_seq"]
            if "pending" in feed:
                pending += int(feed.get("pending") or 0)
            elif len(feed["results"]) >= room:
                # A CouchDB-API server that leaves ``pending`` out (PouchDB Server does) with
                # a full page: more may follow. Counted as none, a replicator took the first
                # page for the end of the feed, and a new laptop got its station's cases one
                # page per sync (CouchDB's replicator reads on while pending > 0).
                pending += 1
        if include_docs and rows:
            self._attach_docs(rows, conflicts=conflicts, attachments=attachments)
        return {"results": rows, "last_seq": join_seq(*last), "pending": pending}

    def _attach_docs(self, rows: list[JSON], *, conflicts: bool, attachments: bool) -> None:
        found = winning_docs(self.stores.main, [r["id"] for r in rows], conflicts=conflicts)
        for row in rows:
            doc = found.get(row["id"])
            if doc is not None and attachments and doc.get("_attachments"):
                doc = self.stores.main.get(row["id"], attachments=True, conflicts=conflicts)
            row["doc"] = doc

    def revs_diff(self, revs: Mapping[str, Sequence[str]]) -> JSON:
        existing = self.stores.main.all_docs(keys=list(revs))["rows"]
        exists = {r["key"] for r in existing if "error" not in r}
        vis = self.visible([k for k in revs if k in exists])
        known = {k: v for k, v in revs.items() if k in vis or k not in exists}
        result = self.stores.main.revs_diff(known) if known else {}
        for docid, rev_list in revs.items():
            if docid in exists and docid not in vis:
                result[docid] = {"missing": list(rev_list)}
        # Answer in dependency order (a case's header and keyring, then its events by
        # clock): replicators fetch and write in this order and in several batches, and an
        # event is judged against the events and keyring the hub already holds.
        return {k: result[k] for k in sorted(result, key=dependency_key)}

    def bulk_get(self, docs: Sequence[Mapping[str, Any]], *, revs: bool = False,
                 attachments: bool = False, latest: bool = False) -> JSON:
        vis = self.visible([str(d.get("id")) for d in docs])
        allowed = [d for d in docs if d.get("id") in vis]
        got = self.stores.main.bulk_get(allowed, revs=revs, attachments=attachments,
                                        latest=latest) if allowed else {"results": []}
        answers = iter(got["results"])
        results = []
        for d in docs:
            if d.get("id") in vis:
                results.append(next(answers))
            else:
                results.append({"id": d.get("id"), "docs": [{"error": {
                    "id": d.get("id"), "rev": d.get("rev", "undefined"),
                    "error": "not_found", "reason": "missing"}}]})
        return {"results": results}

    # -- _local documents, per device (hub.replication.local) ----------------------------
    def get_local(self, docid: str) -> JSON:
        return self._locals.get(docid)

    def put_local(self, doc: Mapping[str, Any]) -> JSON:
        return self._locals.put(doc)

    def delete_local(self, docid: str, rev: str | None = None) -> JSON:
        return self._locals.delete(docid, rev)

    # -- attachments and maintenance ------------------------------------------------------
    def get_attachment(self, docid: str, name: str, *, rev: str | None = None) -> tuple[bytes, str]:
        self._check_visible(docid)
        return self.stores.main.get_attachment(docid, name, rev=rev)

    def get_revs_limit(self) -> int:
        return self.stores.main.get_revs_limit()

    def set_revs_limit(self, limit: int) -> None:
        raise Forbidden("devices cannot change the hub's _revs_limit")

    def compact(self) -> None:
        raise Forbidden("devices cannot compact the hub's database")
