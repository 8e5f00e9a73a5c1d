"""A :class:`sync.store.DocumentStore` for one database on a CouchDB-API server.

Every method is one HTTP round trip to the matching CouchDB endpoint (bulk
endpoints throughout: the replicator runs over this class for every http(s)
peer), made through :class:`sync.couch._transport.Transport`. Results are the
server's JSON bodies unchanged, so with Apache CouchDB 3 they are exactly what
the interface promises. Two PouchDB Server 4.2.0 bugs are worked around because
tests run against it (shared/spec/test-environment.md): a selector ``_changes``
goes as a GET query string, and longpoll gets a client-side deadline.
"""

from __future__ import annotations

import json
import time
from collections.abc import Mapping, Sequence
from typing import Any

from sync import errors
from sync.couch._transport import Transport, path
from sync.store import JSON, LOCAL_PREFIX, DocumentStore, Seq, local_docid, local_name

#: Extra seconds the client waits beyond a longpoll ``timeout`` before it gives up.
LONGPOLL_GRACE = 1.0


def _flags(**kw: Any) -> dict[str, Any]:
    """Query flags with CouchDB's defaults dropped (shorter URLs, same meaning)."""
    return {k: v for k, v in kw.items() if v not in (None, False)}


class CouchStore(DocumentStore):
    """One database on a CouchDB-API server (Apache CouchDB 3, PouchDB Server)."""

    def __init__(self, transport: Transport, name: str, *, owns_transport: bool = False) -> None:
        self.transport = transport
        self.client = transport.client
        self.name = name
        self._owns_transport = owns_transport

    @property
    def stats(self) -> Any:
        """Transport counters (``requests``, ``bytes_sent``, ``bytes_received``),
        shared with the :class:`CouchServer` this store was opened from."""
        return self.transport.stats

    def __repr__(self) -> str:
        return f"CouchStore({self.transport.service_url!r}, {self.name!r})"

    # -- database -------------------------------------------------------------
    def info(self) -> JSON:
        return dict(self.transport.call(self.client.get_database_information, self.name))

    # -- documents --------------------------------------------------------------
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
        _check_id(docid)
        if docid.startswith(LOCAL_PREFIX):
            return self.get_local(docid)
        flags = _flags(rev=rev, revs=revs, revs_info=revs_info, conflicts=conflicts,
                       deleted_conflicts=deleted_conflicts, attachments=attachments,
                       latest=latest)
        if atts_since is not None or docid.startswith("_"):
            # No SDK method takes atts_since, and get_document refuses "_design/" ids.
            if atts_since is not None:
                flags["atts_since"] = json.dumps(list(atts_since))
            return dict(self.transport.request("GET", path(self.name, docid), params=flags))
        return dict(self.transport.call(self.client.get_document, self.name, docid, **flags))

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
        _check_id(docid)
        if isinstance(revs, str) and revs != "all":
            raise errors.BadRequest("open_revs must be 'all' or a list of revs")
        params: dict[str, Any] = _flags(revs=True, revs_info=revs_info,
                                        attachments=attachments, latest=latest)
        params["open_revs"] = "all" if revs == "all" else json.dumps(list(revs))
        if atts_since is not None:
            params["atts_since"] = json.dumps(list(atts_since))
        return list(self.transport.request("GET", path(self.name, docid), params=params))

    def bulk_docs(self, docs: Sequence[Mapping[str, Any]], *, new_edits: bool = True) -> list[JSON]:
        if isinstance(docs, (str, bytes, Mapping)) or not isinstance(docs, Sequence):
            raise errors.BadRequest("docs must be a list of JSON objects", error="bad_request")
        body = {"docs": list(docs), "new_edits": bool(new_edits)}
        return list(self.transport.call(self.client.post_bulk_docs, self.name, body))

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
        offset: bool = True,  # CouchDB computes it cheaply: always asked, always given
    ) -> JSON:
        kw: dict[str, Any] = _flags(descending=descending, include_docs=include_docs,
                                    conflicts=conflicts, limit=limit, skip=skip or None)
        if limit == 0:
            kw["limit"] = 0
        if keys is not None:
            kw["keys"] = list(keys)
        if startkey is not None:
            kw["start_key"] = startkey
        if endkey is not None:
            kw["end_key"] = endkey
        if not inclusive_end:
            kw["inclusive_end"] = False
        answer = dict(self.transport.call(self.client.post_all_docs, self.name, **kw))
        if keys is not None:
            answer["rows"] = _rows_of_keys(keys, answer.get("rows", []),
                                           whole=not skip and limit is None,
                                           descending=descending)
        return answer

    def all_docs_queries(self, queries: Sequence[Mapping[str, Any]]) -> list[JSON]:
        """One ``POST /{db}/_all_docs/queries`` (CouchDB >= 2.2; the hub reads every case's
        events of a batch with it, not one request per case). A server without the endpoint
        (PouchDB Server 4.2 answers 400 ``only_multipart_accepted``) is remembered and asked
        one query at a time, as :meth:`DocumentStore.all_docs_queries` does."""
        if not queries:
            return []
        if self.transport.features.get("all_docs_queries") is False:
            return super().all_docs_queries(queries)
        from ibmcloudant.cloudant_v1 import AllDocsQuery

        body = [AllDocsQuery(**_query_args(q)) for q in queries]
        try:
            answer = self.transport.call(self.client.post_all_docs_queries, self.name,
                                         queries=body)
        except (errors.BadRequest, errors.NotFound, errors.MethodNotAllowed):
            if self.transport.features.get("all_docs_queries"):
                raise  # the endpoint works on this server: this error is real
            self.transport.features["all_docs_queries"] = False
            return super().all_docs_queries(queries)
        self.transport.features["all_docs_queries"] = True
        return [dict(r) for r in answer["results"]]

    # -- replication ------------------------------------------------------------
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
        if feed not in ("normal", "longpoll"):
            raise errors.BadRequest(f"unsupported feed {feed!r}: use 'normal' or 'longpoll'")
        if style not in ("main_only", "all_docs"):
            raise errors.BadRequest(f"style must be 'main_only' or 'all_docs', not {style!r}")
        params: dict[str, Any] = _flags(
            descending=descending, include_docs=include_docs, conflicts=conflicts,
            attachments=attachments, seq_interval=seq_interval,
        )
        if limit is not None:
            # 0 "has the same effect as 1" (CouchDB API, /{db}/_changes), but CouchDB 3.5
            # answers none (apache/couchdb#6088): ask 1, so the backends agree
            params["limit"] = max(limit, 1) if isinstance(limit, int) else limit
        if style != "main_only":
            params["style"] = style
        params["since"] = since if isinstance(since, str) else str(since)
        read_timeout: float | None = None
        if feed == "longpoll":
            params["feed"] = "longpoll"
            wait = 60.0 if timeout is None else max(0.0, float(timeout))
            params["timeout"] = int(wait * 1000)
            read_timeout = wait + LONGPOLL_GRACE
        body: dict[str, Any] = {}
        if doc_ids is not None:
            params["filter"] = "_doc_ids"
            body["doc_ids"] = list(doc_ids)
        if selector is not None:
            params["filter"] = "_selector"
            body["selector"] = dict(selector)
        result = self._changes(params, body, read_timeout)
        if result is None:
            # Our deadline passed (PouchDB Server ignores ``timeout``,
            # test-environment.md): answer as CouchDB does, an empty result.
            return {"results": [], "last_seq": self._resolve_since(since), "pending": 0}
        return result

    def _changes(self, params: dict[str, Any], body: dict[str, Any],
                 read_timeout: float | None) -> JSON | None:
        use_get = "selector" in body and self.transport.flavor() == "pouchdb-server"
        if "selector" in body and not use_get:
            try:
                return self._send_changes("POST", params, body, read_timeout)
            except errors.NotFound:
                use_get = True  # a server without POST _selector support
        if use_get:
            # PouchDB Server 4.2.0 crashes on POST _changes with a selector.
            params = dict(params, selector=json.dumps(body["selector"]))
            if "doc_ids" in body:
                params["doc_ids"] = json.dumps(body["doc_ids"])
            return self._send_changes("GET", params, None, read_timeout)
        return self._send_changes("POST" if body else "GET", params, body or None, read_timeout)

    def _send_changes(self, method: str, params: dict[str, Any], body: dict[str, Any] | None,
                      read_timeout: float | None) -> JSON | None:
        where = path(self.name, "_changes")
        if read_timeout is None:
            return dict(self.transport.request(method, where, params=params, body=body))
        deadline = time.monotonic() + read_timeout
        result = self.transport.request_until(method, where, deadline, params=params, body=body)
        return None if result is None else dict(result)

    def _resolve_since(self, since: Seq) -> Seq:
        if since == "now":
            return self.info().get("update_seq", 0)  # type: ignore[no-any-return]
        return since

    def revs_diff(self, revs: Mapping[str, Sequence[str]]) -> JSON:
        if not isinstance(revs, Mapping):
            raise errors.BadRequest("revs_diff body must be an object {docid: [rev, ...]}")
        body = {docid: list(rs) for docid, rs in revs.items()}
        return dict(self.transport.call(self.client.post_revs_diff, self.name, body))

    def bulk_get(
        self,
        docs: Sequence[Mapping[str, Any]],
        *,
        revs: bool = False,
        attachments: bool = False,
        latest: bool = False,
    ) -> JSON:
        reqs = [dict(d) for d in docs]
        # One result per request, as CouchDB 3 answers; PouchDB Server 4.2.0 answers one per
        # id, so the requests for an id named again go in a request of their own (never the
        # case for a replicator; a device could, and the hub's view then lost count: a 500)
        rounds: list[list[int]] = []
        seen: dict[str, int] = {}
        for i, req in enumerate(reqs):
            k = seen[str(req.get("id"))] = seen.get(str(req.get("id")), -1) + 1
            if k == len(rounds):
                rounds.append([])
            rounds[k].append(i)
        if len(rounds) > 1:
            results: list[JSON] = [{} for _ in reqs]
            for part in rounds:
                got = self.bulk_get([reqs[i] for i in part], revs=revs,
                                    attachments=attachments, latest=latest)["results"]
                for i, row in zip(part, got, strict=True):
                    results[i] = row
            return {"results": results}
        # Streamed: a link that breaks mid-answer still yields the results that
        # arrived complete (TransportError.partial), so the replicator keeps them.
        try:
            result = self.transport.stream_results(
                self.client.post_bulk_get_as_stream, self.name, reqs,
                **_flags(revs=revs, attachments=attachments, latest=latest))
        except errors.TransportError as exc:
            if exc.partial:
                exc.partial = [_bulk_get_row(req, row) for req, row in
                               zip(reqs, exc.partial, strict=False)]
            raise
        result["results"] = [_bulk_get_row(req, row) for req, row in
                             zip(reqs, result.get("results", ()), strict=False)]
        return result

    # -- _local docs ------------------------------------------------------------
    def get_local(self, docid: str) -> JSON:
        return dict(self.transport.call(self.client.get_local_document, self.name,
                                        local_name(docid), accept="application/json"))

    def put_local(self, doc: Mapping[str, Any]) -> JSON:
        if not isinstance(doc, Mapping) or not isinstance(doc.get("_id"), str):
            raise errors.BadRequest("a _local doc needs a string _id")
        body = dict(doc)
        docid = local_name(body["_id"])
        body["_id"] = local_docid(docid)
        return dict(self.transport.call(self.client.put_local_document, self.name, docid, body))

    def delete_local(self, docid: str, rev: str | None = None) -> JSON:
        params = {"rev": rev} if rev is not None else {}
        return dict(self.transport.request("DELETE", path(self.name, local_docid(docid)),
                                           params=params))

    # -- attachments ------------------------------------------------------------
    def get_attachment(self, docid: str, name: str, *, rev: str | None = None) -> tuple[bytes, str]:
        _check_id(docid)
        with self.transport.translated():
            resp = self.client.get_attachment(self.name, docid, name, rev=rev).get_result()
        return resp.content, resp.headers.get("Content-Type", "application/octet-stream")

    # -- maintenance ------------------------------------------------------------
    def get_revs_limit(self) -> int:
        return int(self.transport.request("GET", path(self.name, "_revs_limit")))

    def set_revs_limit(self, limit: int) -> None:
        if isinstance(limit, bool) or not isinstance(limit, int) or limit < 1:
            raise errors.BadRequest("revs_limit must be a positive integer")
        self.transport.request("PUT", path(self.name, "_revs_limit"), body=limit)

    def compact(self) -> None:
        self.transport.request("POST", path(self.name, "_compact"), body={})
        # CouchDB compacts in the background (202); wait so that callers see the result.
        deadline = time.monotonic() + 60
        while self.info().get("compact_running") and time.monotonic() < deadline:
            time.sleep(0.05)

    def close(self) -> None:
        if self._owns_transport:
            self.transport.close()


