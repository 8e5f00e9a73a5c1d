"""The PouchDB Server the CouchDB-backed tests run against answers as a CouchDB-API server."""

from __future__ import annotations

import json
import urllib.request

import pytest


@pytest.mark.couchdb
def test_server_answers_welcome(couchdb_url: str) -> None:
    with urllib.request.urlopen(couchdb_url.replace("admin:bangban-test@", "") + "/", timeout=10) as resp:
        body = json.load(resp)
    assert "version" in body
