"""SQLiteServer: a folder of databases with CouchDB's database rules."""

from __future__ import annotations

from pathlib import Path

import pytest

from sync.errors import BadRequest, NotFound, PreconditionFailed
from sync.sqlite import SQLiteServer


def test_create_list_open_delete(server: SQLiteServer) -> None:
    assert server.all_dbs() == []
    db = server.create_db("cases")
    db.put({"_id": "a"})
    server.create_db("a/b-c_d$(e)+f")
    assert server.all_dbs() == ["a/b-c_d$(e)+f", "cases"]
    assert server.db("cases") is db
    assert server.db("a/b-c_d$(e)+f").info()["db_name"] == "a/b-c_d$(e)+f"
    with pytest.raises(PreconditionFailed) as info:
        server.create_db("cases")
    assert info.value.status == 412 and info.value.error == "file_exists"
    assert server.create_db("cases", exist_ok=True).get("a")["_id"] == "a"
    server.delete_db("cases")
    assert server.all_dbs() == ["a/b-c_d$(e)+f"]
    with pytest.raises(NotFound):
        server.db("cases")
    with pytest.raises(NotFound):
        server.delete_db("cases")


@pytest.mark.parametrize("name", ["", "Upper", "1abc", "_users", "a b", "a.b", "é", 5])
def test_illegal_names(server: SQLiteServer, name: object) -> None:
    with pytest.raises(BadRequest) as info:
        server.create_db(name)  # type: ignore[arg-type]
    assert info.value.error == "illegal_database_name"


def test_reopen_from_disk(tmp_path: Path) -> None:
    with_srv = SQLiteServer(tmp_path)
    with_srv.create_db("x").put({"_id": "a", "v": 1})
    with_srv.db("x").set_revs_limit(7)
    with_srv.close()
    again = SQLiteServer(tmp_path)
    assert again.db("x").get("a")["v"] == 1
    assert again.db("x").get_revs_limit() == 7
    again.close()


def test_foreign_errors_are_translated(tmp_path: Path) -> None:
    from sync.errors import SyncError
    from sync.sqlite import SQLiteStore

    bad = tmp_path / "garbage.sqlite"
    bad.write_bytes(b"not a database" * 100)
    with pytest.raises(SyncError) as info:
        SQLiteStore(bad)
    assert info.value.status == 500 and info.value.__cause__ is not None
    with pytest.raises(NotFound):
        SQLiteStore(tmp_path / "missing-dir" / "x.sqlite")
