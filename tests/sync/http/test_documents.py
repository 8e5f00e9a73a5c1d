"""Server, database and document endpoints over the embedded store, as CouchDB 3 answers them."""

from __future__ import annotations

import base64
import gzip
import hashlib
import json

from tests.sync.http.conftest import CouchClient


def test_welcome_up_uuids_and_all_dbs(client: CouchClient) -> None:
    root = client.get("/")
    assert root.status_code == 200
    body = root.get_json()
    assert body["couchdb"] == "Welcome" and body["version"].startswith("3.")
    assert len(body["uuid"]) == 32 and client.get("/").get_json()["uuid"] == body["uuid"]
    assert client.get("/_up").get_json()["status"] == "ok"
    assert len(set(client.get("/_uuids?count=5").get_json()["uuids"])) == 5
    assert client.put("/other").status_code == 201
    assert client.get("/_all_dbs").get_json() == ["db", "other"]
    assert client.get("/_all_dbs?descending=true&limit=1").get_json() == ["other"]
    assert client.post("/_all_dbs").status_code == 405


def test_database_lifecycle(client: CouchClient) -> None:
    created = client.put("/books")
    assert created.status_code == 201 and created.get_json() == {"ok": True}
    assert created.headers["Location"].endswith("/books")
    again = client.put("/books")
    assert again.status_code == 412
    assert again.get_json() == {"error": "file_exists",
                                "reason": "The database could not be created, the file already exists."}
    info = client.get("/books").get_json()
    assert info["db_name"] == "books" and info["doc_count"] == 0 and info["update_seq"] == 0
    head = client.head("/books")
    assert head.status_code == 200 and head.get_data() == b""
    assert client.head("/nothing").status_code == 404
    assert client.delete("/books").get_json() == {"ok": True}
    missing = client.get("/books")
    assert missing.status_code == 404
    assert missing.get_json() == {"error": "not_found", "reason": "Database does not exist."}
    assert client.delete("/books").status_code == 404
    assert client.delete("/db?rev=1-abc").status_code == 400
    assert client.open("/db", method="PATCH").status_code == 405
    assert client.get("/db/_security").get_json() == {}
    assert client.post("/db/_ensure_full_commit", json={}).status_code == 201


def test_post_creates_a_document_with_a_generated_id(client: CouchClient) -> None:
    resp = client.post("/db", json={"type": "case", "n": 1})
    assert resp.status_code == 201
    body = resp.get_json()
    assert body["ok"] is True and len(body["id"]) == 32 and body["rev"].startswith("1-")
    assert resp.headers["Location"].endswith(f"/db/{body['id']}")
    assert client.get(f"/db/{body['id']}").get_json()["n"] == 1
    batch = client.post("/db?batch=ok", json={"_id": "later"})
    assert batch.status_code == 202 and batch.get_json() == {"ok": True, "id": "later"}
    assert client.get("/db/later").status_code == 200


def test_put_get_update_delete(client: CouchClient) -> None:
    put = client.put("/db/case-1", json={"_id": "ignored-url-wins", "status": "open"})
    assert put.status_code == 201
    rev1 = put.get_json()["rev"]
    assert put.get_json() == {"ok": True, "id": "case-1", "rev": rev1}
    assert put.headers["ETag"] == f'"{rev1}"'
    got = client.get("/db/case-1")
    assert got.get_json() == {"_id": "case-1", "_rev": rev1, "status": "open"}
    assert got.headers["ETag"] == f'"{rev1}"'
    assert client.get("/db/case-1", headers={"If-None-Match": f'"{rev1}"'}).status_code == 304
    rev2 = client.put(f"/db/case-1?rev={rev1}", json={"status": "accepted"}).get_json()["rev"]
    rev3 = client.put("/db/case-1", json={"status": "done"}, headers={"If-Match": rev2}).get_json()["rev"]
    assert client.get(f"/db/case-1?rev={rev1}").get_json()["status"] == "open"
    revs = client.get("/db/case-1?revs=true&revs_info=true").get_json()
    assert revs["_revisions"]["start"] == 3 and len(revs["_revisions"]["ids"]) == 3
    assert [i["rev"] for i in revs["_revs_info"]] == [rev3, rev2, rev1]
    gone = client.delete(f"/db/case-1?rev={rev3}")
    assert gone.status_code == 200 and gone.get_json()["rev"].startswith("4-")
    missing = client.get("/db/case-1")
    assert missing.status_code == 404 and missing.get_json() == {"error": "not_found", "reason": "deleted"}
    assert client.get("/db/never").get_json() == {"error": "not_found", "reason": "missing"}
    assert client.delete("/db/never").status_code == 404
    assert client.head(f"/db/case-1?rev={rev1}").status_code == 200


