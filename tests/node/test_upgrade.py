"""A station laptop upgraded before its hub, and a laptop's folder written by an older
version opened by this one."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pytest

from node.syncstate import HUB_OLDER, WAITS_FOR_BASE
from sync.sqlite import SQLiteStore
from tests.node.conftest import make_node_dir
from tests.node.test_repush import syncing_with

#: What the hub of 538c776 (26 November, before event schema version 2 sealed the typed
#: free text) answered this version's completion and the rating after it, verbatim from an
#: upgrade rehearsal: its demo's folders, the laptop's opened by this version, pushing to
#: its hub still on 538c776.
OLD_HUB_VERSION = ("schema: schema_version: schema_version must be 1 (schema_version) / "
                   "schema_version 必须为 1")
OLD_HUB_BASE = ("transition: base_unknown (DB4106/T 101-2023 -): base_hlc {base} is not an "
                "event of this case known here / base_hlc {base} 不是已知的本件事件")


class OldHub(SQLiteStore):
    """A device view of a hub that knows schema version 1 only, refusing as 538c776 did."""

    upgraded = False

    def bulk_docs(self, docs: Sequence[Mapping[str, Any]], *,
                  new_edits: bool = True) -> list[Any]:
        out: list[Any] = []
        refused: set[str] = set()
        rest = []
        for d in docs:
            base = str(d.get("base_hlc") or "")
            if not self.upgraded and int(d.get("schema_version", 1)) > 1:
                reason = OLD_HUB_VERSION
            elif base and f"event:C1:{base}" in refused:
                reason = OLD_HUB_BASE.format(base=base)
            else:
                rest.append(d)
                continue
            refused.add(d["_id"])
            out.append({"id": d["_id"], "rev": d.get("_rev"), "error": "forbidden",
                        "reason": reason})
        return out + (super().bulk_docs(rest, new_edits=new_edits) if rest else [])

    def close(self) -> None:  # the same "hub" serves every round of the test
        pass


def test_a_hub_older_than_the_laptop_is_said_with_what_to_do(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The sync page listed "schema_version must be 1" and, for the step after it, an
    unknown base_hlc: nothing said the hub was older, whom to call, or that the records
    stay here and go up by themselves once it is upgraded (they do: node.repush)."""
    hub = OldHub(str(tmp_path / "hub.sqlite"))
    try:
        with syncing_with(hub, make_node_dir(tmp_path / "node"), monkeypatch) as node:
            node.store.put({"_id": "event:C1:0001", "type": "event", "schema_version": 2})
            node.store.put({"_id": "event:C1:0002", "type": "event", "schema_version": 1,
                            "base_hlc": "0001"})
            node.store.put({"_id": "event:C2:0001", "type": "event", "schema_version": 1})
            node.syncer.sync_once()
            refused = {r["id"]: r for r in node.syncer.state.refused}
            assert set(refused) == {"event:C1:0001", "event:C1:0002"}
            assert refused["event:C1:0001"]["message"] == HUB_OLDER.format(version=2)
            assert "upgrade the hub" in refused["event:C1:0001"]["message"]
            assert refused["event:C1:0002"]["message"] == WAITS_FOR_BASE
            assert refused["event:C1:0001"]["reason"] == OLD_HUB_VERSION  # the hub's, kept
            assert HUB_OLDER.format(version=2) in node.syncer.state.round_words()
            OldHub.upgraded = True  # the operator upgrades the hub: both go up by themselves
            node.syncer.sync_once()
            held = {r["id"] for r in hub.all_docs()["rows"]}
            assert {"event:C1:0001", "event:C1:0002", "event:C2:0001"} <= held
            assert node.syncer.state.refused == []
    finally:
        OldHub.upgraded = False


def test_a_refusal_of_another_kind_keeps_the_hub_s_words(tmp_path: Path) -> None:
    """Only a version the hub does not know is said to be the hub's age: a version this
    hub knows (a record of its own that is wrong) keeps the hub's reason."""
    from node.syncstate import refusal_words

    store = SQLiteStore(str(tmp_path / "s.sqlite"))
    try:
        store.put({"_id": "event:C1:0001", "type": "event", "schema_version": 1})
        reason = "schema: schema_version: schema_version must be 1 or 2 for completion events"
        assert refusal_words({"id": "event:C1:0001", "reason": reason}, [], store) == reason
        other = "signature: unknown device"
        assert refusal_words({"id": "event:C1:0001", "reason": other}, [], store) == other
    finally:
        store.close()


