"""The ``chunk`` document and the events' ``chunked`` member (design.md §4)."""

from __future__ import annotations

import os
from typing import Any

import pytest

from schemas import ValidationFailed, validate, validate_sealed
from schemas.build import make_event
from schemas.hlc import HLC, pack
from schemas.registry import has_private
from sync.chunks import CHUNK_BYTES, chunk_doc, manifest, split

DEV = "410621101201-A1"
INST = "410621101201"
CASE = pack(HLC(1_770_000_000_000, 0, DEV))


def _problems(doc: dict[str, Any]) -> set[tuple[str, str]]:
    with pytest.raises(ValidationFailed) as info:
        validate(doc)
    return {(p.field, p.rule) for p in info.value.problems}


def _chunk(**over: Any) -> dict[str, Any]:
    (sha, data), = split(b"\x00sealed ciphertext")
    return {**chunk_doc(CASE, sha, data, institution=INST, device=DEV), **over}


def _event(chunked: Any) -> dict[str, Any]:
    return make_event("material_received", case_id=CASE, clock=HLC(1_770_000_000_500, 0, DEV),
                      at="2026-02-10T09:05:00+08:00", institution=INST, materials=["ID"],
                      attachments=["scan-1.pdf"], chunked=chunked)


def test_a_chunk_document_validates_and_has_no_private_part() -> None:
    doc = _chunk()
    assert validate_sealed(doc) == doc
    assert not has_private("chunk")
    assert ("private", "no_private_part") in _problems({**doc, "private": {"x": "王小明"}})


def test_bad_chunks_name_the_field() -> None:
    doc = _chunk()
    assert ("sha256", "sha256") in _problems({**doc, "sha256": "A" * 64})
    assert ("_id", "doc_id") in _problems({**doc, "_id": f"chunk:{CASE}:{'0' * 64}"})
    assert ("length", "range") in _problems({**doc, "length": -1})
    assert ("device", "device_institution") in _problems({**doc, "device": "410621101202-A1"})
    assert ("extra", "unknown_field") in _problems({**doc, "extra": 1})


def test_event_carries_a_chunk_manifest() -> None:
    blob = os.urandom(600_000)
    entry = manifest("application/pdf", blob)
    ev = _event({"scan-1.pdf": entry})
    # one chunk id per CHUNK_BYTES slice, the last one short
    assert ev["chunked"]["scan-1.pdf"] == entry
    assert len(entry["chunks"]) == -(-600_000 // CHUNK_BYTES)


@pytest.mark.parametrize(("bad", "field", "rule"), [
    ({"sha256": "zz"}, "sha256", "sha256"),
    ({"chunks": []}, "chunks", "length"),
    ({"chunks": ["0" * 63]}, "chunks.0", "sha256"),
    ({"length": -5}, "length", "range"),
    ({"content_type": 7}, "content_type", "type"),
])
def test_bad_manifest_names_the_field(bad: dict[str, Any], field: str, rule: str) -> None:
    entry = {**manifest("application/pdf", b"sealed"), **bad}
    with pytest.raises(ValidationFailed) as info:
        _event({"scan-1.pdf": entry})
    found = {(p.field, p.rule) for p in info.value.problems}
    assert (f"chunked.scan-1.pdf.value.{field}", rule) in found, found


def test_manifest_members_are_required() -> None:
    with pytest.raises(ValidationFailed) as info:
        _event({"scan-1.pdf": {"content_type": "application/pdf"}})
    fields = {p.field for p in info.value.problems if p.rule == "required"}
    assert {f"chunked.scan-1.pdf.value.{f}" for f in ("length", "sha256", "chunks")} <= fields
