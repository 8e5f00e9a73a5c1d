"""The HTTP layer is backend-agnostic: the same core over the CouchDB backend
(``sync.couch.CouchServer`` against PouchDB Server), as a hub in front of CouchDB uses it."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest

from sync.http import CouchApp, Request

pytestmark = pytest.mark.couchdb


@pytest.fixture
def app(couchdb_url: str) -> Iterator[CouchApp]:
    from sync.couch import CouchServer

    server = CouchServer(couchdb_url)
    yield CouchApp(server)
    server.close()


def test_replication_endpoints_over_the_couchdb_backend(app: CouchApp) -> None:
    db = f"h-{uuid.uuid4().hex[:10]}"

    def call(method: str, path: str, body: object = None, **kw: object) -> tuple[int, object]:
        resp = app.handle(Request.build(method, f"/{db}{path}", json_body=body, **kw))  # type: ignore[arg-type]
        return resp.status, resp.json() if resp.body else None

    assert call("PUT", "")[0] == 201
    try:
        assert call("PUT", "")[0] == 412
        status, created = call("PUT", "/a", {"v": 1})
        assert status == 201 and isinstance(created, dict)
        assert call("PUT", "/a", {"v": 2})[0] == 409
        assert call("POST", "/_bulk_docs", {"docs": [{"_id": "b", "_rev": "1-abc"}], "new_edits": False})[0] == 201
        status, feed = call("GET", "/_changes?style=all_docs")
        assert status == 200 and isinstance(feed, dict)
        assert sorted(r["id"] for r in feed["results"]) == ["a", "b"]
        _, diff = call("POST", "/_revs_diff", {"a": [created["rev"], "2-x"]})
        # (PouchDB Server 4.2.0 leaves out possible_ancestors, so only "missing" is compared)
        assert isinstance(diff, dict) and diff["a"]["missing"] == ["2-x"]
        status, got = call("POST", "/_bulk_get?revs=true", {"docs": [{"id": "b"}]})
        assert isinstance(got, dict) and got["results"][0]["docs"][0]["ok"]["_rev"] == "1-abc"
        assert call("PUT", "/_local/cp", {"seq": 1})[0] == 201
        assert call("GET", "/_local/cp")[1] == {"_id": "_local/cp", "_rev": "0-1", "seq": 1}
        assert call("GET", "/missing")[0] == 404
        bad = app.handle(Request.build("PUT", f"/{db}/bad", body=b"{oops"))
        assert bad.status == 400 and bad.json()["reason"] == "invalid UTF-8 JSON"
        assert call("GET", "/bad")[0] == 404
    finally:
        assert call("DELETE", "")[0] == 200
