"""Two DocumentStore-shaped ends for bundle files (design.md §4: bundles where there is no
network), so the existing replicator (:func:`sync.replicate.replicate`) moves the documents
exactly as it does over a link, seeing only :class:`sync.store.DocumentStore`:

* :class:`CollectingTarget` — write-only: ``revs_diff`` says every revision is missing,
  ``bulk_docs(new_edits=False)`` collects what the replicator pushes (with ``_revisions`` and
  attachments inline, as fetched), so a node's store replicated into it yields the bundle's
  document list (a node's store for the hub, or a device's view at the hub for a station,
  design.md §4 both ways). The importing side skips what it already has.
* :class:`BundleSource` — read-only over a decrypted bundle: ``changes`` numbers the documents
  1..n in bundle order (the node's own changes order, so a case's keyring and earlier events
  come first), ``bulk_get``/``open_revs`` answer from the bundle.

Both keep ``_local`` (checkpoint) documents in memory only; the operations that make no
sense for a file raise :class:`sync.errors.MethodNotAllowed`.
"""

from __future__ import annotations

import copy
import threading
from collections.abc import Mapping, Sequence
from typing import Any

from sync.errors import BadRequest, Conflict, MethodNotAllowed, NotFound, SyncError
from sync.store import JSON, DocumentStore, Seq, local_docid


class _BundleEnd(DocumentStore):
    """What both ends share: in-memory ``_local`` docs and the refused operations."""

    #: Called from the replicator's threads: let it serialise the calls.
    thread_safe = False

    def __init__(self, name: str):
        self.name = name
        self._local: dict[str, JSON] = {}
        self._lock = threading.Lock()

    def _refuse(self, what: str) -> MethodNotAllowed:
        return MethodNotAllowed(f"{what}: not supported by a bundle file ({self.name})")

    # -- _local docs, in memory (a bundle has no place for checkpoints) ---------------
    def get_local(self, docid: str) -> JSON:
        with self._lock:
            doc = self._local.get(local_docid(docid))
        if doc is None:
            raise NotFound("missing")
        return copy.deepcopy(doc)

    def put_local(self, doc: Mapping[str, Any]) -> JSON:
        docid = local_docid(str(doc["_id"]))
        with self._lock:
            old = self._local.get(docid)
            if (old or {}).get("_rev") != doc.get("_rev"):
                raise Conflict("Document update conflict.")
            n = int(str((old or {}).get("_rev", "0-0")).split("-", 1)[1]) + 1
            rev = f"0-{n}"
            self._local[docid] = {**copy.deepcopy(dict(doc)), "_id": docid, "_rev": rev}
        return {"ok": True, "id": docid, "rev": rev}

    def delete_local(self, docid: str, rev: str | None = None) -> JSON:
        with self._lock:
            if self._local.pop(local_docid(docid), None) is None:
                raise NotFound("missing")
        return {"ok": True, "id": local_docid(docid), "rev": "0-0"}

    # -- what a file does not do -------------------------------------------------------
    def all_docs(self, *, keys: Sequence[str] | None = None, startkey: str | None = None,
                 endkey: str | None = None, inclusive_end: bool = True, limit: int | None = None,
                 skip: int = 0, descending: bool = False, include_docs: bool = False,
                 conflicts: bool = False, offset: bool = True) -> JSON:
        raise self._refuse("_all_docs")

    def get_attachment(self, docid: str, name: str, *, rev: str | None = None
                       ) -> tuple[bytes, str]:
        raise self._refuse("attachment GET (attachments travel inline)")

    def get_revs_limit(self) -> int:
        return 1000

    def set_revs_limit(self, limit: int) -> None:
        raise self._refuse("_revs_limit")

    def compact(self) -> None:
        raise self._refuse("_compact")


class CollectingTarget(_BundleEnd):
    """The write-only end of an export: collects every revision the replicator writes."""

    def __init__(self, name: str = "bangban-bundle"):
        super().__init__(name)
        self.docs: list[JSON] = []

    def info(self) -> JSON:
        return {"db_name": self.name, "doc_count": len(self.docs), "doc_del_count": 0,
                "update_seq": len(self.docs), "instance_start_time": "0", "sizes": {}}

    def revs_diff(self, revs: Mapping[str, Sequence[str]]) -> JSON:
        # Everything is missing: the bundle starts empty; the hub skips what it has.
        return {docid: {"missing": list(r)} for docid, r in revs.items() if r}

    def bulk_docs(self, docs: Sequence[Mapping[str, Any]], *, new_edits: bool = True
                  ) -> list[JSON]:
        if new_edits:
            raise self._refuse("_bulk_docs with new_edits=true (replicated revisions only)")
        with self._lock:
            self.docs.extend(copy.deepcopy(dict(d)) for d in docs)
        return []

    def get(self, docid: str, **kwargs: Any) -> JSON:
        raise self._refuse("document GET (write-only)")

    def open_revs(self, docid: str, revs: Sequence[str] | str, **kwargs: Any) -> list[JSON]:
        raise self._refuse("open_revs (write-only)")

    def changes(self, **kwargs: Any) -> JSON:
        raise self._refuse("_changes (write-only)")

    def bulk_get(self, docs: Sequence[Mapping[str, Any]], **kwargs: Any) -> JSON:
        raise self._refuse("_bulk_get (write-only)")


