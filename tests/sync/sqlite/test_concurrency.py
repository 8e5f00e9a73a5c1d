"""One writer at a time, many readers: threads and processes sharing one file."""

from __future__ import annotations

import subprocess
import sys
import threading
from pathlib import Path

from sync.sqlite import SQLiteStore

ROOT = Path(__file__).resolve().parents[3]

WRITER = """
import sys
from sync.sqlite import SQLiteStore
store = SQLiteStore(sys.argv[1])
for b in range(20):
    store.bulk_docs([{"_id": f"{sys.argv[2]}-{b:03d}-{n:02d}"} for n in range(25)])
store.close()
"""


def test_threads_write_and_read_concurrently(store: SQLiteStore) -> None:
    errors: list[BaseException] = []
    seen_seqs: list[list[int]] = []

    def write(tag: str) -> None:
        try:
            for b in range(20):
                store.bulk_docs([{"_id": f"{tag}-{b:03d}-{n:02d}"} for n in range(10)])
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    def read() -> None:
        try:
            for _ in range(30):
                feed = store.changes()
                seen_seqs.append([r["seq"] for r in feed["results"]])
                store.all_docs(limit=5, include_docs=True)
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=write, args=(f"w{i}",)) for i in range(4)]
    threads += [threading.Thread(target=read) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert store.info()["doc_count"] == 4 * 20 * 10
    # every snapshot a reader saw is a consistent, strictly increasing feed
    for seqs in seen_seqs:
        assert seqs == sorted(set(seqs)) and len(seqs) % 10 == 0


def test_processes_share_one_file(tmp_path: Path) -> None:
    path = tmp_path / "shared.sqlite"
    SQLiteStore(path).close()
    procs = [
        subprocess.Popen([sys.executable, "-c", WRITER, str(path), f"p{i}"], cwd=ROOT)
        for i in range(3)
    ]
    for p in procs:
        assert p.wait(timeout=120) == 0
    with SQLiteStore(path) as store:
        feed = store.changes()["results"]
        assert len(feed) == 3 * 20 * 25
        assert [r["seq"] for r in feed] == list(range(1, 3 * 20 * 25 + 1))
