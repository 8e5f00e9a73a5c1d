"""Bad input gets CouchDB 3's status and ``{"error", "reason"}``, and nothing is stored
(issue 2, Must show). Every case ends with a read that proves the store is unchanged."""

from __future__ import annotations

import gzip
import json
from typing import Any

import pytest

from sync.sqlite import SQLiteServer
from tests.sync.http.conftest import CouchClient, make_client


def assert_error(resp: Any, status: int, error: str | tuple[str, ...], reason: str | None = None) -> None:
    assert resp.status_code == status, resp.get_data(as_text=True)
    body = resp.get_json()
    errors = (error,) if isinstance(error, str) else error
    assert body["error"] in errors, body
    assert isinstance(body["reason"], str) and body["reason"]
    if reason is not None:
        assert reason in body["reason"], body


def doc_ids(client: CouchClient, db: str = "db") -> list[str]:
    return [row["id"] for row in client.get(f"/{db}/_all_docs").get_json()["rows"]]


def update_seq(client: CouchClient, db: str = "db") -> Any:
    return client.get(f"/{db}").get_json()["update_seq"]


# -- malformed JSON -----------------------------------------------------------------

@pytest.mark.parametrize("body", [b"{bad", b'{"a": 1,}', b"", b'{"a": NaN}', b'{"a": "\xff\xfe"}', b"[1, 2"])
def test_malformed_json_in_put_is_400_and_nothing_stored(client: CouchClient, body: bytes) -> None:
    seq = update_seq(client)
    resp = client.put("/db/doc", data=body, content_type="application/json")
    assert_error(resp, 400, "bad_request", "invalid UTF-8 JSON")
    assert client.get("/db/doc").status_code == 404
    assert update_seq(client) == seq


@pytest.mark.parametrize("path", ["/db", "/db/_bulk_docs", "/db/_all_docs", "/db/_revs_diff",
                                  "/db/_bulk_get", "/db/_changes"])
def test_malformed_json_in_post_is_400(client: CouchClient, path: str) -> None:
    resp = client.post(path, data=b'{"docs": [', content_type="application/json")
    assert_error(resp, 400, "bad_request", "invalid UTF-8 JSON")
    assert doc_ids(client) == []


def test_malformed_json_in_local_doc_and_query(client: CouchClient) -> None:
    assert_error(client.put("/db/_local/cp", data=b"{x", content_type="application/json"),
                 400, "bad_request", "invalid UTF-8 JSON")
    assert client.get("/db/_local/cp").status_code == 404
    assert_error(client.get('/db/_all_docs?keys=["a"'), 400, "bad_request", "invalid UTF-8 JSON")
    assert_error(client.get("/db/doc?open_revs=[1-a"), 400, "bad_request")


# -- reserved and invalid ids --------------------------------------------------------

@pytest.mark.parametrize("docid", ["_foo", "_design/", "_bar/baz"])
def test_reserved_id_in_url_is_400(client: CouchClient, docid: str) -> None:
    resp = client.put(f"/db/{docid}", json={"a": 1})
    assert_error(resp, 400, ("bad_request", "illegal_docid"))
    assert doc_ids(client) == []


@pytest.mark.parametrize("doc,reason", [
    ({"_id": "_foo"}, "Only reserved document ids may start with underscore."),
    ({"_id": ""}, "Document id must not be empty"),
    ({"_id": 5}, "Document id must be a string"),
    ({"_id": ["a"]}, "Document id must be a string"),
])
def test_invalid_id_in_bulk_docs_rejects_the_whole_request(client: CouchClient, doc: dict[str, Any],
                                                           reason: str) -> None:
    resp = client.post("/db/_bulk_docs", json={"docs": [{"_id": "good"}, doc]})
    assert_error(resp, 400, ("bad_request", "illegal_docid"), reason)
    assert doc_ids(client) == []  # not even the valid doc of the batch


