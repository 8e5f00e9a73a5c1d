"""Replication reads on SQLite: ``open_revs``, ``_revs_diff`` and ``_bulk_get``.

The replicator asks for many documents at once, so ``_bulk_get`` loads the doc
rows and the bodies of the whole request in two queries.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sync import revtree
from sync.errors import BadRequest
from sync.sqlite._db import Connections
from sync.sqlite._read import DocOptions, DocRow, build_doc, load_bodies, load_doc, load_docs
from sync.sqlite._validate import validate_docid
from sync.store import JSON


class ReplicationMixin:
    _db: Connections

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
        validate_docid(docid)
        if revs != "all":
            if isinstance(revs, str) or not isinstance(revs, Sequence):
                raise BadRequest("open_revs must be \"all\" or a JSON array of revs")
            for r in revs:
                revtree.validate_rev(r)
        opts = DocOptions(True, revs_info, False, False, attachments, atts_since)
        with self._db.read() as conn:
            doc = load_doc(conn, docid)
            return self._open_revs(conn, docid, doc, revs, opts, latest)

    def _open_revs(
        self,
        conn: Any,
        docid: str,
        doc: DocRow | None,
        revs: Sequence[str] | str,
        opts: DocOptions,
        latest: bool,
        bodies: dict[tuple[str, str], tuple[str, str | None]] | None = None,
    ) -> list[JSON]:
        wanted = self._wanted_revs(docid, doc, revs, latest)
        if doc is None:
            return [{"missing": r} for r in wanted]
        if bodies is None:
            bodies = load_bodies(conn, [(docid, r) for r in wanted if r in doc.tree])
        out: list[JSON] = []
        for r in wanted:
            stored = bodies.get((docid, r))
            if stored is None:
                out.append({"missing": r})
            else:
                out.append({"ok": build_doc(conn, doc, r, stored, opts)})
        return out

    @staticmethod
    def _wanted_revs(
        docid: str, doc: DocRow | None, revs: Sequence[str] | str, latest: bool
    ) -> list[str]:
        if revs == "all":
            # couch_db:open_doc_revs_int: all leaves of a missing doc is {ok, []}
            return revtree.leaves(doc.tree) if doc is not None else []
        wanted = []
        for r in revs:
            if latest and doc is not None and r in doc.tree:
                wanted.extend(revtree.leaf_descendants(doc.tree, r) or [r])
            else:
                wanted.append(r)
        return list(dict.fromkeys(wanted))

    # -- replication ----------------------------------------------------------------
    def revs_diff(self, revs: Mapping[str, Sequence[str]]) -> JSON:
        if not isinstance(revs, Mapping):
            raise BadRequest("Request body must be a JSON object")
        for docid, rev_list in revs.items():
            if not isinstance(rev_list, list):
                raise BadRequest(f"revs of {docid!r} must be a JSON array")
            for r in rev_list:
                revtree.validate_rev(r)
        with self._db.read() as conn:
            docs = load_docs(conn, revs.keys())
        out: JSON = {}
        for docid, rev_list in revs.items():
            doc = docs.get(docid)
            if doc is None:
                missing = revtree.find_missing({}, rev_list)
                if missing:
                    out[docid] = {"missing": missing}
                continue
            missing = revtree.find_missing(doc.tree, rev_list)
            if not missing:
                continue
            entry: JSON = {"missing": missing}
            ancestors = revtree.possible_ancestors(doc.tree, missing)
            if ancestors:
                entry["possible_ancestors"] = ancestors
            out[docid] = entry
        return out

    def bulk_get(
        self,
        docs: Sequence[Mapping[str, Any]],
        *,
        revs: bool = False,
        attachments: bool = False,
        latest: bool = False,
    ) -> JSON:
        if not isinstance(docs, Sequence):
            raise BadRequest("docs must be a JSON array")
        bad_rev: set[int] = set()
        for i, req in enumerate(docs):
            if isinstance(req, Mapping) and req.get("rev") is not None:
                try:
                    revtree.validate_rev(req["rev"])
                except BadRequest:
                    bad_rev.add(i)
        results: list[JSON] = []
        with self._db.read() as conn:
            # One query for the doc rows and one for the bodies of the whole batch.
            ids = [r["id"] for r in docs if isinstance(r, Mapping) and isinstance(r.get("id"), str)]
            rows = load_docs(conn, ids)
            pairs: list[tuple[str, str]] = []
            for i, req in enumerate(docs):
                doc = rows.get(str(req.get("id"))) if isinstance(req, Mapping) else None
                if doc is not None and i not in bad_rev:
                    revs_wanted = [req["rev"]] if req.get("rev") is not None else "all"
                    pairs.extend((doc.id, r) for r in self._wanted_revs(doc.id, doc, revs_wanted, latest))
            bodies = load_bodies(conn, pairs)
            for i, req in enumerate(docs):
                if not isinstance(req, Mapping) or not isinstance(req.get("id"), str):
                    results.append(
                        {"id": None, "docs": [{"error": {"id": None, "rev": None,
                         "error": "bad_request", "reason": "document id missed"}}]}
                    )
                    continue
                docid = req["id"]
                rev = req.get("rev")
                try:
                    validate_docid(docid)
                except BadRequest as exc:
                    results.append({"id": docid, "docs": [{"error": {
                        "id": docid, "rev": None, "error": exc.error, "reason": exc.reason}}]})
                    continue
                if i in bad_rev:
                    results.append({"id": docid, "docs": [{"error": {
                        "id": docid, "rev": rev, "error": "bad_request",
                        "reason": "Invalid rev format"}}]})
                    continue
                opts = DocOptions(revs, False, False, False, attachments, req.get("atts_since"))
                doc = rows.get(docid)
                if rev is None and doc is None:
                    entries: list[JSON] = [{"missing": "undefined"}]
                else:
                    entries = self._open_revs(
                        conn, docid, doc, "all" if rev is None else [rev], opts, latest, bodies
                    )
                out_docs: list[JSON] = []
                for entry in entries:
                    if "ok" in entry:
                        out_docs.append(entry)
                    else:
                        out_docs.append({"error": {"id": docid, "rev": entry["missing"],
                                                   "error": "not_found", "reason": "missing"}})
                results.append({"id": docid, "docs": out_docs})
        return {"results": results}
