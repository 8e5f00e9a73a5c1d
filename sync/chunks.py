"""Large scans as content-addressed chunks (design.md §4: "Documents before attachments;
large scans split into content-addressed chunks so an interrupted upload resumes where it
stopped").

Pure functions, no IO. A *sealed* attachment blob (already AES-GCM sealed with the case key
by :meth:`sync.crypto.CaseKey.seal_attachment`, so every byte here is ciphertext) longer
than :data:`INLINE_MAX` is cut into :data:`CHUNK_BYTES` slices. Each slice becomes its own
``chunk`` document, ``_id = "chunk:{case_id}:{sha256 of the slice}"``, with the slice as
its one attachment ``data``. The event keeps a cleartext *manifest* under ``chunked``:
``{"content_type", "length", "sha256" (of the whole sealed blob), "chunks": [sha256, ...]}``.

Why this shape:

* every document stays far below the hub's ``max_document_bytes`` (1 MiB of JSON with
  inline base64 attachments, hub/settings.py), whatever the scan's size;
* replication moves whole documents, and the replicator's requests are capped at 256 kB
  (sync/replicate/options.py ``max_batch_bytes``) and at the link's run between breaks: a
  cut link loses at most the chunks of one request, and
  the checkpoint after every batch means the next sync sends only the chunks still missing;
* the id names the bytes, so a chunk is immutable and any holder (hub, town node) can check
  it without the case key; the event's device signature covers the manifest, so the event
  alone proves which chunks make the scan and the whole blob's hash proves their order.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from sync.errors import SyncError

#: Bytes of sealed data per chunk: 64 KiB is ~88 kB of JSON (base64). A village link that
#: breaks every ~200 kB never carries a longer request, however often it is retried, so a
#: chunk must fit in one run with room to spare (256 KiB chunks, ~350 kB each, never got
#: up such a link: tests/e2e/test_bad_link.py); the replicator's uploads are held to the
#: link's measured run between breaks (sync/replicate/batching.py ``byte_limit``).
CHUNK_BYTES = 65_536
#: Sealed blobs up to this size stay inline attachments of their event (the drawn
#: ``signature.png`` and small photos): 64 KiB is ~88 kB of base64, a chunk's weight.
INLINE_MAX = 65_536
#: Inline sealed bytes one event may carry in all (~175 kB of base64): the event still
#: fits in one run of a link that breaks every ~200 kB; beyond it files are chunked.
INLINE_TOTAL_MAX = 2 * INLINE_MAX
CHUNK_PREFIX = "chunk:"
CHUNK_TYPE = "chunk"
DATA = "data"  # the one attachment of a chunk document
OCTET_STREAM = "application/octet-stream"


class ChunksMissing(SyncError):
    """409: some chunks of a scan are not here yet (they have not all synced)."""

    status = 409
    error = "chunks_missing"

    def __init__(self, have: int, total: int, missing: list[str]):
        super().__init__(f"{have} of {total} chunks are here; missing {len(missing)} "
                         f"(first: {missing[0] if missing else '-'})")
        self.have, self.total, self.missing = have, total, missing


class ChunkCorrupt(SyncError):
    """500: a chunk's (or the joined blob's) bytes do not hash to their name."""

    status = 500
    error = "chunk_corrupt"


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def chunk_id(case_id: str, sha: str) -> str:
    """``chunk:{case_id}:{sha256 hex}``: case-bound like events (hub/scope.py routes by it)."""
    return f"{CHUNK_PREFIX}{case_id}:{sha}"


def sha_of_id(docid: str) -> str:
    """The sha256 hex a chunk id names (the part after the last ``:``)."""
    return docid.rsplit(":", 1)[-1]


def split(sealed: bytes) -> list[tuple[str, bytes]]:
    """``[(sha256 hex, slice), ...]`` in order; an empty blob is one empty chunk (a
    manifest always lists at least one chunk)."""
    if not sealed:
        return [(sha256_hex(b""), b"")]
    return [(sha256_hex(part), part)
            for part in (sealed[i:i + CHUNK_BYTES] for i in range(0, len(sealed), CHUNK_BYTES))]


def manifest(content_type: str, sealed: bytes,
             parts: list[tuple[str, bytes]] | None = None) -> dict[str, Any]:
    """The event's cleartext ``chunked[name]`` entry for ``sealed`` (pass ``parts`` from
    :func:`split` to avoid hashing twice)."""
    parts = split(sealed) if parts is None else parts
    return {"content_type": content_type, "length": len(sealed), "sha256": sha256_hex(sealed),
            "chunks": [sha for sha, _ in parts]}


def chunk_doc(case_id: str, sha: str, data: bytes, *, institution: str,
              device: str) -> dict[str, Any]:
    """An unsigned chunk document (sign it like an event: sync.crypto.sign_document)."""
    return {"_id": chunk_id(case_id, sha), "type": CHUNK_TYPE, "schema_version": 1,
            "case_id": case_id, "institution": institution, "device": device, "sha256": sha,
            "length": len(data),
            "_attachments": {DATA: {"content_type": OCTET_STREAM,
                                    "data": base64.b64encode(data).decode("ascii")}}}


def inline_names(sizes: Iterable[tuple[str, int]]) -> set[str]:
    """Which of an event's sealed blobs (``(name, size)`` in priority order) stay inline:
    each at most :data:`INLINE_MAX`, together at most :data:`INLINE_TOTAL_MAX`."""
    out: set[str] = set()
    total = 0
    for name, size in sizes:
        if size <= INLINE_MAX and total + size <= INLINE_TOTAL_MAX:
            out.add(name)
            total += size
    return out


def attachment_bytes(doc: Mapping[str, Any]) -> bytes | None:
    """The inline ``data`` attachment of a chunk document as bytes (None if absent or not
    base64): what the hub hashes against the id."""
    att = (doc.get("_attachments") or {}).get(DATA)
    data = att.get("data") if isinstance(att, Mapping) else None
    if not isinstance(data, str):
        return None
    try:
        return base64.b64decode(data, validate=True)
    except ValueError:
        return None


def join(entry: Mapping[str, Any], fetch: Callable[[str], bytes | None]) -> bytes:
    """The sealed blob of a manifest; ``fetch(sha)`` returns a chunk's bytes or None.

    Raises :class:`ChunksMissing` (how many of how many are here) before
    :class:`ChunkCorrupt` (a chunk, or the whole, not hashing to its name)."""
    shas = list(entry.get("chunks") or [])
    if not shas:
        raise ChunkCorrupt("the manifest lists no chunks")
    got: list[bytes | None] = [fetch(sha) for sha in shas]
    missing = [sha for sha, part in zip(shas, got, strict=True) if part is None]
    if missing:
        raise ChunksMissing(len(shas) - len(missing), len(shas), missing)
    for sha, part in zip(shas, got, strict=True):
        if sha256_hex(part or b"") != sha:
            raise ChunkCorrupt(f"chunk {sha} does not hash to its name")
    blob = b"".join(p or b"" for p in got)
    if len(blob) != entry.get("length") or sha256_hex(blob) != entry.get("sha256"):
        raise ChunkCorrupt("the joined chunks do not match the manifest's length and sha256")
    return blob
