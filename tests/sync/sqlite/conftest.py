"""Fixtures for the SQLite backend's own tests."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from sync.sqlite import SQLiteServer, SQLiteStore


@pytest.fixture
def store(tmp_path: Path) -> Iterator[SQLiteStore]:
    s = SQLiteStore(tmp_path / "db.sqlite")
    try:
        yield s
    finally:
        s.close()


@pytest.fixture
def server(tmp_path: Path) -> Iterator[SQLiteServer]:
    srv = SQLiteServer(tmp_path / "dbs")
    try:
        yield srv
    finally:
        srv.close()
