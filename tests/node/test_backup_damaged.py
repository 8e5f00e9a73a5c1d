"""`node backup` and `node restore` check the store they copy (SQLite's quick_check, on the
copy) and refuse a damaged one by name, with what to do; a refused restore leaves the
laptop's folder as it was."""

from __future__ import annotations

from pathlib import Path

import pytest

from ops.cli import main
from tests.diskfull import damage
from tests.node.test_sync_honest import _consult, _dir, _node


def _station(folder: Path) -> Path:
    """A closed node folder whose store spans enough pages to damage its middle."""
    node = _node(_dir(folder))
    for _ in range(8):
        _consult(node)
    node.close()  # the WAL goes back into store.sqlite
    return folder


def _held(folder: Path) -> dict[str, bytes]:
    """The folder's files but the lock a restore takes (node.folderlock: it stays, empty
    of meaning once released)."""
    from node.folderlock import LOCK_FILE

    return {p.name: p.read_bytes() for p in folder.iterdir()
            if p.is_file() and p.name != LOCK_FILE}


def test_a_damaged_laptop_store_is_not_backed_up(tmp_path: Path,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    folder = _station(tmp_path / "n")
    damage(folder / "store.sqlite")
    out = tmp_path / "usb" / "b1"
    assert main(["node", "backup", str(out), "--dir", str(folder)]) == 1
    err = capsys.readouterr().err
    assert str(folder / "store.sqlite") in err and "damaged" in err and "已损坏" in err
    assert "node restore" in err and "hub still has everything" in err
    assert not (out / "manifest.json").exists()  # never taken for a complete backup


def test_a_damaged_backup_is_not_restored_and_the_folder_stays(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    folder = _station(tmp_path / "n")
    out = tmp_path / "usb" / "b1"
    assert main(["node", "backup", str(out), "--dir", str(folder)]) == 0
    damage(out / "store.sqlite")
    before = _held(folder)
    capsys.readouterr()
    assert main(["node", "restore", str(out), "--dir", str(folder)]) == 1
    err = capsys.readouterr().err
    assert str(out / "store.sqlite") in err and "use an older backup" in err
    assert _held(folder) == before
    assert not [p for p in tmp_path.iterdir() if "before-restore" in p.name]
