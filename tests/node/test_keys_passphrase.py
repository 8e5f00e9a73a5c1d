"""`bangban node keys passphrase`: the station's laptop is handed to a new clerk (7, 6.2.2
staff turnover). The new clerk sets a new passphrase; the old one no longer unlocks the
laptop, the running app locks at once (ending the sessions opened with the old one), and
every case still opens: the keys are the same. There was no way to do it: the laptop had to
be enrolled again, or kept the passphrase the clerk who left knew."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from ops.cli import main
from tests.node.conftest import PASSPHRASE, csrf
from tests.node.test_clerk_day import _case_id, _consult

NEW = "新的口令 new clerk's"


def _files(tmp_path: Path, old: str, new: str) -> list[str]:
    (tmp_path / "old").write_text(old + "\n", encoding="utf-8")
    (tmp_path / "new").write_text(new + "\n", encoding="utf-8")
    return ["--passphrase-file", str(tmp_path / "old"), "--new-passphrase-file",
            str(tmp_path / "new")]


def test_a_new_passphrase_for_the_next_clerk_keeps_every_case(
        node_dir: Path, app: Any, unlocked: Any, tmp_path: Path,
        capsys: pytest.CaptureFixture[str]) -> None:
    case_id = _case_id(_consult(unlocked, applicant_name="李桂兰"))
    before = (node_dir / "keychain.json").read_bytes()
    cmd = ["node", "keys", "passphrase", "--dir", str(node_dir)]
    for new, rule in (("short", "8"), (PASSPHRASE, "旧口令相同")):
        assert main([*cmd, *_files(tmp_path, PASSPHRASE, new)]) == 1
        err = capsys.readouterr().err
        assert "new_passphrase" in err and rule in err, err
    assert main([*cmd, *_files(tmp_path, "wrong passphrase", NEW)]) == 1
    assert "口令错误" in capsys.readouterr().err
    assert (node_dir / "keychain.json").read_bytes() == before  # nothing refused was written
    assert main([*cmd, *_files(tmp_path, PASSPHRASE, NEW)]) == 0
    assert "passphrase changed" in capsys.readouterr().out
    # the running app locked: the old clerk's session reads nothing more
    assert unlocked.get(f"/api/cases/{case_id}").status_code in (401, 423)
    r = unlocked.post("/api/unlock", json={"passphrase": PASSPHRASE})
    assert r.status_code == 401 and r.json["error"] == "bad_passphrase"
    assert unlocked.post("/unlock", data={"passphrase": NEW, "csrf": csrf(unlocked)}
                         ).status_code == 302
    case = unlocked.get(f"/api/cases/{case_id}").json
    assert case["private"]["applicant_name"] == "李桂兰"  # the case key still opens


def test_the_keychain_replaced_is_on_disk_before_its_name_moves(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A new passphrase (or a rotation) replaces the only copy of the station's keys: the
    new file was renamed over the old one unsynced, and a power cut right after could leave
    keychain.json empty on the disk, every unsynced case of the laptop sealed for good.
    The new file's bytes are flushed to the disk before the rename, the rename after it."""
    import os

    from node import keys as node_keys
    from sync.crypto import Keychain

    done: list[tuple[str, str]] = []
    real_fsync, real_replace = os.fsync, os.replace

    def fsync(fd: int) -> None:
        done.append(("fsync", os.readlink(f"/proc/self/fd/{fd}")))
        real_fsync(fd)

    def replace(src: Any, dst: Any) -> None:
        done.append(("replace", str(src)))
        real_replace(src, dst)

    monkeypatch.setattr(node_keys.os, "fsync", fsync)
    monkeypatch.setattr(node_keys.os, "replace", replace)
    path = tmp_path / "keychain.json"
    node_keys.save_keychain(path, Keychain(), PASSPHRASE, n=2 ** 10)
    tmp = str(path.with_name(path.name + ".new"))
    assert done[:2] == [("fsync", tmp), ("replace", tmp)]
    assert ("fsync", str(tmp_path)) in done[2:]  # the rename itself
