"""Attachments: inline base64, stubs, md5 digests, revpos, atts_since.

CouchDB docs, "/{db}/{docid}" attachments and "Inline attachments".
"""

from __future__ import annotations

import base64
import hashlib

import pytest

from sync import errors
from sync.store import DocumentStore
from tests.sync.contract.conftest import pouchdb_deviation

DATA = "帮办 attachment ✓".encode()


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def digest(data: bytes) -> str:
    return "md5-" + base64.b64encode(hashlib.md5(data).digest()).decode()


def _put(store: DocumentStore) -> str:
    return store.put({"_id": "a", "_attachments": {
        "scan.txt": {"content_type": "text/plain", "data": b64(DATA)}}})["rev"]


def test_inline_becomes_stub(store: DocumentStore) -> None:
    r = _put(store)
    att = store.get("a")["_attachments"]["scan.txt"]
    assert att == {"content_type": "text/plain", "digest": digest(DATA), "length": len(DATA),
                   "revpos": 1, "stub": True}
    assert store.get("a", rev=r)["_attachments"]["scan.txt"]["stub"] is True


def test_attachments_true_inlines_data(store: DocumentStore) -> None:
    _put(store)
    att = store.get("a", attachments=True)["_attachments"]["scan.txt"]
    assert att["data"] == b64(DATA) and att["digest"] == digest(DATA)
    assert att["revpos"] == 1 and "stub" not in att


def test_get_attachment(store: DocumentStore) -> None:
    r = _put(store)
    data, ctype = store.get_attachment("a", "scan.txt")
    assert data == DATA and ctype.startswith("text/plain")
    assert store.get_attachment("a", "scan.txt", rev=r)[0] == DATA
    with pytest.raises(errors.NotFound):
        store.get_attachment("a", "nope.txt")
    with pytest.raises(errors.NotFound):
        store.get_attachment("nope", "scan.txt")


def test_stub_keeps_attachment_and_revpos(store: DocumentStore) -> None:
    r1 = _put(store)
    doc = store.get("a")
    doc["v"] = 2
    r2 = store.put(doc)["rev"]
    att = store.get("a")["_attachments"]["scan.txt"]
    assert att["revpos"] == 1 and att["digest"] == digest(DATA)
    assert store.get_attachment("a", "scan.txt", rev=r2)[0] == DATA
    assert r1 != r2


def test_new_data_bumps_revpos_and_removal_drops(store: DocumentStore) -> None:
    r1 = _put(store)
    other = b"second"
    r2 = store.put({"_id": "a", "_rev": r1, "_attachments": {
        "scan.txt": {"content_type": "text/plain", "data": b64(DATA)},
        "two.bin": {"content_type": "application/octet-stream", "data": b64(other)}}})["rev"]
    atts = store.get("a")["_attachments"]
    assert atts["two.bin"]["revpos"] == 2 and atts["two.bin"]["digest"] == digest(other)
    r3 = store.put({"_id": "a", "_rev": r2, "_attachments": {
        "two.bin": dict(atts["two.bin"])}})["rev"]
    atts3 = store.get("a")["_attachments"]
    assert set(atts3) == {"two.bin"} and atts3["two.bin"]["revpos"] == 2
    assert r3.startswith("3-")


def _two_revs(store: DocumentStore) -> str:
    r1 = _put(store)
    doc = store.get("a")
    doc["_attachments"]["new.txt"] = {"content_type": "text/plain", "data": b64(b"new")}
    store.put(doc)
    return r1


@pouchdb_deviation("GET ignores atts_since")
def test_atts_since_sends_only_newer_data(store: DocumentStore) -> None:
    r1 = _two_revs(store)
    got = store.get("a", atts_since=[r1])["_attachments"]
    assert got["scan.txt"].get("stub") is True and "data" not in got["scan.txt"]
    assert got["new.txt"]["data"] == b64(b"new")
    # a rev that is not an ancestor does not count: everything is sent
    got = store.get("a", atts_since=["1-" + "f" * 32])["_attachments"]
    assert "data" in got["scan.txt"] and "data" in got["new.txt"]


@pouchdb_deviation("atts_since is ignored when attachments=true")
def test_atts_since_wins_over_attachments_true(store: DocumentStore) -> None:
    # chttpd_db: atts_since adds [{atts_since, Revs}, attachments] to the open options,
    # and couch_db:apply_open_options2 turns attachments at or below that revpos into stubs
    r1 = _two_revs(store)
    got = store.get("a", attachments=True, atts_since=[r1])["_attachments"]
    assert got["scan.txt"].get("stub") is True and "data" not in got["scan.txt"]
    assert got["new.txt"]["data"] == b64(b"new")


def test_attachments_in_open_revs_and_bulk_get(store: DocumentStore) -> None:
    r = _put(store)
    row = store.open_revs("a", [r], attachments=True)[0]["ok"]
    assert row["_attachments"]["scan.txt"]["data"] == b64(DATA)
    doc = store.bulk_get([{"id": "a", "rev": r}], revs=True, attachments=True)[
        "results"][0]["docs"][0]["ok"]
    assert doc["_attachments"]["scan.txt"]["data"] == b64(DATA)


def test_graft_with_inline_attachment(store: DocumentStore) -> None:
    rev = "2-" + "b" * 32
    store.bulk_docs([{"_id": "g", "_rev": rev,
                      "_revisions": {"start": 2, "ids": ["b" * 32, "a" * 32]},
                      "_attachments": {"f": {"content_type": "text/plain", "data": b64(DATA),
                                             "revpos": 2}}}], new_edits=False)
    att = store.get("g")["_attachments"]["f"]
    assert att["digest"] == digest(DATA) and att["length"] == len(DATA) and att["revpos"] == 2
    assert store.get_attachment("g", "f")[0] == DATA
