"""The hub's disk full: a device's push gets 507 insufficient_storage and retries, nothing
is lost or refused, and the push goes through once space is freed; the operator reads one
line naming the folder and its free space, `hub doctor` says full, the workers do not loop
on tracebacks (tests.diskfull fills the stores without root or a tmpfs)."""

from __future__ import annotations

import base64
import collections
import logging
import sqlite3
import threading
from pathlib import Path
from typing import Any

import pytest

from hub import diskfull, doctor
from hub.app import create_app
from hub.storage import couchdb_errors
from hub.workers import Workers
from sync.errors import InsufficientStorage, SyncError
from sync.replicate import ReplicationOptions, replicate
from tests.diskfull import full_disk
from tests.hub.conftest import VILLAGE_A, World

FAST = ReplicationOptions(max_attempts=2, backoff_cap=0.01)


def _hub_stores(world: World) -> list[Any]:
    s = world.hub.stores
    return [s.main, s.receipts, s.private, s.scope(VILLAGE_A)]


def test_a_push_into_a_full_hub_is_retried_and_nothing_is_refused(world: World) -> None:
    a = world.node(VILLAGE_A)
    case_id = a.new_case()
    with full_disk(*_hub_stores(world)), pytest.raises(SyncError) as caught:
        replicate(a.store, a.remote, FAST)
    assert caught.value.status == 507 and caught.value.error == "insufficient_storage"
    assert f"case:{case_id}" not in {r["id"] for r in world.hub.stores.main.all_docs()["rows"]}
    # space freed: the next round takes it all, nothing was counted as refused
    pushed = a.sync()
    assert pushed["refused"] == 0 and pushed["pushed"] >= 1
    assert world.hub.stores.main.get(f"case:{case_id}")["_id"] == f"case:{case_id}"


def test_a_device_gets_507_and_the_operator_one_line_with_the_folder(
        world: World, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(diskfull, "_last_logged", [float("-inf"), 0])
    caplog.set_level(logging.WARNING)
    a = world.node(VILLAGE_A)
    case_id = a.new_case()
    docs = [leaf["ok"] for row in a.store.all_docs()["rows"] if case_id in row["id"]
            for leaf in a.store.open_revs(row["id"], "all", attachments=True) if "ok" in leaf]
    assert docs
    login = {"Authorization": "Basic " + base64.b64encode(
        f"{a.device_id}:{a.secret}".encode()).decode()}
    client = create_app(hub=world.hub).test_client()
    url = f"/{world.hub.stores.prefix}/_bulk_docs"
    with full_disk(*_hub_stores(world)):
        answers = [client.post(url, json={"docs": docs, "new_edits": False}, headers=login)
                   for _ in range(3)]
    for answer in answers:
        assert answer.status_code == 507, answer.get_data(as_text=True)
        body = answer.get_json()
        assert body["error"] == "insufficient_storage" and "retry" in body["reason"]
        assert str(world.hub.settings.hub_dir) not in body["reason"]  # the folder: log only
    lines = [r for r in caplog.records if "disk is full" in r.getMessage()]
    assert len(lines) == 1, caplog.text  # one line per gateway per LOG_EVERY
    assert str(Path(world.hub.settings.hub_dir) / "db") in lines[0].getMessage()
    assert " free of " in lines[0].getMessage() and lines[0].exc_info is None
    again = client.post(url, json={"docs": docs, "new_edits": False}, headers=login)
    assert again.status_code == 201, again.get_data(as_text=True)


def _sqlite_full(tmp_path: Path) -> sqlite3.OperationalError:
    """A real SQLITE_FULL (what the oversight materializer meets on a full disk)."""
    db = sqlite3.connect(tmp_path / "facts.sqlite")
    db.execute("CREATE TABLE t(v)")
    db.execute("PRAGMA max_page_count=2")
    try:
        db.execute("INSERT INTO t VALUES (?)", ("x" * 100_000,))
    except sqlite3.OperationalError as exc:
        return exc
    finally:
        db.close()
    raise AssertionError("no SQLITE_FULL")


def test_the_workers_say_a_full_disk_once_without_tracebacks(
        world: World, tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    """The oversight pass logged a traceback at every pass (every 2 s) while the disk was
    full."""
    caplog.set_level(logging.WARNING)
    full = _sqlite_full(tmp_path)
    calls = collections.Counter[str]()
    enough = threading.Event()

    def oversight() -> None:
        calls["n"] += 1
        if calls["n"] >= 4:
            enough.set()
        raise full

    workers = Workers(world.hub, interval=0.01, passes=[oversight])
    workers.start()
    try:
        assert enough.wait(60)
    finally:
        workers.stop()
    said = [r for r in caplog.records if r.name == "bangban.hub.workers"]
    assert len(said) == 1 and "disk is full" in said[0].getMessage(), caplog.text
    assert " free of " in said[0].getMessage()
    assert all(r.exc_info is None for r in caplog.records), caplog.text


def test_doctor_says_a_full_disk_is_full_in_units_one_reads(
        world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    """It said "warn  0.0 GiB free of 0.0 GiB" of a 4 MB disk with 12 kB left."""
    usage = collections.namedtuple("usage", "total used free")
    monkeypatch.setattr(diskfull.shutil, "disk_usage",
                        lambda path: usage(4_194_304, 4_182_016, 12_288))
    check = doctor.check_disk(world.hub)
    assert check.status == "fail", check
    assert "12.3 kB free of 4.2 MB" in check.detail and "db" in check.detail
    assert "507" in check.hint and "retry" in check.hint


def test_couchdb_out_of_space_is_the_same_507() -> None:
    """CouchDB without its disk monitor answers a write on a full disk with a 500 naming
    enospc (apache/couchdb issues 3975, 5265): a device must hear 'retry', not a crash."""
    said = couchdb_errors("http://admin:pw@db:5984")(SyncError(
        "no match of right hand value {error,enospc}", error="unknown_error", status=500))
    assert isinstance(said, InsufficientStorage) and said.status == 507
