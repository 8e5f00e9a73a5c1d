"""`hub doctor` on a CouchDB that takes the connection and never answers (hub.doctor.
STORE_TIMEOUT).

Found at a 2 a.m. run of the runbook with PouchDB Server stopped (SIGSTOP: a hung VM, a
stalled disk): the operator's first look printed nothing for minutes, each of its reads
waiting out the CouchDB client's 120 s default, while stations already said "sync failed".
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_a_couchdb_that_never_answers_fails_the_store_line_in_time(tmp_path: Path) -> None:
    with socket.socket() as hung:  # listening, never accepting: connects, never answers
        hung.bind(("127.0.0.1", 0))
        hung.listen(16)
        port = hung.getsockname()[1]
        (tmp_path / "settings.json").write_text(
            f'{{"couchdb_url": "http://bangban:s3cret@127.0.0.1:{port}"}}', encoding="utf-8")
        try:  # the client's default read wait alone is 120 s: the old doctor was cut here
            res = subprocess.run([sys.executable, "-m", "ops.cli", "hub", "--hub-dir",
                                  str(tmp_path), "doctor"], cwd=ROOT, capture_output=True,
                                 text=True, timeout=90)
        except subprocess.TimeoutExpired as exc:
            raise AssertionError("hub doctor gave no answer in 90 s") from exc
    assert res.returncode == 2, res.stderr
    first = res.stdout.splitlines()[0]
    assert first.startswith("FAIL  store"), res.stdout
    assert f"CouchDB at 127.0.0.1:{port}" in first and "did not answer in time" in first
    assert "s3cret" not in res.stdout and "Traceback" not in res.stdout + res.stderr


def test_serve_waiting_for_a_couchdb_that_never_answers_says_so_and_gives_up(
        tmp_path: Path) -> None:
    """The same hung CouchDB at `hub serve`'s start (hub.serve.PROBE_TIMEOUT): its first try
    waited the client's 120 s, silent, then said "did not answer in 8 s"."""
    with socket.socket() as hung:
        hung.bind(("127.0.0.1", 0))
        hung.listen(16)
        port = hung.getsockname()[1]
        (tmp_path / "settings.json").write_text(
            f'{{"couchdb_url": "http://bangban:s3cret@127.0.0.1:{port}"}}', encoding="utf-8")
        try:
            res = subprocess.run([sys.executable, "-m", "ops.cli", "hub", "--hub-dir",
                                  str(tmp_path), "serve"], cwd=ROOT, capture_output=True,
                                 text=True, timeout=90, env={**os.environ,
                                                             "BANGBAN_STORE_WAIT": "8"})
        except subprocess.TimeoutExpired as exc:
            raise AssertionError("hub serve still waited after 90 s (store_wait 8)") from exc
    assert res.returncode == 2, res.stderr
    assert f"hub: waiting for CouchDB at 127.0.0.1:{port}" in res.stderr, res.stderr
    assert "did not answer in time" in res.stderr and "s3cret" not in res.stderr
    assert "Traceback" not in res.stderr
