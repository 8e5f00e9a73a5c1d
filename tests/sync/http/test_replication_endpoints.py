"""The endpoints a replicator uses: _changes (all feeds and filters), _revs_diff,
_bulk_get, _bulk_docs; plus gzip both ways."""

from __future__ import annotations

import gzip
import json
import threading
import time
from typing import Any

from tests.sync.http.conftest import CouchClient


def fill(client: CouchClient, n: int = 5) -> list[dict[str, Any]]:
    docs = [{"_id": f"doc{i}", "type": "case" if i % 2 else "event", "i": i} for i in range(n)]
    return list(client.post("/db/_bulk_docs", json={"docs": docs}).get_json())


def test_bulk_docs_results(client: CouchClient) -> None:
    resp = client.post("/db/_bulk_docs", json={"docs": [{"_id": "a"}, {"v": 1}, {"_id": "a"}]})
    assert resp.status_code == 201
    rows = resp.get_json()
    assert rows[0]["ok"] is True and rows[0]["id"] == "a"
    assert rows[1]["ok"] is True and len(rows[1]["id"]) == 32
    assert rows[2] == {"id": "a", "error": "conflict", "reason": "Document update conflict."}


def test_changes_normal_feed(client: CouchClient) -> None:
    fill(client)
    feed = client.get("/db/_changes").get_json()
    assert [r["id"] for r in feed["results"]] == [f"doc{i}" for i in range(5)]
    assert feed["last_seq"] == feed["results"][-1]["seq"] and feed["pending"] == 0
    limited = client.get("/db/_changes?limit=2&include_docs=true").get_json()
    assert len(limited["results"]) == 2 and limited["results"][0]["doc"]["i"] == 0
    assert limited["pending"] == 3
    rest = client.get(f"/db/_changes?since={limited['last_seq']}").get_json()
    assert [r["id"] for r in rest["results"]] == ["doc2", "doc3", "doc4"]
    desc = client.get("/db/_changes?descending=true&limit=1").get_json()
    assert desc["results"][0]["id"] == "doc4"
    assert client.get("/db/_changes?since=now").get_json()["results"] == []
    assert client.get("/db/_changes?style=all_docs&seq_interval=2").status_code == 200


def test_changes_filters(client: CouchClient) -> None:
    fill(client)
    by_ids = client.post("/db/_changes?filter=_doc_ids", json={"doc_ids": ["doc3", "doc1"]}).get_json()
    assert sorted(r["id"] for r in by_ids["results"]) == ["doc1", "doc3"]
    by_query = client.get('/db/_changes?filter=_doc_ids&doc_ids=["doc2"]').get_json()
    assert [r["id"] for r in by_query["results"]] == ["doc2"]
    selector = {"type": "case"}
    posted = client.post("/db/_changes?filter=_selector&include_docs=true", json={"selector": selector})
    assert sorted(r["id"] for r in posted.get_json()["results"]) == ["doc1", "doc3"]
    queried = client.get("/db/_changes?filter=_selector&selector=" + json.dumps(selector))
    assert sorted(r["id"] for r in queried.get_json()["results"]) == ["doc1", "doc3"]
    assert client.post("/db/_changes", data=b"", content_type="application/json").status_code == 200


def test_changes_style_all_docs_lists_every_leaf(client: CouchClient) -> None:
    client.post("/db/_bulk_docs", json={"new_edits": False, "docs": [
        {"_id": "c", "_rev": "1-aaa"}, {"_id": "c", "_rev": "1-bbb"}]})
    row = client.get("/db/_changes?style=all_docs").get_json()["results"][0]
    assert sorted(c["rev"] for c in row["changes"]) == ["1-aaa", "1-bbb"]
    main = client.get("/db/_changes").get_json()["results"][0]
    assert main["changes"] == [{"rev": "1-bbb"}]


def _write_later(client: CouchClient, docid: str, delay: float) -> threading.Thread:
    def run() -> None:
        time.sleep(delay)
        client.put(f"/db/{docid}", json={"late": True})

    thread = threading.Thread(target=run)
    thread.start()
    return thread