def test_conflicts_open_revs_and_new_edits_false(client: CouchClient) -> None:
    docs = [{"_id": "c", "_rev": "2-aaa", "_revisions": {"start": 2, "ids": ["aaa", "root"]}, "v": "a"},
            {"_id": "c", "_rev": "2-bbb", "_revisions": {"start": 2, "ids": ["bbb", "root"]}, "v": "b"}]
    resp = client.post("/db/_bulk_docs", json={"docs": docs, "new_edits": False})
    assert resp.status_code == 201 and resp.get_json() == []
    doc = client.get("/db/c?conflicts=true").get_json()
    assert doc["_rev"] == "2-bbb" and doc["_conflicts"] == ["2-aaa"]
    assert "ETag" not in client.get("/db/c?conflicts=true").headers  # meta: no ETag, as CouchDB
    json_revs = client.get('/db/c?open_revs=["2-aaa","3-zzz"]&revs=true',
                           headers={"Accept": "application/json"}).get_json()
    assert json_revs[0]["ok"]["_rev"] == "2-aaa"
    assert json_revs[0]["ok"]["_revisions"] == {"start": 2, "ids": ["aaa", "root"]}
    assert json_revs[1] == {"missing": "3-zzz"}
    all_leaves = client.get("/db/c?open_revs=all", headers={"Accept": "application/json"}).get_json()
    assert sorted(r["ok"]["_rev"] for r in all_leaves) == ["2-aaa", "2-bbb"]
    multipart = client.get('/db/c?open_revs=["2-aaa","9-x"]')
    assert multipart.headers["Content-Type"].startswith("multipart/mixed; boundary=")
    text = multipart.get_data(as_text=True)
    assert '"_rev":"2-aaa"' in text and '{"missing":"9-x"}' in text and 'error="true"' in text
    assert client.get("/db/nope?open_revs=all", headers={"Accept": "application/json"}).status_code == 404
    put = client.put("/db/d?new_edits=false", json={"_rev": "5-abc", "v": 1})
    assert put.status_code == 201 and client.get("/db/d").get_json()["_rev"] == "5-abc"


def test_ids_with_slashes_and_design_docs(client: CouchClient) -> None:
    assert client.put("/db/a%2Fb", json={"v": 1}).get_json()["id"] == "a/b"
    assert client.get("/db/a%2Fb").get_json()["_id"] == "a/b"
    assert client.put("/db/_design/app", json={"views": {}}).get_json()["id"] == "_design/app"
    assert client.get("/db/_design/app").get_json()["_id"] == "_design/app"
    ids = [r["id"] for r in client.get("/db/_all_docs").get_json()["rows"]]
    assert ids == ["_design/app", "a/b"]
    assert client.put("/db/%E6%A1%88%E4%BB%B6", json={"标题": "帮办"}).get_json()["id"] == "案件"
    assert client.get("/db/%E6%A1%88%E4%BB%B6").get_json()["标题"] == "帮办"