class BundleSource(_BundleEnd):
    """The read-only end of an import, over the documents of an opened bundle."""

    changes_filters = ("_doc_ids",)

    def __init__(self, docs: Sequence[Mapping[str, Any]], name: str = "bangban-bundle"):
        super().__init__(name)
        self._revs: dict[tuple[str, str], JSON] = {}
        self._order: list[str] = []  # doc ids in first-appearance order: seq = index + 1
        self._leaves: dict[str, list[str]] = {}
        for doc in docs:
            docid, rev = str(doc["_id"]), str(doc["_rev"])
            if docid not in self._leaves:
                self._order.append(docid)
                self._leaves[docid] = []
            if rev not in self._leaves[docid]:
                self._leaves[docid].append(rev)
            self._revs[(docid, rev)] = dict(doc)

    def info(self) -> JSON:
        return {"db_name": self.name, "doc_count": len(self._order), "doc_del_count": 0,
                "update_seq": len(self._order), "instance_start_time": "0", "sizes": {}}

    def _doc(self, docid: str, rev: str) -> JSON | None:
        doc = self._revs.get((docid, rev))
        return copy.deepcopy(doc) if doc is not None else None

    def changes(self, *, since: Seq = 0, limit: int | None = None, descending: bool = False,
                style: str = "main_only", include_docs: bool = False, conflicts: bool = False,
                attachments: bool = False, doc_ids: Sequence[str] | None = None,
                selector: Mapping[str, Any] | None = None, feed: str = "normal",
                timeout: float | None = None, seq_interval: int | None = None) -> JSON:
        if selector is not None or descending:
            raise BadRequest("a bundle's _changes takes neither a selector nor descending")
        start = len(self._order) if since == "now" else int(since)
        wanted = set(doc_ids) if doc_ids is not None else None
        rows: list[JSON] = []
        for seq, docid in enumerate(self._order[start:], start=start + 1):
            if wanted is not None and docid not in wanted:
                continue
            if limit is not None and len(rows) >= limit:
                break
            revs = self._leaves[docid] if style == "all_docs" else self._leaves[docid][-1:]
            row: JSON = {"seq": seq, "id": docid, "changes": [{"rev": r} for r in revs]}
            if include_docs:
                row["doc"] = self._doc(docid, revs[-1])
            rows.append(row)
        last = rows[-1]["seq"] if rows else start
        return {"results": rows, "last_seq": last, "pending": len(self._order) - int(last)}

    def bulk_get(self, docs: Sequence[Mapping[str, Any]], *, revs: bool = False,
                 attachments: bool = False, latest: bool = False) -> JSON:
        results: list[JSON] = []
        for req in docs:
            docid = str(req.get("id"))
            wanted = [str(req["rev"])] if req.get("rev") else self._leaves.get(docid, [])
            answers: list[JSON] = []
            for rev in wanted:
                doc = self._doc(docid, rev)
                answers.append({"ok": doc} if doc is not None else {"error": {
                    "id": docid, "rev": rev, "error": "not_found", "reason": "missing"}})
            if not wanted:
                answers.append({"error": {"id": docid, "rev": "", "error": "not_found",
                                          "reason": "missing"}})
            results.append({"id": docid, "docs": answers})
        return {"results": results}

    def open_revs(self, docid: str, revs: Sequence[str] | str, *, revs_info: bool = False,
                  attachments: bool = False, atts_since: Sequence[str] | None = None,
                  latest: bool = False) -> list[JSON]:
        wanted = self._leaves.get(docid, []) if revs == "all" else list(revs)
        out: list[JSON] = []
        for rev in wanted:
            doc = self._doc(docid, rev)
            out.append({"ok": doc} if doc is not None else {"missing": rev})
        return out

    def get(self, docid: str, *, rev: str | None = None, **kwargs: Any) -> JSON:
        leaves = self._leaves.get(docid)
        if not leaves:
            raise NotFound("missing")
        doc = self._doc(docid, rev or leaves[-1])
        if doc is None:
            raise NotFound("missing")
        return doc

    def revs_diff(self, revs: Mapping[str, Sequence[str]]) -> JSON:
        raise self._refuse("_revs_diff (a bundle is only ever a source)")

    def bulk_docs(self, docs: Sequence[Mapping[str, Any]], *, new_edits: bool = True
                  ) -> list[JSON]:
        raise self._refuse("_bulk_docs (read-only)")


def collect(source: DocumentStore, doc_ids: Sequence[str] | None = None) -> list[JSON]:
    """Every document revision of ``source`` (all leaves, ``_revisions`` and attachments
    inline), replicated from the beginning into a :class:`CollectingTarget`, in the source's
    changes order. ``_local`` docs stay behind (the replicator never moves them). ``doc_ids``:
    only these documents (CouchDB's ``_doc_ids`` filter)."""
    from sync.replicate import ReplicationOptions, replicate

    target = CollectingTarget()
    # No pipeline: the collected list keeps the feed's order (keyring and earlier events of a
    # case before later ones), which the hub's view checks dependencies against.
    result = replicate(source, target, ReplicationOptions(pipeline=False, max_attempts=1,
                                                          doc_ids=doc_ids))
    # The run's checkpoint on the source is of no use (a fresh target: every collect starts
    # from the beginning), and ``doc_ids`` name a replication of their own each time: at the
    # hub, one per ``--since-last`` file among the device's ``_local`` documents, which are
    # bounded (hub.replication.local), so after a hundred files the station's own sync
    # could not record its checkpoint.
    try:
        source.delete_local(local_docid(result.replication_id))
    except SyncError:  # none written (a read-only source): nothing to take back
        pass
    return target.docs


__all__ = ["BundleSource", "CollectingTarget", "collect"]
