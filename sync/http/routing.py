"""The sansio application: route a :class:`Request` to its endpoint module.

Paths are matched on decoded segments the way ``chttpd_db:handle_request/1``
and ``db_req/2`` do (CouchDB 3): ``/{db}``, ``/{db}/_special``,
``/{db}/_design/{name}[/{att...}]``, ``/{db}/_local/{id}``,
``/{db}/{docid}[/{att...}]``.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Iterator

from sync.errors import BadRequest, SyncError
from sync.http import (
    attachments,
    changes,
    cors,
    databases,
    documents,
    encoding,
    errors,
    local,
    replication,
    server,
)
from sync.http.messages import Request, Response
from sync.http.settings import HTTPSettings
from sync.store import DocumentStore, StoreServer

DbHandler = Callable[["CouchApp", Request, DocumentStore], Response]

#: ``/{db}/_name`` endpoints (``chttpd_handlers:db_handler/2`` plus ``db_req/2``).
DB_ENDPOINTS: dict[str, DbHandler] = {
    "_all_docs": databases.all_docs,
    "_changes": changes.changes,
    "_bulk_docs": replication.bulk_docs,
    "_bulk_get": replication.bulk_get,
    "_revs_diff": replication.revs_diff,
    "_revs_limit": databases.revs_limit,
    "_compact": databases.compact,
    "_ensure_full_commit": databases.ensure_full_commit,
    "_security": databases.security,
    "_design_docs": databases.design_docs,
    "_missing_revs": replication.missing_revs,
}

#: CouchDB endpoints this API does not serve: a clear 501 rather than a document
#: lookup of a reserved id (Mango, views and purge live elsewhere or nowhere).
NOT_IMPLEMENTED = frozenset({"_find", "_index", "_explain", "_purge", "_purged_infos_limit",
                             "_local_docs", "_view_cleanup", "_partition", "_shards",
                             "_sync_shards", "_temp_view"})


class CouchApp:
    """The CouchDB 3 HTTP API over any :class:`sync.store.StoreServer`, without IO.

    ``handle(request) -> response`` is all an adapter needs; it never raises.
    """

    def __init__(self, store_server: StoreServer, settings: HTTPSettings | None = None, *,
                 on_error: Callable[[Request, SyncError], SyncError] | None = None) -> None:
        self.server = store_server
        self.settings = settings or HTTPSettings()
        self._uuid = self.settings.server_uuid
        #: What a client is told of an error, when it is not the error as raised: a gateway
        #: in front of its own store (the hub) logs the store's failure with its address
        #: and says only "retry later" (CouchDB docs, "HTTP Status Codes": 503).
        self.on_error = on_error

    @property
    def uuid(self) -> str:
        """The server uuid for ``GET /``: stable for a given StoreServer (PouchDB
        builds replication ids from it, so a new one would restart checkpoints)."""
        if not self._uuid:
            info_uuid = self.server.info().get("uuid")
            if info_uuid:
                self._uuid = str(info_uuid)
            else:  # a folder-backed server: derive it from the folder, stable across restarts
                where = str(getattr(self.server, "directory", "") or id(self.server))
                self._uuid = hashlib.md5(where.encode(), usedforsecurity=False).hexdigest()
        return self._uuid

    def handle(self, request: Request) -> Response:
        head = request.method == "HEAD"
        if head:
            request.method = "GET"
        try:
            if request.method == "OPTIONS" and self.settings.cors_origins:
                response = cors.preflight(request, self.settings)
            else:
                encoding.decode_request(request, self.settings.max_http_request_size)
                response = self.route(request)
                response = encoding.encode_response(request, response, self.settings.gzip_min_size)
        except SyncError as exc:
            response = errors.error_response(self.on_error(request, exc) if self.on_error
                                             else exc)
        except Exception as exc:  # any other failure is our bug: log it, leak nothing
            response = errors.internal_error(exc)
        if response.streaming and self.on_error is not None:
            response.body = _told_mid_stream(response.body, request,  # type: ignore[arg-type]
                                             self.on_error)
        if head:
            request.method = "HEAD"
            if response.streaming:
                close = getattr(response.body, "close", None)
                if close is not None:
                    close()
            response.body = b""
        if self.settings.cors_origins:
            cors.add_headers(request, response, self.settings)
        return response

    def route(self, request: Request) -> Response:
        segs = request.segments
        if not segs:
            return server.welcome(self, request)
        first = segs[0]
        if first in server.ENDPOINTS:
            if len(segs) > 1:
                raise errors.not_found_error()
            return server.ENDPOINTS[first](self, request)
        if len(segs) == 1:
            return databases.database(self, request, first)
        db = self.server.db(first)
        second = segs[1]
        if second == "_all_docs" and segs[2:] == ["queries"]:
            return databases.all_docs_queries(self, request, db)
        if second in DB_ENDPOINTS:
            if len(segs) > 2:
                raise errors.not_found_error()
            return DB_ENDPOINTS[second](self, request, db)
        if second in NOT_IMPLEMENTED:
            raise SyncError(f"{second} is not supported by this server", error="not_implemented",
                            status=501)
        if second == "_local":
            if len(segs) == 2 or not segs[2]:
                raise BadRequest("Invalid _local document id.")
            if len(segs) > 3:
                raise BadRequest("_local documents do not accept attachments.")
            return local.local_doc(self, request, db, segs[2])
        if second == "_design" and len(segs) > 2:
            docid = "_design/" + segs[2]
            rest = segs[3:]
        else:
            docid, rest = second, segs[2:]
        if rest:
            return attachments.attachment(self, request, db, docid, "/".join(rest))
        return documents.document(self, request, db, docid)


def _told_mid_stream(chunks: Iterable[bytes], request: Request,
                     on_error: Callable[[Request, SyncError], SyncError]) -> Iterator[bytes]:
    """A streamed body whose store fails after the 200 has gone out (a feed waiting while
    CouchDB goes down): the hook hears it, as it hears a failure before the answer (the hub
    logs one line, not a traceback per waiting device), and the stream ends there. The
    client is not misled: a longpoll body of heartbeats alone is no JSON, a continuous feed
    has no ``last_seq`` line, and it retries from its checkpoint as after a cut."""
    try:
        yield from chunks
    except SyncError as exc:
        on_error(request, exc)
    finally:
        close = getattr(chunks, "close", None)
        if close is not None:
            close()
