"""Standalone attachments: ``GET|PUT|DELETE /{db}/{docid}/{attname}``.

``chttpd_db:db_attachment_req/4`` (CouchDB 3): ``PUT`` without a rev creates a
new document holding only the attachment (409 if the document exists), with a
rev it adds or replaces the attachment on that revision; the ETag of a ``GET``
is the attachment's MD5 digest. The DocumentStore has no attachment writes of
its own, so a PUT is a document write with the new attachment inline (base64)
and the others as stubs, which CouchDB semantics make equivalent.
"""

from __future__ import annotations

import base64
import hashlib
from typing import TYPE_CHECKING, Any

from sync.errors import BadRequest
from sync.http.body import parse_rev
from sync.http.databases import location
from sync.http.documents import _header_rev
from sync.http.errors import method_not_allowed, not_found_error
from sync.http.messages import Headers, Request, Response, json_response
from sync.store import DocumentStore

if TYPE_CHECKING:
    from sync.http.routing import CouchApp

DEFAULT_TYPE = "application/octet-stream"


def validate_name(name: str) -> str:
    if name.startswith("_"):
        raise BadRequest(f"Attachment name '{name}' starts with prohibited character '_'")
    return name


def attachment(app: CouchApp, request: Request, db: DocumentStore, docid: str, name: str) -> Response:
    if request.method == "GET":
        return get_attachment(request, db, docid, name)
    if request.method in ("PUT", "DELETE"):
        return update_attachment(request, db, docid, validate_name(name))
    raise method_not_allowed("DELETE", "GET", "HEAD", "PUT")


def get_attachment(request: Request, db: DocumentStore, docid: str, name: str) -> Response:
    rev = request.query.get("rev")
    data, content_type = db.get_attachment(docid, name, rev=parse_rev(rev) if rev is not None else None)
    digest = base64.b64encode(hashlib.md5(data, usedforsecurity=False).digest()).decode()
    etag = f'"{digest}"'
    # The media type is the writer's word: an attachment stored as text/html and opened in
    # a browser ran as a page of this origin, the hub's (whose oversight pages' login
    # cookie it then sent along). Sandboxed, as CouchDB does by default (docs: "[csp]
    # attachments_enable", header value "sandbox"), and never sniffed.
    headers = Headers({"Content-Type": content_type or DEFAULT_TYPE, "ETag": etag,
                       "Cache-Control": "must-revalidate", "Accept-Ranges": "none",
                       "Content-Security-Policy": "sandbox",
                       "X-Content-Type-Options": "nosniff"})
    if request.headers.get("If-None-Match") == etag:
        return Response(304, headers, b"")
    return Response(200, headers, data)


def update_attachment(request: Request, db: DocumentStore, docid: str, name: str) -> Response:
    query_rev = request.query.get("rev")
    rev = _header_rev(request, parse_rev(query_rev) if query_rev is not None else None)
    if rev is None:
        if request.method == "DELETE":
            current = db.get(docid)
            if name not in current.get("_attachments", {}):
                raise not_found_error("Document is missing attachment")
        doc: dict[str, Any] = {"_id": docid}
    else:
        doc = _editable(db.get(docid, rev=rev))
        if request.method == "DELETE" and name not in doc.get("_attachments", {}):
            raise not_found_error("Document is missing attachment")
    atts = dict(doc.get("_attachments", {}))
    if request.method == "DELETE":
        atts.pop(name, None)
    else:
        atts[name] = {
            "content_type": request.headers.get("Content-Type") or DEFAULT_TYPE,
            "data": base64.b64encode(request.body).decode("ascii"),
        }
    if atts:
        doc["_attachments"] = atts
    else:
        doc.pop("_attachments", None)
    result = db.put(doc)
    body = {"ok": True, "id": docid, "rev": result["rev"]}
    if request.method == "DELETE":
        return json_response(200, body)
    return json_response(201, body, {"Location": location(request, db.name, docid, name),
                                     "ETag": f'"{result["rev"]}"'})


def _editable(doc: dict[str, Any]) -> dict[str, Any]:
    """A fetched revision turned back into an update of itself (stubs kept)."""
    keep = {k: v for k, v in doc.items() if k in ("_id", "_rev", "_attachments") or not k.startswith("_")}
    if keep.get("_attachments"):
        keep["_attachments"] = {
            n: {"stub": True, **{k: v for k, v in a.items() if k != "data"}}
            for n, a in keep["_attachments"].items()
        }
    return keep
