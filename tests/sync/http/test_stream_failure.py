"""A store failing in the middle of a streamed feed, after its 200 has gone out.

Before the fix the error left the body's iterator into the WSGI server, which logged a
traceback per feed (with CouchDB down, one per waiting device) and cut the connection;
the gateway's ``on_error`` hook, which says a store failure in one line (hub.app), never
heard of it. Now the hook hears it, and the stream ends: a longpoll body that is only
heartbeats is no JSON, and a continuous feed without its ``last_seq`` line, so the client
retries from its checkpoint as after any cut.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from sync.errors import ServiceUnavailable, SyncError
from sync.http import CouchApp, Request
from sync.sqlite import SQLiteServer


class _FailingFeeds:
    """``store_server`` whose database's changes feed fails from its ``after``-th call on."""

    def __init__(self, server: SQLiteServer, after: int):
        self.server, self.after, self.calls = server, after, 0

    def __getattr__(self, name: str) -> Any:
        return getattr(self.server, name)

    def db(self, name: str) -> Any:
        real = self.server.db(name)
        outer = self

        class Db:
            def __getattr__(self, attr: str) -> Any:
                return getattr(real, attr)

            def changes(self, **kw: Any) -> Any:
                outer.calls += 1
                if outer.calls >= outer.after:
                    raise ServiceUnavailable("store at 10.0.0.9:5984 unreachable")
                return real.changes(**kw)

        return Db()


def _drain(body: Iterator[bytes]) -> bytes:
    return b"".join(body)


@pytest.mark.parametrize("feed", ["continuous", "longpoll"])
def test_a_store_failing_mid_stream_is_told_to_the_hook_and_the_stream_ends(
        store_server: SQLiteServer, feed: str) -> None:
    store_server.create_db("db").bulk_docs([{"_id": "a"}, {"_id": "b"}])
    told: list[SyncError] = []

    def on_error(req: Request, exc: SyncError) -> SyncError:
        told.append(exc)
        return exc

    # the first read is made before the 200 (sync.http.changes._primed); the second fails
    app = CouchApp(_FailingFeeds(store_server, after=2), on_error=on_error)  # type: ignore[arg-type]
    since = "" if feed == "continuous" else "&since=now"
    resp = app.handle(Request.build("GET", f"/db/_changes?feed={feed}&heartbeat=50"
                                           f"&timeout=5000{since}"))
    assert resp.status == 200 and resp.streaming
    body = _drain(resp.body)  # type: ignore[arg-type]
    assert [e.reason for e in told] == ["store at 10.0.0.9:5984 unreachable"]
    assert b"10.0.0.9" not in body and b"last_seq" not in body  # not a finished feed
    if feed == "continuous":
        assert body.count(b'"id"') == 2  # what was read before the failure went out


def test_without_a_hook_the_failure_still_reaches_the_server(store_server: SQLiteServer) -> None:
    """``store serve`` has no hook: the WSGI server logs the error and cuts the connection."""
    store_server.create_db("db")
    app = CouchApp(_FailingFeeds(store_server, after=2))  # type: ignore[arg-type]
    resp = app.handle(Request.build("GET", "/db/_changes?feed=continuous&heartbeat=50"
                                           "&timeout=5000"))
    with pytest.raises(ServiceUnavailable):
        _drain(resp.body)  # type: ignore[arg-type]
