"""``bangban hub backup DIR`` / ``restore DIR`` tell the operator, in plain lines, what
was written or restored and what to do next (they printed a Python dict); ``--json``."""

from __future__ import annotations

import base64
import json
import re
import shutil
from pathlib import Path

import pytest

from ops.cli import main


@pytest.fixture
def scanned(hub_dir: str) -> str:
    """The `hub init` folder with attachments, a second revision and a tombstone."""
    from hub.core import Hub
    from hub.settings import Settings

    hub = Hub(Settings.load({"hub_dir": hub_dir}))
    try:  # one document with two attachments and a second revision, one deleted document
        rev = hub.stores.main.put({"_id": "scan:1", "type": "chunk", "_attachments": {
            name: {"content_type": "application/octet-stream",
                   "data": base64.b64encode(name.encode()).decode()}
            for name in ("a", "b")}})["rev"]
        hub.stores.main.put({**hub.stores.main.get("scan:1", attachments=True), "_rev": rev,
                             "n": 2})
        gone = hub.stores.main.put({"_id": "gone", "type": "chunk"})["rev"]
        hub.stores.main.delete("gone", gone)
    finally:
        hub.close()
    return hub_dir


def _documents(hub_dir: str) -> dict[str, int]:
    """Documents per database, tombstones included (the backup keeps them)."""
    from hub.core import Hub
    from hub.settings import Settings

    hub = Hub(Settings.load({"hub_dir": hub_dir}))
    try:
        return {name: info["doc_count"] + info["doc_del_count"] for name, info in (
            (n, getattr(hub.stores, n).info()) for n in ("main", "private", "receipts"))}
    finally:
        hub.close()


def _line(out: str, name: str) -> tuple[int, int, int]:
    m = re.search(rf"^  {name} +(\d+) documents, +(\d+) revisions, (\d+) attachments$", out,
                  re.M)
    assert m, out
    return int(m[1]), int(m[2]), int(m[3])


def test_backup_and_restore_say_what_and_what_next(scanned, tmp_path, capsys):
    hub_dir = scanned
    want = _documents(hub_dir)
    capsys.readouterr()
    assert main(["hub", "--hub-dir", hub_dir, "backup", str(tmp_path / "bk")]) == 0
    out = capsys.readouterr().out
    assert "{'" not in out and "': " not in out  # no Python dict
    assert f"backup written to {tmp_path / 'bk'}" in out
    for name in ("main", "private", "receipts"):
        documents, revisions, _ = _line(out, name)
        assert documents == want[name] and revisions >= documents
    assert _line(out, "main")[2] == 2
    assert "copy HUB_DIR/keys and HUB_DIR/settings.json" in out

    whole = tmp_path / "whole"  # a lost store: keys/ and settings.json put back first
    whole.mkdir()
    shutil.copytree(Path(hub_dir) / "keys", whole / "keys")
    shutil.copy(Path(hub_dir) / "settings.json", whole / "settings.json")
    assert main(["hub", "--hub-dir", str(whole), "restore", str(tmp_path / "bk")]) == 0
    out = capsys.readouterr().out
    assert "{'" not in out and "': " not in out
    assert f"restored from {tmp_path / 'bk'}" in out
    for name in ("main", "private", "receipts"):
        assert _line(out, name)[0] == want[name]
    assert _line(out, "main")[2] == 2
    taken = json.loads((tmp_path / "bk" / "manifest.json").read_text("utf-8"))["taken_at"]
    assert "systemctl start bangban-hub" in out and "bangban hub doctor" in out
    assert f"redo what the hub did after the backup (taken {taken})" in out
    assert "put back this hub's keys/" not in out  # they are back


def test_json_and_a_restore_without_keys(scanned, tmp_path, capsys):
    hub_dir = scanned
    want = _documents(hub_dir)
    capsys.readouterr()
    assert main(["hub", "--hub-dir", hub_dir, "backup", str(tmp_path / "bk"), "--json"]) == 0
    written = json.loads(capsys.readouterr().out)
    assert {n: c["documents"] for n, c in written["databases"].items()} == want
    assert written["databases"]["main"]["attachments"] == 2 and written["next"]
    bare = str(tmp_path / "bare")
    assert main(["hub", "--hub-dir", bare, "restore", str(tmp_path / "bk"), "--json"]) == 1
    out = capsys.readouterr()
    restored = json.loads(out.out)  # the keys' note goes to stderr: stdout stays JSON
    assert restored["databases"] == written["databases"]
    assert restored["next"][0].startswith("put back this hub's keys/")
    assert "put back this hub's keys/" in out.err
