"""`node serve` holds its folder (node.folderlock): `node restore` and a second `node serve`
on that folder are refused by name while it runs, and the folder is free again the moment
it stops, however it stops.

Before: nothing stopped either. A restore under a running server moved the store away
from under its open SQLite connections (the clerk's next steps went into the folder set
aside), and two servers on one folder gave the device's case numbers twice."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from node.folderlock import LOCK_FILE, hold
from ops.cli import main
from ops.hubprocess import stop_process
from ops.pouchdb_server import reserve_port
from tests.node.net import ROOT, wait_http
from tests.node.test_backup_damaged import _station

pytestmark = pytest.mark.e2e


def _env() -> dict[str, str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    for key in ("BANGBAN_NODE_DIR", "BANGBAN_PASSPHRASE", "BANGBAN_PASSPHRASE_FILE",
                "BANGBAN_NODE_PORT"):
        env.pop(key, None)
    return env


def _serve_args(folder: Path, port: int) -> list[str]:
    return [sys.executable, "-m", "ops.cli", "node", "serve", "--dir", str(folder),
            "--port", str(port)]


@contextmanager
def serving(folder: Path) -> Iterator[subprocess.Popen[str]]:
    """A real `node serve` on ``folder`` (keys locked), answering; stopped by its pid."""
    reservation = reserve_port()
    port = reservation.getsockname()[1]
    proc = subprocess.Popen(_serve_args(folder, port), cwd=ROOT, env=_env(),
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, text=True)
    try:
        wait_http(f"http://127.0.0.1:{port}/api/status", timeout=60)
        assert proc.poll() is None, "node serve did not start"
        yield proc
    finally:
        stop_process(proc, timeout=30)
        reservation.close()


@pytest.fixture
def station_with_backup(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Path, Path]:
    for key in ("BANGBAN_NODE_DIR", "BANGBAN_PASSPHRASE", "BANGBAN_PASSPHRASE_FILE"):
        monkeypatch.delenv(key, raising=False)
    folder = _station(tmp_path / "node-data")
    backup = tmp_path / "usb" / "b1"
    assert main(["node", "backup", str(backup), "--dir", str(folder)]) == 0
    return folder, backup


def test_restore_under_a_running_serve_is_refused_by_name(
        station_with_backup: tuple[Path, Path], tmp_path: Path,
        capsys: pytest.CaptureFixture[str]) -> None:
    folder, backup = station_with_backup
    store = (folder / "store.sqlite").stat().st_ino
    capsys.readouterr()
    with serving(folder) as proc:
        assert main(["node", "restore", str(backup), "--dir", str(folder)]) == 1
        err = capsys.readouterr().err
        assert f"node serve is running on {folder} (pid {proc.pid}): stop it first" in err
        assert f"进程 {proc.pid}" in err
        # nothing moved: the running server's store is the folder's still
        assert (folder / "store.sqlite").stat().st_ino == store
        assert not list(tmp_path.glob("node-data.before-restore-*"))
    # stopped: the lock died with the process, the restore goes
    assert main(["node", "restore", str(backup), "--dir", str(folder)]) == 0
    assert len(list(tmp_path.glob("node-data.before-restore-*"))) == 1


def test_a_second_serve_on_the_same_folder_is_refused(
        station_with_backup: tuple[Path, Path]) -> None:
    folder = station_with_backup[0]
    with serving(folder) as first:
        reservation = reserve_port()
        try:
            second = subprocess.Popen(
                _serve_args(folder, reservation.getsockname()[1]), cwd=ROOT, env=_env(),
                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
            try:
                _, said = second.communicate(timeout=60)  # it would serve on: fails here
            finally:
                stop_process(second)
        finally:
            reservation.close()
        assert second.returncode == 1
        assert f"node serve is running on {folder} (pid {first.pid}): stop it first" in said
        assert first.poll() is None  # the first one serves on


def test_the_lock_is_the_systems_and_goes_with_its_holder(tmp_path: Path) -> None:
    """A lock of another open file (a second process's) refuses; released, it is free, and
    a lock file left behind holds nothing (a crashed server leaves it)."""
    from node.errors import FolderInUse

    with hold(tmp_path, doing="serve"):
        with pytest.raises(FolderInUse) as caught:
            hold(tmp_path, doing="restore")
        assert caught.value.status == 409 and f"(pid {os.getpid()})" in caught.value.reason
        assert "then restore" in caught.value.reason
    assert (tmp_path / LOCK_FILE).exists()
    hold(tmp_path, doing="restore").release()


def test_node_sync_under_a_running_serve_is_refused_with_its_sync_button(
        station_with_backup: tuple[Path, Path], capsys: pytest.CaptureFixture[str]) -> None:
    """`node sync` beside a running serve ran a second replicator on the serve's own
    checkpoints (its background loop syncs the same store), and the serve's sync page kept
    a stale count of what waits: it is refused by name, and the clerk is sent to the
    serve's sync button. Stopped, `node sync` runs (here to a hub that is not there)."""
    folder = station_with_backup[0]
    capsys.readouterr()
    with serving(folder) as proc:
        assert main(["node", "sync", "--dir", str(folder)]) == 1
        err = capsys.readouterr().err
        assert f"node serve is running on {folder} (pid {proc.pid}): it syncs by itself" in err
        assert "立即同步" in err and "then run node sync" in err and "自动同步" in err
        assert main(["node", "sync", "--dir", str(folder), "--json"]) == 1
        assert '"error": "folder_in_use"' in capsys.readouterr().err
        assert proc.poll() is None
    main(["node", "sync", "--dir", str(folder)])
    assert "is running on" not in capsys.readouterr().err


def test_the_refusal_names_the_command_holding_the_folder(tmp_path: Path) -> None:
    """A `node sync` (or restore) holding the folder is named as itself: the refusal said
    "node serve is running" whoever held it; a lock file of the release that wrote the pid
    alone was serve's."""
    from node.errors import FolderInUse
    from node.folderlock import holder

    with hold(tmp_path, doing="sync"):
        with pytest.raises(FolderInUse) as caught:
            hold(tmp_path, doing="serve")
    assert f"node sync is running on {tmp_path} (pid {os.getpid()}): wait for it to end, " \
           "then start node serve" in caught.value.reason and "请等它结束" in caught.value.reason
    with hold(tmp_path, doing="serve"), pytest.raises(FolderInUse) as caught:
        hold(tmp_path, doing="serve")
    assert "请先停止它，再启动第二个" in caught.value.reason  # it said "再再启动一个"
    (tmp_path / LOCK_FILE).write_text("4242\n", encoding="ascii")
    assert holder(tmp_path) == ("4242", "serve")
