"""End to end: a real ``bangban store serve`` process on a free loopback port, spoken to
by plain HTTP, by IBM's ``ibmcloudant`` SDK and by PouchDB 9 (replicating both ways)."""

from __future__ import annotations

import gzip
import http.client
import io
import json
import subprocess
import sys
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from tests.sync.http.conftest import ROOT, Served, start_served, stop_served

pytestmark = pytest.mark.e2e

POUCHDB_DIR = ROOT / "ops" / "pouchdb"


def call(url: str, method: str = "GET", body: Any = None, headers: dict[str, str] | None = None,
         raw: bytes | None = None) -> tuple[int, Any, dict[str, str]]:
    data = raw if raw is not None else (json.dumps(body).encode() if body is not None else None)
    hdrs = {"Content-Type": "application/json", "Accept": "application/json", **(headers or {})}
    req = urllib.request.Request(url, data=data, method=method, headers=hdrs)
    try:
        with urllib.request.urlopen(req, timeout=30) as resp:
            payload = resp.read()
            status, resp_headers = resp.status, dict(resp.headers)
    except urllib.error.HTTPError as err:
        payload, status, resp_headers = err.read(), err.code, dict(err.headers)
    if resp_headers.get("Content-Encoding") == "gzip":
        payload = gzip.decompress(payload)
    return status, json.loads(payload) if payload.strip() else None, resp_headers


