"""Root is refused in a hub folder of another user (hub.cli._as_its_owner).

The service runs as `bangban` (ops/systemd/bangban-hub.service). A command run as root in
its folder made root's files there, 0600: `hub restore` (every database), `hub institution
add` (the new institution's scope database), and the service could not open them at its
next start, or failed the pushes of that scope."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from ops.cli import main


def _as_root_in_a_folder_of_another_user(folder: Path, monkeypatch: pytest.MonkeyPatch) -> int:
    """The folder belongs to another user than root, and the command runs as root."""
    if os.geteuid() == 0:
        owner = 65534  # nobody
        for path in [folder, *folder.rglob("*")]:
            os.chown(path, owner, -1)
    else:
        owner = os.geteuid()
    monkeypatch.setattr(os, "geteuid", lambda: 0)
    return owner


def _databases(folder: Path) -> list[str]:
    """The stores (not SQLite's -wal/-shm, gone when the garbage collector closes the
    init's connections)."""
    return sorted(p.name for p in (folder / "db").glob("*.sqlite"))


def test_root_is_refused_in_the_services_hub_folder_and_makes_nothing(
        hub_dir: str, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    folder = Path(hub_dir)
    owner = _as_root_in_a_folder_of_another_user(folder, monkeypatch)
    before = _databases(folder)
    capsys.readouterr()
    assert main(["hub", "--hub-dir", hub_dir, "institution", "add", "--code", "410621",
                 "--name", "浚县政务服务中心", "--parent", "410600"]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"bangban hub: {folder} belongs to ") and "sudo -u " in err
    assert _databases(folder) == before
    assert all(p.stat().st_uid == owner for p in folder.rglob("*"))
    # the doctor only reads: the operator's first look works as root
    assert main(["hub", "--hub-dir", hub_dir, "doctor"]) in (0, 1)


def test_root_in_its_own_hub_folder_is_not_refused(hub_dir: str,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    if os.geteuid() != 0:  # a folder made by root, as the tests' own are when run as root
        import sync.settings

        monkeypatch.setattr(sync.settings, "folder_uid", lambda folder: 0)
        monkeypatch.setattr(os, "geteuid", lambda: 0)
    assert main(["hub", "--hub-dir", hub_dir, "catalog", "import", "--sample"]) == 0
