"""One `hub serve` per hub folder (hub.serve._hold_folder).

Found at a 2 a.m. run of the runbook: a second `hub serve` on the service's folder, given
another port (by hand, `--port` or BANGBAN_HUB_PORT), served beside the first: two sets of
workers over one store and one oversight.sqlite, and `hub doctor` saw only one of them. Only
the same port was refused (the socket)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

from ops.hubprocess import HubProcess
from tests.hub.conftest import serving_hub


def test_a_second_serve_on_the_folder_is_refused_by_name(tmp_path: Path) -> None:
    proc = serving_hub(tmp_path, {})
    try:
        assert proc.proc is not None
        folder = tmp_path / "hub"
        # another port: the socket does not refuse it, the folder's lock does (a process
        # with a timeout: before the lock it served on, and would have held this test)
        second = subprocess.run(
            [sys.executable, "-m", "ops.cli", "hub", "--hub-dir", str(folder), "serve",
             "--port", "0"], capture_output=True, text=True, timeout=60, check=False,
            cwd=str(Path(__file__).parents[2]), env={**os.environ, "BANGBAN_WORKERS": "0"})
        assert second.returncode == 2, second.stderr
        err = second.stderr
        assert err.count("\n") == 1 and "Traceback" not in err, err
        assert f"not serving: `bangban hub serve` (pid {proc.proc.pid}) serves {folder}" in err
        assert proc.health()["ok"]  # the running one is untouched
    finally:
        proc.stop()


def test_the_folder_is_free_again_once_the_hub_is_killed(tmp_path: Path) -> None:
    """The lock is the system's: SIGKILL (the OOM killer) leaves no stale lock, and the
    unit's restart serves (docs/operations.md, "Service")."""
    proc = serving_hub(tmp_path, {"BANGBAN_WORKERS": "0"})
    assert proc.proc is not None
    os.kill(proc.proc.pid, signal.SIGKILL)
    proc.proc.wait(timeout=30)
    again = HubProcess(tmp_path / "hub", env={"BANGBAN_WORKERS": "0"})
    again.start()
    try:
        assert again.health()["ok"]
    finally:
        again.stop()


def test_a_restore_under_a_running_hub_is_refused(tmp_path: Path) -> None:
    """A restore into another CouchDB prefix (docs/operations.md, "Backups") beside the
    running hub saved the prefix and dropped oversight.sqlite under it, and "start the
    service" then started nothing: the old hub went on serving the broken store."""
    proc = serving_hub(tmp_path, {"BANGBAN_WORKERS": "0"})
    try:
        assert proc.proc is not None
        folder = tmp_path / "hub"
        cli = [sys.executable, "-m", "ops.cli", "hub", "--hub-dir", str(folder)]
        root = str(Path(__file__).parents[2])
        subprocess.run([*cli, "backup", str(tmp_path / "backup")], capture_output=True,
                       timeout=60, check=True, cwd=root)
        before = (folder / "settings.json").read_bytes()
        res = subprocess.run([*cli, "restore", str(tmp_path / "backup")], capture_output=True,
                             text=True, timeout=60, check=False, cwd=root,
                             env={**os.environ, "BANGBAN_DB_PREFIX": "bangban2"})
        assert res.returncode == 2, res.stderr
        assert (f"not restoring: `bangban hub serve` (pid {proc.proc.pid}) serves {folder}"
                in res.stderr) and "systemctl stop bangban-hub" in res.stderr
        assert (folder / "settings.json").read_bytes() == before
        assert proc.health()["ok"]
    finally:
        proc.stop()
