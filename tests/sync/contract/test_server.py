"""A set of databases: ``PUT/DELETE /{db}``, ``GET /_all_dbs`` (CouchDB docs, "/{db}")."""

from __future__ import annotations

import pytest

from sync import errors
from sync.store import StoreServer
from tests.sync.contract.conftest import pouchdb_deviation


def test_create_list_open_delete(server: StoreServer) -> None:
    db = server.create_db("cases")
    assert db.name == "cases" and db.info()["db_name"] == "cases"
    db.put({"_id": "x"})
    assert "cases" in server.all_dbs()
    assert server.db("cases").get("x")["_id"] == "x"
    server.delete_db("cases")
    assert "cases" not in server.all_dbs()
    with pytest.raises(errors.NotFound):
        server.db("cases")


def test_create_twice_is_412_unless_exist_ok(server: StoreServer) -> None:
    server.create_db("twice").put({"_id": "keep"})
    with pytest.raises(errors.PreconditionFailed) as ei:
        server.create_db("twice")
    assert ei.value.status == 412 and ei.value.error == "file_exists"
    again = server.create_db("twice", exist_ok=True)
    assert again.get("keep")["_id"] == "keep"


@pytest.mark.parametrize("name", ["Upper", "9start", "_users_x", "has space", "", "a.b"])
def test_illegal_names(server: StoreServer, name: str) -> None:
    before = server.all_dbs()
    with pytest.raises(errors.BadRequest):
        server.create_db(name)
    assert server.all_dbs() == before


@pouchdb_deviation("a '/' in a database name is dropped from _all_dbs")
def test_legal_special_characters(server: StoreServer) -> None:
    name = "a0_$()+-/b"
    server.create_db(name).put({"_id": "x"})
    assert name in server.all_dbs()
    assert server.db(name).get("x")["_id"] == "x"


@pouchdb_deviation("DELETE of a missing database answers ok")
def test_delete_missing_is_404(server: StoreServer) -> None:
    with pytest.raises(errors.NotFound):
        server.delete_db("never-there")


@pouchdb_deviation("_all_dbs is in creation order, not sorted")
def test_all_dbs_sorted(server: StoreServer) -> None:
    for name in ("zz", "aa", "mm"):
        server.create_db(name)
    names = [n for n in server.all_dbs() if n in ("aa", "mm", "zz")]
    assert names == ["aa", "mm", "zz"]