def test_longpoll_returns_on_a_write_and_times_out_empty(client: CouchClient) -> None:
    seq = client.get("/db").get_json()["update_seq"]
    empty = client.get(f"/db/_changes?feed=longpoll&since={seq}&timeout=200").get_json()
    assert empty["results"] == [] and empty["last_seq"] == seq
    writer = _write_later(client, "woken", 0.3)
    woke = client.get(f"/db/_changes?feed=longpoll&since={seq}&timeout=20000").get_json()
    writer.join()
    assert [r["id"] for r in woke["results"]] == ["woken"]


def test_longpoll_with_heartbeat_streams_newlines_then_the_result(client: CouchClient) -> None:
    seq = client.get("/db").get_json()["update_seq"]
    resp = client.get(f"/db/_changes?feed=longpoll&since={seq}&heartbeat=100", buffered=False)
    stream = iter(resp.response)  # type: ignore[arg-type]
    chunks = [bytes(next(stream))]
    assert chunks[0] == b"\n"  # a heartbeat while nothing has changed
    # Written once the heartbeat came, not after a fixed second: a loaded machine could
    # start the request after such a write, and then no heartbeat was ever due.
    client.put("/db/beat", json={"late": True})
    chunks += [bytes(c) for c in stream]
    body = json.loads(b"".join(chunks))
    assert [r["id"] for r in body["results"]] == ["beat"]


def test_continuous_feed(client: CouchClient) -> None:
    fill(client, 3)
    resp = client.get("/db/_changes?feed=continuous&timeout=300")
    lines = [json.loads(line) for line in resp.get_data().splitlines() if line.strip()]
    assert [r["id"] for r in lines[:-1]] == ["doc0", "doc1", "doc2"]
    assert lines[-1]["last_seq"] == lines[-2]["seq"]
    limited = client.get("/db/_changes?feed=continuous&limit=2&timeout=5000")
    lines = [json.loads(line) for line in limited.get_data().splitlines() if line.strip()]
    assert len(lines) == 3 and "last_seq" in lines[-1]


def test_revs_diff_and_bulk_get(client: CouchClient) -> None:
    rows = fill(client, 2)
    rev0 = rows[0]["rev"]
    diff = client.post("/db/_revs_diff", json={"doc0": [rev0, "2-abc"], "doc1": [rows[1]["rev"]],
                                                "new": ["1-xyz"]}).get_json()
    assert diff == {"doc0": {"missing": ["2-abc"], "possible_ancestors": [rev0]},
                    "new": {"missing": ["1-xyz"]}}
    got = client.post("/db/_bulk_get?revs=true", json={"docs": [
        {"id": "doc0", "rev": rev0}, {"id": "doc1"}, {"id": "zzz", "rev": "1-abc"}]}).get_json()["results"]
    assert got[0]["id"] == "doc0" and got[0]["docs"][0]["ok"]["_revisions"]["ids"] == [rev0.split("-")[1]]
    assert got[1]["docs"][0]["ok"]["i"] == 1
    assert got[2]["docs"][0]["error"]["error"] == "not_found"


def test_gzip_request_and_response(client: CouchClient) -> None:
    docs = [{"_id": f"g{i:03}", "text": "帮办代办 " * 20} for i in range(40)]
    body = gzip.compress(json.dumps({"docs": docs}).encode())
    resp = client.post("/db/_bulk_docs", data=body, content_type="application/json",
                       headers={"Content-Encoding": "gzip"})
    assert resp.status_code == 201 and all(r["ok"] for r in resp.get_json())
    zipped = client.get("/db/_all_docs?include_docs=true", headers={"Accept-Encoding": "gzip, deflate"})
    assert zipped.headers["Content-Encoding"] == "gzip" and "Accept-Encoding" in zipped.headers["Vary"]
    plain = json.loads(gzip.decompress(zipped.get_data()))
    assert plain["total_rows"] == 40
    unzipped = client.get("/db/_all_docs?include_docs=true")
    assert "Content-Encoding" not in unzipped.headers and unzipped.get_json() == plain
    small = client.get("/_up", headers={"Accept-Encoding": "gzip"})
    assert "Content-Encoding" not in small.headers  # under 1 KB: not worth it
    refused = client.get("/db/_all_docs?include_docs=true", headers={"Accept-Encoding": "gzip;q=0"})
    assert "Content-Encoding" not in refused.headers
