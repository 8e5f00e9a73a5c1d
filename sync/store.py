"""The one document-store interface, in CouchDB's vocabulary.

Every backend (embedded SQLite, CouchDB through ibmcloudant) implements
:class:`DocumentStore` for one database and :class:`StoreServer` for a set of
databases. The replicator, the HTTP layer, the hub and the node see only these
classes. Return values are the JSON bodies Apache CouchDB 3 returns for the
matching endpoint (CouchDB docs, "API Reference / Databases / Documents"), so
the HTTP layer can serialise them unchanged.

Conventions shared by all backends:

* A *seq* is opaque (``int`` for SQLite and PouchDB, ``str`` for CouchDB 3);
  ``since`` accepts a value returned by :meth:`DocumentStore.changes`, ``0`` or
  ``"now"``.
* Per-document failures in :meth:`bulk_docs` are returned in the result list as
  ``{"id", "error", "reason"}`` (CouchDB's 201 body), never raised; whole
  request errors raise a :class:`sync.errors.SyncError` subclass.
* Attachments travel inline as ``{"content_type", "data": <base64>}`` or as stubs
  ``{"content_type", "digest": "md5-<base64>", "length", "revpos", "stub": true}``.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

JSON = dict[str, Any]
Seq = int | str

#: The id prefix of ``_local`` documents (CouchDB: "Local (non-replicating) Documents");
#: every ``*_local`` method takes an id with or without it.
LOCAL_PREFIX = "_local/"


def local_docid(docid: str) -> str:
    """``_local/NAME`` from ``NAME`` or ``_local/NAME``."""
    return docid if docid.startswith(LOCAL_PREFIX) else LOCAL_PREFIX + docid


def local_name(docid: str) -> str:
    """``NAME`` from ``NAME`` or ``_local/NAME``."""
    return docid[len(LOCAL_PREFIX):] if docid.startswith(LOCAL_PREFIX) else docid


class DocumentStore(ABC):
    """One database with CouchDB semantics."""

    #: The database name (``db_name`` in :meth:`info`).
    name: str

    #: The built-in ``_changes`` filters :meth:`changes` takes (``doc_ids``, ``selector``):
    #: what the HTTP layer names when refusing another ``filter`` (a view may take fewer).
    changes_filters: tuple[str, ...] = ("_doc_ids", "_selector")

    # -- database ---------------------------------------------------------
    @abstractmethod
    def info(self) -> JSON:
        """``GET /{db}``: ``db_name``, ``doc_count``, ``doc_del_count``, ``update_seq``,
        ``instance_start_time`` ("0" as CouchDB 3), ``sizes``."""

    # -- documents ---------------------------------------------------------
    @abstractmethod
    def get(
        self,
        docid: str,
        *,
        rev: str | None = None,
        revs: bool = False,
        revs_info: bool = False,
        conflicts: bool = False,
        deleted_conflicts: bool = False,
        attachments: bool = False,
        atts_since: Sequence[str] | None = None,
        latest: bool = False,
    ) -> JSON:
        """``GET /{db}/{docid}``. Raises NotFound ("missing" or "deleted")."""

    @abstractmethod
    def open_revs(
        self,
        docid: str,
        revs: Sequence[str] | str,
        *,
        revs_info: bool = False,
        attachments: bool = False,
        atts_since: Sequence[str] | None = None,
        latest: bool = False,
    ) -> list[JSON]:
        """``GET /{db}/{docid}?open_revs=[...]|all&revs=true``: a list of
        ``{"ok": doc}`` (with ``_revisions``) or ``{"missing": rev}``."""

    @abstractmethod
    def bulk_docs(self, docs: Sequence[Mapping[str, Any]], *, new_edits: bool = True) -> list[JSON]:
        """``POST /{db}/_bulk_docs``. With ``new_edits=True`` each doc gets a new rev
        (409 ``conflict`` per doc on a stale rev); with ``new_edits=False`` the
        revisions in ``_rev``/``_revisions`` are grafted as given and the result
        list holds only failures (as CouchDB)."""

    def put(self, doc: Mapping[str, Any], *, new_edits: bool = True) -> JSON:
        """``PUT /{db}/{docid}``: one doc; raises the per-doc error instead of returning it."""
        from sync.errors import from_status  # local: keep the interface import-light

        result = self.bulk_docs([doc], new_edits=new_edits)
        if result and "error" in result[0]:
            err = result[0]
            status = {"conflict": 409, "forbidden": 403, "unauthorized": 401,
                      "too_large": 413, "not_found": 404}.get(err["error"], 400)
            raise from_status(status, err["error"], err.get("reason", ""))
        if result:
            return {"ok": True, "id": result[0]["id"], "rev": result[0]["rev"]}
        # new_edits=false answers nothing for a stored revision: it is the one the document
        # named, by ``_rev`` or by ``_revisions`` alone (CouchDB accepts either)
        rev = doc.get("_rev")
        if not isinstance(rev, str):
            from sync.revtree import path_from_revisions

            rev = path_from_revisions(doc["_revisions"])[0]
        return {"ok": True, "id": doc["_id"], "rev": rev}

    def delete(self, docid: str, rev: str) -> JSON:
        """``DELETE /{db}/{docid}?rev=``: writes a tombstone."""
        return self.put({"_id": docid, "_rev": rev, "_deleted": True})

    @abstractmethod
    def all_docs(
        self,
        *,
        keys: Sequence[str] | None = None,
        startkey: str | None = None,
        endkey: str | None = None,
        inclusive_end: bool = True,
        limit: int | None = None,
        skip: int = 0,
        descending: bool = False,
        include_docs: bool = False,
        conflicts: bool = False,
        offset: bool = True,
    ) -> JSON:
        """``GET|POST /{db}/_all_docs``: ``{"total_rows", "offset", "rows"}``;
        ``_local`` docs are never listed.

        ``offset=False``: the caller does not read ``offset`` (a range read of one case's
        documents); a backend that can only count the rows before ``startkey`` by
        scanning them (SQLite) may then return ``None`` for it. Not a CouchDB parameter:
        CouchDB reads it from its b-tree in O(log n) and ignores nothing by it."""

    def all_docs_queries(self, queries: Sequence[Mapping[str, Any]]) -> list[JSON]:
        """``POST /{db}/_all_docs/queries`` (CouchDB >= 2.2): several ``_all_docs`` reads in
        one request, each query a dict of :meth:`all_docs` keywords; the results in order.
        This default runs them one by one (the embedded store answers each in microseconds);
        a backend with a network between it and the caller sends them at once."""
        return [self.all_docs(**dict(q)) for q in queries]

    # -- replication -------------------------------------------------------
    @abstractmethod
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
        """``GET /{db}/_changes``: ``{"results": [{"seq", "id", "changes": [{"rev"}],
        "deleted"?, "doc"?}], "last_seq", "pending"}``. One row per document (its
        latest change). ``feed="longpoll"`` waits up to ``timeout`` seconds for a
        change after ``since`` and returns an empty result on timeout."""

    @abstractmethod
    def revs_diff(self, revs: Mapping[str, Sequence[str]]) -> JSON:
        """``POST /{db}/_revs_diff``: ``{docid: {"missing": [...], "possible_ancestors": [...]}}``
        for the docs with missing revs only."""

    @abstractmethod
    def bulk_get(
        self,
        docs: Sequence[Mapping[str, Any]],
        *,
        revs: bool = False,
        attachments: bool = False,
        latest: bool = False,
    ) -> JSON:
        """``POST /{db}/_bulk_get``: ``{"results": [{"id", "docs": [{"ok": doc} |
        {"error": {"id", "rev", "error", "reason"}}]}]}``. Each request is
        ``{"id", "rev"?, "atts_since"?}``; without ``rev`` all leaves are returned."""

    # -- _local docs (never replicated, never in the feed) ------------------
    @abstractmethod
    def get_local(self, docid: str) -> JSON:
        """``GET /{db}/_local/{id}`` (``docid`` without the ``_local/`` prefix or with it)."""

    @abstractmethod
    def put_local(self, doc: Mapping[str, Any]) -> JSON:
        """``PUT /{db}/_local/{id}``: revs are ``0-N``; a stale ``_rev`` is a 409."""

    @abstractmethod
    def delete_local(self, docid: str, rev: str | None = None) -> JSON:
        """``DELETE /{db}/_local/{id}``."""

    # -- attachments -------------------------------------------------------
    @abstractmethod
    def get_attachment(self, docid: str, name: str, *, rev: str | None = None) -> tuple[bytes, str]:
        """``GET /{db}/{docid}/{name}``: ``(data, content_type)``."""

    # -- maintenance -------------------------------------------------------
    @abstractmethod
    def get_revs_limit(self) -> int:
        """``GET /{db}/_revs_limit`` (default 1000)."""

    @abstractmethod
    def set_revs_limit(self, limit: int) -> None:
        """``PUT /{db}/_revs_limit``; later writes stem histories to this depth."""

    @abstractmethod
    def compact(self) -> None:
        """``POST /{db}/_compact``: drop bodies of non-leaf revisions."""

    def compact_if_due(self, every_seconds: float) -> bool:
        """:meth:`compact` if the last one is ``every_seconds`` old; whether it ran. A
        backend that compacts by itself (CouchDB's compaction daemon) does nothing here."""
        return False

    def close(self) -> None:  # noqa: B027 - optional hook
        """Release connections/files."""

    def __enter__(self) -> DocumentStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class StoreServer(ABC):
    """A set of databases (a CouchDB server, or a folder of SQLite files)."""

    @abstractmethod
    def all_dbs(self) -> list[str]:
        """``GET /_all_dbs``."""

    @abstractmethod
    def create_db(self, name: str, *, exist_ok: bool = False) -> DocumentStore:
        """``PUT /{db}``; 412 ``file_exists`` unless ``exist_ok``; 400 on an illegal name."""

    @abstractmethod
    def delete_db(self, name: str) -> None:
        """``DELETE /{db}``; 404 if missing."""

    @abstractmethod
    def db(self, name: str) -> DocumentStore:
        """Open an existing database; 404 ``not_found`` if missing."""

    def info(self) -> JSON:
        """``GET /``: the CouchDB welcome body."""
        return {"couchdb": "Welcome", "version": "3.3.3", "vendor": {"name": "Bangban"}}

    def close(self) -> None:  # noqa: B027 - optional hook
        """Release connections/files."""


def iter_leaf_revs(changes_row: Mapping[str, Any]) -> Iterable[str]:
    """The revs listed in one ``_changes`` row."""
    return (c["rev"] for c in changes_row.get("changes", ()))


def conflicting_leaves(store: DocumentStore, doc: Mapping[str, Any]) -> list[JSON]:
    """``doc`` (read with ``conflicts=true``: the winner) and the live leaves its
    ``_conflicts`` names, read with ``open_revs`` (CouchDB "Working with conflicting
    documents"); a leaf gone meanwhile is left out."""
    losers = list(doc.get("_conflicts") or [])
    if not losers:
        return [dict(doc)]
    return [dict(doc), *(r["ok"] for r in store.open_revs(str(doc["_id"]), losers)
                         if "ok" in r and not r["ok"].get("_deleted"))]