def test_reserved_id_in_post_db(client: CouchClient) -> None:
    assert_error(client.post("/db", json={"_id": "_secret"}), 400, ("bad_request", "illegal_docid"))
    assert doc_ids(client) == []


def test_illegal_database_names(client: CouchClient) -> None:
    for name in ("Bad", "1abc", "a%20b", "_users_x"):
        assert_error(client.put(f"/{name}"), 400, "illegal_database_name")
    assert client.get("/_all_dbs").get_json() == ["db"]


# -- invalid revs ----------------------------------------------------------------------

@pytest.mark.parametrize("rev", ["abc", "0-abc", "-1-abc", "x-1", "1", 12, None, ["1-a"]])
def test_invalid_rev_in_body_is_400(client: CouchClient, rev: Any) -> None:
    created = client.put("/db/doc", json={"v": 1}).get_json()["rev"]
    resp = client.put("/db/doc", json={"_rev": rev, "v": 2})
    if rev is None:  # "_rev": null is no rev at all: an update without a rev conflicts
        assert_error(resp, 409, "conflict", "Document update conflict.")
    else:
        assert_error(resp, 400, "bad_request", "Invalid rev format")
    doc = client.get("/db/doc").get_json()
    assert doc["_rev"] == created and doc["v"] == 1


def test_invalid_rev_in_query_and_headers(client: CouchClient) -> None:
    rev = client.put("/db/doc", json={"v": 1}).get_json()["rev"]
    assert_error(client.get("/db/doc?rev=nonsense"), 400, "bad_request", "Invalid rev format")
    assert_error(client.delete("/db/doc?rev=nonsense"), 400, "bad_request", "Invalid rev format")
    assert_error(client.put("/db/doc?rev=2-abc", json={"_rev": rev, "v": 2}), 400, "bad_request",
                 "Document rev from request body and query string have different values")
    assert_error(client.put("/db/doc", json={"_rev": rev}, headers={"If-Match": '"2-xyz"'}),
                 400, "bad_request", "Document rev and etag have different values")
    assert_error(client.post("/db/_revs_diff", json={"doc": ["bogus"]}), 400, "bad_request",
                 "Invalid rev format")
    assert_error(client.post("/db/_revs_diff", json={"doc": "1-abc"}), 400, "bad_request")
    assert client.get("/db/doc").get_json()["_rev"] == rev


def test_invalid_revs_with_new_edits_false(client: CouchClient) -> None:
    for doc in ({"_id": "a", "_rev": "abc"},
                {"_id": "a", "_rev": "2-b", "_revisions": {"start": "x", "ids": ["b"]}},
                {"_id": "a"}):
        resp = client.post("/db/_bulk_docs", json={"new_edits": False, "docs": [doc]})
        assert_error(resp, 400, "bad_request")
    assert_error(client.put("/db/a?new_edits=false", json={"v": 1}), 400, "bad_request",
                 "When `new_edits: false`, the document needs `_rev` or `_revisions` specified")
    assert doc_ids(client) == []


# -- wrong types -------------------------------------------------------------------------

@pytest.mark.parametrize("body", [[1, 2], "doc", 42, None, True])
def test_document_must_be_an_object(client: CouchClient, body: Any) -> None:
    resp = client.put("/db/doc", data=json.dumps(body), content_type="application/json")
    assert_error(resp, 400, "bad_request", "Document must be a JSON object")
    assert_error(client.post("/db", json=body) if body is not None else
                 client.post("/db", data=b"null", content_type="application/json"),
                 400, "bad_request", "Document must be a JSON object")
    resp = client.post("/db/_bulk_docs", json={"docs": [{"_id": "ok"}, body]})
    assert_error(resp, 400, "bad_request", "Document must be a JSON object")
    assert doc_ids(client) == []


