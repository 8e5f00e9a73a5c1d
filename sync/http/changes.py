"""``GET|POST /{db}/_changes``: normal, longpoll and continuous feeds.

Query parsing follows ``chttpd_db:parse_changes_query/1`` and the timeouts
``couch_changes:get_changes_timeout/2`` (CouchDB 3): without a heartbeat a
longpoll waits ``min(timeout, changes_timeout)``; with one it sends a newline
every heartbeat and waits on (we still stop at ``changes_timeout_max`` so a
request thread is never held forever). Filters: ``_doc_ids`` (ids in the POST
body or the ``doc_ids`` query parameter) and ``_selector`` (in the body or the
``selector`` query parameter, which PouchDB Server needs).
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from sync.errors import BadRequest
from sync.http.body import flag, int_arg, json_arg, json_body_obj, seq_arg, validate_ctype
from sync.http.errors import method_not_allowed
from sync.http.messages import Headers, Request, Response, dumps, json_response
from sync.store import DocumentStore

if TYPE_CHECKING:
    from sync.http.routing import CouchApp
    from sync.http.settings import HTTPSettings

FEEDS = ("normal", "longpoll", "continuous")
DEFAULT_HEARTBEAT_MS = 60000


def _heartbeat(value: str | None) -> float | None:
    """Seconds between heartbeat newlines, or None."""
    if value is None:
        return None
    if value == "true":
        return DEFAULT_HEARTBEAT_MS / 1000
    try:
        number = int(value)
    except ValueError:
        raise BadRequest("Invalid heartbeat value. Expecting a positive integer value "
                         "(in milliseconds).") from None
    if number <= 0:
        raise BadRequest("The heartbeat value should be a positive integer (in milliseconds).")
    return number / 1000


def _filter_args(request: Request, body: dict[str, Any],
                 accepted: tuple[str, ...]) -> dict[str, Any]:
    name = request.query.get("filter")
    if name is None:
        return {}
    if name == "_doc_ids":
        ids = body["doc_ids"] if "doc_ids" in body else json_arg(request.query, "doc_ids")
        if not isinstance(ids, list) or not all(isinstance(i, str) for i in ids):
            raise BadRequest("`doc_ids` filter parameter is not a list of doc ids.")
        return {"doc_ids": ids}
    if name == "_selector":
        selector = body["selector"] if "selector" in body else json_arg(request.query, "selector")
        if selector is None:
            raise BadRequest("Selector must be specified in POST payload")
        if not isinstance(selector, dict):
            raise BadRequest("Selector error: expected a JSON object")
        return {"selector": selector}
    raise BadRequest(f"filter `{name}` is not supported: only {' and '.join(accepted)} "
                     "(this server runs no JavaScript filter functions)")


def parse(request: Request, body: dict[str, Any], settings: HTTPSettings,
          accepted: tuple[str, ...] = DocumentStore.changes_filters) -> dict[str, Any]:
    """Store keyword arguments plus ``feed``, ``timeout`` and ``heartbeat``; ``accepted``:
    the store's ``changes_filters``, named when another filter is refused."""
    q = request.query
    feed = q.get("feed", "normal")
    feed = "continuous" if feed == "live" else feed
    if feed not in FEEDS:
        raise BadRequest("Supported `feed` types: normal, continuous, live, longpoll")
    style = q.get("style", "main_only")
    if style not in ("main_only", "all_docs"):
        raise BadRequest(f"Invalid style: {style}")
    seq_interval = q.get("seq_interval")
    if seq_interval is not None and (not seq_interval.isdigit() or int(seq_interval) <= 0):
        raise BadRequest("invalid_seq_interval")
    timeout_ms = int_arg(q, "timeout", minimum=0)
    heartbeat = _heartbeat(q.get("heartbeat"))
    if heartbeat is not None:
        timeout = settings.changes_timeout_max
    elif timeout_ms is None:
        timeout = settings.changes_timeout
    else:
        timeout = min(timeout_ms / 1000, settings.changes_timeout)
    return {
        "since": seq_arg(q.get("since", q.get("last-event-id", "0"))),
        "limit": int_arg(q, "limit", minimum=0),
        "descending": flag(q, "descending"),
        "style": style,
        "include_docs": flag(q, "include_docs"),
        "conflicts": flag(q, "conflicts"),
        "attachments": flag(q, "attachments"),
        "seq_interval": int(seq_interval) if seq_interval else None,
        "feed": feed,
        "timeout": timeout,
        "heartbeat": heartbeat,
        **_filter_args(request, body, accepted),
    }


