"""Root is refused in a node folder of another user (node.cli._settings,
sync.settings.foreign_owner).

`node serve` runs as the clerk (ops/systemd/bangban-node.service, a user unit). `sudo
bangban node restore BACKUP --dir ~clerk/.local/share/bangban-node` moved the clerk's
folder aside and put root's files (0600) in its place: the clerk's `node serve` could
not open the store at its next start."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from ops.cli import main
from sync.open import open_db
from tests.node.conftest import make_node_dir


def test_root_is_refused_in_a_clerks_node_folder_and_moves_nothing(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    folder = make_node_dir(tmp_path / "node-data")
    open_db(str(folder / "store.sqlite"), create=True).close()
    assert main(["node", "backup", str(tmp_path / "bk"), "--dir", str(folder)]) == 0
    if os.geteuid() == 0:  # the folder is the clerk's (nobody here), the command root's
        for path in [folder, *folder.rglob("*")]:
            os.chown(path, 65534, -1)
    monkeypatch.setattr(os, "geteuid", lambda: 0)
    before = sorted(p.name for p in folder.iterdir())
    with pytest.raises(SystemExit) as refused:
        main(["node", "restore", str(tmp_path / "bk"), "--dir", str(folder)])
    assert f"{folder} 属于用户 " in str(refused.value) and "sudo -u " in str(refused.value)
    assert sorted(p.name for p in folder.iterdir()) == before
    assert not list(tmp_path.glob("node-data.before-restore-*"))
