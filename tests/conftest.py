"""Shared fixtures.

CouchDB-backed tests run against PouchDB Server. `make test` starts one and
exports ``BANGBAN_TEST_COUCHDB_URL``; when that is unset (a developer running
pytest directly) the session starts its own. A server that cannot start is a
test *error*, never a skip: CouchDB-backed tests must run in CI.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator

import pytest
from hypothesis import settings

from ops import pouchdb_server

# No per-example deadline anywhere: CI shares 2 cores with PouchDB Server and browsers, and a
# slow example there is a loaded machine, not a bug (hypothesis would report it as Flaky).
settings.register_profile("bangban", deadline=None)
settings.load_profile("bangban")


@pytest.fixture(scope="session")
def couchdb_url() -> Iterator[str]:
    """Base URL (with admin credentials) of a CouchDB-API server on loopback."""
    url = os.environ.get("BANGBAN_TEST_COUCHDB_URL")
    if url:
        yield url.rstrip("/")
        return
    server = pouchdb_server.start()
    try:
        yield server.url
    finally:
        server.stop()


@pytest.fixture
def couchdb_dbname() -> str:
    """A fresh, unique database name for one test."""
    return f"t-{uuid.uuid4().hex[:12]}"
