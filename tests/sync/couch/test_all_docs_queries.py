"""``_all_docs/queries`` from the CouchDB backend: one request where the server has the
endpoint (CouchDB >= 2.2, and ``bangban store serve``), one per query where it has not
(PouchDB Server 4.2.0), learnt once per server."""

from __future__ import annotations

import uuid

import pytest

from tests.sync.http.conftest import Served, served  # noqa: F401  (a real `store serve`)

QUERIES = [{"startkey": f"event:c{i}:", "endkey": f"event:c{i}:\ufff0", "include_docs": True,
            "offset": False} for i in range(3)]


def _fill(server, name: str):  # type: ignore[no-untyped-def]
    db = server.create_db(name)
    db.bulk_docs([{"_id": f"event:c{i % 3}:{i:02d}", "n": i} for i in range(9)])
    return db


def test_one_request_where_the_server_has_the_endpoint(served: Served) -> None:  # noqa: F811
    from sync.couch import CouchServer

    server = CouchServer(served.url)
    try:
        db = _fill(server, f"q-{uuid.uuid4().hex[:8]}")
        before = server.stats.requests
        results = db.all_docs_queries(QUERIES)
        assert server.stats.requests - before == 1
        assert db.transport.features["all_docs_queries"] is True
        assert [[r["doc"]["n"] for r in res["rows"]] for res in results] == \
            [[0, 3, 6], [1, 4, 7], [2, 5, 8]]
    finally:
        server.close()


@pytest.mark.couchdb
def test_one_request_per_query_where_it_has_not(couchdb_url: str) -> None:
    from sync.couch import CouchServer

    server = CouchServer(couchdb_url)
    name = f"q-{uuid.uuid4().hex[:8]}"
    try:
        db = _fill(server, name)
        first = db.all_docs_queries(QUERIES)  # the refused attempt, then one by one
        assert db.transport.features["all_docs_queries"] is False
        before = server.stats.requests
        again = db.all_docs_queries(QUERIES)
        assert server.stats.requests - before == len(QUERIES)  # no second attempt
        assert again == first
        assert [[r["doc"]["n"] for r in res["rows"]] for res in again] == \
            [[0, 3, 6], [1, 4, 7], [2, 5, 8]]
    finally:
        server.delete_db(name)
        server.close()
