"""A mistyped ``--hub-dir`` is refused by name and makes nothing (hub.cli._folder_exists).

Found at a 2 a.m. run of the runbook: `hub serve`, `hub device enroll`, `hub backup` … on a
folder that does not exist made it (with ``db/`` and the indexer's cursor file), so the
next `hub doctor` there no longer said "no hub folder" but "not initialised: run `hub
init`", sending the operator to start a new hub in the wrong folder."""

from __future__ import annotations

from pathlib import Path

import pytest

from ops.cli import main


def _refused(capsys: pytest.CaptureFixture[str], *argv: str) -> str:
    capsys.readouterr()
    assert main(list(argv)) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err, err
    return err


@pytest.mark.parametrize("command", [
    ("serve", "--no-workers"),
    ("device", "enroll", "--institution", "410600"),
    ("institution", "add", "--code", "410621", "--name", "浚县政务服务中心"),
    ("catalog", "import", "--sample"),
    ("backup", "BACKUP"),
    ("oversight", "refresh"),
])
def test_a_missing_hub_folder_is_refused_and_not_made(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], command: tuple[str, ...]) -> None:
    folder = tmp_path / "bangban-hb"  # the service's folder, mistyped
    argv = [str(tmp_path / "bk") if word == "BACKUP" else word for word in command]
    err = _refused(capsys, "hub", "--hub-dir", str(folder), *argv)
    assert f"no hub folder at {folder}" in err and "nothing was made" in err
    assert not folder.exists()
    # and the operator's first look still names the wrong folder, not `hub init`
    capsys.readouterr()
    assert main(["hub", "--hub-dir", str(folder), "doctor"]) == 2
    assert "no hub folder at" in capsys.readouterr().out


def test_init_and_restore_make_their_folder(tmp_path: Path, hub_dir: str,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    backup = tmp_path / "bk"
    assert main(["hub", "--hub-dir", hub_dir, "backup", str(backup)]) == 0
    fresh = tmp_path / "fresh" / "hub"  # "restore the last good one into a fresh HUB_DIR"
    assert main(["hub", "--hub-dir", str(fresh), "restore", str(backup)]) in (0, 1)
    assert (fresh / "db").is_dir()
    assert main(["hub", "--hub-dir", str(tmp_path / "new"), "init"]) == 0
