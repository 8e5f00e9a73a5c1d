"""``bangban node init|sync|serve`` refusals as an operator meets them (in process through
ops.cli.main): one line on stderr, exit 1, no traceback, nothing already stored replaced."""

from __future__ import annotations

import datetime as dt
import json
import socket
from pathlib import Path
from typing import Any

import pytest

from node.core import KEYCHAIN
from ops.cli import main
from tests.node.conftest import DEVICE, PASSPHRASE, make_node_dir

ROOT = "Espc5xkSJ9C383Omm5gG2_O7HAkM774ubhZT5RsY1KU"  # a municipal root public key (pinned)


@pytest.fixture(autouse=True)
def cheap_scrypt(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("sync.crypto.keys.SCRYPT_N", 2**12)
    for name in ("BANGBAN_NODE_DIR", "BANGBAN_PASSPHRASE", "BANGBAN_PASSPHRASE_FILE",
                 "BANGBAN_NODE_PORT", "BANGBAN_NODE_HOST"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def pwfile(tmp_path: Path) -> Path:
    path = tmp_path / "passphrase"
    path.write_text(PASSPHRASE + "\n", encoding="utf-8")
    return path


@pytest.fixture
def enrollment(tmp_path: Path) -> Path:
    path = tmp_path / "enrollment.json"
    path.write_text(json.dumps({"hub_url": "http://127.0.0.1:9", "device_id": DEVICE,
                                "secret": "s3cret", "root_keys": [ROOT]}), encoding="utf-8")
    return path


def refused(capsys: pytest.CaptureFixture[str], *argv: str) -> str:
    capsys.readouterr()
    assert main(["node", *argv]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err, err
    return err


def test_init_never_replaces_the_keys_of_an_enrolled_folder(
        tmp_path: Path, pwfile: Path, enrollment: Path, capsys: pytest.CaptureFixture[str]) -> None:
    folder = tmp_path / "node"
    args = ("init", "--dir", str(folder), "--enrollment-json", str(enrollment),
            "--passphrase-file", str(pwfile))
    assert main(["node", *args]) == 0
    keychain = (folder / KEYCHAIN).read_bytes()
    assert "already enrolled" in refused(capsys, *args)
    assert (folder / KEYCHAIN).read_bytes() == keychain


def test_init_bad_enrollment_files(tmp_path: Path, pwfile: Path,
                                   capsys: pytest.CaptureFixture[str]) -> None:
    folder = tmp_path / "node"
    broken = tmp_path / "broken.json"
    broken.write_text("{nope", encoding="utf-8")
    common = ("--dir", str(folder), "--passphrase-file", str(pwfile))
    err = refused(capsys, "init", "--enrollment-json", str(tmp_path / "missing.json"), *common)
    assert "--enrollment-json" in err and "cannot read" in err
    assert "not valid JSON" in refused(capsys, "init", "--enrollment-json", str(broken), *common)
    assert not folder.exists()


def test_sync_with_a_wrong_or_missing_passphrase(tmp_path: Path,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    folder = make_node_dir(tmp_path / "node")
    wrong = tmp_path / "wrong"
    wrong.write_text("not it\n", encoding="utf-8")
    assert "wrong passphrase" in refused(capsys, "sync", "--dir", str(folder),
                                         "--passphrase-file", str(wrong))
    err = refused(capsys, "sync", "--dir", str(folder), "--passphrase-file",
                  str(tmp_path / "no-such-file"))
    assert "passphrase file" in err and "no-such-file" in err
    (folder / KEYCHAIN).unlink()  # what a wipe leaves: `node init` is the way back
    assert "node init" in refused(capsys, "sync", "--dir", str(folder), "--passphrase-file",
                                  str(wrong))


def test_serve_on_a_port_in_use(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    folder = make_node_dir(tmp_path / "node")
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        err = refused(capsys, "serve", "--dir", str(folder), "--port", str(port))
    assert f"--port {port}" in err and "BANGBAN_NODE_PORT" in err


def test_init_without_a_root_key_is_refused(tmp_path: Path, pwfile: Path,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    """A node without a pinned root key can verify nothing from the hub, and `node init`
    cannot be run again over it: refused before the folder is made."""
    folder = tmp_path / "node"
    err = refused(capsys, "init", "--hub", "http://127.0.0.1:9", "--device-id", DEVICE,
                  "--secret=s3cret", "--dir", str(folder), "--passphrase-file", str(pwfile))
    assert "--root-key" in err and not folder.exists()


def test_init_given_the_keys_json_says_it_wants_the_enrollment(
        tmp_path: Path, pwfile: Path, enrollment: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """The two JSON files of "A new station" look alike: given what an earlier `node init`
    printed, it said "node init needs --hub, --device-id and --secret (or
    --enrollment-json)" although --enrollment-json was given."""
    capsys.readouterr()
    assert main(["node", "init", "--dir", str(tmp_path / "first"), "--enrollment-json",
                 str(enrollment), "--passphrase-file", str(pwfile)]) == 0
    keys = tmp_path / "keys.json"
    keys.write_text(capsys.readouterr().out, encoding="utf-8")
    folder = tmp_path / "node"
    err = refused(capsys, "init", "--dir", str(folder), "--enrollment-json", str(keys),
                  "--passphrase-file", str(pwfile))
    assert "not the enrollment" in err and "hub device enroll --json" in err
    assert not folder.exists()


def test_sync_says_the_last_good_sync_and_what_waits(
        tmp_path: Path, pwfile: Path, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    """``node sync`` said only why a round failed ("503 sync_failed: cannot reach the
    hub"), and after a good one counts in English: never when it last got through nor
    what is still on this laptop only (the sync page says both)."""
    from node.core import Node
    from node.settings import load
    from sync.sqlite import SQLiteStore
    from tests.node.test_sync_honest import _consult

    folder = make_node_dir(tmp_path / "node", db_url="http://127.0.0.1:9/bangban")
    node = Node(load({"node_dir": str(folder), "sync_interval": 0}))
    node.unlock(PASSPHRASE)
    _consult(node)
    node.close()
    sync = ("sync", "--dir", str(folder), "--passphrase-file", str(pwfile))
    err = refused(capsys, *sync)  # nothing listens at the hub's address
    assert "无法连接平台" in err and "上次成功同步" in err and "从未" in err, err
    assert "待上传 3 项" in err, err  # the keyring, the case and its consultation

    hub = tmp_path / "hub.sqlite"
    monkeypatch.setattr("sync.open.open_db", lambda url, timeout=None: SQLiteStore(hub, create=True))
    before = dt.date.today()  # and after: a run over midnight holds either day
    assert main(["node", *sync]) == 0
    out = capsys.readouterr().out
    assert "已同步" in out and "上传 pushed 3" in out and "没有待上传" in out, out
    days = [f"上次成功同步 / last good sync: {d:%Y-%m-%d}" for d in (before, dt.date.today())]
    assert any(day in out for day in days), out

    monkeypatch.setattr("sync.open.open_db", lambda url, timeout=None: (_ for _ in ()).throw(
        TimeoutError("timed out")))
    err = refused(capsys, *sync)
    assert any(day in err for day in days), err


def test_a_laptop_enrolled_from_the_printed_enrollment_reaches_the_hub(
        tmp_path: Path, pwfile: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    """What `hub device enroll` prints without --json (the operator's paper) lacked the root
    key, so `node init` from it was refused, and `node init` without --db-url wrote
    HUB/db/DEVICE, which no hub serves: every sync failed with 400 illegal_database_name.
    The paper now carries the whole `node init` line; typed as printed it gives the
    enrollment `--json` would have."""
    monkeypatch.setenv("BANGBAN_SCRYPT_N", "1024")
    monkeypatch.delenv("BANGBAN_COUCHDB_URL", raising=False)
    hub = str(tmp_path / "hub")
    assert main(["hub", "--hub-dir", hub, "init", "--public-url", "http://hub.example:8840"]) == 0
    assert main(["hub", "--hub-dir", hub, "institution", "add", "--code", "410602",
                 "--name", "鹤山区"]) == 0
    capsys.readouterr()
    assert main(["hub", "--hub-dir", hub, "device", "enroll", "--institution", "410602"]) == 0
    line = capsys.readouterr().out.strip().splitlines()[-1].split()
    assert line[:3] == ["bangban", "node", "init"]
    folder = tmp_path / "node"
    assert main(["node", *line[2:], "--dir", str(folder), "--passphrase-file", str(pwfile)]) == 0
    enrolled = json.loads((folder / "enrollment.json").read_text("utf-8"))
    from hub.core import Hub
    from hub.settings import Settings

    served = Hub(Settings.load({"hub_dir": hub}))
    try:
        assert enrolled["db_url"] == served.db_url == "http://hub.example:8840/bangban"
        assert enrolled["root_keys"] == served.identity["root_keys"]
    finally:
        served.close()
    # typed by hand from the first lines, without --db-url: the hub's database, not /db/DEVICE
    assert main(["node", "init", "--hub", "http://hub.example:8840", "--device-id", DEVICE,
                 "--secret=s3cret", "--root-key", ROOT, "--dir", str(tmp_path / "by-hand"),
                 "--passphrase-file", str(pwfile)]) == 0
    by_hand = json.loads((tmp_path / "by-hand" / "enrollment.json").read_text("utf-8"))
    assert by_hand["db_url"] == "http://hub.example:8840/bangban"


def test_sync_on_a_read_only_folder_names_it(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    """A node folder on a read-only mount (a write-protected stick, a disk remounted read-only
    after errors): `node sync` said only "sqlite: unable to open database file", naming
    neither the folder nor why (`node serve` named both)."""
    import errno

    folder = make_node_dir(tmp_path / "node")

    def read_only(path: Path, *, doing: str) -> Any:
        raise OSError(errno.EROFS, "Read-only file system", str(path / "serve.lock"))

    monkeypatch.setattr("node.folderlock.hold", read_only)  # as os.open answers on such a mount
    err = refused(capsys, "sync", "--dir", str(folder))
    assert f"--dir: {folder}" in err and "无法写入" in err and "Read-only file system" in err
    err = refused(capsys, "serve", "--dir", str(folder))
    assert f"--dir: {folder}" in err and "Read-only file system" in err
