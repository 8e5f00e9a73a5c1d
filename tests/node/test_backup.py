"""``bangban node backup DIR``: a station laptop's folder copied while `node serve` runs
(SQLite's backup API, not a copy of a live file), restorable into an empty folder.

There was no node command for it: docs/operations.md could only say "copy the folder", and
a ``cp`` of ``store.sqlite`` while the node writes can miss what is still in ``-wal``."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path
from typing import Any

import pytest

from ops.cli import main
from tests.node.conftest import PASSPHRASE
from tests.node.test_clerk_day import _case_id, _consult


def test_a_live_node_folder_is_backed_up_and_restored(app: Any, unlocked: Any,
                                                       node_dir: Path, tmp_path: Path,
                                                       capsys: pytest.CaptureFixture[str]) -> None:
    from node.core import Node
    from node.settings import load

    node = app.extensions["bangban_node"]
    case_id = _case_id(_consult(unlocked))  # the node stays open: its store is in WAL mode
    assert (node_dir / "store.sqlite-wal").exists()
    out = tmp_path / "usb" / "backup-1"
    old = os.umask(0o022)  # an operator's shell
    try:
        assert main(["node", "backup", str(out), "--dir", str(node_dir), "--json"]) == 0
    finally:
        os.umask(old)
    report = json.loads(capsys.readouterr().out)
    assert report["device_id"] == node.device_id
    assert report["documents"] == node.store.info()["doc_count"] > 0
    assert sorted(p.name for p in out.iterdir()) == [
        "enrollment.json", "keychain.json", "manifest.json", "store.sqlite"]  # no -wal, no index
    assert out.stat().st_mode & 0o777 == 0o700
    assert {p.name: p.stat().st_mode & 0o777 for p in out.iterdir()} == {
        p.name: 0o600 for p in out.iterdir()}
    # a second run never overwrites a backup
    assert main(["node", "backup", str(out), "--dir", str(node_dir)]) == 1
    assert "不是空目录" in capsys.readouterr().err

    # the backup itself is not a laptop: served, it would sign as the backed-up device
    assert main(["node", "serve", "--dir", str(out), "--port", "0"]) == 1
    err = capsys.readouterr().err
    assert f"is a backup of device {node.device_id}" in err and "new device" in err

    # restore: the three files into an empty folder (the laptop's replacement); the index
    # is rebuilt from the store at unlock
    restored = tmp_path / "restored"
    restored.mkdir()
    for name in ("store.sqlite", "keychain.json", "enrollment.json"):
        shutil.copy2(out / name, restored / name)
    again = Node(load({"node_dir": str(restored), "sync_interval": 0}))
    try:
        again.unlock(PASSPHRASE)
        assert again.store.get(f"case:{case_id}")["case_id"] == case_id
        assert (again.index.get(case_id) or {}).get("case_id") == case_id
    finally:
        again.close()


def test_a_folder_without_a_node_is_named(tmp_path: Path,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["node", "backup", str(tmp_path / "out"), "--dir", str(tmp_path / "none")]) == 1
    err = capsys.readouterr().err
    assert f"no node folder at {tmp_path / 'none'}" in err and "--dir" in err
    assert not (tmp_path / "none").exists()
