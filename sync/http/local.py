"""``GET|PUT|DELETE /{db}/_local/{id}``: non-replicated documents.

Replicators keep their checkpoints here (CouchDB replication protocol, "Retrieve
Replication Logs from Source and Target"); revs are ``0-N`` and a stale ``_rev``
is a 409 like any document.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from sync.errors import BadRequest
from sync.http.body import loads
from sync.http.errors import method_not_allowed
from sync.http.messages import Request, Response, json_response
from sync.store import LOCAL_PREFIX, DocumentStore

if TYPE_CHECKING:
    from sync.http.routing import CouchApp

def local_doc(app: CouchApp, request: Request, db: DocumentStore, name: str) -> Response:
    docid = LOCAL_PREFIX + name
    if request.method == "GET":
        return json_response(200, db.get_local(docid))
    if request.method == "PUT":
        body = loads(request.body)
        if not isinstance(body, dict):
            raise BadRequest("Document must be a JSON object")
        doc = {**body, "_id": docid}
        query_rev = request.query.get("rev")
        if "_rev" not in doc and query_rev is not None:
            doc["_rev"] = query_rev
        result = db.put_local(doc)
        return json_response(201, {"ok": True, "id": docid, "rev": result.get("rev", "0-1")})
    if request.method == "DELETE":
        rev = request.query.get("rev") or _if_match(request)
        result = db.delete_local(docid, rev)
        return json_response(200, {"ok": True, "id": docid, "rev": result.get("rev", "0-0")})
    raise method_not_allowed("DELETE", "GET", "HEAD", "PUT")


def _if_match(request: Request) -> str | None:
    value = request.headers.get("If-Match")
    return value.strip().strip('"') if value else None