def changes(app: CouchApp, request: Request, db: DocumentStore) -> Response:
    if request.method == "GET":
        body: dict[str, Any] = {}
    elif request.method == "POST":
        validate_ctype(request)
        body = json_body_obj(request, allow_empty=True)
    else:
        raise method_not_allowed("GET", "POST", "HEAD")
    args = parse(request, body, app.settings, db.changes_filters)
    feed, heartbeat = args.pop("feed"), args.pop("heartbeat")
    timeout = args.pop("timeout")
    if feed == "normal":
        return json_response(200, db.changes(**args))
    headers = Headers({"Content-Type": "application/json", "Cache-Control": "must-revalidate"})
    if feed == "longpoll":
        if heartbeat is None:
            return json_response(200, db.changes(feed="longpoll", timeout=timeout, **args))
        return Response(200, headers, _primed(_longpoll(db, args, timeout, heartbeat)))
    return Response(200, headers, _primed(_continuous(db, args, timeout, heartbeat)))


def _primed(chunks: Iterator[bytes]) -> Iterator[bytes]:
    """``chunks`` with its first chunk made now, while the handler still runs: the store
    judges ``since`` and the other arguments at its first read, and a refusal there must be
    CouchDB's 400, not an exception out of a stream whose 200 has gone out (the client saw
    a cut connection; the hub's device view refuses ``descending`` and ``selector`` there)."""
    first = next(chunks, None)

    def rest() -> Iterator[bytes]:
        try:
            if first is not None:
                yield first
            yield from chunks
        finally:
            chunks.close()  # type: ignore[attr-defined]

    return rest()


def _longpoll(db: DocumentStore, args: dict[str, Any], timeout: float, heartbeat: float) -> Iterator[bytes]:
    """Wait in heartbeat-sized slices, sending a newline between them (leading
    whitespace keeps the body one valid JSON object)."""
    deadline = time.monotonic() + timeout
    while True:
        wait = max(0.0, min(heartbeat, deadline - time.monotonic()))
        result = db.changes(feed="longpoll", timeout=wait, **args)
        if result["results"] or time.monotonic() >= deadline:
            yield dumps(result) + b"\n"
            return
        args = {**args, "since": result.get("last_seq", args["since"])}
        yield b"\n"


def _continuous(db: DocumentStore, args: dict[str, Any], timeout: float,
                heartbeat: float | None) -> Iterator[bytes]:
    """One JSON row per line, then ``{"last_seq", "pending"}`` when the timeout
    (or the limit) ends the feed."""
    deadline = time.monotonic() + timeout
    remaining = args.pop("limit")
    since = args.pop("since")
    while True:
        slice_ = deadline - time.monotonic()
        if heartbeat is not None:
            slice_ = min(slice_, heartbeat)
        result = db.changes(feed="longpoll", timeout=max(0.0, slice_), since=since,
                            limit=remaining, **args)
        rows = result["results"]
        for row in rows:
            yield dumps(row) + b"\n"
        since = result.get("last_seq", since)
        if remaining is not None:
            remaining -= len(rows)
        if (remaining is not None and remaining <= 0) or time.monotonic() >= deadline:
            yield dumps({"last_seq": since, "pending": result.get("pending", 0)}) + b"\n"
            return
        if not rows and heartbeat is not None:
            yield b"\n"
