"""The case index's small writes (the 待上传 mark, the catch-up's store_seq) fail as the
node's errors, as its row writes do (docs/CONVENTIONS.md, "Errors": sqlite3's errors end
at the boundary): they raised raw ``sqlite3.OperationalError``, which the pages and the
sync loop showed as a crash, and a full disk was not told as one."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from node.errors import IndexFull, NodeError
from node.index import CaseIndex

LONG = "9" * 20_000  # larger than a page: a key of this needs new (overflow) pages


def _row(case_id: str, updated: str = "2026-01-02T03:04:05Z") -> dict[str, Any]:
    return {"case_id": case_id, "case_no": "X-1", "institution": "inst-1", "updated": updated,
            "status": "consulted"}


def _no_room(index: CaseIndex) -> Any:
    db = index._db
    db.execute("VACUUM")  # no free page left inside the file
    db.execute(f"PRAGMA max_page_count={db.execute('PRAGMA page_count').fetchone()[0]}")
    return db


def test_a_failed_meta_or_pending_write_is_the_nodes_error(tmp_path: Path) -> None:
    index = CaseIndex(tmp_path / "index.sqlite")
    try:
        index.upsert_many([(_row("c1"), [])])
        index.set_meta("store_seq", "7")
        index._db.execute("PRAGMA query_only=1")  # any write refused: a read-only file
        for write in (lambda: index.set_meta("store_seq", "8"),
                      lambda: index.set_pending(["c1"], True)):
            with pytest.raises(NodeError) as caught:
                write()
            assert not isinstance(caught.value, IndexFull) and caught.value.status == 500
            assert "index write failed" in caught.value.reason
            assert "readonly" in caught.value.reason  # SQLite's cause stays in the words
            assert isinstance(caught.value.__cause__, Exception)
            assert not index._db.in_transaction
        index._db.execute("PRAGMA query_only=0")
        assert index.get_meta("store_seq") == "7" and index.pending_ids() == set()
        index.set_pending(["c1"], True)
        assert index.pending_ids() == {"c1"}
    finally:
        index.close()


def test_no_room_for_meta_or_the_pending_mark_says_the_laptops_disk_is_full(
        tmp_path: Path) -> None:
    index = CaseIndex(tmp_path / "index.sqlite")
    try:
        # a row whose key in the 待上传 index (cases_pending: updated, case_id) needs pages
        index.upsert_many([(_row("c1", updated=LONG), []), (_row("c2"), [])])
        db = _no_room(index)
        with pytest.raises(IndexFull) as caught:
            index.set_meta("note", LONG)
        assert caught.value.status == 507 and "本机磁盘已满" in caught.value.reason
        with pytest.raises(IndexFull):
            index.set_pending(["c2", "c1"], True)  # one transaction: c2's mark undone too
        assert index.pending_ids() == set() and not db.in_transaction
        index.mark_pending("c1")  # after a stored step: the step stands, the mark waits
        assert index.pending_ids() == set()
        db.execute("PRAGMA max_page_count=4294967294")  # space freed
        index.mark_pending("c1")
        index.set_meta("note", LONG)
        assert index.pending_ids() == {"c1"} and index.get_meta("note") == LONG
    finally:
        index.close()
