"""Document endpoints: ``GET|HEAD|PUT|DELETE /{db}/{docid}``.

Follows ``chttpd_db:db_doc_req/3`` (CouchDB 3): the id in the URL wins over
``_id`` in the body; ``?rev=``, the body's ``_rev`` and ``If-Match`` must agree;
``DELETE`` first opens the document so a missing one is a 404; ``open_revs``
answers a JSON list when the client accepts ``application/json`` and
``multipart/mixed`` otherwise (PouchDB and the ibmcloudant SDK send
``Accept: application/json``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sync.errors import BadRequest
from sync.http import multipart
from sync.http.body import flag, loads, parse_rev, parse_revs
from sync.http.databases import location
from sync.http.errors import method_not_allowed, not_found_error
from sync.http.messages import Headers, Request, Response, json_response
from sync.store import DocumentStore

if TYPE_CHECKING:
    from sync.http.routing import CouchApp

#: Options that add metadata to a doc; CouchDB sends no ETag then (``send_doc/3``).
META_OPTIONS = ("revs_info", "conflicts", "deleted_conflicts", "meta", "local_seq")


def document(app: CouchApp, request: Request, db: DocumentStore, docid: str) -> Response:
    if request.method == "GET":
        return get_doc(request, db, docid)
    if request.method == "PUT":
        return put_doc(request, db, docid)
    if request.method == "DELETE":
        return delete_doc(request, db, docid)
    raise method_not_allowed("DELETE", "GET", "HEAD", "PUT")


# -- GET --------------------------------------------------------------------


def _json_list_arg(request: Request, name: str) -> list[str] | None:
    value = request.query.get(name)
    if value is None:
        return None
    return parse_revs(loads(value))


def get_doc(request: Request, db: DocumentStore, docid: str) -> Response:
    q = request.query
    meta = flag(q, "meta")
    revs_info = flag(q, "revs_info") or meta
    attachments = flag(q, "attachments")
    latest = flag(q, "latest")
    atts_since = _json_list_arg(request, "atts_since")
    open_revs = q.get("open_revs")
    if open_revs is not None:
        wanted: list[str] | str = "all" if open_revs == "all" else parse_revs(loads(open_revs))
        results = db.open_revs(docid, wanted, revs_info=revs_info, attachments=attachments,
                               atts_since=atts_since, latest=latest)
        if not results and wanted == "all":
            raise not_found_error("missing")
        if _wants_multipart(request):
            return multipart.mixed_response(results)
        return json_response(200, results)
    rev = q.get("rev")
    doc = db.get(
        docid,
        rev=parse_rev(rev) if rev is not None else None,
        revs=flag(q, "revs"),
        revs_info=revs_info,
        conflicts=flag(q, "conflicts") or meta,
        deleted_conflicts=flag(q, "deleted_conflicts") or meta,
        attachments=attachments,
        atts_since=atts_since,
        latest=latest,
    )
    headers: dict[str, str] = {}
    if not any(flag(q, name) for name in META_OPTIONS) and "_rev" in doc:
        etag = f'"{doc["_rev"]}"'
        headers["ETag"] = etag
        if request.headers.get("If-None-Match") == etag:
            return Response(304, Headers(headers), b"")
    return json_response(200, doc, headers)


def _wants_multipart(request: Request) -> bool:
    """mochiweb's ``accepts_content_type("multipart/mixed")``: no Accept header
    accepts everything."""
    accept = request.headers.get("Accept")
    if accept is None:
        return True
    for part in accept.split(","):
        media = part.split(";", 1)[0].strip().lower()
        if media in ("multipart/mixed", "multipart/*", "*/*"):
            return True
    return False


# -- PUT / DELETE -------------------------------------------------------------


def _header_rev(request: Request, explicit: str | None) -> str | None:
    """``extract_header_rev/2``: ``If-Match`` must agree with an explicit rev."""
    if_match = request.headers.get("If-Match")
    etag = parse_rev(if_match.strip().strip('"')) if if_match else None
    if explicit is not None and etag is not None and explicit != etag:
        raise BadRequest("Document rev and etag have different values")
    return explicit if explicit is not None else etag


def doc_from_request(request: Request, docid: str, body: Any) -> dict[str, Any]:
    """``couch_doc_from_req/4``: the URL id wins; revs from query, body, If-Match."""
    if not isinstance(body, dict):
        raise BadRequest("Document must be a JSON object")
    doc = dict(body)
    doc["_id"] = docid
    query_rev = request.query.get("rev")
    qrev = parse_rev(query_rev) if query_rev is not None else None
    body_rev = doc.get("_rev")
    if body_rev is not None:
        parse_rev(body_rev)
        if qrev is not None and qrev != body_rev:
            raise BadRequest("Document rev from request body and query string have different values")
        _header_rev(request, body_rev)
    else:
        rev = _header_rev(request, qrev)
        if rev is not None:
            doc["_rev"] = rev
    return doc


def put_doc(request: Request, db: DocumentStore, docid: str) -> Response:
    new_edits = request.query.get("new_edits") != "false"
    if request.media_type() == "multipart/related":
        body: Any = multipart.related_to_doc(request.body, request.headers.get("Content-Type") or "")
    else:
        body = loads(request.body)
    doc = doc_from_request(request, docid, body)
    if not new_edits and "_rev" not in doc and "_revisions" not in doc:
        raise BadRequest("When `new_edits: false`, the document needs `_rev` or `_revisions` specified")
    result = db.put(doc, new_edits=new_edits)
    if request.query.get("batch") == "ok":
        return json_response(202, {"ok": True, "id": result["id"]})
    headers = {"ETag": f'"{result["rev"]}"', "Location": location(request, db.name, docid)}
    status = 200 if doc.get("_deleted") is True else 201
    return json_response(status, {"ok": True, "id": result["id"], "rev": result["rev"]}, headers)


def delete_doc(request: Request, db: DocumentStore, docid: str) -> Response:
    db.get(docid)  # 404 missing/deleted first, as CouchDB does
    tombstone: dict[str, Any] = {"_id": docid, "_deleted": True}
    query_rev = request.query.get("rev")
    rev = _header_rev(request, parse_rev(query_rev) if query_rev is not None else None)
    if rev is not None:
        tombstone["_rev"] = rev
    result = db.put(tombstone)
    return json_response(200, {"ok": True, "id": result["id"], "rev": result["rev"]},
                         {"ETag": f'"{result["rev"]}"'})
