"""Shared fixtures.

CouchDB-backed tests run against PouchDB Server. `make test` starts one and
exports ``BANGBAN_TEST_COUCHDB_URL``; when that is unset (a developer running
pytest directly) the session starts its own. A server that cannot start is a
test *error*, never a skip: CouchDB-backed tests must run in CI.
"""

from __future__ import annotations

import datetime as dt
import os
import time
import uuid
from collections.abc import Iterator

import pytest
from hypothesis import settings

from ops import pouchdb_server
from schemas.state import LOCAL_TZ, local_today

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


@pytest.fixture
def off_beijing_tz() -> Iterator[str]:
    """The machine's time zone set so that its date is *not* Beijing's right now (CI and
    many servers run in UTC, whose date lags Beijing's from 00:00 to 08:00 Beijing time).
    POSIX zone strings need no tzdata: ``<-12>12`` is UTC-12 (a day behind Beijing until
    20:00 Beijing time), ``<+14>-14`` is UTC+14 (a day ahead from 18:00); the hour of
    margin keeps the dates apart for the whole test."""
    saved = os.environ.get("TZ")
    zone = "<-12>12" if dt.datetime.now(LOCAL_TZ).hour < 19 else "<+14>-14"
    os.environ["TZ"] = zone
    time.tzset()
    try:
        assert dt.date.today() != local_today(), zone
        yield zone
    finally:
        if saved is None:
            os.environ.pop("TZ", None)
        else:
            os.environ["TZ"] = saved
        time.tzset()
