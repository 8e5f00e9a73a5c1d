"""Chunks of large scans (design.md §4: "large scans split into content-addressed chunks so
an interrupted upload resumes where it stopped"); the cutting and joining is sync.chunks'.

Two shapes:

* the ``chunk`` document, ``_id = "chunk:{case_id}:{sha256}"``: one slice of a sealed
  (AES-GCM, case key) scan as its only attachment ``data``. It holds ciphertext only, so it
  has no ``private`` part; its id names its bytes, so it never changes (the hub refuses a
  second revision and bytes that do not hash to the id, hub/validate.py);
* the event's cleartext ``chunked`` member, ``{attachment name: manifest}``: which chunks,
  in order, make the sealed blob. Cleartext on purpose: sizes and hashes of ciphertext
  reveal nothing personal, and the event's device signature then covers the list.
"""

from __future__ import annotations

from typing import Any

from marshmallow import validates_schema

from schemas.fields import (
    DeviceId,
    HlcStr,
    InstitutionCode,
    Int,
    Part,
    Sha256Hex,
    Str,
    check_device_institution,
    fields,
    msg,
    validate,
)
from schemas.reference import DocBase

CHUNK_PREFIX = "chunk:"


def chunk_doc_id(case_id: str, sha256: str) -> str:
    return f"{CHUNK_PREFIX}{case_id}:{sha256}"


class ChunkManifest(Part):
    """One chunked attachment of an event: the sealed blob's media type, length and hash,
    and its chunks' hashes in order."""

    content_type = Str(required=True, max_len=100)
    length = Int(required=True, validate=validate.Range(min=0))
    sha256 = Sha256Hex(required=True)
    chunks = fields.List(Sha256Hex(), required=True, validate=validate.Length(
        min=1, error=msg("length", "chunks must list at least one chunk",
                         "chunks 至少须列出一个分块")))


def chunked_field() -> fields.Dict:
    """The event member ``chunked``: attachment name -> :class:`ChunkManifest`."""
    return fields.Dict(keys=Str(max_len=200), values=fields.Nested(ChunkManifest))


class ChunkSchema(DocBase):
    """One content-addressed slice of a sealed scan (no personal data in clear)."""

    DOC_TYPE = "chunk"
    case_id = HlcStr(required=True)
    institution = InstitutionCode(required=True)  # the writing institution (like events)
    device = DeviceId(required=True)
    sha256 = Sha256Hex(required=True)
    length = Int(required=True, validate=validate.Range(min=0))

    def expected_id(self, data: dict[str, Any]) -> str | None:
        has_both = "case_id" in data and "sha256" in data
        return chunk_doc_id(data["case_id"], data["sha256"]) if has_both else None

    @validates_schema
    def _device(self, data: dict[str, Any], **kw: Any) -> None:
        check_device_institution(data)  # like events: the writer's own institution
