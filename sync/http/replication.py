"""The replication protocol's write and diff endpoints: ``_bulk_docs``,
``_revs_diff`` and ``_bulk_get`` (CouchDB replication protocol, "Locate
Changed Documents", "Fetch Changed Documents", "Upload Batch of Changed
Documents"; request checks and messages from ``chttpd_db:db_req/2``).
"""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING, Any

from sync.errors import BadRequest
from sync.http.body import flag, json_body_obj, parse_rev, parse_revs
from sync.http.errors import method_not_allowed
from sync.http.messages import Request, Response, json_response
from sync.store import DocumentStore

if TYPE_CHECKING:
    from sync.http.routing import CouchApp

#: ``_bulk_get`` refuses these query parameters (``validate_query_param/1``).
BULK_GET_REFUSED = ("open_revs", "new_edits", "w", "rev", "atts_since")


def bulk_docs(app: CouchApp, request: Request, db: DocumentStore) -> Response:
    if request.method != "POST":
        raise method_not_allowed("POST")
    body = json_body_obj(request)
    if "docs" not in body:
        raise BadRequest("POST body must include `docs` parameter.")
    docs = body["docs"]
    if not isinstance(docs, list):
        raise BadRequest("`docs` parameter must be an array.")
    new_edits = body.get("new_edits", True)
    if not isinstance(new_edits, bool):
        raise BadRequest("`new_edits` parameter must be a boolean.")
    prepared: list[dict[str, Any]] = []
    for doc in docs:
        if not isinstance(doc, dict):
            raise BadRequest("Document must be a JSON object")
        if "_id" not in doc and new_edits:
            doc = {"_id": uuid.uuid4().hex, **doc}
        if not new_edits and "_rev" not in doc and "_revisions" not in doc:
            raise BadRequest("When `new_edits: false`, the document needs `_rev` or `_revisions` specified")
        prepared.append(doc)
    return json_response(201, db.bulk_docs(prepared, new_edits=new_edits))


def revs_diff(app: CouchApp, request: Request, db: DocumentStore) -> Response:
    if request.method != "POST":
        raise method_not_allowed("POST")
    body = json_body_obj(request)
    for revs in body.values():
        parse_revs(revs)
    return json_response(200, db.revs_diff(body))


def missing_revs(app: CouchApp, request: Request, db: DocumentStore) -> Response:
    """``POST /{db}/_missing_revs``: ``_revs_diff`` without ancestors (older replicators)."""
    if request.method != "POST":
        raise method_not_allowed("POST")
    body = json_body_obj(request)
    for revs in body.values():
        parse_revs(revs)
    diff = db.revs_diff(body)
    return json_response(200, {"missing_revs": {docid: row["missing"] for docid, row in diff.items()}})


def _bulk_get_error(docid: Any, rev: Any, error: str, reason: str) -> dict[str, Any]:
    return {"id": docid, "docs": [{"error": {"id": docid, "rev": rev, "error": error, "reason": reason}}]}


def _bulk_get_check(item: Any) -> dict[str, Any] | None:
    """``bulk_get_parse_arg/2``: a per-item error row, or None if the item is valid."""
    if not isinstance(item, dict) or not item:
        return _bulk_get_error(None, None, "bad_request", "document must be a JSON object")
    docid = item.get("id")
    if docid is None:
        return _bulk_get_error(None, None, "bad_request", "document id missed")
    if not isinstance(docid, str) or not docid:
        return _bulk_get_error(docid, None, "illegal_docid", "Document id must be a string")
    rev = item.get("rev")
    if rev is not None:
        try:
            parse_rev(rev)
        except BadRequest as exc:
            return _bulk_get_error(docid, rev, "bad_request", exc.reason)
    atts_since = item.get("atts_since")
    if atts_since is not None:
        try:
            parse_revs(atts_since)
        except BadRequest:
            return _bulk_get_error(docid, atts_since, "bad_request", "att_since value must be array of revs.")
    return None


def bulk_get(app: CouchApp, request: Request, db: DocumentStore) -> Response:
    if request.method != "POST":
        raise method_not_allowed("POST")
    for name in BULK_GET_REFUSED:
        if name in request.query:
            raise BadRequest(f'"{name}" query parameter is not acceptable')
    body = json_body_obj(request)
    items = body.get("docs")
    if items is None:
        raise BadRequest("Missing JSON list of 'docs'.")
    if not isinstance(items, list):
        raise BadRequest("`docs` parameter must be an array.")
    checks = [_bulk_get_check(item) for item in items]
    valid = [item for item, error in zip(items, checks, strict=True) if error is None]
    found = db.bulk_get(valid, revs=flag(request.query, "revs"),
                        attachments=flag(request.query, "attachments"),
                        latest=flag(request.query, "latest"))["results"] if valid else []
    rows = iter(found)
    results = [error if error is not None else next(rows) for error in checks]
    return json_response(200, {"results": results})
