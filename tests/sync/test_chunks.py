"""sync.chunks: large sealed scans as content-addressed chunks (design.md §4)."""

from __future__ import annotations

import base64
import os

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sync.chunks import (
    CHUNK_BYTES,
    INLINE_MAX,
    INLINE_TOTAL_MAX,
    ChunkCorrupt,
    ChunksMissing,
    attachment_bytes,
    chunk_doc,
    chunk_id,
    inline_names,
    join,
    manifest,
    sha256_hex,
    sha_of_id,
    split,
)
from sync.errors import SyncError

CASE = "019ac1f2e3a0-0000-410621100201-A3"
SIZES = sorted({n + d for n in (0, 1, CHUNK_BYTES, 2 * CHUNK_BYTES, 5 * CHUNK_BYTES)
                for d in (-1, 0, 1) if n + d >= 0})


def _store(blob: bytes) -> tuple[dict, dict[str, bytes]]:
    parts = split(blob)
    return manifest("application/pdf", blob, parts), dict(parts)


@pytest.mark.parametrize("size", SIZES)
def test_round_trip_at_the_boundaries(size: int) -> None:
    blob = os.urandom(size)
    entry, chunks = _store(blob)
    assert join(entry, chunks.get) == blob
    assert entry["length"] == size and entry["sha256"] == sha256_hex(blob)
    assert len(entry["chunks"]) == max(1, -(-size // CHUNK_BYTES))
    assert all(len(c) <= CHUNK_BYTES for c in chunks.values())


@settings(max_examples=40, deadline=None)
@given(size=st.one_of(st.integers(0, 3 * CHUNK_BYTES + 2),
                      st.sampled_from(SIZES)), seed=st.binary(min_size=1, max_size=8))
def test_round_trip_property(size: int, seed: bytes) -> None:
    blob = (seed * (size // len(seed) + 1))[:size]  # repetitive: equal chunks dedupe by hash
    entry, chunks = _store(blob)
    assert join(entry, chunks.get) == blob
    assert sum(len(chunks[s]) for s in entry["chunks"]) == size


def test_missing_chunks_say_how_many_are_here() -> None:
    blob = os.urandom(3 * CHUNK_BYTES + 5)
    entry, chunks = _store(blob)
    del chunks[entry["chunks"][1]]
    with pytest.raises(ChunksMissing) as info:
        join(entry, chunks.get)
    exc = info.value
    assert isinstance(exc, SyncError) and exc.status == 409 and exc.error == "chunks_missing"
    assert (exc.have, exc.total) == (3, 4) and exc.missing == [entry["chunks"][1]]
    assert "3 of 4" in exc.reason


def test_corrupt_chunk_and_corrupt_manifest_are_refused() -> None:
    blob = os.urandom(2 * CHUNK_BYTES)
    entry, chunks = _store(blob)
    first = entry["chunks"][0]
    # flip the first byte's bits: a fixed replacement byte equals the random one 1 time in 256
    chunks[first] = bytes([chunks[first][0] ^ 0xFF]) + chunks[first][1:]
    with pytest.raises(ChunkCorrupt, match=first):
        join(entry, chunks.get)
    entry, chunks = _store(blob)
    with pytest.raises(ChunkCorrupt):
        join({**entry, "length": len(blob) - 1}, chunks.get)
    with pytest.raises(ChunkCorrupt):  # chunks swapped: each fine, the whole is not
        join({**entry, "chunks": entry["chunks"][::-1]}, chunks.get)
    with pytest.raises(ChunkCorrupt):
        join({**entry, "chunks": []}, chunks.get)


def test_chunk_doc_is_content_addressed() -> None:
    (sha, data), = split(b"sealed bytes")
    doc = chunk_doc(CASE, sha, data, institution="410621100201", device="410621100201-A3")
    assert doc["_id"] == chunk_id(CASE, sha) == f"chunk:{CASE}:{sha}"
    assert sha_of_id(doc["_id"]) == sha and doc["length"] == len(data)
    assert attachment_bytes(doc) == data
    assert base64.b64decode(doc["_attachments"]["data"]["data"]) == data
    assert attachment_bytes({"_attachments": {"data": {"data": "not base64!"}}}) is None
    assert attachment_bytes({}) is None


def test_inline_names_keep_small_blobs_within_the_event_budget() -> None:
    assert inline_names([("signature.png", 9_000), ("a", INLINE_MAX), ("b", INLINE_MAX + 1)]) \
        == {"signature.png", "a"}
    many = [(f"s{i}", INLINE_MAX) for i in range(6)]
    kept = inline_names(many)
    assert len(kept) == INLINE_TOTAL_MAX // INLINE_MAX and "s0" in kept


def test_every_document_of_a_scan_fits_a_link_that_breaks_every_200kb() -> None:
    # design.md §4; a request longer than a link's run between breaks never gets through
    # (tests/e2e/test_bad_link.py: 256 KiB chunks, ~350 kB of JSON, never went up).
    import json

    sealed = os.urandom(5_000_000)
    docs = [chunk_doc(CASE, sha, data, institution="410621100201", device="410621100201-A3")
            for sha, data in split(sealed)]
    assert max(len(json.dumps(d)) for d in docs) <= 100_000
    assert INLINE_TOTAL_MAX * 4 // 3 <= 190_000  # an event's inline scans, as base64
