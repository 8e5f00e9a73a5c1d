"""Sync against a hub that is down, and against one that revoked this device (401 with
``"bangban_wipe": true``): the node wipes its keys and local data (design §5)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from http.server import ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from node.core import Node
from node.errors import SyncFailed, Wiped
from node.settings import load
from tests.node.conftest import PASSPHRASE, answering, make_node_dir, serving

Revoked = answering(401, {"error": "unauthorized", "reason": "device revoked",
                         "bangban_wipe": True})


@pytest.fixture
def revoked_hub() -> Iterator[str]:
    with serving(ThreadingHTTPServer(("127.0.0.1", 0), Revoked)) as url:
        yield url


def test_hub_down_is_offline_not_fatal(tmp_path: Path) -> None:
    folder = make_node_dir(tmp_path / "n")  # enrollment points at 127.0.0.1:9 (nothing there)
    node = Node(load({"node_dir": str(folder), "sync_timeout": 2.0}))
    node.unlock(PASSPHRASE)
    with pytest.raises(SyncFailed):
        node.syncer.sync_once()
    assert node.syncer.state.status in ("offline", "error")
    assert node.syncer.state.last_error
    assert (folder / "keychain.json").exists()
    node.close()


def test_revoked_device_wipes_keys_and_data(tmp_path: Path, revoked_hub: str) -> None:
    folder = make_node_dir(tmp_path / "n", hub_url=revoked_hub,
                           db_url=f"{revoked_hub}/bangban")
    node = Node(load({"node_dir": str(folder), "sync_timeout": 5.0}))
    node.unlock(PASSPHRASE)
    from node.casework import Casework

    Casework(node).open_case(service_type="assist", mode="nearby", focus_area="livelihood",
                             applicant_kind="person", private={"applicant_name": "测试"})
    assert (folder / "store.sqlite").exists()
    with pytest.raises(Wiped):
        node.syncer.sync_once()
    assert node.syncer.state.status == "wiped"
    assert not node.unlocked
    for name in ("keychain.json", "store.sqlite", "index.sqlite"):
        assert not (folder / name).exists(), name
    enrollment = json.loads((folder / "enrollment.json").read_text())
    assert enrollment["wiped"] is True and "secret" not in enrollment
    node.close()


@pytest.mark.e2e
def test_a_laptop_off_during_the_revocation_wipes_when_started_locked(
        tmp_path: Path, revoked_hub: str) -> None:
    """The hub revoked the device while the laptop was off; `node serve` is started by
    whoever holds it, and nobody enters the passphrase. Rounds ran only after an unlock,
    so the keychain stayed on the disk for as long as the laptop sat locked (design.md §5:
    a revoked device wipes its keys at the next contact)."""
    import subprocess
    import sys

    from ops.hubprocess import stop_process
    from tests.node.net import ROOT
    from tests.node.test_folder_lock import _env

    folder = make_node_dir(tmp_path / "n", hub_url=revoked_hub, db_url=f"{revoked_hub}/bangban")
    proc = subprocess.Popen([sys.executable, "-m", "ops.cli", "node", "serve", "--dir",
                             str(folder), "--port", "0"], cwd=ROOT, env=_env(),
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, text=True)
    try:
        from node.syncer import wait_for

        assert wait_for(lambda: not (folder / "keychain.json").exists(), timeout=120)
    finally:
        stop_process(proc, timeout=30)
    for name in ("keychain.json", "store.sqlite", "index.sqlite"):
        assert not (folder / name).exists(), name
    assert json.loads((folder / "enrollment.json").read_text())["wiped"] is True


def test_the_wipe_reaches_the_folder_a_restore_set_aside(tmp_path: Path, revoked_hub: str) -> None:
    """`node restore` moves what the folder held beside it (``n.before-restore-…``), its
    keychain and store too, "never deleted". The wipe left them: the institution's key and
    the synced cases stayed on the revoked laptop's disk."""
    from node.backup import backup
    from node.casework import Casework
    from node.restore import restore

    folder = make_node_dir(tmp_path / "n", hub_url=revoked_hub, db_url=f"{revoked_hub}/bangban")
    node = Node(load({"node_dir": str(folder), "sync_timeout": 5.0}))
    node.unlock(PASSPHRASE)
    Casework(node).open_case(service_type="assist", mode="nearby", focus_area="livelihood",
                             applicant_kind="person", private={"applicant_name": "测试"})
    node.close()
    backup(folder, tmp_path / "usb")
    moved = restore(tmp_path / "usb", folder)["moved_aside"]
    aside = Path(moved)
    assert (aside / "keychain.json").exists() and (aside / "store.sqlite").exists()
    other = tmp_path / "n2.before-restore-x"  # another folder's: not this device's to wipe
    other.mkdir()
    (other / "keychain.json").write_text("{}")
    node = Node(load({"node_dir": str(folder), "sync_timeout": 5.0}))
    with pytest.raises(Wiped):
        node.syncer.sync_once()
    node.close()
    for where in (folder, aside):
        assert sorted(p.name for p in where.iterdir() if p.name != "serve.lock") == [
            "enrollment.json"], where
        assert json.loads((where / "enrollment.json").read_text())["wiped"] is True
    assert (other / "keychain.json").exists()


