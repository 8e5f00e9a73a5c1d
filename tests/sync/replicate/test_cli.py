"""``bangban replicate`` between embedded files (the URL side runs in the interop tests)."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from ops.cli import main
from sync.sqlite import SQLiteStore

from .helpers import make_docs, snapshot

ROOT = Path(__file__).resolve().parents[3]


def test_replicate_json_summary_and_resume(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    src_path, dst_path = tmp_path / "a.sqlite", tmp_path / "b.sqlite"
    with SQLiteStore(src_path) as src:
        make_docs(src, 40)
    code = main(["replicate", str(src_path), str(dst_path), "--create-target", "--json"])
    out, err = capsys.readouterr()
    assert code == 0, err
    summary = json.loads(out)
    assert summary["docs_read"] == summary["docs_written"] == 40
    assert summary["doc_write_failures"] == 0 and summary["failures"] == []
    for key in ("bytes_sent", "bytes_received", "requests", "seconds"):
        assert key in summary
    assert "replicate:" in err  # plain progress lines on a non-terminal
    with SQLiteStore(src_path) as src, SQLiteStore(dst_path) as dst:
        assert snapshot(src) == snapshot(dst)
    # Again: the checkpoint says there is nothing left.
    assert main(["replicate", str(src_path), str(dst_path), "--json", "--quiet"]) == 0
    again = json.loads(capsys.readouterr().out)
    assert again["docs_read"] == 0 and again["start_last_seq"] == summary["last_seq"]


def test_replicate_filtered_by_doc_ids_and_selector(tmp_path: Path,
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    src_path = tmp_path / "a.sqlite"
    with SQLiteStore(src_path) as src:
        make_docs(src, 10)
        make_docs(src, 3, prefix="ev", type="event")
    ids_path, sel_path = tmp_path / "ids.sqlite", tmp_path / "sel.sqlite"
    assert main(["replicate", str(src_path), str(ids_path), "--create-target", "--quiet",
                 "--doc-ids", "doc00002", "doc00007"]) == 0
    assert main(["replicate", str(src_path), str(sel_path), "--create-target", "--quiet",
                 "--selector", '{"type": "event"}']) == 0
    with SQLiteStore(ids_path) as ids, SQLiteStore(sel_path) as sel:
        assert sorted(snapshot(ids)) == ["doc00002", "doc00007"]
        assert sorted(snapshot(sel)) == ["ev00000", "ev00001", "ev00002"]


def test_missing_target_without_create_is_an_error(tmp_path: Path,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    src_path = tmp_path / "a.sqlite"
    SQLiteStore(src_path).close()
    assert main(["replicate", str(src_path), str(tmp_path / "nope.sqlite")]) == 1
    assert "does not exist" in capsys.readouterr().err


def test_continuous_follows_changes_and_stops_on_sigterm(tmp_path: Path) -> None:
    src_path, dst_path = tmp_path / "a.sqlite", tmp_path / "b.sqlite"
    with SQLiteStore(src_path) as src:
        make_docs(src, 5)
    proc = subprocess.Popen(
        [sys.executable, "-m", "ops.cli", "replicate", str(src_path), str(dst_path),
         "--create-target", "--continuous", "--json"],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        def wait_for(count: int) -> None:
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline:
                if dst_path.exists():
                    with SQLiteStore(dst_path) as dst:
                        if dst.info()["doc_count"] >= count:
                            return
                time.sleep(0.1)
            raise AssertionError(f"target never reached {count} docs")

        wait_for(5)
        with SQLiteStore(src_path) as src:
            make_docs(src, 3, start=5)  # picked up by the waiting longpoll
        wait_for(8)
        started = time.monotonic()
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=20)
        assert time.monotonic() - started < 10  # not a whole longpoll timeout
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 0, err
    summary = json.loads(out)
    assert summary["cancelled"] is True and summary["docs_written"] == 8
