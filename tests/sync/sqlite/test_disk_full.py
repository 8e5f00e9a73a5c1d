"""A full disk under the embedded store: a clear 507, nothing lost, and the store works
again once space is freed (SQLITE_FULL, simulated with tests.diskfull)."""

from __future__ import annotations

import collections
import os
import sqlite3
from pathlib import Path

import pytest

from sync.errors import InsufficientStorage, SyncError, from_status
from sync.replicate.retry import is_retryable
from sync.sqlite import SQLiteStore, _db
from sync.sqlite._db import translate_errors
from tests.diskfull import full_disk

BIG = "x" * 4000  # a document larger than a page: it needs new pages


def _tree(store: SQLiteStore, docid: str) -> list[str]:
    return sorted(leaf["ok"]["_rev"] for leaf in store.open_revs(docid, "all") if "ok" in leaf)


def test_a_full_disk_refuses_the_write_with_507_and_keeps_everything(store: SQLiteStore) -> None:
    first = store.put({"_id": "case:1", "n": 1})
    store.put({"_id": "case:1", "_rev": first["rev"], "n": 2})
    # a conflict: a second branch grafted from a replication
    store.bulk_docs([{"_id": "case:1", "_rev": "2-" + "b" * 32, "n": 9,
                      "_revisions": {"start": 2, "ids": ["b" * 32, first["rev"][2:]]}}],
                    new_edits=False)
    store.bulk_docs([{"_id": f"old:{i}", "v": i} for i in range(20)])
    leaves, info = _tree(store, "case:1"), store.info()

    with full_disk(store), pytest.raises(InsufficientStorage) as caught:
        store.bulk_docs([{"_id": f"new:{i}", "v": BIG} for i in range(30)])
    assert caught.value.status == 507 and caught.value.error == "insufficient_storage"
    assert "disk" in caught.value.reason and "full" in caught.value.reason
    assert caught.value.where == os.path.abspath(store.path)  # which disk: this file's

    # nothing of the failed request, everything from before
    assert store.info()["doc_count"] == info["doc_count"]
    assert store.info()["update_seq"] == info["update_seq"]
    assert _tree(store, "case:1") == leaves
    assert store.get("old:7")["v"] == 7

    # space freed: the same store (same writer connection) writes again
    store.bulk_docs([{"_id": f"new:{i}", "v": BIG} for i in range(30)])
    winner = store.get("case:1")
    store.put({"_id": "case:1", "_rev": winner["_rev"], "n": 3})
    assert store.info()["doc_count"] == info["doc_count"] + 30
    assert len(_tree(store, "case:1")) == 2
    assert [r["id"] for r in store.changes(since=info["update_seq"])["results"]][-1] == "case:1"


def test_a_full_disk_on_a_local_document_is_the_same_507(store: SQLiteStore) -> None:
    store.put_local({"_id": "_local/cp", "seq": 1})
    with full_disk(store), pytest.raises(InsufficientStorage):
        store.put_local({"_id": "_local/big", "v": BIG * 10})
    store.put_local({"_id": "_local/big", "v": BIG * 10})
    assert store.get_local("_local/cp")["seq"] == 1


def test_507_from_a_peer_is_the_same_error_and_retryable() -> None:
    # CouchDB's disk monitor answers 507 insufficient_storage: a replicator retries it
    exc = from_status(507, "insufficient_storage", "disk full")
    assert isinstance(exc, InsufficientStorage) and is_retryable(exc)


def _sqlite_error(name: str) -> sqlite3.OperationalError:
    """An error as sqlite3 raises it: its message and its (extended) result code."""
    exc = sqlite3.OperationalError("disk I/O error")
    exc.sqlite_errorcode = getattr(sqlite3, name)  # type: ignore[attr-defined]
    exc.sqlite_errorname = name  # type: ignore[attr-defined]
    return exc


def test_a_full_disk_said_as_an_io_error_is_the_same_507(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Opening a store on a full tmpfs answered SQLITE_IOERR_SHMSIZE (no room for its -shm
    file): a 500 "disk I/O error" that named no disk. Other I/O errors are a full disk only
    while the file's disk has (almost) no room."""
    path = str(tmp_path / "db.sqlite")
    with pytest.raises(InsufficientStorage) as caught, translate_errors(path):
        raise _sqlite_error("SQLITE_IOERR_SHMSIZE")
    assert caught.value.where == path
    with pytest.raises(SyncError) as other, translate_errors(path):
        raise _sqlite_error("SQLITE_IOERR_WRITE")
    assert other.value.status == 500  # a disk with room: a real I/O error
    usage = collections.namedtuple("usage", "total used free")
    monkeypatch.setattr(_db.shutil, "disk_usage", lambda p: usage(4 << 20, 4 << 20, 0))
    with pytest.raises(InsufficientStorage), translate_errors(path):
        raise _sqlite_error("SQLITE_IOERR_WRITE")