def test_all_docs_options(client: CouchClient) -> None:
    for i in range(6):
        client.put(f"/db/d{i}", json={"i": i})
    rows = client.get("/db/_all_docs").get_json()
    assert rows["total_rows"] == 6 and [r["id"] for r in rows["rows"]] == [f"d{i}" for i in range(6)]
    page = client.get('/db/_all_docs?startkey="d1"&endkey="d4"&inclusive_end=false&include_docs=true').get_json()
    assert [r["id"] for r in page["rows"]] == ["d1", "d2", "d3"] and page["rows"][0]["doc"]["i"] == 1
    assert [r["id"] for r in client.get("/db/_all_docs?descending=true&limit=2&skip=1").get_json()["rows"]] == [
        "d4", "d3"]
    assert [r["id"] for r in client.get('/db/_all_docs?key="d2"').get_json()["rows"]] == ["d2"]
    keyed = client.get('/db/_all_docs?keys=["d5","zz","d0"]').get_json()["rows"]
    assert [r.get("id", r.get("key")) for r in keyed] == ["d5", "zz", "d0"]
    assert keyed[1] == {"key": "zz", "error": "not_found"}
    posted = client.post("/db/_all_docs", json={"keys": ["d3"], "include_docs": True}).get_json()["rows"]
    assert posted[0]["doc"]["i"] == 3


def test_local_docs(client: CouchClient) -> None:
    put = client.put("/db/_local/checkpoint", json={"last_seq": 5})
    assert put.status_code == 201 and put.get_json() == {"ok": True, "id": "_local/checkpoint", "rev": "0-1"}
    assert client.put("/db/_local/checkpoint", json={"last_seq": 9, "_rev": "0-1"}).get_json()["rev"] == "0-2"
    assert client.get("/db/_local/checkpoint").get_json() == {"_id": "_local/checkpoint", "_rev": "0-2",
                                                              "last_seq": 9}
    assert client.get("/db/_local%2Fcheckpoint").get_json()["last_seq"] == 9
    changes = client.get("/db/_changes").get_json()
    assert changes["results"] == []  # never in the feed
    assert client.get("/db/_all_docs").get_json()["rows"] == []
    assert client.delete("/db/_local/checkpoint?rev=0-2").status_code == 200
    assert client.get("/db/_local/checkpoint").status_code == 404
    assert client.get("/db/_local").status_code == 400


def test_attachments(client: CouchClient) -> None:
    data = "帮办 scan".encode() * 50
    put = client.put("/db/case/scan.txt", data=data, content_type="text/plain; charset=utf-8")
    assert put.status_code == 201
    rev1 = put.get_json()["rev"]
    got = client.get("/db/case/scan.txt")
    assert got.get_data() == data and got.headers["Content-Type"] == "text/plain; charset=utf-8"
    digest = base64.b64encode(hashlib.md5(data).digest()).decode()
    assert got.headers["ETag"] == f'"{digest}"'
    stub = client.get("/db/case").get_json()["_attachments"]["scan.txt"]
    assert stub["stub"] is True and stub["digest"] == f"md5-{digest}" and stub["length"] == len(data)
    # a second attachment on the current rev keeps the first
    rev2 = client.put(f"/db/case/dir/photo.bin?rev={rev1}", data=b"\x00\x01\x02",
                      content_type="application/octet-stream").get_json()["rev"]
    assert client.get("/db/case/dir/photo.bin").get_data() == b"\x00\x01\x02"
    full = client.get("/db/case?attachments=true").get_json()["_attachments"]
    assert base64.b64decode(full["scan.txt"]["data"]) == data and set(full) == {"scan.txt", "dir/photo.bin"}
    assert client.put("/db/case/late.txt", data=b"x").status_code == 409  # no rev on an existing doc
    assert client.put(f"/db/case/late.txt?rev={rev1}", data=b"x").status_code == 409  # stale rev
    gone = client.delete(f"/db/case/scan.txt?rev={rev2}")
    assert gone.status_code == 200
    assert client.get("/db/case/scan.txt").status_code == 404
    assert client.get(f"/db/case/scan.txt?rev={rev1}").get_data() == data
    assert client.delete(f"/db/case/nothing.txt?rev={gone.get_json()['rev']}").status_code == 404


