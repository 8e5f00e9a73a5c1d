"""Database endpoints: ``/{db}`` (PUT/GET/HEAD/DELETE/POST), ``_all_docs``,
``_revs_limit``, ``_compact``, ``_ensure_full_commit``, ``_security``.

Status codes and messages follow ``chttpd_db.erl`` (CouchDB 3): ``PUT /{db}`` is
201 (412 ``file_exists`` if present), ``POST /{db}`` is 201 with ``Location``,
``_compact`` is 202, ``_ensure_full_commit`` is 201.
"""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from sync.errors import BadRequest
from sync.http.body import (
    int_arg,
    json_arg,
    json_body,
    json_body_obj,
    loads,
    strict_bool,
    validate_ctype,
)
from sync.http.errors import method_not_allowed
from sync.http.messages import QueryArgs, Request, Response, json_response, ok
from sync.store import DocumentStore

if TYPE_CHECKING:
    from sync.http.routing import CouchApp


def location(request: Request, *parts: str) -> str:
    """``absolute_uri/2``: CouchDB's ``Location`` header, from the Host header."""
    path = "/" + "/".join(quote(p, safe="") for p in parts)
    host = request.headers.get("Host")
    if not host:
        return path
    scheme = request.headers.get("X-Forwarded-Proto") or "http"
    return f"{scheme}://{host}{path}"


def database(app: CouchApp, request: Request, name: str) -> Response:
    method = request.method
    if method == "PUT":
        app.server.create_db(name)
        return json_response(201, {"ok": True}, {"Location": location(request, name)})
    if method == "DELETE":
        if "rev" in request.query:
            raise BadRequest("You tried to DELETE a database with a ?=rev parameter. "
                             "Did you mean to DELETE a document instead?")
        app.server.delete_db(name)
        return ok(200)
    db = app.server.db(name)  # 404 "Database does not exist." before any body checks
    if method == "GET":
        return json_response(200, db.info())
    if method == "POST":
        return create_doc(request, db)
    raise method_not_allowed("DELETE", "GET", "HEAD", "POST", "PUT")


def create_doc(request: Request, db: DocumentStore) -> Response:
    """``POST /{db}``: store a new document, generating its id if absent."""
    validate_ctype(request)
    doc = json_body(request)
    if not isinstance(doc, dict):
        raise BadRequest("Document must be a JSON object")
    if not doc.get("_id"):
        doc = {**doc, "_id": uuid.uuid4().hex}
    if request.query.get("batch") == "ok":
        # CouchDB acknowledges before writing; we write first (still 202) so a
        # "batch" write is never lost on a crash.
        result = db.put(doc)
        return json_response(202, {"ok": True, "id": result["id"]})
    result = db.put(doc)
    headers = {"Location": location(request, db.name, result["id"]), "ETag": f'"{result["rev"]}"'}
    return json_response(201, {"ok": True, "id": result["id"], "rev": result["rev"]}, headers)


# -- _all_docs ------------------------------------------------------------------


def _all_docs_args(query: QueryArgs, body: dict[str, Any]) -> dict[str, Any]:
    """View query parameters from the query string, overridden by a POST body
    (CouchDB 3 accepts them in both places; ``couch_mrview_http:parse_body_and_query``)."""
    merged = QueryArgs(query.pairs())

    def get_json(*names: str) -> Any:
        for name in names:
            if name in body:
                return body[name]
        return json_arg(merged, *names)

    def get_bool(name: str, default: bool = False) -> bool:
        if name in body:
            if not isinstance(body[name], bool):
                raise BadRequest(f'Invalid boolean parameter: "{body[name]}"', error="query_parse_error")
            return bool(body[name])
        return strict_bool(merged, name, default)

    def get_int(name: str, minimum: int) -> int | None:
        if name in body:
            value = body[name]
            if not isinstance(value, int) or isinstance(value, bool) or value < minimum:
                raise BadRequest(f'Invalid value for integer: "{value}"', error="query_parse_error")
            return int(value)
        return int_arg(merged, name, minimum=minimum)

    args: dict[str, Any] = {
        "startkey": get_json("startkey", "start_key"),
        "endkey": get_json("endkey", "end_key"),
        "inclusive_end": get_bool("inclusive_end", True),
        "limit": get_int("limit", 0),
        "skip": get_int("skip", 0) or 0,
        "descending": get_bool("descending"),
        "include_docs": get_bool("include_docs"),
        "conflicts": get_bool("conflicts"),
    }
    key = get_json("key")
    if key is not None:
        args["startkey"] = args["endkey"] = key
        args["inclusive_end"] = True
    for name in ("startkey", "endkey"):
        if args[name] is not None and not isinstance(args[name], str):
            # _all_docs keys are document ids; anything else can match nothing.
            raise BadRequest(f"`{name}` must be a document id (a JSON string)", error="query_parse_error")
    return args