def test_a_passphrase_checked_while_the_round_wipes_unlocks_nothing(
        tmp_path: Path, revoked_hub: str) -> None:
    """`node serve` runs its first round at the unlock page: the revoked laptop's round
    wipes while the passphrase typed there is being checked (scrypt, outside the node's
    lock). The keys read before the wipe were installed after it, a session issued, and
    the index and store made again, empty, in the wiped folder: an unlocked app on a
    device that can never sync, whose clerk's work would stay on the lost disk."""
    folder = make_node_dir(tmp_path / "n", hub_url=revoked_hub, db_url=f"{revoked_hub}/bangban")
    node = Node(load({"node_dir": str(folder), "sync_timeout": 5.0}))
    check = node._check_passphrase

    def checked_while_the_round_wipes(passphrase: str) -> Any:
        keys = check(passphrase)
        with pytest.raises(Wiped):
            node.syncer.sync_once()
        return keys

    node._check_passphrase = checked_while_the_round_wipes  # type: ignore[method-assign]
    with pytest.raises(Wiped):
        node.open_session(PASSPHRASE)
    assert not node.unlocked
    assert sorted(p.name for p in folder.iterdir() if p.name != "serve.lock") == [
        "enrollment.json"]
    node.close()


def test_node_sync_on_a_revoked_device_says_what_the_wipe_took(
        tmp_path: Path, revoked_hub: str, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    """A broken laptop's folder, copied off its disk and synced after the operator revoked
    it, is wiped with what it had not pushed (docs/operations.md). `node sync` said it in
    English only and then "待上传 1 项 / 1 changes wait for upload", which the wipe had
    destroyed."""
    from ops.cli import main

    for name in ("BANGBAN_NODE_DIR", "BANGBAN_PASSPHRASE", "BANGBAN_PASSPHRASE_FILE"):
        monkeypatch.delenv(name, raising=False)
    folder = make_node_dir(tmp_path / "n", hub_url=revoked_hub, db_url=f"{revoked_hub}/bangban")
    node = Node(load({"node_dir": str(folder)}))
    node.unlock(PASSPHRASE)
    from node.casework import Casework

    Casework(node).open_case(service_type="assist", mode="nearby", focus_area="livelihood",
                             applicant_kind="person", private={"applicant_name": "测试"})
    node.close()
    capsys.readouterr()
    assert main(["node", "sync", "--dir", str(folder)]) == 1
    err = capsys.readouterr().err
    assert "已被平台停用" in err and "清除" in err, err
    assert "待上传" not in err and "wait for upload" not in err, err
    assert "未上传的记录已一并清除" in err  # the store went with the keys
