"""One contract suite, every backend: the ``store`` and ``server`` fixtures.

Each test in this package runs once per backend: the embedded SQLite store (a
fresh file in ``tmp_path``) and the CouchDB backend against PouchDB Server (a
fresh database; marked ``couchdb``, never skipped). Where PouchDB Server 4.2.0
deviates from Apache CouchDB 3 the deviating assertion lives in its own test
decorated with :func:`pouchdb_deviation`, which expects the couch param to fail
(``xfail(strict=True)``): if PouchDB Server ever behaves, the suite says so.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import pytest

from sync.store import DocumentStore, StoreServer

F = TypeVar("F", bound=Callable[..., Any])

BACKENDS = ["sqlite", pytest.param("couch", marks=pytest.mark.couchdb)]


def pouchdb_deviation(reason: str) -> Callable[[F], F]:
    """Run on both backends; the couch param must fail for the stated PouchDB Server bug."""
    return pytest.mark.parametrize(  # type: ignore[return-value]
        "backend",
        ["sqlite", pytest.param("couch", marks=[
            pytest.mark.couchdb,
            pytest.mark.xfail(strict=True, reason=f"PouchDB Server 4.2.0: {reason}"),
        ])],
    )


@pytest.fixture(scope="session")
def couch_server(request: pytest.FixtureRequest) -> Iterator[StoreServer]:
    from sync.couch import CouchServer

    url = request.getfixturevalue("couchdb_url")
    server = CouchServer(url)
    yield server
    server.close()


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def server(backend: str, tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[StoreServer]:
    """A server whose databases the test may create and drop."""
    if backend == "sqlite":
        from sync.open import open_server

        srv = open_server(tmp_path / "dbs")
        yield srv
        srv.close()
        return
    couch: StoreServer = request.getfixturevalue("couch_server")
    before = set(couch.all_dbs())
    yield couch
    for name in set(couch.all_dbs()) - before:
        couch.delete_db(name)


@pytest.fixture
def store(backend: str, tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[DocumentStore]:
    """A fresh, empty database on the backend under test."""
    if backend == "sqlite":
        from sync.open import open_db

        db = open_db(tmp_path / "contract.sqlite", create=True)
        yield db
        db.close()
        return
    couch: StoreServer = request.getfixturevalue("couch_server")
    name = f"contract-{uuid.uuid4().hex[:12]}"
    db = couch.create_db(name)
    yield db
    couch.delete_db(name)