@pytest.mark.parametrize("body,reason", [
    ({}, "POST body must include `docs` parameter."),
    ({"docs": {"_id": "a"}}, "`docs` parameter must be an array."),
    ({"docs": [], "new_edits": "no"}, "`new_edits` parameter must be a boolean."),
    ([{"_id": "a"}], "Request body must be a JSON object"),
])
def test_bulk_docs_body_shape(client: CouchClient, body: Any, reason: str) -> None:
    assert_error(client.post("/db/_bulk_docs", json=body), 400, "bad_request", reason)
    assert doc_ids(client) == []


@pytest.mark.parametrize("doc,reason", [
    ({"_id": "a", "_attachments": [1]}, "_attachments"),
    ({"_id": "a", "_attachments": {"f": {"content_type": "text/plain", "data": "!!not base64"}}}, ""),
    ({"_id": "a", "_bogus": 1}, "Bad special document member"),
    ({"_id": "a", "_revisions": "x"}, "_revisions"),
])
def test_wrong_special_member_types(client: CouchClient, doc: dict[str, Any], reason: str) -> None:
    assert_error(client.post("/db/_bulk_docs", json={"docs": [doc]}), 400, ("bad_request", "doc_validation"),
                 reason or None)
    assert client.get("/db/a").status_code == 404


def test_wrong_query_parameter_types(client: CouchClient) -> None:
    assert_error(client.get("/db/_all_docs?limit=ten"), 400, "query_parse_error")
    assert_error(client.get("/db/_all_docs?skip=-1"), 400, "query_parse_error")
    assert_error(client.get("/db/_all_docs?descending=maybe"), 400, "query_parse_error")
    assert_error(client.get("/db/_all_docs?keys=%7B%7D"), 400, "bad_request", "`keys` parameter must be an array.")
    assert_error(client.post("/db/_all_docs", json={"keys": "a"}), 400, "bad_request",
                 "`keys` body member must be an array.")
    assert_error(client.get("/db/_changes?limit=x"), 400, "query_parse_error")
    assert_error(client.get("/db/_changes?feed=sometimes"), 400, "bad_request", "Supported `feed` types")
    assert_error(client.get("/db/_changes?feed=longpoll&heartbeat=-5"), 400, "bad_request", "heartbeat")
    assert_error(client.get("/db/_changes?seq_interval=0"), 400, "bad_request")
    assert_error(client.get("/db/_changes?filter=_doc_ids&doc_ids=%22a%22"), 400, "bad_request",
                 "`doc_ids` filter parameter is not a list of doc ids.")
    assert_error(client.get("/db/_changes?filter=_selector"), 400, "bad_request", "Selector")
    assert_error(client.get("/db/_changes?filter=app/by_type"), 400, "bad_request",
                 "only _doc_ids and _selector")  # what this store takes (changes_filters)
    assert_error(client.put("/db/_revs_limit", data=b'"many"', content_type="application/json"), 400, "bad_request")
    assert_error(client.put("/db/_revs_limit", data=b"0", content_type="application/json"), 400, "bad_request")
    assert client.get("/db/_revs_limit").get_json() == 1000


def test_bulk_get_bad_items_are_per_item_errors(client: CouchClient) -> None:
    rev = client.put("/db/a", json={"v": 1}).get_json()["rev"]
    resp = client.post("/db/_bulk_get", json={"docs": [{"id": "a"}, {}, {"rev": rev}, 7,
                                                        {"id": "a", "rev": "bad"}]})
    assert resp.status_code == 200
    results = resp.get_json()["results"]
    assert results[0]["docs"][0]["ok"]["_rev"] == rev
    assert results[1]["docs"][0]["error"]["reason"] == "document must be a JSON object"
    assert results[2]["docs"][0]["error"]["reason"] == "document id missed"
    assert results[3]["docs"][0]["error"]["error"] == "bad_request"
    assert results[4]["docs"][0]["error"] == {"id": "a", "rev": "bad", "error": "bad_request",
                                              "reason": "Invalid rev format"}
    assert_error(client.post("/db/_bulk_get", json={}), 400, "bad_request", "Missing JSON list of 'docs'.")
    assert_error(client.post("/db/_bulk_get?rev=1-a", json={"docs": []}), 400, "bad_request",
                 '"rev" query parameter is not acceptable')