def test_the_refold_after_an_upgrade_runs_once_and_says_so(
        node_dir: Path, caplog: pytest.LogCaptureFixture) -> None:
    """The first unlock after an upgrade that changed the fold (node.index.FOLD_VERSION)
    folds every case again while the clerk waits at the unlock page (docs/benchmarks.md:
    ~2 s for 5,000 cases), and said nothing of it in node serve's log. The old layout is
    written explicitly: the ``fold`` of f2913b3 and 02d2a0e's index files, "2"."""
    import sqlite3

    from node.core import INDEX
    from node.index import FOLD_VERSION
    from schemas.sample import catalog
    from tests.node.conftest import PASSPHRASE, opened

    def unlock(app: Any) -> Any:
        client = app.test_client()
        assert client.post("/api/unlock", json={"passphrase": PASSPHRASE}).status_code == 200
        return client

    with opened(node_dir) as app:
        item = catalog()[0]
        r = unlock(app).post("/api/consultations", json={
            "applicant_name": "刘德明", "phone": "13600001111", "question": "如何办理？",
            "service_item": item["code"], "service_type": "assist", "answered": True, "outcome": "已当场答复"})
        assert r.status_code == 201, r.json
    db = sqlite3.connect(node_dir / INDEX, isolation_level=None)
    db.execute("UPDATE meta SET v = '2' WHERE k = 'fold'")
    db.close()
    said = [f"index.sqlite was folded by an older version (fold 2; this version folds "
            f"{FOLD_VERSION})", "1 cases folded again"]
    with opened(node_dir) as app:  # a locked round opened the index (its 待上传 marks),
        assert app.extensions["bangban_node"].index.get_meta("refold_from") == "2"  # no hub,
    # and node serve stopped before anyone unlocked: the refold is still to run and be said
    for upgraded in (True, False):  # the first unlock after the upgrade, then the next
        caplog.clear()
        with caplog.at_level("WARNING", logger="bangban.node"), opened(node_dir) as app:
            unlock(app)
        for line in said:
            assert any(line in m for m in caplog.messages) is upgraded, caplog.messages


def test_a_laptop_folder_written_by_538c776_opens_with_nothing_lost(
        tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    """A station's folder as 538c776 (26 November) left it, never synced: tests/node/
    fixtures/node-538c776 (made by make_old_node.py there, with that commit's code). Every
    case, step and applicant is read as that version showed it, but for what later folds
    changed on purpose (an answered consultation is ``consulted``, fold 2); every case
    still waits for upload; the refold is said once; an old case takes a new step, and a
    new case does not reuse their numbers."""
    import json
    import shutil

    from node.index import FOLD_VERSION
    from tests.node.conftest import PASSPHRASE, opened

    folder = tmp_path / "node"
    shutil.copytree(Path(__file__).parent / "fixtures" / "node-538c776", folder)
    expected = json.loads((folder / "expected.json").read_text(encoding="utf-8"))
    (folder / "expected.json").unlink()
    with caplog.at_level("WARNING", logger="bangban.node"), opened(folder) as app:
        c = app.test_client()
        assert c.post("/api/unlock", json={"passphrase": PASSPHRASE}).status_code == 200
        assert any(f"(fold 1; this version folds {FOLD_VERSION})" in m for m in caplog.messages)
        rows = {r["case_id"]: r for r in c.get("/api/cases").json["rows"]}
        assert set(rows) == {e["case_id"] for e in expected.values()}
        for name, old in expected.items():
            d = c.get(f"/api/cases/{old['case_id']}").json
            status = {"consulting": "consulted"}.get(old["status"], old["status"])
            assert (d["state"]["status"], rows[old["case_id"]]["status"]) == (status, status)
            assert rows[old["case_id"]]["case_no"] == old["case_no"]
            assert d["private"]["applicant_name"] == old["applicant_name"], name
            assert sorted(e["event_type"] for e in d["events"]
                          if e["event_type"] != "access") == old["events"], name
        pending = {r["case_id"] for r in c.get("/api/cases?view=pending").json["rows"]}
        assert pending == set(rows)  # never synced: all of it still waits for upload
        found = c.get("/api/cases", query_string={"q": "升级甲"}).json["rows"]
        assert [r["case_id"] for r in found] == [expected["suspended"]["case_id"]]
        # a step on an old case (no date in it: the fixture's deadlines pass one day)
        done = expected["completed"]["case_id"]
        r = c.post(f"/api/cases/{done}/events/archived", json={"archive_no": "GD-2026-1"})
        assert r.status_code == 201, r.json
        assert c.get(f"/api/cases/{done}").json["state"]["status"] == "archived"
        r = c.post("/api/consultations", json={"applicant_name": "升级丁", "question": "？",
                                               "answered": True, "outcome": "已当场答复"})
        assert r.status_code == 201, r.json
        new_no = c.get(f"/api/cases/{r.json['case_id']}").json["header"]["case_no"]
        assert new_no not in {old["case_no"] for old in expected.values()}
    caplog.clear()
    with caplog.at_level("WARNING", logger="bangban.node"), opened(folder) as app:
        app.test_client().post("/api/unlock", json={"passphrase": PASSPHRASE})
        assert not any("folded by an older version" in m for m in caplog.messages)
