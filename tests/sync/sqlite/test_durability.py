"""kill -9 at any moment loses no acknowledged write, and each bulk_docs is atomic."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest

from sync.errors import PreconditionFailed
from sync.sqlite import SQLiteStore

ROOT = Path(__file__).resolve().parents[3]


def _run_and_kill(path: Path, batch_size: int, acked_before_kill: int) -> list[tuple[int, str]]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "tests.sync.sqlite.crash_writer", str(path), str(batch_size)],
        cwd=ROOT, stdout=subprocess.PIPE, text=True,
    )
    acked: list[tuple[int, str]] = []
    try:
        assert proc.stdout is not None
        while len(acked) < acked_before_kill:
            line = proc.stdout.readline()
            assert line, "writer exited early"
            batch, rev = line.split()
            acked.append((int(batch), rev))
        os.kill(proc.pid, signal.SIGKILL)  # mid-run: it is inside its next bulk_docs
        # Lines already written to the pipe were acknowledged too.
        for line in proc.stdout.read().splitlines():
            batch, rev = line.split()
            acked.append((int(batch), rev))
    finally:
        proc.kill()
        proc.wait()
    assert proc.returncode == -signal.SIGKILL
    return acked


@pytest.mark.e2e
@pytest.mark.parametrize("batch_size", [1, 250])
def test_kill9_loses_no_acknowledged_write_and_batches_are_atomic(
    tmp_path: Path, batch_size: int
) -> None:
    path = tmp_path / "crash.sqlite"
    acked = _run_and_kill(path, batch_size, acked_before_kill=40)
    with SQLiteStore(path) as store:
        for batch, rev in acked:
            assert store.get(f"b{batch:06d}-0000")["_rev"] == rev
        rows = store.all_docs()["rows"]
        per_batch = Counter(int(r["id"][1:7]) for r in rows)
        # all or nothing per bulk_docs: no batch is half written
        assert set(per_batch.values()) == {batch_size}
        assert max(per_batch) >= max(b for b, _ in acked)
        # the feed is consistent with the documents
        assert len(store.changes()["results"]) == len(rows)
        assert store.info()["update_seq"] == len(rows)


def test_failed_bulk_docs_stores_nothing(store: SQLiteStore) -> None:
    store.put({"_id": "keep", "v": 1})
    before = store.info()
    with pytest.raises(PreconditionFailed):
        store.bulk_docs([
            {"_id": "new1", "v": 1},
            {"_id": "keep", "_rev": store.get("keep")["_rev"], "v": 2},
            {"_id": "bad", "_attachments": {"a.txt": {"stub": True, "content_type": "text/plain"}}},
        ])
    assert store.info()["update_seq"] == before["update_seq"]
    assert store.get("keep")["v"] == 1
    assert store.all_docs(keys=["new1"])["rows"] == [{"key": "new1", "error": "not_found"}]
