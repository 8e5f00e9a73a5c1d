"""The institution's keys carried to a station's second laptop: `bangban node keys export`,
then `bangban node init --institution-keys FILE` (driven in-process through ops.cli.main)."""

from __future__ import annotations

import base64
import json
import stat
from pathlib import Path
from typing import Any

import pytest

from node.core import ENROLLMENT, KEYCHAIN
from node.keys import NodeKeys
from ops.cli import main
from tests.node.conftest import DEVICE, PASSPHRASE, VILLAGE, make_node_dir

TRANSFER = "传递口令 usb-stick 42"
SECOND = f"{VILLAGE}-A2"
ROOT = "Espc5xkSJ9C383Omm5gG2_O7HAkM774ubhZT5RsY1KU"  # a municipal root public key (pinned)


@pytest.fixture(autouse=True)
def cheap_scrypt(monkeypatch: pytest.MonkeyPatch) -> None:
    """The CLI locks with sync.crypto.keys.SCRYPT_N (128 MiB, ~0.5 s per run); tests do not
    measure the KDF, so a small N keeps them fast. Scripted passphrases come from the env."""
    monkeypatch.setattr("sync.crypto.keys.SCRYPT_N", 2**12)
    for name in ("BANGBAN_NODE_DIR", "BANGBAN_PASSPHRASE", "BANGBAN_PASSPHRASE_FILE",
                 "BANGBAN_TRANSFER_PASSPHRASE_FILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("BANGBAN_TRANSFER_PASSPHRASE", TRANSFER)


@pytest.fixture
def pwfile(tmp_path: Path) -> Path:
    path = tmp_path / "passphrase"
    path.write_text(PASSPHRASE + "\n", encoding="utf-8")
    return path


def keys_of(folder: Path) -> NodeKeys:
    enrollment = json.loads((folder / ENROLLMENT).read_text(encoding="utf-8"))
    return NodeKeys.unlock(folder / KEYCHAIN, PASSPHRASE, enrollment)


def export(folder: Path, out: Path, pwfile: Path, *extra: str) -> int:
    return main(["node", "keys", "export", "--dir", str(folder), "--passphrase-file", str(pwfile),
                 "--out", str(out), *extra])


def init_second(folder: Path, keyfile: Path, pwfile: Path, device: str = SECOND) -> int:
    return main(["node", "init", "--hub", "http://127.0.0.1:9", "--device-id", device,
                 "--secret=s3cret-2", "--root-key", ROOT, "--dir", str(folder),
                 "--passphrase-file", str(pwfile),
                 "--institution-keys", str(keyfile)])


@pytest.fixture
def exported(tmp_path: Path, pwfile: Path, capsys: pytest.CaptureFixture[str]) -> tuple[Path, Path]:
    """A first laptop holding a retired and an active institution key, and its export file."""
    from sync.crypto import EncryptionKeyPair, Keychain

    first = make_node_dir(tmp_path / "first")
    chain = keys_of(first).keychain
    # An older generation first: the active key stays the newest (last) one.
    rotated = Keychain()
    rotated.add("institution", VILLAGE, EncryptionKeyPair.generate(), "retired")
    for held in chain.keys:
        rotated.add(held.role, held.owner, held.key, held.status)
    (first / KEYCHAIN).write_text(json.dumps(rotated.lock(PASSPHRASE, n=2**12)), encoding="utf-8")
    out = tmp_path / "inst-keys.json"
    assert export(first, out, pwfile) == 0
    capsys.readouterr()
    return first, out


def assert_nothing_written(folder: Path) -> None:
    assert not (folder / KEYCHAIN).exists() and not (folder / ENROLLMENT).exists()


def test_second_laptop_shares_the_institution_key(exported: tuple[Path, Path], pwfile: Path,
                                                  tmp_path: Path,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    first, out = exported
    second = tmp_path / "second"
    assert init_second(second, out, pwfile) == 0
    printed = json.loads(capsys.readouterr().out)
    a, b = keys_of(first), keys_of(second)
    assert a.institution_key.key_id == b.institution_key.key_id
    assert printed["institution_key"] == a.public_entries()["institution_key"]
    dev_a = a.keychain.active("device", DEVICE).key_id
    dev_b = b.keychain.active("device", SECOND).key_id
    assert dev_a != dev_b
    assert [h.owner for h in b.keychain.find("device", active_only=False)] == [SECOND]
    generations = [(h.key_id, h.status) for h in a.keychain.find("institution", active_only=False)]
    assert [(h.key_id, h.status) for h in b.keychain.find("institution", active_only=False)] \
        == generations
    assert [s for _k, s in generations] == ["retired", "active"]
    assert a.name_hash_key == b.name_hash_key  # both index names the same way


def test_export_file_and_summary(tmp_path: Path, pwfile: Path,
                                 capsys: pytest.CaptureFixture[str]) -> None:
    first = make_node_dir(tmp_path / "first")
    keys = keys_of(first)
    out = tmp_path / "k.json"
    assert export(first, out, pwfile) == 0
    printed = capsys.readouterr().out
    summary = json.loads(printed)
    assert summary["institution"] == VILLAGE and summary["file"] == str(out)
    assert summary["key_ids"] == [keys.institution_key.key_id]
    assert stat.S_IMODE(out.stat().st_mode) == 0o600
    doc = json.loads(out.read_text(encoding="utf-8"))
    assert (doc["kind"], doc["v"], doc["institution"], doc["exported_by"]) \
        == ("bangban-institution-keys", 1, VILLAGE, DEVICE)
    assert {e["role"] for e in doc["keychain"]["keys"]} == {"institution"}
    raw = out.read_bytes() + printed.encode()
    device = keys.keychain.active("device", DEVICE).key
    assert device.key_id.encode() not in raw and device.public_b64.encode() not in raw
    for pair in (device, keys.institution_key):
        secret = pair._private_bytes()
        for form in (base64.urlsafe_b64encode(secret).rstrip(b"="),
                     base64.b64encode(secret).rstrip(b"="), secret.hex().encode(), secret):
            assert form not in raw


def test_export_refuses_to_overwrite(exported: tuple[Path, Path], pwfile: Path,
                                     capsys: pytest.CaptureFixture[str]) -> None:
    first, out = exported
    before = out.read_bytes()
    assert export(first, out, pwfile) == 1
    assert "--force" in capsys.readouterr().err
    assert out.read_bytes() == before
    assert export(first, out, pwfile, "--force") == 0
    assert out.read_bytes() != before and stat.S_IMODE(out.stat().st_mode) == 0o600


@pytest.mark.parametrize("transfer", ["short", PASSPHRASE])
def test_export_refuses_weak_transfer_passphrase(transfer: str, tmp_path: Path, pwfile: Path,
                                                 monkeypatch: pytest.MonkeyPatch,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("BANGBAN_TRANSFER_PASSPHRASE", transfer)
    out = tmp_path / "k.json"
    assert export(make_node_dir(tmp_path / "first"), out, pwfile) == 1
    assert "传递口令" in capsys.readouterr().err and not out.exists()


def test_wrong_transfer_passphrase_leaves_nothing(exported: tuple[Path, Path], pwfile: Path,
                                                  tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("BANGBAN_TRANSFER_PASSPHRASE", TRANSFER + "x")
    second = tmp_path / "second"
    assert init_second(second, exported[1], pwfile) == 1
    err = capsys.readouterr().err
    assert "传递口令错误" in err and "wrong transfer passphrase" in err
    assert_nothing_written(second)


def test_other_institution_refused(exported: tuple[Path, Path], pwfile: Path, tmp_path: Path,
                                   capsys: pytest.CaptureFixture[str]) -> None:
    second = tmp_path / "second"
    assert init_second(second, exported[1], pwfile, device="410621100202-B1") == 1
    err = capsys.readouterr().err
    assert "institution" in err and VILLAGE in err and "410621100202" in err
    assert_nothing_written(second)


def _flip_ct(doc: dict[str, Any]) -> None:
    ct = doc["keychain"]["keys"][-1]["ct"]
    doc["keychain"]["keys"][-1]["ct"] = ("A" if ct[0] != "A" else "B") + ct[1:]


def _drop_newest(doc: dict[str, Any]) -> None:
    doc["keychain"]["keys"].pop()  # would leave an old key in use: the mac catches it


@pytest.mark.parametrize(("alter", "word"), [
    (_flip_ct, "altered"),
    (lambda d: d.update(exported_by=f"{VILLAGE}-Z9"), "altered"),
    (_drop_newest, "altered"),
    (lambda d: d.update(kind="bangban-keychain"), "kind"),
    (lambda d: d.update(v=2), "version"),
])
def test_altered_file_refused(alter: Any, word: str, exported: tuple[Path, Path], pwfile: Path,
                              tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    doc = json.loads(exported[1].read_text(encoding="utf-8"))
    alter(doc)
    changed = tmp_path / "changed.json"
    changed.write_text(json.dumps(doc), encoding="utf-8")
    second = tmp_path / "second"
    assert init_second(second, changed, pwfile) == 1
    assert word in capsys.readouterr().err
    assert_nothing_written(second)


def test_hub_accepts_the_second_laptop(tmp_path: Path, pwfile: Path,
                                       capsys: pytest.CaptureFixture[str]) -> None:
    """What this is for: the hub refuses a second institution key but takes the carried one."""
    from hub import admin
    from hub.core import Hub
    from hub.errors import AlreadyExists
    from hub.settings import Settings
    from schemas import sample

    code = "410602101201"  # a village of schemas.sample
    hub = Hub(Settings.load({"hub_dir": str(tmp_path / "hub"), "scrypt_n": 1024}, environ={}))
    try:
        admin.init(hub, city="410600", name="鹤壁市政务服务中心")
        admin.import_institutions(hub, [i for i in sample.institutions()
                                        if i["code"] in ("410602", "410602101", code)])
        devs = [admin.enroll_device(hub, institution_code=code, short=s)["device_id"]
                for s in ("A1", "A2", "A3")]
        first = make_node_dir(tmp_path / "first", device_id=devs[0])
        admin.register_keys(hub, devs[0], keys_of(first).public_entries())
        out = tmp_path / "k.json"
        assert export(first, out, pwfile) == 0
        assert init_second(tmp_path / "second", out, pwfile, device=devs[1]) == 0
        capsys.readouterr()
        second = keys_of(tmp_path / "second").public_entries()
        assert admin.register_keys(hub, devs[1], second)["ok"]
        fresh = make_node_dir(tmp_path / "fresh", device_id=devs[2])  # `node init` alone
        with pytest.raises(AlreadyExists):
            admin.register_keys(hub, devs[2], keys_of(fresh).public_entries())
    finally:
        hub.close()