# -- conflicts (409) ---------------------------------------------------------------------------

def test_update_conflicts_are_409_and_keep_the_stored_revision(client: CouchClient) -> None:
    first = client.put("/db/doc", json={"v": 1}).get_json()["rev"]
    second = client.put("/db/doc", json={"_rev": first, "v": 2}).get_json()["rev"]
    assert_error(client.put("/db/doc", json={"v": 3}), 409, "conflict", "Document update conflict.")
    assert_error(client.put("/db/doc", json={"_rev": first, "v": 3}), 409, "conflict",
                 "Document update conflict.")
    assert_error(client.delete(f"/db/doc?rev={first}"), 409, "conflict")
    assert_error(client.delete("/db/doc"), 409, "conflict")
    assert_error(client.post("/db", json={"_id": "doc", "v": 4}), 409, "conflict")
    rows = client.post("/db/_bulk_docs", json={"docs": [{"_id": "doc", "_rev": first}]}).get_json()
    assert rows == [{"id": "doc", "error": "conflict", "reason": "Document update conflict."}]
    doc = client.get("/db/doc?conflicts=true").get_json()
    assert doc == {"_id": "doc", "_rev": second, "v": 2}


def test_local_doc_conflict(client: CouchClient) -> None:
    assert client.put("/db/_local/cp", json={"seq": 1}).status_code == 201
    assert_error(client.put("/db/_local/cp", json={"seq": 2}), 409, "conflict")
    assert_error(client.put("/db/_local/cp", json={"seq": 2, "_rev": "0-7"}), 409, "conflict")
    assert client.get("/db/_local/cp").get_json()["seq"] == 1


# -- media types and the size limit -------------------------------------------------------------

@pytest.mark.parametrize("path", ["/db", "/db/_bulk_docs", "/db/_all_docs", "/db/_revs_diff",
                                  "/db/_bulk_get", "/db/_changes", "/db/_compact", "/db/_ensure_full_commit"])
def test_post_requires_application_json(client: CouchClient, path: str) -> None:
    body = json.dumps({"docs": [{"_id": "x"}]})
    for ctype in ("text/plain", "application/x-www-form-urlencoded"):
        resp = client.post(path, data=body, content_type=ctype)
        assert_error(resp, 415, "bad_content_type", "Content-Type must be application/json")
    resp = client.post(path, data=body, headers={"Content-Type": ""})
    assert resp.status_code == 415
    assert doc_ids(client) == []


def test_body_over_the_limit_is_413_and_nothing_stored(store_server: SQLiteServer) -> None:
    small = make_client(store_server, max_http_request_size=2048)
    assert small.put("/db").status_code == 201
    big = {"_id": "big", "text": "x" * 4096}
    assert_error(small.put("/db/big", json=big), 413, "too_large", "the request entity is too large")
    assert_error(small.post("/db/_bulk_docs", json={"docs": [big]}), 413, "too_large")
    assert_error(small.put("/db/big/file.bin", data=b"\0" * 5000, content_type="application/octet-stream"),
                 413, "too_large")
    assert small.get("/db/big").status_code == 404
    # a gzip body small on the wire but over the limit once decoded is refused too
    bomb = gzip.compress(json.dumps({"docs": [big]}).encode())
    assert len(bomb) < 2048
    resp = small.post("/db/_bulk_docs", data=bomb, content_type="application/json",
                      headers={"Content-Encoding": "gzip"})
    assert_error(resp, 413, "too_large")
    # no hop-by-hop header from a WSGI application (PEP 3333; waitress made a 500 of it)
    assert "Connection" not in resp.headers
    assert doc_ids(small) == []
    # under the limit the same request is fine
    assert small.put("/db/small", json={"text": "x" * 100}).status_code == 201


