"""Helpers shared by the replicator tests: tree snapshots and a flaky store wrapper."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, cast

from sync.errors import NotFound, TransportError
from sync.store import DocumentStore


def snapshot(store: DocumentStore, doc_ids: list[str] | None = None) -> dict[str, Any]:
    """Every document's full revision tree, leaves and bodies, comparable across stores:
    ``{id: sorted [(leaf rev, revision path, deleted, body without _rev/_revisions)]}``."""
    ids = doc_ids
    if ids is None:
        ids = []
        since: Any = 0
        while True:
            body = store.changes(since=since, limit=500, style="all_docs")
            ids += [r["id"] for r in body["results"]]
            if not body["results"] or body.get("pending", 0) == 0:
                break
            since = body["last_seq"]
    out: dict[str, Any] = {}
    for doc_id in sorted(set(ids)):
        try:
            leaves = store.open_revs(doc_id, "all")
        except NotFound:
            continue
        rows = []
        for entry in leaves:
            doc = dict(entry["ok"])
            revisions = doc.pop("_revisions")
            rev = doc.pop("_rev")
            deleted = bool(doc.pop("_deleted", False))
            atts = doc.pop("_attachments", None)
            stubs = sorted((n, a.get("digest"), a.get("length")) for n, a in (atts or {}).items())
            rows.append((rev, revisions["start"], tuple(revisions["ids"]), deleted,
                         repr(sorted(doc.items())), tuple(stubs)))
        out[doc_id] = sorted(rows)
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
                 error: Callable[[], Exception] = lambda: TransportError("connection reset")):
        self.inner = inner
        self.fail: dict[str, int] = {}
        self.error = error
        self.failed: dict[str, int] = {}
        self.hooks: dict[str, Callable[..., None]] = {}

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
            return attr(*args, **kwargs)

        return call

    def as_store(self) -> DocumentStore:
        return cast(DocumentStore, self)


def make_docs(store: DocumentStore, n: int, *, prefix: str = "doc", start: int = 0,
              **fields: Any) -> list[dict[str, Any]]:
    docs = [{"_id": f"{prefix}{i:05d}", "type": "case", "n": i, **fields}
            for i in range(start, start + n)]
    return store.bulk_docs(docs)
