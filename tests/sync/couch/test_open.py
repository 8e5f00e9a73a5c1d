"""``sync.open``: a URL opens the couch backend, a path the embedded one."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from sync import errors
from sync.couch import CouchServer, CouchStore
from sync.open import open_db, open_server
from sync.sqlite import SQLiteServer, SQLiteStore


def test_directory_opens_sqlite_server(tmp_path: Path) -> None:
    server = open_server(tmp_path / "dbs")
    assert isinstance(server, SQLiteServer)
    server.create_db("cases").put({"_id": "x"})
    assert server.all_dbs() == ["cases"]
    server.close()


def test_sqlite_file_opens_a_store(tmp_path: Path) -> None:
    path = tmp_path / "node.sqlite"
    with pytest.raises(errors.NotFound):
        open_db(path)
    db = open_db(path, create=True)
    assert isinstance(db, SQLiteStore) and db.name == "node"
    db.put({"_id": "x"})
    db.close()
    again = open_db(str(path))
    assert again.get("x")["_id"] == "x"
    again.close()


def test_path_mistakes(tmp_path: Path) -> None:
    with pytest.raises(errors.BadRequest):
        open_db(tmp_path)  # a directory is a server
    with pytest.raises(errors.BadRequest):
        open_db(tmp_path / "notes.txt", create=True)
    (tmp_path / "x.sqlite").write_bytes(b"")
    with pytest.raises(errors.BadRequest):
        open_server(tmp_path / "x.sqlite")


def test_url_without_db_is_rejected() -> None:
    with pytest.raises(errors.BadRequest):
        open_db("http://127.0.0.1:1")


@pytest.fixture
def url_db(couchdb_url: str, couchdb_dbname: str) -> Iterator[str]:
    yield f"{couchdb_url}/{couchdb_dbname}"
    server = CouchServer(couchdb_url)
    if couchdb_dbname in server.all_dbs():
        server.delete_db(couchdb_dbname)
    server.close()


@pytest.mark.couchdb
def test_url_opens_couch_backend(couchdb_url: str, url_db: str) -> None:
    server = open_server(couchdb_url, timeout=(2.0, 30.0), gzip=True)
    assert isinstance(server, CouchServer)
    assert server.transport.read_timeout == 30.0
    with pytest.raises(errors.NotFound):
        open_db(url_db)
    db = open_db(url_db, create=True)
    assert isinstance(db, CouchStore)
    db.put({"_id": "x"})
    assert open_db(url_db).get("x")["_id"] == "x"
    db.close()
    server.close()
