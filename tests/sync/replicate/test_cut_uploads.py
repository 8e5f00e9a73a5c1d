"""Uploads over a link that breaks every few hundred kB (design.md §4; the bad-link e2e
run found it): the push of a 5 MB scan from a village laptop never got through, because
the first ``_bulk_docs`` carried 25 scan chunks (megabytes) and a broken upload was
retried whole until the attempts ran out, round after round."""

from __future__ import annotations

import base64
import json
import os
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import pytest

from sync.errors import InsufficientStorage, SyncError, TransportError
from sync.replicate import replicate
from sync.replicate.write import pieces
from sync.sqlite import SQLiteStore

from .helpers import Flaky, snapshot

RUN = 200_000  # the link breaks after this many bytes of one request


def _cut_link(target: SQLiteStore, run: int = RUN) -> tuple[Flaky, list[int]]:
    """``target`` behind a link that breaks any ``_bulk_docs`` body longer than ``run``
    (as a connection cut every ``run`` bytes does, whatever the retries); the sizes sent."""
    flaky = Flaky(target)
    sent: list[int] = []

    def cut(docs: Sequence[Mapping[str, Any]], **_k: Any) -> None:
        size = len(json.dumps({"docs": list(docs), "new_edits": False}))
        sent.append(size)
        if size > run:
            raise TransportError("connection reset by peer")

    flaky.hooks["bulk_docs"] = cut
    return flaky, sent


def _scan_chunks(source: SQLiteStore, n: int, size: int) -> None:
    source.bulk_docs([{"_id": f"chunk:c:{i:04d}", "type": "chunk", "_attachments": {"data": {
        "content_type": "application/octet-stream",
        "data": base64.b64encode(os.urandom(size)).decode()}}} for i in range(n)])


def test_a_scan_in_chunks_goes_up_a_link_that_breaks_every_200kb(tmp_path: Path) -> None:
    with SQLiteStore(tmp_path / "laptop.sqlite") as laptop, \
            SQLiteStore(tmp_path / "hub.sqlite") as hub:
        _scan_chunks(laptop, 40, 65_536)  # 2.6 MB of sealed scan, ~88 kB of JSON a chunk
        link, sent = _cut_link(hub)
        result = replicate(laptop, link.as_store(), max_attempts=3, backoff_base=0.01)
        assert result.ok and result.docs_written == 40
        assert snapshot(laptop) == snapshot(hub)
        # nothing sent whole more than once: the failed uploads are few and short-lived
        assert sum(1 for s in sent if s > RUN) <= 3


def test_a_broken_upload_is_halved_not_given_up(tmp_path: Path) -> None:
    # The first uploads are held to 128 kB; this link breaks anything over 60 kB:
    # halving finds what gets through, with 2 attempts only.
    with SQLiteStore(tmp_path / "laptop.sqlite") as laptop, \
            SQLiteStore(tmp_path / "hub.sqlite") as hub:
        _scan_chunks(laptop, 12, 20_000)  # ~27 kB of JSON each
        link, sent = _cut_link(hub, 60_000)
        result = replicate(laptop, link.as_store(), max_attempts=2, backoff_base=0.01)
        assert result.docs_written == 12 and snapshot(laptop) == snapshot(hub)
        assert max(sent) > 60_000  # it did break


def test_pieces_keep_order_and_each_under_the_limit_unless_alone() -> None:
    docs = [{"_id": str(i), "pad": "x" * n} for i, n in enumerate([10, 50, 10, 300, 10, 10])]
    parts = pieces(docs, 100)
    assert [d["_id"] for p in parts for d in p] == [str(i) for i in range(6)]
    assert [[d["_id"] for d in p] for p in parts] == [["0", "1"], ["2"], ["3"], ["4", "5"]]


def test_each_upload_that_gets_through_is_reported_not_only_the_batch(tmp_path: Path) -> None:
    # 12 scan chunks are one batch, and at 256 kbit/s its uploads take a minute: the node's
    # badge showed "syncing" with no count all that time (the bad-link e2e run).
    with SQLiteStore(tmp_path / "laptop.sqlite") as laptop, \
            SQLiteStore(tmp_path / "hub.sqlite") as hub:
        _scan_chunks(laptop, 12, 40_000)  # ~54 kB of JSON each: 2 per 128 kB upload
        seen: list[int] = []
        result = replicate(laptop, hub, progress=lambda p: seen.append(p.docs_written))
        assert result.docs_written == 12
        assert len({n for n in seen if 0 < n < 12}) >= 3, seen


@pytest.mark.parametrize("error", [
    # A black hole mid-push: every upload times out, whatever its size. Halving each time
    # (40, 20, 10, 5, 2, 1 documents, then the single one's attempts) waited a timeout per
    # step, minutes at the node's 20 s, with the badge saying "syncing".
    lambda: TransportError("ReadTimeout: Read timed out."),
    # A full hub (507; a store down, 503; slow down, 429) answered, and answers the same to
    # a smaller request. Taken for a cut, the upload was halved and every half sent: the
    # batch up the link ~log2(n) times over, round after round while the hub stayed full.
    lambda: InsufficientStorage("the hub's storage is full"),
], ids=["timeout", "hub-full"])
def test_a_peer_that_times_out_or_says_not_now_is_given_up_after_the_attempts(
        tmp_path: Path, error: Callable[[], SyncError]) -> None:
    with SQLiteStore(tmp_path / "laptop.sqlite") as laptop, \
            SQLiteStore(tmp_path / "hub.sqlite") as hub:
        laptop.bulk_docs([{"_id": f"event:{i:03d}", "n": i} for i in range(40)])
        hole = Flaky(hub, error=error)
        hole.fail["bulk_docs"] = 1000
        with pytest.raises(type(error())):
            replicate(laptop, hole.as_store(), max_attempts=3, backoff_base=0.01,
                      batch_size=40, pipeline=False)
        assert hole.failed["bulk_docs"] == 3
