"""Interop (issue 3, Must show): our replicator with PouchDB Server, PouchDB 9's
replicator with ``bangban store serve``. After each run source and target hold the
same documents, revision trees (open_revs=all with revs) and conflicts."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ops.cli import main
from sync.replicate import replicate
from sync.sqlite import SQLiteServer, SQLiteStore
from sync.store import DocumentStore

from .conftest import Served, export_docs, run_pouchdb, seed
from .helpers import list_ids, snapshot, tree_rows, winners


def assert_same(a: DocumentStore, b: DocumentStore) -> None:
    snap = snapshot(a)
    assert snap == snapshot(b)
    assert winners(a) == winners(b)
    assert any(len(rows) > 1 for rows in snap.values())  # conflicts were part of it


@pytest.mark.couchdb
def test_pull_from_pouchdb_server(couch_store: DocumentStore, tmp_path: Path) -> None:
    seed(couch_store)
    with SQLiteStore(tmp_path / "local.sqlite") as local:
        result = replicate(couch_store, local)
        assert result.ok and result.doc_write_failures == 0
        assert result.requests > 0 and result.bytes_received > 0
        assert_same(couch_store, local)


@pytest.mark.couchdb
def test_push_to_pouchdb_server(couch_store: DocumentStore, tmp_path: Path) -> None:
    with SQLiteStore(tmp_path / "local.sqlite") as local:
        seed(local)
        result = replicate(local, couch_store)
        assert result.ok and result.docs_written == result.docs_read > 0
        assert_same(local, couch_store)


@pytest.mark.couchdb
def test_both_ways_with_edits_on_both_sides(couch_store: DocumentStore, tmp_path: Path) -> None:
    with SQLiteStore(tmp_path / "local.sqlite") as local:
        seed(local, 40, conflicts=5)
        replicate(local, couch_store)
        for store, side in ((local, "node"), (couch_store, "hub")):
            for doc_id in ("doc00005", "doc00008"):
                doc = store.get(doc_id)
                store.put({**doc, "edited_by": side})
        replicate(local, couch_store)
        replicate(couch_store, local)
        assert_same(local, couch_store)
        assert len(winners(local)["doc00008"][1]) == 1  # the new conflict is on both sides


@pytest.mark.couchdb
def test_cli_pulls_a_url_into_a_file(couch_store: DocumentStore, couchdb_url: str, tmp_path: Path,
                                     capsys: pytest.CaptureFixture[str]) -> None:
    seed(couch_store, 30, conflicts=3)
    target = tmp_path / "pulled.sqlite"
    code = main(["replicate", f"{couchdb_url}/{couch_store.name}", str(target),
                 "--create-target", "--json"])
    summary = json.loads(capsys.readouterr().out)
    assert code == 0 and summary["docs_written"] == summary["docs_read"] > 30
    assert summary["requests"] >= 4 and summary["bytes_received"] > 0
    with SQLiteStore(target) as local:
        assert_same(couch_store, local)


def _dump_rows(dump: dict[str, list[dict[str, object]]]) -> dict[str, object]:
    return {doc_id: tree_rows(leaves) for doc_id, leaves in dump.items()}  # type: ignore[arg-type]


@pytest.mark.e2e
def test_pouchdb_replicator_pulls_from_bangban_store_serve(served: Served) -> None:
    server = SQLiteServer(served.directory)
    store = server.create_db("hub")
    seed(store)
    summary = run_pouchdb(f"{served.url}/hub", "memory:pulled", "--dump")
    assert summary["ok"] and summary["doc_write_failures"] == 0, summary
    assert _dump_rows(summary["dump"]) == snapshot(store)
    store.close()


@pytest.mark.e2e
def test_pouchdb_replicator_pushes_to_bangban_store_serve(served: Served, tmp_path: Path) -> None:
    server = SQLiteServer(served.directory)
    target = server.create_db("hub")
    with SQLiteStore(tmp_path / "origin.sqlite") as origin:
        seed(origin)
        docs_file = tmp_path / "docs.json"
        docs_file.write_text(json.dumps(export_docs(origin, list_ids(origin))))
        summary = run_pouchdb("memory:node", f"{served.url}/hub", "--load", str(docs_file), "--dump")
        assert summary["ok"] and summary["doc_write_failures"] == 0, summary
        pushed = snapshot(target)
        assert _dump_rows(summary["dump"]) == pushed
        assert pushed == snapshot(origin)
        assert winners(target) == winners(origin)
    target.close()


@pytest.mark.couchdb
def test_filtered_pull_from_pouchdb_server(couch_store: DocumentStore, tmp_path: Path) -> None:
    seed(couch_store, 30, conflicts=3)
    couch_store.bulk_docs([{"_id": f"ev{i}", "type": "event", "n": i} for i in range(5)])
    with SQLiteStore(tmp_path / "ids.sqlite") as by_ids, \
            SQLiteStore(tmp_path / "sel.sqlite") as by_selector:
        replicate(couch_store, by_ids, doc_ids=["doc00003", "ev2"])
        assert sorted(snapshot(by_ids)) == ["doc00003", "ev2"]
        assert snapshot(by_ids) == snapshot(couch_store, ["doc00003", "ev2"])
        replicate(couch_store, by_selector, selector={"type": "event"})
        assert sorted(snapshot(by_selector)) == [f"ev{i}" for i in range(5)]


@pytest.mark.couchdb
def test_push_refused_documents_are_reported_and_skipped(couch_store: DocumentStore,
                                                         tmp_path: Path) -> None:
    # A validate_doc_update on the server refuses some documents (403 forbidden
    # per document in _bulk_docs); the others replicate and the run completes.
    couch_store.put({"_id": "_design/guard", "validate_doc_update":
                     "function (doc) { if (doc.secret) { throw({forbidden: 'no secrets here'}); } }"})
    with SQLiteStore(tmp_path / "local.sqlite") as local:
        local.bulk_docs([{"_id": f"ok{i}", "type": "case"} for i in range(20)]
                        + [{"_id": f"bad{i}", "type": "case", "secret": True} for i in range(3)])
        result = replicate(local, couch_store)
        assert result.ok and result.docs_written == 20
        assert result.doc_write_failures == 3
        assert sorted(f["id"] for f in result.failures) == ["bad0", "bad1", "bad2"]
        assert all(f["error"] == "forbidden" and f["rev"].startswith("1-") for f in result.failures)
        assert couch_store.all_docs(keys=["ok0", "bad0"])["rows"][0]["id"] == "ok0"
        assert couch_store.info()["doc_count"] == 21  # 20 docs + the design doc
