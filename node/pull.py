"""The target of a node's pull: its store behind a signature check (design.md §5).

:class:`VerifyingTarget` wraps ``node.store`` for :func:`sync.replicate.replicate`; its
``bulk_docs(docs, new_edits=False)`` runs :func:`node.verify.check_documents` over each batch
and writes only the accepted documents. Each refused one comes back as a CouchDB-style
per-document failure ``{"id", "rev", "error": "forbidden", "reason"}``, which the replicator
counts in ``doc_write_failures`` and lists in its result (:mod:`sync.replicate.write`), as it
does for a document the hub refuses on a push; the syncer shows them. Everything else goes
to the wrapped store unchanged (the replicator's checkpoint, ``revs_diff``, ...).

No legitimate document may be lost, as the checkpoint moves past a refused one: the hub checked
each against *its* directory when it arrived, so a document signed by a device the node's
directory does not know yet (a laptop enrolled since) is checked again against the hub's
current ``directory`` document, fetched from the *source* (the hub's view of this device)
once per batch and trusted only under the node's pinned root keys. If that fetch fails
(transport error, 5xx), ``bulk_docs`` raises and the replicator retries the batch, then the
next sync round does: nothing is refused for a link that broke.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from sync.errors import SyncError
from sync.store import JSON, DocumentStore

if TYPE_CHECKING:
    from sync.crypto import Directory


class NoRootKeys(SyncError):
    """Without a pinned root key nothing from the hub can be verified: the pull stops
    (409: not retried) rather than refusing, and so losing, every signed document."""

    status = 409
    error = "no_root_keys"


class VerifyingTarget(DocumentStore):
    """``store`` for the replicator, refusing what does not verify (see the module doc)."""

    def __init__(self, store: DocumentStore, source: DocumentStore, root_keys: Sequence[str],
                 own_device: str = ""):
        self.store = store
        self.source = source
        self.root_keys = list(root_keys)
        self.own_device = own_device
        #: Documents this pull stored that ``own_device`` signed: revisions this store lacked
        #: (the replicator sends only what ``revs_diff`` says is missing), so signed by this
        #: device elsewhere: its folder copied to another laptop (node.syncstate.TWIN_WORDS)
        self.own_arrived: list[str] = []
        self.name = store.name
        self.thread_safe = getattr(store, "thread_safe", True)
        #: The node's own directory, verified once per revision (the same rev for many batches).
        self._held: tuple[str, Directory | None] | None = None
        #: The hub's directory fetched in this round, kept for the later batches (a first
        #: sync holds no directory until the batch carrying it is written).
        self._fetched: Directory | None = None
        self.directory_fetches = 0

    # -- the directories -------------------------------------------------------------
    def held_directory(self) -> Directory | None:
        """The directory in the node's store if it verifies under the pinned roots (else
        ``None``: the one from the hub, in the batch or fetched, takes its place)."""
        from sync.crypto import DIRECTORY_ID, CryptoError, verify_directory
        from sync.errors import NotFound
        from sync.reference import read_latest

        try:
            doc = read_latest(self.store, DIRECTORY_ID)
        except NotFound:
            return None
        rev = str(doc.get("_rev"))
        if self._held is None or self._held[0] != rev:
            try:
                held: Directory | None = verify_directory(doc, self.root_keys)
            except CryptoError:
                held = None
            self._held = (rev, held)
        return self._held[1]

    def hub_directory(self) -> Directory | None:
        """The hub's current directory, root-verified; ``None`` if the hub has none. A
        transport error propagates (the batch is retried); one that does not verify raises
        :class:`sync.crypto.CryptoError` (the unknown signer's document is refused)."""
        from sync.crypto import DIRECTORY_ID, verify_directory
        from sync.errors import NotFound

        if not self.root_keys:
            raise NoRootKeys("pull: 本机没有固定的根公钥，无法校验平台发来的记录 / this node has "
                             "no pinned root key, so documents from the hub cannot be verified "
                             "(enroll it again in a new folder: `bangban node init --enrollment-json`)")
        self.directory_fetches += 1
        try:
            doc = self.source.get(DIRECTORY_ID)
        except NotFound:
            return None
        # arriving: its delegation must still hold today (sync.crypto.verify_directory)
        self._fetched = verify_directory(doc, self.root_keys, now=dt.datetime.now(dt.UTC))
        return self._fetched

    # -- the checked write -------------------------------------------------------------
    def bulk_docs(self, docs: Sequence[Mapping[str, Any]], *, new_edits: bool = True
                  ) -> list[JSON]:
        if new_edits:  # a node's own edits never pass through the pull's target
            return self.store.bulk_docs(docs, new_edits=True)
        from node.verify import check_documents, keep_history, newer_directory

        held = newer_directory(self.held_directory(), self._fetched)
        accepted, refused = check_documents(docs, held, self.root_keys, newer=self.hub_directory)
        kept = keep_history(self.store, accepted, refused)
        written = self.store.bulk_docs(kept, new_edits=False) if kept else []
        if self.own_device:
            self.own_arrived += [str(d.get("_id")) for d in kept
                                 if (d.get("sig") or {}).get("device") == self.own_device]
        return list(written) + refused

    # -- everything else: the wrapped store ----------------------------------------------
    def info(self) -> JSON:
        return self.store.info()

    def get(self, docid: str, **kwargs: Any) -> JSON:
        return self.store.get(docid, **kwargs)

    def open_revs(self, docid: str, revs: Sequence[str] | str, **kwargs: Any) -> list[JSON]:
        return self.store.open_revs(docid, revs, **kwargs)

    def all_docs(self, **kwargs: Any) -> JSON:
        return self.store.all_docs(**kwargs)

    def changes(self, **kwargs: Any) -> JSON:
        return self.store.changes(**kwargs)

    def revs_diff(self, revs: Mapping[str, Sequence[str]]) -> JSON:
        return self.store.revs_diff(revs)

    def bulk_get(self, docs: Sequence[Mapping[str, Any]], **kwargs: Any) -> JSON:
        return self.store.bulk_get(docs, **kwargs)

    def get_local(self, docid: str) -> JSON:
        return self.store.get_local(docid)

    def put_local(self, doc: Mapping[str, Any]) -> JSON:
        return self.store.put_local(doc)

    def delete_local(self, docid: str, rev: str | None = None) -> JSON:
        return self.store.delete_local(docid, rev)

    def get_attachment(self, docid: str, name: str, *, rev: str | None = None
                       ) -> tuple[bytes, str]:
        return self.store.get_attachment(docid, name, rev=rev)

    def get_revs_limit(self) -> int:
        return self.store.get_revs_limit()

    def set_revs_limit(self, limit: int) -> None:
        self.store.set_revs_limit(limit)

    def compact(self) -> None:
        self.store.compact()

    def close(self) -> None:
        """The node owns its store: closing the pull's view of it closes nothing."""


__all__ = ["NoRootKeys", "VerifyingTarget"]
