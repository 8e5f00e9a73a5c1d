"""``sync.sqlite.quick_check``: what the backups run on the store files they copy."""

from __future__ import annotations

from pathlib import Path

import pytest

from sync.errors import SyncError
from sync.sqlite import SQLiteStore, quick_check
from tests.diskfull import damage


def test_sound_damaged_and_foreign_files(tmp_path: Path) -> None:
    path = tmp_path / "s.sqlite"
    store = SQLiteStore(str(path))
    store.bulk_docs([{"_id": f"d{i}", "v": "x" * 2000} for i in range(40)])
    assert quick_check(path) == []  # while open, with its -wal beside it
    store.close()
    assert quick_check(path) == []
    damage(path)
    assert quick_check(path)  # what SQLite found, to name in the refusal
    other = tmp_path / "notes.txt"
    other.write_text("not a database " * 200)
    assert quick_check(other)


def test_a_file_that_cannot_be_read_is_an_error_not_damage(tmp_path: Path) -> None:
    with pytest.raises(SyncError):
        quick_check(tmp_path / "missing.sqlite")
