"""Reading hub-written documents: the hub's latest revision, not CouchDB's winner.

A station can hold two leaves of one reference document after the hub was restored from a
backup (:mod:`schemas.written` says how, and why the rev hash may pick the lost hub's older
content). These readers ask the store for the conflicting leaves (``conflicts=true``, then
``open_revs``: CouchDB "Replication and conflict model", "Working with conflicting
documents") and return the leaf :func:`schemas.written.latest` chooses, shaped as a plain
``GET`` returns a document (no ``_conflicts``, no ``_revisions``).

The losing leaves stay: deleting one on a station would make a revision of a document only
the hub may write, which the station's push would send and the hub refuse (and
node.repush send again). A single leaf costs one read, as before.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from schemas.written import latest
from sync.store import JSON, DocumentStore, conflicting_leaves

_EXTRA = ("_conflicts", "_revisions")


def _chosen(store: DocumentStore, doc: Mapping[str, Any]) -> JSON:
    return {k: v for k, v in latest(conflicting_leaves(store, doc)).items() if k not in _EXTRA}


def read_latest(store: DocumentStore, docid: str) -> JSON:
    """``store.get(docid)``, but the leaf the hub wrote last; raises what ``get`` raises
    (:class:`sync.errors.NotFound` for a missing or deleted document)."""
    return _chosen(store, store.get(docid, conflicts=True))


def latest_in_range(store: DocumentStore, prefix: str) -> list[JSON]:
    """Every live document whose id starts with ``prefix``, in id order, each the leaf the
    hub wrote last (``_all_docs`` with ``include_docs`` and ``conflicts``)."""
    rows = store.all_docs(startkey=prefix, endkey=prefix + "\uffff", include_docs=True,
                          conflicts=True, offset=False)["rows"]
    return [_chosen(store, r["doc"]) for r in rows if r.get("doc")]