def test_bad_content_encoding(client: CouchClient) -> None:
    resp = client.put("/db/doc", data=b"not gzip at all", content_type="application/json",
                      headers={"Content-Encoding": "gzip"})
    assert_error(resp, 400, "bad_request")
    resp = client.put("/db/doc", data=b"{}", content_type="application/json",
                      headers={"Content-Encoding": "br"})
    assert_error(resp, 415, "bad_content_type")
    assert client.get("/db/doc").status_code == 404


def test_attachment_name_rules(client: CouchClient) -> None:
    assert_error(client.put("/db/doc/_hidden", data=b"x", content_type="text/plain"), 400, "bad_request",
                 "starts with prohibited character '_'")
    assert_error(client.put("/db/_local/cp/att", data=b"x"), 400, "bad_request",
                 "_local documents do not accept attachments.")
    assert client.get("/db/doc").status_code == 404


def test_all_docs_queries_refuses_what_is_not_a_list_of_queries(client: CouchClient) -> None:
    for body in ({}, {"queries": "a"}, {"queries": [1]}):
        assert_error(client.post("/db/_all_docs/queries", json=body), 400, "query_parse_error",
                     "`queries` must be an array of query objects")
    assert_error(client.post("/db/_all_docs/queries", json={"queries": [{"limit": "ten"}]}),
                 400, "query_parse_error")
    assert_error(client.post("/db/_all_docs/queries", json={"queries": [{"keys": "a"}]}),
                 400, "bad_request", "`keys` member must be an array.")
    assert client.get("/db/_all_docs/queries").status_code == 405
    assert client.post("/db/_all_docs/queries", json={"queries": []}).get_json() == {"results": []}


@pytest.mark.parametrize("feed", ["feed=continuous&timeout=10",
                                  "feed=longpoll&heartbeat=100&timeout=10"])
def test_a_bad_since_on_a_streamed_feed_is_a_400_not_a_cut_stream(client: CouchClient,
                                                                   feed: str) -> None:
    """The store judges ``since`` at its first read; on a streamed feed that read ran only
    once the 200 had been sent, and the refusal escaped as an exception mid-stream."""
    assert_error(client.get(f"/db/_changes?{feed}&since=garbage"), 400, "bad_request",
                 "Malformed sequence")


def test_put_with_new_edits_false_and_only_revisions_answers_its_rev(client: CouchClient
                                                                     ) -> None:
    """``_revisions`` alone names the revision (CouchDB accepts it without ``_rev``); the
    answer read ``_rev`` from the body and was a 500 after the write."""
    doc = {"a": 1, "_revisions": {"start": 2, "ids": ["b" * 32, "a" * 32]}}
    resp = client.put("/db/doc?new_edits=false", json=doc)
    assert resp.status_code == 201, resp.get_data(as_text=True)
    assert resp.get_json() == {"ok": True, "id": "doc", "rev": "2-" + "b" * 32}
    assert client.get("/db/doc").get_json()["_rev"] == "2-" + "b" * 32


@pytest.mark.parametrize("query", ["_changes?since=99999999999999999999",
                                   "_changes?since=99999999999999999999-g1",
                                   "_changes?feed=longpoll&timeout=0&since=99999999999999999999",
                                   "_all_docs?limit=99999999999999999999",
                                   "_all_docs?skip=99999999999999999999"])
def test_numbers_beyond_64_bits_in_the_query_are_answered(client: CouchClient,
                                                          query: str) -> None:
    """JSON and query numbers have no bound, SQLite's integers do: these were 500s
    (OverflowError) in the embedded store. A seq or skip past the end reads nothing."""
    assert client.put("/db/doc", json={"a": 1}).status_code == 201
    resp = client.get(f"/db/{query}")
    assert resp.status_code == 200, resp.get_data(as_text=True)
    rows = resp.get_json().get("results", resp.get_json().get("rows"))
    assert rows == ([] if "since" in query or "skip" in query else [
        {"id": "doc", "key": "doc", "value": {"rev": client.get("/db/doc").get_json()["_rev"]}}])