def test_cli_help_lists_store_serve() -> None:
    out = subprocess.run([sys.executable, "-m", "ops.cli", "--help"], cwd=ROOT, capture_output=True,
                         text=True, timeout=60)
    assert out.returncode == 0 and "store" in out.stdout
    out = subprocess.run([sys.executable, "-m", "ops.cli", "store", "serve", "--help"], cwd=ROOT,
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 0 and "--port" in out.stdout


def test_served_folder_over_real_http(served: Served) -> None:
    url = served.url
    status, body, headers = call(url + "/")
    assert status == 200 and body["couchdb"] == "Welcome"
    assert headers["Server"].startswith("CouchDB/3")
    assert call(url + "/village", "PUT")[0] == 201
    assert (served.directory / "village.sqlite").exists()  # one SQLite file per database
    docs = [{"_id": f"case-{i:03}", "note": "帮办" * 40} for i in range(50)]
    status, rows, _ = call(url + "/village/_bulk_docs", "POST",
                           raw=gzip.compress(json.dumps({"docs": docs}).encode()),
                           headers={"Content-Encoding": "gzip"})
    assert status == 201 and len(rows) == 50
    status, body, headers = call(url + "/village/_changes?include_docs=true",
                                 headers={"Accept-Encoding": "gzip"})
    assert headers.get("Content-Encoding") == "gzip" and len(body["results"]) == 50
    assert call(url + "/_all_dbs")[1] == ["village"]


def test_restart_keeps_data_and_uuid(tmp_path: Path) -> None:
    first = start_served(tmp_path / "dbs")
    try:
        call(first.url + "/keep", "PUT")
        rev = call(first.url + "/keep/doc", "PUT", {"v": 1})[1]["rev"]
        uuid = call(first.url + "/")[1]["uuid"]
    finally:
        stop_served(first.process)
    assert first.process.returncode == 0  # SIGTERM is a clean shutdown
    second = start_served(tmp_path / "dbs")
    try:
        assert call(second.url + "/keep/doc")[1]["_rev"] == rev
        assert call(second.url + "/")[1]["uuid"] == uuid  # replication ids stay valid
    finally:
        stop_served(second.process)


def test_oversized_body_refused_before_it_is_read(tmp_path: Path) -> None:
    server = start_served(tmp_path / "dbs", "--max-request-size", "4096")
    try:
        call(server.url + "/db", "PUT")
        parts = urlsplit(server.url)
        conn = http.client.HTTPConnection(str(parts.hostname), parts.port, timeout=30)
        # announce 10 MB but send only the headers: the answer must not wait for the body
        conn.putrequest("PUT", "/db/big")
        conn.putheader("Content-Type", "application/json")
        conn.putheader("Content-Length", str(10 * 1024 * 1024))
        conn.endheaders()
        resp = conn.getresponse()
        assert resp.status == 413
        assert json.loads(resp.read()) == {"error": "too_large", "reason": "the request entity is too large"}
        conn.close()
        assert call(server.url + "/db/big")[0] == 404
        # chunked uploads (no Content-Length) are cut off at the limit too
        conn = http.client.HTTPConnection(str(parts.hostname), parts.port, timeout=30)
        pieces = iter([b'{"docs":[{"_id":"big","pad":"', b"x" * 8192, b'"}]}'])
        conn.request("POST", "/db/_bulk_docs", body=pieces, encode_chunked=True,
                     headers={"Content-Type": "application/json"})
        assert conn.getresponse().status == 413
        conn.close()
        conn = http.client.HTTPConnection(str(parts.hostname), parts.port, timeout=30)
        pieces = iter([b'{"docs":[', b'{"_id":"small"}', b"]}"])
        conn.request("POST", "/db/_bulk_docs", body=pieces, encode_chunked=True,
                     headers={"Content-Type": "application/json"})
        assert conn.getresponse().status == 201
        conn.close()
        assert call(server.url + "/db/_all_docs")[1]["rows"][0]["id"] == "small"
        # a gzip body small on the wire, over the limit once decoded: the application's own
        # 413, whose `Connection: close` waitress refused (PEP 3333) with a 500
        bomb = gzip.compress(json.dumps({"docs": [{"_id": "bomb", "pad": "x" * 8192}]}).encode())
        status, body, _ = call(server.url + "/db/_bulk_docs", "POST", raw=bomb,
                               headers={"Content-Encoding": "gzip"})
        assert (status, body["error"]) == (413, "too_large"), body
        assert call(server.url + "/db/bomb")[0] == 404
    finally:
        stop_served(server.process)


def test_longpoll_over_a_real_socket(served: Served) -> None:
    call(served.url + "/db", "PUT")
    status, body, _ = call(served.url + "/db/_changes?feed=longpoll&since=now&timeout=300")
    assert status == 200 and body["results"] == []
    parts = urlsplit(served.url)
    conn = http.client.HTTPConnection(str(parts.hostname), parts.port, timeout=30)
    conn.request("GET", "/db/_changes?feed=longpoll&since=0&heartbeat=200")
    call(served.url + "/db/x", "PUT", {"v": 1})
    resp = conn.getresponse()
    assert resp.status == 200 and resp.getheader("Transfer-Encoding") == "chunked"
    assert [r["id"] for r in json.loads(resp.read())["results"]] == ["x"]
    conn.close()


def test_ibmcloudant_sdk_against_store_serve(served: Served) -> None:
    from ibm_cloud_sdk_core import ApiException
    from ibm_cloud_sdk_core.authenticators import NoAuthAuthenticator
    from ibmcloudant.cloudant_v1 import BulkGetQueryDocument, CloudantV1

    svc = CloudantV1(authenticator=NoAuthAuthenticator())
    svc.set_service_url(served.url)
    assert svc.get_server_information().get_result()["couchdb"] == "Welcome"
    assert svc.put_database(db="hub").get_result() == {"ok": True}
    with pytest.raises(ApiException) as exc:
        svc.put_database(db="hub")
    assert exc.value.status_code == 412
    rev = svc.post_document(db="hub", document={"_id": "case-1", "status": "open"}).get_result()["rev"]
    svc.set_enable_gzip_compression(True)  # request bodies gzip-encoded by the SDK
    rows = svc.post_bulk_docs(db="hub", bulk_docs={"docs": [
        {"_id": "case-1", "_rev": rev, "status": "accepted"}, {"_id": "case-2", "status": "open"}]}).get_result()
    assert all(r.get("ok") for r in rows)
    doc = svc.get_document(db="hub", doc_id="case-1", revs=True).get_result()
    assert doc["status"] == "accepted" and doc["_revisions"]["start"] == 2
    with pytest.raises(ApiException) as exc:
        svc.post_document(db="hub", document={"_id": "case-1", "status": "stale"})
    assert exc.value.status_code == 409
    all_docs = svc.post_all_docs(db="hub", include_docs=True, keys=["case-2", "case-1"]).get_result()
    assert [r["id"] for r in all_docs["rows"]] == ["case-2", "case-1"]
    changes = svc.post_changes(db="hub", filter="_doc_ids", doc_ids=["case-2"]).get_result()
    assert [r["id"] for r in changes["results"]] == ["case-2"]
    diff = svc.post_revs_diff(db="hub", document_revisions={"case-1": [doc["_rev"], "3-abc"]}).get_result()
    assert diff == {"case-1": {"missing": ["3-abc"], "possible_ancestors": [doc["_rev"]]}}
    got = svc.post_bulk_get(db="hub", docs=[BulkGetQueryDocument(id="case-1")], revs=True).get_result()
    assert got["results"][0]["docs"][0]["ok"]["_rev"] == doc["_rev"]
    assert svc.put_local_document(db="hub", doc_id="cp", document={"seq": 3}).get_result()["ok"]
    assert svc.get_local_document(db="hub", doc_id="cp").get_result()["seq"] == 3
    att = svc.put_attachment(db="hub", doc_id="case-2", attachment_name="form-a.txt",
                             attachment=io.BytesIO("受理单".encode()), content_type="text/plain",
                             rev=rows[1]["rev"]).get_result()
    data = svc.get_attachment(db="hub", doc_id="case-2", attachment_name="form-a.txt").get_result()
    assert data.content == "受理单".encode()
    deleted = svc.delete_document(db="hub", doc_id="case-2", rev=att["rev"]).get_result()
    assert deleted["ok"]
    with pytest.raises(ApiException) as exc:
        svc.get_document(db="hub", doc_id="case-2")
    assert exc.value.status_code == 404
    info = svc.get_database_information(db="hub").get_result()
    assert info["doc_count"] == 1 and info["doc_del_count"] == 1


POUCH_SCRIPT = r"""
const PouchDB = require('pouchdb');
PouchDB.plugin(require('pouchdb-adapter-memory'));
const base = process.argv[1];
const summary = r => ({ok: r.ok, docs_read: r.docs_read, docs_written: r.docs_written,
                       errors: r.errors.length});
(async () => {
  const local = new PouchDB('local', {adapter: 'memory'});
  const src = new PouchDB(base + '/src');
  const pull = await local.replicate.from(src, {batch_size: 7});
  const pull2 = await local.replicate.from(src, {batch_size: 7});
  const all = await local.allDocs({include_docs: true, conflicts: true});
  const att = await local.getAttachment('with-att', 'note.txt');
  await local.bulkDocs(Array.from({length: 20}, (_, i) => ({_id: 'local' + String(i).padStart(2, '0'), n: i})));
  const d0 = await local.get('doc00'); d0.edited = true; await local.put(d0);
  await local.remove(await local.get('doc01'));
  const dst = new PouchDB(base + '/dst');
  const push = await local.replicate.to(dst);
  const push2 = await local.replicate.to(dst);
  const after = await local.allDocs();
  // what else PouchDB's HTTP adapter sends: open_revs, _all_docs?keys, seq_interval
  const openRevs = await src.get('conflicted', {open_revs: 'all', revs: true});
  const keyed = await src.allDocs({keys: ['doc05', 'missing', 'conflicted']});
  const feed = await src.changes({style: 'all_docs', seq_interval: 5, since: 0, limit: 3});
  // live pull: a write on the server arrives through a longpoll feed with heartbeats
  const live = local.replicate.from(src, {live: true, heartbeat: 500});
  const arrived = new Promise(resolve => live.on('change', info => {
    if (info.docs.some(d => d._id === 'live-doc')) resolve(true);
  }));
  await new Promise(resolve => setTimeout(resolve, 300));
  await src.put({_id: 'live-doc', v: 1});
  const liveOk = await Promise.race([arrived, new Promise(resolve => setTimeout(() => resolve(false), 20000).unref())]);
  live.cancel();
  console.log(JSON.stringify({
    openRevs: openRevs.map(r => r.ok ? r.ok._rev : r).sort(),
    keyed: keyed.rows.map(r => r.error || r.value.rev),
    feed: feed.results.length, liveOk,
    pull: summary(pull), pull2: summary(pull2), push: summary(push), push2: summary(push2),
    pulled: all.rows.map(r => ({id: r.id, rev: r.value.rev, conflicts: r.doc._conflicts || []})),
    att: att.toString('utf8'),
    local: after.rows.map(r => ({id: r.id, rev: r.value.rev})),
  }));
})().catch(e => { console.error(e); process.exit(1); });
"""


def test_pouchdb9_replicates_from_and_to_store_serve(served: Served) -> None:
    url = served.url
    call(url + "/src", "PUT")
    docs = [{"_id": f"doc{i:02}", "type": "case", "i": i} for i in range(30)]
    assert call(url + "/src/_bulk_docs", "POST", {"docs": docs})[0] == 201
    call(url + "/src/_bulk_docs", "POST", {"new_edits": False, "docs": [
        {"_id": "conflicted", "_rev": "2-aaa", "_revisions": {"start": 2, "ids": ["aaa", "root"]}, "v": "a"},
        {"_id": "conflicted", "_rev": "2-bbb", "_revisions": {"start": 2, "ids": ["bbb", "root"]}, "v": "b"}]})
    gone = call(url + "/src/gone", "PUT", {"v": 1})[1]["rev"]
    call(url + f"/src/gone?rev={gone}", "DELETE")
    call(url + "/src/with-att/note.txt", "PUT", raw="便民服务站".encode(), headers={"Content-Type": "text/plain"})
    call(url + "/src/_local/private", "PUT", {"never": "replicated"})

    out = subprocess.run(["node", "-e", POUCH_SCRIPT, url], cwd=POUCHDB_DIR, capture_output=True,
                         text=True, timeout=120)
    assert out.returncode == 0, out.stderr[-3000:]
    result = json.loads(out.stdout.strip().splitlines()[-1])

    assert result["pull"]["ok"] and result["pull"]["errors"] == 0
    assert result["pull2"]["docs_read"] == 0  # the checkpoint in our _local docs was used
    server_rows = call(url + "/src/_all_docs?include_docs=true&conflicts=true")[1]["rows"]
    expected = [{"id": r["id"], "rev": r["value"]["rev"], "conflicts": r["doc"].get("_conflicts", [])}
                for r in server_rows if r["id"] != "live-doc"]  # live-doc: written by the live test
    assert result["pulled"] == expected
    assert {"id": "conflicted", "rev": "2-bbb", "conflicts": ["2-aaa"]} in result["pulled"]
    assert not any(r["id"] == "gone" for r in result["pulled"])
    assert result["att"] == "便民服务站"

    assert result["push"]["ok"] and result["push"]["errors"] == 0
    assert result["push"]["docs_written"] >= 52
    assert result["push2"]["docs_read"] == 0
    dst_rows = call(url + "/dst/_all_docs")[1]["rows"]
    assert [{"id": r["id"], "rev": r["value"]["rev"]} for r in dst_rows] == result["local"]
    assert call(url + "/dst/doc00")[1]["edited"] is True
    assert call(url + "/dst/doc01")[1] == {"error": "not_found", "reason": "deleted"}
    assert call(url + "/dst/conflicted?conflicts=true")[1]["_conflicts"] == ["2-aaa"]
    assert call(url + "/dst/gone")[1]["reason"] == "deleted"  # the tombstone travelled too
    assert call(url + "/dst/_local/private")[0] == 404
    assert result["openRevs"] == ["2-aaa", "2-bbb"]
    assert result["keyed"][1] == "not_found" and result["keyed"][2] == "2-bbb"
    assert result["feed"] == 3 and result["liveOk"] is True


def test_concurrent_clients_on_the_threaded_server(served: Served) -> None:
    """Eight clients write and read at once: every write is acknowledged exactly
    once and the feed ends up with all of them (one writer behind many threads)."""
    from concurrent.futures import ThreadPoolExecutor

    url = served.url
    call(url + "/busy", "PUT")

    def work(worker: int) -> int:
        written = 0
        for batch in range(5):
            docs = [{"_id": f"w{worker}-{batch}-{i}"} for i in range(20)]
            status, rows, _ = call(url + "/busy/_bulk_docs", "POST", {"docs": docs})
            assert status == 201
            written += sum(1 for r in rows if r.get("ok"))
            call(url + "/busy/_changes?limit=5")
        return written

    with ThreadPoolExecutor(8) as pool:
        assert sum(pool.map(work, range(8))) == 800
    feed = call(url + "/busy/_changes")[1]
    assert len(feed["results"]) == 800 and len({r["seq"] for r in feed["results"]}) == 800
    assert call(url + "/busy")[1]["doc_count"] == 800
