"""Large scans reach the hub as content-addressed chunk documents (design.md §4)."""

from __future__ import annotations

import base64
import os
from collections.abc import Iterator
from typing import Any

import pytest

from sync.chunks import CHUNK_BYTES, chunk_doc, join, manifest, split
from sync.crypto import open_attachment, sign_document
from sync.errors import NotFound

from .conftest import TOWN, VILLAGE_A, World, open_world

NAME = "scan-1.pdf"
MIB = 1_048_576


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    """The hub's default document limit (1 MiB), not the small one of the other modules."""
    with open_world(tmp_path_factory.mktemp("chunks"), max_document_bytes=MIB) as w:
        yield w


def _chunk(node: Any, case_id: str, sha: str, data: bytes) -> dict[str, Any]:
    return sign_document(chunk_doc(case_id, sha, data, institution=node.institution,
                                   device=node.device_id), node.signer)


def _scan_event(node: Any, case_id: str, scan: bytes) -> tuple[dict[str, Any], list[dict]]:
    """A material_received event whose 3 MB sealed scan is chunked, as node.casework does."""
    from schemas import build

    key = node.case_key(case_id)
    ev = build.make_event("material_received", case_id=case_id, clock=node.clock(),
                          at=node.now(), institution=node.institution, private={},
                          base_hlc=node.last_event(case_id), materials=["ID"],
                          attachments=[NAME])
    sealed = key.seal(ev)
    blob = key.seal_attachment(scan, ev["_id"], NAME)
    parts = split(blob)
    sealed["chunked"] = {NAME: manifest("application/pdf", blob, parts)}
    return sign_document(sealed, node.signer), [_chunk(node, case_id, s, d) for s, d in parts]


def _fetch(store: Any, case_id: str) -> Any:
    def fetch(sha: str) -> bytes | None:
        try:
            data: bytes = store.get_attachment(f"chunk:{case_id}:{sha}", "data")[0]
        except NotFound:
            return None
        return data
    return fetch


def test_a_3_mb_scan_travels_as_chunks_and_reaches_the_town(world: World) -> None:
    a, town = world.node(VILLAGE_A), world.node(TOWN)
    case_id = a.new_case()
    scan = b"%PDF-1.4\n" + os.urandom(3_000_000)
    event, chunks = _scan_event(a, case_id, scan)
    assert len(chunks) == -(-event["chunked"][NAME]["length"] // CHUNK_BYTES) > 40 and all(len(str(c)) < MIB for c in chunks)
    for doc in [*chunks, event]:  # chunks first, as the node stores them
        a.store.put(doc)
    result = a.sync()
    assert result["refused"] == 0, result["failures"]
    main = world.hub.stores.main
    assert main.get(event["_id"])["chunked"][NAME]["chunks"] == [c["sha256"] for c in chunks]
    assert all(main.get(c["_id"])["sha256"] == c["sha256"] for c in chunks)
    a.hand_up(case_id, TOWN)
    world.sync(VILLAGE_A)
    world.sync(TOWN)
    entry = town.store.get(event["_id"])["chunked"][NAME]
    blob = join(entry, _fetch(town.store, case_id))  # the back-fill brought every chunk
    plain = open_attachment(blob, event["_id"], NAME, town.case_key(case_id), purpose="handling",
                            actor=_actor(town), on_access=lambda ev: None)
    assert plain == scan


def _actor(node: Any) -> Any:
    from sync.crypto import Actor

    return Actor(staff="staff-1", institution=node.institution, signer=node.signer,
                 clock=node.clock)


def test_a_chunk_whose_bytes_do_not_match_its_id_is_refused_alone(world: World) -> None:
    a = world.node(VILLAGE_A)
    case_id = a.new_case()
    a.sync()
    (sha, good), = split(os.urandom(CHUNK_BYTES))
    (other, _), = split(b"other bytes")
    bad = _chunk(a, case_id, other, good)  # id and sha256 of other bytes, these bytes
    ok, refused = a.remote.bulk_docs([_chunk(a, case_id, sha, good), bad])
    assert ok.get("ok") and ok["id"] == f"chunk:{case_id}:{sha}"
    assert refused["error"] == "forbidden" and "do not hash to the sha256" in refused["reason"]
    with pytest.raises(NotFound):
        world.hub.stores.main.get(bad["_id"])


def test_a_second_revision_of_a_chunk_is_refused(world: World) -> None:
    a = world.node(VILLAGE_A)
    case_id = a.new_case()
    a.sync()
    (sha, data), = split(os.urandom(1000))
    doc = _chunk(a, case_id, sha, data)
    (first,) = a.remote.bulk_docs([doc])
    assert first.get("ok"), first
    (again,) = a.remote.bulk_docs([{**doc, "_rev": first["rev"]}])
    assert again["error"] == "forbidden" and "immutable" in again["reason"]


def test_another_institutions_case_takes_no_chunks(world: World) -> None:
    a, town = world.node(VILLAGE_A), world.node(TOWN)
    case_id = a.new_case()
    a.sync()
    (sha, data), = split(b"sealed")
    (row,) = town.remote.bulk_docs([_chunk(town, case_id, sha, data)])
    assert row["error"] == "forbidden" and "scope" in row["reason"]


def test_the_hub_refuses_a_scan_inline_over_the_document_limit(world: World) -> None:
    a = world.node(VILLAGE_A)
    case_id = a.new_case()
    a.sync()
    event, chunks = _scan_event(a, case_id, os.urandom(900_000))
    inline = {k: v for k, v in event.items() if k != "chunked"}
    blob = b"".join(base64.b64decode(c["_attachments"]["data"]["data"]) for c in chunks)
    inline["_attachments"] = {NAME: {"content_type": "application/pdf",
                                     "data": base64.b64encode(blob).decode()}}
    (row,) = a.remote.bulk_docs([sign_document(inline, a.signer)])
    assert row["error"] == "forbidden" and "too large" in row["reason"]  # why chunks exist
