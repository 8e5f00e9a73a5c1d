"""Fixtures of the interop tests: PouchDB Server databases, a real ``bangban store
serve`` process, the PouchDB 9 replicator script, seeded databases with conflicts."""

from __future__ import annotations

import base64
import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from sync.store import DocumentStore

ROOT = Path(__file__).resolve().parents[3]
POUCHDB_SCRIPT = ROOT / "ops" / "pouchdb" / "replicate.js"


def seed(store: DocumentStore, n: int = 120, *, conflicts: int = 20, deletions: int = 10,
         prefix: str = "doc", payload: int = 0) -> None:
    """``n`` docs, ``conflicts`` of them with a second branch (new_edits=false),
    ``deletions`` deleted, a few edited twice, one with an attachment."""
    # Random (incompressible) padding: PouchDB Server gzips its answers.
    docs = [{"_id": f"{prefix}{i:05d}", "type": "case", "n": i,
             "pad": base64.b64encode(os.urandom(payload * 3 // 4)).decode()} for i in range(n)]
    revs = {r["id"]: r["rev"] for r in store.bulk_docs(docs)}
    branches = []
    for i in range(0, min(n, conflicts * 3), 3):
        doc_id = f"{prefix}{i:05d}"
        for side in "ab":  # two children of rev 1: a conflict with a common ancestor
            digest = f"{side}{i:031x}"
            branches.append({"_id": doc_id, "_rev": f"2-{digest}", "type": "case", "side": side,
                             "_revisions": {"start": 2,
                                            "ids": [digest, revs[doc_id].split("-")[1]]}})
    if branches:
        store.bulk_docs(branches, new_edits=False)
    # Deletions and edits on docs without a second branch (i % 3 != 0), so that
    # the rev from bulk_docs is still the leaf.
    for i in range(1, min(n, deletions * 3), 3):
        doc_id = f"{prefix}{i:05d}"
        store.delete(doc_id, revs[doc_id])
    for i in range(2, min(n, 20), 3):
        doc_id = f"{prefix}{i:05d}"
        doc = store.get(doc_id)
        store.put({**doc, "edited": True})
    data = base64.b64encode(b"scan bytes " * 300).decode()
    store.put({"_id": f"{prefix}-scan", "type": "case",
               "_attachments": {"scan.bin": {"content_type": "application/octet-stream",
                                             "data": data}}})


@pytest.fixture
def couch_store(couchdb_url: str, couchdb_dbname: str) -> Iterator[DocumentStore]:
    """A fresh database on PouchDB Server."""
    from sync.couch import CouchServer

    server = CouchServer(couchdb_url)
    store = server.create_db(couchdb_dbname)
    try:
        yield store
    finally:
        with contextlib.suppress(Exception):
            server.delete_db(couchdb_dbname)
        server.close()


@dataclass
class Served:
    url: str
    directory: Path
    process: subprocess.Popen[str]


@pytest.fixture
def served(tmp_path: Path) -> Iterator[Served]:
    """A real ``bangban store serve DIR --port 0`` process (engineer C's server)."""
    directory = tmp_path / "served"
    proc = subprocess.Popen(
        [sys.executable, "-m", "ops.cli", "store", "serve", str(directory), "--port", "0"],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"}, start_new_session=True,
    )
    assert proc.stdout is not None
    deadline = time.monotonic() + 30
    line = ""
    while time.monotonic() < deadline and " at http://" not in line and proc.poll() is None:
        line = proc.stdout.readline()
    try:
        if " at http://" not in line:
            raise RuntimeError(f"bangban store serve did not start: {line!r}")
        yield Served(line.rsplit(" at ", 1)[1].strip().rstrip("/"), directory, proc)
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.kill(proc.pid, signal.SIGTERM)
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            os.kill(proc.pid, signal.SIGKILL)
            proc.wait(10)


def run_pouchdb(source: str, target: str, *extra: str, timeout: float = 240) -> dict[str, Any]:
    """Run PouchDB 9's replicator (ops/pouchdb/replicate.js) and return its summary."""
    out = subprocess.run(["node", str(POUCHDB_SCRIPT), source, target, *extra], cwd=ROOT,
                         capture_output=True, text=True, timeout=timeout)
    lines = out.stdout.strip().splitlines()
    if out.returncode != 0 or not lines:
        raise AssertionError(f"PouchDB replicator failed: {out.stdout[-2000:]} {out.stderr[-2000:]}")
    summary: dict[str, Any] = json.loads(lines[-1])
    return summary


def export_docs(store: DocumentStore, ids: list[str]) -> list[dict[str, Any]]:
    """Every leaf of every doc with ``_revisions`` and attachments (for ``--load``)."""
    docs = []
    for doc_id in ids:
        for entry in store.open_revs(doc_id, "all", attachments=True):
            if "ok" in entry:
                docs.append(entry["ok"])
    return docs
