"""Helpers shared by the replicator tests: tree snapshots and a flaky store wrapper."""

from __future__ import annotations

import threading
from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from typing import Any, cast

from sync.errors import NotFound, TransportError
from sync.store import DocumentStore


def list_leaves(store: DocumentStore) -> dict[str, list[str]]:
    """Every document's leaf revs, deleted ones included (``_changes?style=all_docs``)."""
    leaves: dict[str, list[str]] = {}
    since: Any = 0
    while True:
        body = store.changes(since=since, limit=500, style="all_docs")
        for row in body["results"]:
            leaves[row["id"]] = [c["rev"] for c in row["changes"]]
        if len(body["results"]) < 500 or body.get("pending") == 0:
            break
        since = body["last_seq"]
    return leaves


def list_ids(store: DocumentStore) -> list[str]:
    return sorted(list_leaves(store))


def tree_rows(leaves: list[dict[str, Any]]) -> list[tuple[Any, ...]]:
    """One document's ``open_revs=all&revs=true`` answer as comparable rows."""
    rows = []
    for entry in leaves:
        if "ok" not in entry:
            continue
        doc = dict(entry["ok"])
        revisions = doc.pop("_revisions")
        rev = doc.pop("_rev")
        doc.pop("_id", None)
        deleted = bool(doc.pop("_deleted", False))
        atts = doc.pop("_attachments", None)
        stubs = sorted((n, a.get("digest"), a.get("length")) for n, a in (atts or {}).items())
        rows.append((rev, revisions["start"], tuple(revisions["ids"]), deleted,
                     repr(sorted(doc.items())), tuple(stubs)))
    return sorted(rows)


def snapshot(store: DocumentStore, doc_ids: list[str] | None = None,
             *, via: str = "open_revs") -> dict[str, Any]:
    """Every document's leaves with their revision paths, deleted flags, bodies and
    attachment digests: ``{id: sorted rows}``, comparable across stores. ``via``
    ``open_revs`` (one GET per doc, as CouchDB's docs compare trees) or
    ``bulk_get`` (all leaves of 200 docs per request, for large databases)."""
    if via == "bulk_get":
        # Each leaf asked by rev: PouchDB Server's _bulk_get without a rev
        # returns the winner only (CouchDB and our stores return every leaf).
        wanted = [{"id": d, "rev": r} for d, revs in list_leaves(store).items()
                  if doc_ids is None or d in doc_ids for r in revs]
        out: dict[str, Any] = {}
        for i in range(0, len(wanted), 500):
            body = store.bulk_get(wanted[i:i + 500], revs=True)
            for result in body["results"]:
                out.setdefault(result["id"], []).extend(tree_rows(result["docs"]))
        return {doc_id: sorted(rows) for doc_id, rows in sorted(out.items()) if rows}
    ids = doc_ids if doc_ids is not None else list_ids(store)
    out = {}
    for doc_id in ids:
        try:
            out[doc_id] = tree_rows(store.open_revs(doc_id, "all"))
        except NotFound:
            continue
    return out


def winners(store: DocumentStore) -> dict[str, tuple[str, tuple[str, ...]]]:
    """``{id: (winning rev, conflicts)}`` from ``GET ?conflicts=true``."""
    out: dict[str, tuple[str, tuple[str, ...]]] = {}
    for doc_id in snapshot(store):
        try:
            doc = store.get(doc_id, conflicts=True)
        except NotFound:
            out[doc_id] = ("deleted", ())
            continue
        out[doc_id] = (doc["_rev"], tuple(sorted(doc.get("_conflicts", []))))
    return out


class Flaky:
    """Wraps a store; ``fail[method] = n`` makes the next n calls raise ``error()``."""

    def __init__(self, inner: DocumentStore,
                 error: Callable[[], Exception] = lambda: TransportError("connection reset"),
                 *, overlapping: bool = False):
        self.inner = inner
        self.fail: dict[str, int] = {}
        self.error = error
        self.failed: dict[str, int] = {}
        self.hooks: dict[str, Callable[..., None]] = {}
        # ``overlapping``: calls overlap as a remote store's requests do (thread-safe: a hook
        # standing for a slow round trip holds no other call up); the wrapped store still
        # sees one call at a time. Otherwise the replicator serialises calls to a store that
        # is not thread-safe, hooks included, and a late answer held every other batch.
        self._one_at_a_time: AbstractContextManager[Any] = nullcontext()
        if overlapping:
            self.thread_safe = True
            self._one_at_a_time = threading.Lock()

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self.inner, name)
        if not callable(attr):
            return attr

        def call(*args: Any, **kwargs: Any) -> Any:
            if name in self.hooks:
                self.hooks[name](*args, **kwargs)
            if self.fail.get(name, 0) > 0:
                self.fail[name] -= 1
                self.failed[name] = self.failed.get(name, 0) + 1
                raise self.error()
            with self._one_at_a_time:
                return attr(*args, **kwargs)

        return call

    def as_store(self) -> DocumentStore:
        return cast(DocumentStore, self)


def make_docs(store: DocumentStore, n: int, *, prefix: str = "doc", start: int = 0,
              **fields: Any) -> list[dict[str, Any]]:
    docs = [{"_id": f"{prefix}{i:05d}", "type": "case", "n": i, **fields}
            for i in range(start, start + n)]
    return store.bulk_docs(docs)
