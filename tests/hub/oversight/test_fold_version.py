"""An oversight file folded by an older version is folded again at `hub serve`'s start
(hub.oversight.materialize.FOLD_VERSION): before, a fix of the fold (e.g. Beijing days for
events written in UTC) left the rows already folded wrong until someone deleted the file."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from types import SimpleNamespace

import pytest

from hub.oversight import FACTS_FILE, discard_if_stale
from hub.oversight.materialize import FOLD_VERSION, FactStore


def _version(path: Path) -> int:
    db = sqlite3.connect(path)
    try:
        return int(db.execute("PRAGMA user_version").fetchone()[0])
    finally:
        db.close()


def test_a_new_file_is_stamped_and_kept(tmp_path: Path) -> None:
    path = tmp_path / FACTS_FILE
    FactStore(path).reader().close()
    assert _version(path) == FOLD_VERSION
    assert discard_if_stale(path) is False and path.exists()
    assert discard_if_stale(tmp_path / "none.sqlite") is False


def test_an_older_fold_is_discarded_with_its_wal(tmp_path: Path) -> None:
    path = tmp_path / FACTS_FILE
    store = FactStore(path)
    with store.transaction() as db:  # rows folded by this version ...
        db.execute("INSERT INTO meta VALUES ('since', '42')")
    store.reader().execute(f"PRAGMA user_version = {FOLD_VERSION - 1}")  # ... by an older one
    store.reader().close()
    Path(f"{path}-wal").write_bytes(b"")
    # opening it again does not stamp it: it holds rows, they stay stale until refolded
    FactStore(path).reader().close()
    assert _version(path) == FOLD_VERSION - 1
    assert discard_if_stale(path) is True
    assert not path.exists() and not Path(f"{path}-wal").exists()


def test_hub_serve_refolds_a_stale_file_before_its_gateways_open_it(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from hub.serve import _refold_if_stale

    path = tmp_path / FACTS_FILE
    db = sqlite3.connect(path)  # a file of a version before FOLD_VERSION existed: 0
    db.executescript("CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);"
                     "INSERT INTO meta VALUES ('since', '7');")
    db.close()
    _refold_if_stale(SimpleNamespace(hub_dir=str(tmp_path)))
    assert not path.exists() and "folding the feed again" in capsys.readouterr().err
    FactStore(path).reader().close()
    _refold_if_stale(SimpleNamespace(hub_dir=str(tmp_path)))  # the current version: kept
    assert path.exists() and capsys.readouterr().err == ""
