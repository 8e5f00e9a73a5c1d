"""A `hub backup` killed outright (SIGKILL, a power cut) left dumps without a manifest,
which no restore takes, and nobody was told (hub.backup_partial): the next `hub backup` and
`hub doctor` now say where it is and that it can be deleted; a `hub backup` into that very
folder again clears it; nothing else of the operator's is deleted."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

from hub import backup_partial, doctor
from hub.backup import FILES, MANIFEST, backup
from hub.core import Hub
from hub.errors import AlreadyExists
from hub.settings import Settings
from ops.cli import main
from tests.hub.conftest import kill_when_ready

#: a backup that stops, for good, once its first dump is written: then it is killed
_STOPS = """
import sys, time
from pathlib import Path
from hub import backup
from hub.core import Hub
from hub.settings import Settings
real = backup._dump
def dump(db, path):
    counts = real(db, path)
    Path(sys.argv[3]).write_text("dumped")
    time.sleep(120)
backup._dump = dump
backup.backup(Hub(Settings.load({"hub_dir": sys.argv[1]})), sys.argv[2])
"""


def _killed_backup(hub_dir: str, out: Path, tmp_path: Path) -> None:
    """Run `hub backup` in a process of its own and SIGKILL it half-way."""
    ready = tmp_path / "dumped"
    kill_when_ready(_STOPS, hub_dir, str(out), str(ready), ready=ready)
    assert (out / FILES["private"]).exists() and not (out / MANIFEST).exists()


def _doctor(hub_dir: str) -> list[doctor.Check]:
    hub = Hub(Settings.load({"hub_dir": hub_dir}))
    try:
        return [c for c in doctor.run(hub) if c.name == "backup"]
    finally:
        hub.close()


def test_a_killed_backup_is_told_by_the_doctor_and_the_next_backup(
        hub_dir: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    partial = tmp_path / "usb" / "2026-11-28"
    _killed_backup(hub_dir, partial, tmp_path)
    [warned] = _doctor(hub_dir)
    assert warned.status == "warn" and str(partial) in warned.detail, warned
    assert "did not finish" in warned.detail and "no restore takes it" in warned.detail
    assert f"rm -r {partial}" in warned.hint
    capsys.readouterr()
    assert main(["hub", "--hub-dir", hub_dir, "backup", str(tmp_path / "usb" / "next")]) == 0
    out = capsys.readouterr().out
    assert f"delete the backup that did not finish: {partial}: a `hub backup` begun" in out, out
    assert (partial / FILES["private"]).exists()  # told, never deleted elsewhere
    # deleted by the operator: neither says it again
    for path in partial.iterdir():
        path.unlink()
    partial.rmdir()
    assert _doctor(hub_dir) == []
    assert list(Path(hub_dir).glob("backup-unfinished-*")) == []


def test_a_backup_into_the_killed_ones_folder_clears_it(
        hub_dir: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Certainly ours and certainly partial (its marker, no holder, no manifest, only the
    backup's files): cleared, with a line saying so, and the backup written whole."""
    out = tmp_path / "bk"
    _killed_backup(hub_dir, out, tmp_path)
    capsys.readouterr()
    assert main(["hub", "--hub-dir", hub_dir, "backup", str(out)]) == 0
    err = capsys.readouterr().err
    assert f"{out} held a `hub backup` that did not finish" in err and "removed" in err, err
    assert (out / MANIFEST).exists() and not (out / backup_partial.MARK).exists()
    assert _doctor(hub_dir) == []


def test_a_partial_folder_with_anything_else_is_refused_not_cleared(
        hub_dir: str, tmp_path: Path) -> None:
    out = tmp_path / "bk"
    _killed_backup(hub_dir, out, tmp_path)
    (out / "notes.txt").write_text("the operator's")
    hub = Hub(Settings.load({"hub_dir": hub_dir}))
    try:
        with pytest.raises(AlreadyExists) as err:
            backup(hub, out)
    finally:
        hub.close()
    assert "no manifest.json" in err.value.reason and f"rm -r {out}" in err.value.reason
    assert (out / "notes.txt").exists() and (out / FILES["private"]).exists()


def test_a_backup_still_running_is_not_reported(hub_dir: str, tmp_path: Path) -> None:
    """Its lock is held (here by this process): the doctor says nothing of it, and a second
    backup into its folder is refused naming it."""
    out = tmp_path / "bk"
    out.mkdir()
    lock = backup_partial.begin(hub_dir, out)
    try:
        (out / FILES["private"]).write_bytes(b"being written")
        assert _doctor(hub_dir) == []
        with pytest.raises(AlreadyExists) as err:
            backup_partial.clear_or_refuse(out, frozenset(FILES.values()))
        assert f"pid {os.getpid()}" in err.value.reason
    finally:
        backup_partial.end(hub_dir, out, lock)
    assert list(out.iterdir()) == [out / FILES["private"]]


def test_a_backup_killed_before_its_first_dump_is_cleared_too(tmp_path: Path) -> None:
    """Its unheld marker alone: certainly ours, nothing in it to keep."""
    out = tmp_path / "bk"
    out.mkdir()
    (out / backup_partial.MARK).write_text("4242 backup\n")
    note = backup_partial.clear_or_refuse(out, frozenset((*FILES.values(), MANIFEST)))
    assert "did not finish" in note and list(out.iterdir()) == []


def test_a_killed_backup_on_a_medium_mounted_read_only_is_told_too(
        hub_dir: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The USB disk of a killed backup, mounted read-only now (its write-protect switch, a
    filesystem the kernel remounted after an error): probing its marker's lock opened it
    for writing, an OSError, so the doctor's backup check failed with "Read-only file
    system" and `hub backup` into another DIR stopped after writing its backup."""
    import errno

    out = tmp_path / "usb" / "bk"
    out.mkdir(parents=True)
    lock = backup_partial.begin(hub_dir, out)
    (out / FILES["private"]).write_bytes(b"half a dump")
    lock.release()  # the process gone without its cleanup (SIGKILL)
    real_open = os.open

    def read_only(path: Any, flags: int, *args: Any, **kw: Any) -> int:
        if str(path).startswith(str(out)) and flags & (os.O_WRONLY | os.O_RDWR | os.O_CREAT):
            raise OSError(errno.EROFS, os.strerror(errno.EROFS), str(path))
        return real_open(path, flags, *args, **kw)

    monkeypatch.setattr(os, "open", read_only)
    [warned] = _doctor(hub_dir)
    assert warned.status == "warn" and str(out) in warned.detail, warned
    assert [p.folder for p in backup_partial.found(hub_dir)] == [out]


def test_a_marker_this_user_cannot_open_is_not_a_failure(
        hub_dir: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A backup run by root (its marker 0600) killed, then `hub doctor` or the next `hub
    backup` run as the service's user: the probe's EACCES failed the doctor's backup check
    and stopped that backup after it was written. Whether the other one still runs cannot
    be told: it is not said to be over."""
    import errno

    out = tmp_path / "usb" / "bk"
    out.mkdir(parents=True)
    lock = backup_partial.begin(hub_dir, out)
    lock.release()
    real_open = os.open

    def refused(path: Any, flags: int, *args: Any, **kw: Any) -> int:
        if str(path) == str(out / backup_partial.MARK):
            raise PermissionError(errno.EACCES, os.strerror(errno.EACCES), str(path))
        return real_open(path, flags, *args, **kw)

    monkeypatch.setattr(os, "open", refused)
    assert _doctor(hub_dir) == []
    assert backup_partial.found(hub_dir) == []