def _check_id(docid: Any) -> None:
    if not isinstance(docid, str) or not docid:
        raise errors.BadRequest("document id must be a non-empty string", error="bad_request")


def _rows_of_keys(keys: Sequence[str], rows: Sequence[Any], *, whole: bool,
                  descending: bool) -> list[JSON]:
    """``_all_docs`` rows of the keys asked for only, one per key (``whole``: no skip or
    limit cut them) in the keys' order, as CouchDB 3 answers. PouchDB Server 4.2.0 answered
    ``keys: [""]`` with the database's first document under its own key: a device of the
    hub's view was told the id of a case of another institution."""
    wanted = set(keys)
    found: dict[str, list[JSON]] = {}
    for row in rows:
        if isinstance(row, Mapping) and row.get("key") in wanted:
            found.setdefault(str(row["key"]), []).append(dict(row))
    if not whole:
        return [row for key in found for row in found[key]]
    return [found[k].pop(0) if found.get(k) else {"key": k, "error": "not_found"}
            for k in (reversed(keys) if descending else keys)]


def _bulk_get_row(req: Mapping[str, Any], row: Any) -> JSON:
    out = dict(row) if isinstance(row, Mapping) else {"id": req.get("id"), "docs": []}
    out["docs"] = [_bulk_get_entry(req, entry) for entry in out.get("docs", ())]
    return out


def _bulk_get_entry(req: Mapping[str, Any], entry: Mapping[str, Any]) -> JSON:
    """CouchDB 3's ``{"error": {...}}`` for a revision or doc that is not there.

    PouchDB Server 4.2.0 answers ``{"missing": rev}`` or ``{}`` instead; the
    replicator must see one shape, so these are normalised here.
    """
    if "ok" in entry or "error" in entry:
        return dict(entry)
    rev = entry.get("missing", req.get("rev", "undefined"))
    return {"error": {"id": req.get("id"), "rev": rev, "error": "not_found", "reason": "missing"}}


def _query_args(query: Mapping[str, Any]) -> dict[str, Any]:
    """:meth:`CouchStore.all_docs` keywords as ``AllDocsQuery`` fields (CouchDB's names)."""
    renamed = {"startkey": "start_key", "endkey": "end_key"}
    out = {renamed.get(k, k): v for k, v in query.items() if v is not None and k != "offset"}
    if out.get("skip") == 0:
        out.pop("skip")
    if out.get("inclusive_end") is True:
        out.pop("inclusive_end")
    return out