def design_docs(app: CouchApp, request: Request, db: DocumentStore) -> Response:
    """``_design_docs``: ``_all_docs`` restricted to ``_design/`` ids."""
    return all_docs(app, request, db, namespace="_design/")


def all_docs(app: CouchApp, request: Request, db: DocumentStore, *, namespace: str = "") -> Response:
    if request.method == "GET":
        keys = json_arg(request.query, "keys")
        if keys is not None and not isinstance(keys, list):
            raise BadRequest("`keys` parameter must be an array.")
        args = _all_docs_args(request.query, {})
    elif request.method == "POST":
        body = json_body_obj(request)
        keys = body.pop("keys", None)
        if keys is not None and not isinstance(keys, list):
            raise BadRequest("`keys` body member must be an array.")
        args = _all_docs_args(request.query, body)
    else:
        raise method_not_allowed("GET", "HEAD", "POST")
    return json_response(200, db.all_docs(**_with_keys(args, keys, namespace)))


def all_docs_queries(app: CouchApp, request: Request, db: DocumentStore) -> Response:
    """``POST /{db}/_all_docs/queries`` (CouchDB >= 2.2): ``{"queries": [{...}, ...]}``, each
    query what an ``_all_docs`` POST body holds; ``{"results": [...]}`` in the same order.
    One request for many reads (the hub on CouchDB reads a batch's cases with it)."""
    if request.method != "POST":
        raise method_not_allowed("POST")
    body = json_body_obj(request)
    queries = body.get("queries")
    if not isinstance(queries, list) or not all(isinstance(q, dict) for q in queries):
        raise BadRequest("`queries` must be an array of query objects", error="query_parse_error")
    empty = QueryArgs([])
    parsed = []
    for query in queries:
        query = dict(query)
        keys = query.pop("keys", None)
        parsed.append(_with_keys(_all_docs_args(empty, query), keys, ""))
    return json_response(200, {"results": db.all_docs_queries(parsed)})


def _with_keys(args: dict[str, Any], keys: Any, namespace: str) -> dict[str, Any]:
    """The :meth:`DocumentStore.all_docs` keywords of one query: ``keys`` checked, or the
    range narrowed to ``namespace`` (``_design_docs``)."""
    if keys is not None:
        if not isinstance(keys, list):
            raise BadRequest("`keys` member must be an array.")
        if not all(isinstance(k, str) for k in keys):
            raise BadRequest("`keys` must be an array of document ids (strings).")
        args.pop("startkey"), args.pop("endkey")
        if namespace:
            keys = [k for k in keys if k.startswith(namespace)]
        return {**args, "keys": keys}
    if namespace:
        # "\ufff0" sorts after every id of the namespace (code-point order, as the store sorts)
        low, high = namespace, namespace + "\ufff0"
        start, end = args["startkey"], args["endkey"]
        if args["descending"]:
            args["startkey"] = high if start is None else min(start, high)
            args["endkey"] = low if end is None else max(end, low)
        else:
            args["startkey"] = low if start is None else max(start, low)
            args["endkey"] = high if end is None else min(end, high)
    return args


# -- maintenance ------------------------------------------------------------


def revs_limit(app: CouchApp, request: Request, db: DocumentStore) -> Response:
    if request.method == "GET":
        return json_response(200, db.get_revs_limit())
    if request.method == "PUT":
        limit = loads(request.body)
        if not isinstance(limit, int) or isinstance(limit, bool) or limit <= 0:
            raise BadRequest("The revs_limit must be a positive integer")
        db.set_revs_limit(limit)
        return ok(200)
    raise method_not_allowed("PUT", "GET")


def compact(app: CouchApp, request: Request, db: DocumentStore) -> Response:
    if request.method != "POST":
        raise method_not_allowed("POST")
    validate_ctype(request)
    db.compact()
    return ok(202)


def ensure_full_commit(app: CouchApp, request: Request, db: DocumentStore) -> Response:
    """Every acknowledged write of the embedded store is already durable (WAL,
    one writer), so there is nothing to flush; answer as CouchDB 3 does."""
    if request.method != "POST":
        raise method_not_allowed("POST")
    validate_ctype(request)
    return ok(201, instance_start_time=str(db.info().get("instance_start_time", "0")))


def security(app: CouchApp, request: Request, db: DocumentStore) -> Response:
    """The embedded store has no users: its security object is empty. Access is
    enforced in front of this API (the hub's gateway), not by it."""
    if request.method == "GET":
        return json_response(200, {})
    raise method_not_allowed("GET")
