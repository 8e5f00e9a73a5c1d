"""Scans over the inline limit travel as signed content-addressed chunks (design.md §4)."""

from __future__ import annotations

import io
import os
from typing import Any

from sync.chunks import CHUNK_BYTES, INLINE_MAX
from tests.node.conftest import csrf
from tests.node.test_casework_flow import _consult, _step

MARK = "户口簿 household register, page 1".encode()


def _accepted_case(c: Any) -> str:
    from schemas.sample import catalog

    case_id = _consult(c)
    assert _step(c, case_id, "application", channel="offline", mode="nearby",
                 service_item=catalog()[0]["code"]).status_code == 302
    assert _step(c, case_id, "acceptance", zone="assisted_zone",
                 time_limit_days="5").status_code == 302
    return case_id


def _upload(c: Any, case_id: str, scan: bytes) -> dict[str, Any]:
    from schemas.sample import catalog

    code = catalog()[0]["materials"][0]["code"]
    r = c.post(f"/cases/{case_id}/steps/material_received", data={
        "csrf": csrf(c), "materials": [code],
        "scans": (io.BytesIO(scan), "scan.pdf", "application/pdf")},
        content_type="multipart/form-data")
    assert r.status_code == 302, r.data.decode()[:2000]
    node = c.application.extensions["bangban_node"]
    events = node.casework.events(case_id)
    received: dict[str, Any] = [e for e in events if e["event_type"] == "material_received"][-1]
    return received


def _chunks(node: Any, case_id: str) -> list[dict[str, Any]]:
    res = node.store.all_docs(startkey=f"chunk:{case_id}:", endkey=f"chunk:{case_id}:\uffff",
                              include_docs=True)
    return [r["doc"] for r in res["rows"]]


def test_a_large_scan_is_chunked_signed_sealed_and_opens_again(unlocked: Any) -> None:
    c = unlocked
    node = c.application.extensions["bangban_node"]
    case_id = _accepted_case(c)
    scan = b"%PDF-1.4\n" + MARK + os.urandom(1_500_000) + MARK + b"\n%%EOF\n"
    received = _upload(c, case_id, scan)
    (name,) = received["attachments"]
    assert name not in (received.get("_attachments") or {})  # not inline
    entry = received["chunked"][name]
    assert entry["content_type"] == "application/pdf" and entry["length"] > len(scan)
    assert received["sig"]  # the signature covers the manifest
    chunks = _chunks(node, case_id)
    assert [d["sha256"] for d in chunks] == sorted(entry["chunks"])
    assert len(chunks) == -(-entry["length"] // CHUNK_BYTES) > 1
    for doc in chunks:
        assert doc["type"] == "chunk" and doc["sig"]["device"] == node.device_id
        blob, _ = node.store.get_attachment(doc["_id"], "data")
        # sealed with the case key: no run of the plaintext is left. Not b"%PDF": four
        # given bytes turn up by chance in 1.5 MB of ciphertext about once in 2,900 runs.
        assert MARK not in blob and scan[:16] not in blob and scan[-16:] not in blob
    back = c.get(f"/cases/{case_id}/steps/attachment/{received['_id']}/{name}")
    assert back.status_code == 200 and back.data == scan
    assert back.headers["Content-Type"].startswith("application/pdf")
    page = c.get(f"/cases/{case_id}").data.decode()
    assert f"/attachment/{received['_id']}/{name}" in page  # listed and linked
    # documents before attachments (design.md §4): in the node's feed, which the replicator
    # pushes in order, the event comes before every one of its chunks
    feed = [r["id"] for r in node.store.changes()["results"]]
    assert all(feed.index(received["_id"]) < feed.index(d["_id"]) for d in chunks)


def test_a_scan_whose_chunks_have_not_all_synced_says_so(unlocked: Any) -> None:
    c = unlocked
    node = c.application.extensions["bangban_node"]
    case_id = _accepted_case(c)
    received = _upload(c, case_id, os.urandom(3 * CHUNK_BYTES))
    (name,) = received["attachments"]
    url = f"/cases/{case_id}/steps/attachment/{received['_id']}/{name}"
    first, second = _chunks(node, case_id)[:2]
    node.store.delete(first["_id"], first["_rev"])
    r = c.get(url)
    assert r.status_code == 409, r.data.decode()[:2000]
    assert "扫描件尚未完整同步（已收到 3/4 部分）" in r.data.decode()
    bare = {k: v for k, v in second.items() if k != "_attachments"}  # its bytes not here
    node.store.put(bare)
    r = c.get(url, headers={"Accept": "application/json"})
    assert r.status_code == 409 and r.get_json()["error"] == "scan_incomplete"
    assert "2 of 4 parts here" in r.get_json()["reason"]


def test_a_small_scan_stays_inline(unlocked: Any) -> None:
    c = unlocked
    node = c.application.extensions["bangban_node"]
    case_id = _accepted_case(c)
    form = c.get(f"/cases/{case_id}/steps/material_received").data.decode()
    assert 'name="chunked"' not in form  # the node writes manifests; nobody types them
    scan = b"%PDF-1.4\n" + os.urandom(INLINE_MAX - 1_000)
    received = _upload(c, case_id, scan)
    (name,) = received["attachments"]
    assert name in received["_attachments"] and "chunked" not in received
    assert _chunks(node, case_id) == []
    back = c.get(f"/cases/{case_id}/steps/attachment/{received['_id']}/{name}")
    assert back.status_code == 200 and back.data == scan