def test_multipart_related_upload_as_couchdb_replicator_sends_it(client: CouchClient) -> None:
    scan = b"%PDF-1.4 \x00\xff binary\r\n--not-a-boundary\r\n"
    note = "一次性告知".encode()
    doc = {"_id": "mp", "_rev": "2-bbb", "_revisions": {"start": 2, "ids": ["bbb", "aaa"]}, "type": "case",
           "_attachments": {
               "scan.pdf": {"follows": True, "content_type": "application/pdf", "length": len(scan)},
               "note.txt": {"follows": True, "content_type": "text/plain", "encoding": "gzip",
                            "length": len(note)}}}
    boundary = "b0undary"
    body = (f"--{boundary}\r\nContent-Type: application/json\r\n\r\n".encode() + json.dumps(doc).encode()
            + f"\r\n--{boundary}\r\nContent-Disposition: attachment; filename=\"note.txt\"\r\n\r\n".encode()
            + gzip.compress(note)
            + f"\r\n--{boundary}\r\nContent-Disposition: attachment; filename=\"scan.pdf\"\r\n\r\n".encode()
            + scan + f"\r\n--{boundary}--".encode())
    resp = client.put("/db/mp?new_edits=false", data=body,
                      content_type=f'multipart/related; boundary="{boundary}"')
    assert resp.status_code == 201, resp.get_data()
    assert client.get("/db/mp").get_json()["_rev"] == "2-bbb"
    assert client.get("/db/mp/scan.pdf").get_data() == scan
    assert client.get("/db/mp/note.txt").get_data() == note
    short = body.replace(b"\r\n--b0undary\r\nContent-Disposition: attachment; filename=\"scan.pdf\"", b"X")
    bad = client.put("/db/mp2", data=short, content_type=f"multipart/related; boundary={boundary}")
    assert bad.status_code == 400 and client.get("/db/mp2").status_code == 404


def test_design_docs_missing_revs_and_unsupported_endpoints(client: CouchClient) -> None:
    for docid in ("_design/a", "_design/b", "plain", "zeta"):
        client.put(f"/db/{docid}", json={"v": 1})
    rows = client.get("/db/_design_docs").get_json()["rows"]
    assert [r["id"] for r in rows] == ["_design/a", "_design/b"]
    desc = client.get("/db/_design_docs?descending=true").get_json()["rows"]
    assert [r["id"] for r in desc] == ["_design/b", "_design/a"]
    rev = client.get("/db/plain").get_json()["_rev"]
    missing = client.post("/db/_missing_revs", json={"plain": [rev, "2-x"], "new": ["1-y"]}).get_json()
    assert missing == {"missing_revs": {"plain": ["2-x"], "new": ["1-y"]}}
    for path in ("/db/_find", "/db/_index", "/db/_purge"):
        resp = client.post(path, json={})
        assert resp.status_code == 501 and resp.get_json()["error"] == "not_implemented"
    unknown = client.get("/db/_unknown_thing")  # a reserved id, not an endpoint
    assert unknown.status_code == 400 and "reserved" in unknown.get_json()["reason"]


def test_an_attachment_stored_as_a_page_never_runs_as_one(client: CouchClient) -> None:
    """The media type is its writer's: an attachment stored as text/html, opened in a
    browser, ran as a page of the server's origin (the hub's, whose oversight login cookie
    went along). Sandboxed as CouchDB does by default ([csp] attachments_enable)."""
    page = b"<script>fetch('/oversight/').then(r => r.text()).then(alert)</script>"
    assert client.put("/db/evil/x.html", data=page, content_type="text/html").status_code == 201
    got = client.get("/db/evil/x.html")
    assert got.get_data() == page and got.headers["Content-Type"] == "text/html"
    assert got.headers["Content-Security-Policy"] == "sandbox"
    assert got.headers["X-Content-Type-Options"] == "nosniff"
