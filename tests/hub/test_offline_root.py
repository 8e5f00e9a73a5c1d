"""``hub init --offline-root``: the municipal root key offline, a delegated online
directory signer (design.md §5)."""

from __future__ import annotations

import base64
import datetime as dt
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from ops.cli import main

CITY, TOWN = "410600", "410602101"
PASSPHRASE = "root passphrase for tests"


@pytest.fixture
def offline_hub(tmp_path: Path) -> Iterator[tuple[Any, Path]]:
    from hub import admin
    from hub.core import Hub
    from hub.offline import OfflineRoot
    from hub.settings import Settings

    settings = Settings.load({"hub_dir": str(tmp_path / "hub"), "scrypt_n": 1024}, environ={})
    hub = Hub(settings)
    root_file = tmp_path / "usb" / "root-OFFLINE.json"
    admin.init(hub, city=CITY, name="鹤壁市政务服务中心",
               offline_root=OfflineRoot(str(root_file), PASSPHRASE, days=30, scrypt_n=1024))
    try:
        yield hub, root_file
    finally:
        hub.close()


def _encodings(raw: bytes) -> list[bytes]:
    std = base64.b64encode(raw)
    url = base64.urlsafe_b64encode(raw)
    return [url, url.rstrip(b"="), std, std.rstrip(b"="), raw.hex().encode(),
            raw.hex().upper().encode(), raw]


def test_init_keeps_no_root_private_key(offline_hub: tuple[Any, Path]) -> None:
    from hub import keys as hub_keys
    from hub.offline import load_root

    hub, root_file = offline_hub
    root = load_root(str(root_file), PASSPHRASE)
    assert hub.identity["root_keys"] == [root.public_b64] and hub.identity["root_offline"]
    chain = hub_keys.load(hub.settings.hub_dir)
    assert not chain.find("root") and chain.by_key_id(root.key_id) is None
    assert chain.active(hub_keys.SIGNER_ROLE).key_id != root.key_id
    assert not hub.keys.has_root
    secret = root._private_bytes()
    files = [p for p in Path(hub.settings.hub_dir).rglob("*") if p.is_file()]
    assert any(p.name == hub_keys.KEYCHAIN for p in files)
    for path in files:
        data = path.read_bytes()
        for enc in _encodings(secret):
            assert enc not in data, f"root private key found in {path}"
    # the root keychain file holds the root alone
    locked = json.loads(root_file.read_text("utf-8"))
    assert [k["role"] for k in locked["keys"]] == ["root"]


def test_publish_via_delegation_verifies_under_root(offline_hub: tuple[Any, Path]) -> None:
    from hub import admin
    from hub.signatures import DirectoryCache
    from sync.crypto import verify_directory

    hub, _ = offline_hub
    first = hub.stores.main.get("directory")
    admin.add_institution(hub, code="410602", name="鹤山区")
    admin.add_institution(hub, code=TOWN, name="鹤壁集镇")
    doc = hub.stores.main.get("directory")
    assert doc["version"] > first["version"]
    signer = hub.keys.directory_signer
    assert doc["sig"]["key_id"] == signer.key_id and doc["delegation"]["key_id"] == signer.key_id
    directory = verify_directory(doc, hub.identity["root_keys"], min_version=first["version"])
    assert directory.delegation is not None and TOWN in directory.institutions
    assert directory.hub == hub.identity["device_id"]  # named under the delegated signature too
    # the hub's own write checks verify it the same way
    assert DirectoryCache(hub.stores).get().version == doc["version"]
    enr = admin.enroll_device(hub, institution_code=TOWN, short="A1")
    assert enr["root_keys"] == hub.identity["root_keys"]


def test_expired_delegation_refuses_publish(offline_hub: tuple[Any, Path]) -> None:
    from hub import admin, offline
    from hub import keys as hub_keys
    from hub.errors import DelegationExpired
    from sync.crypto import sign_delegation

    hub, root_file = offline_hub
    root = offline.load_root(str(root_file), PASSPHRASE)
    old = dt.datetime.now(dt.UTC) - dt.timedelta(days=10)
    hub_keys.save_delegation(hub.settings.hub_dir, sign_delegation(
        hub.keys.directory_signer, root, days=1, serial=1, issued_at=old))
    version = hub.stores.main.get("directory")["version"]
    with pytest.raises(DelegationExpired, match="expired .* renew"):
        admin.publish_directory(hub)
    with pytest.raises(DelegationExpired):
        admin.add_institution(hub, code="410602", name="鹤山区")
    assert hub.stores.main.get("directory")["version"] == version
    info = offline.info(hub)
    assert info["expired"] is True and info["days_left"] < 0


def test_renewal_delegate_then_install(offline_hub: tuple[Any, Path]) -> None:
    from hub import offline
    from hub.errors import BadInput
    from sync.crypto import SigningKeyPair, sign_delegation, verify_directory

    hub, root_file = offline_hub
    signer = hub.keys.directory_signer
    before = offline.info(hub)
    assert before["signer_key_id"] == signer.key_id and 29 < before["days_left"] <= 30
    doc = offline.delegate(str(root_file), PASSPHRASE, signer.public_b64, days=400,
                           serial=before["serial"] + 1)
    result = offline.install(hub, doc)
    assert 399 < result["days_left"] <= 400 and result["serial"] == before["serial"] + 1
    directory = hub.stores.main.get("directory")
    assert directory["version"] == result["directory_version"]
    assert directory["delegation"] == doc
    verify_directory(directory, hub.identity["root_keys"])
    # refused: another key, another root, an older serial, a wrong passphrase
    other = offline.delegate(str(root_file), PASSPHRASE, SigningKeyPair.generate().public_b64)
    with pytest.raises(BadInput, match="not this hub's directory-signing key"):
        offline.install(hub, other)
    foreign = sign_delegation(signer, SigningKeyPair.generate(), days=30, serial=10**12)
    with pytest.raises(BadInput, match="not a trusted root"):
        offline.install(hub, foreign)
    older = offline.delegate(str(root_file), PASSPHRASE, signer.public_b64, serial=1)
    with pytest.raises(BadInput, match="serial"):
        offline.install(hub, older)
    from sync.crypto import WrongPassphrase

    with pytest.raises(WrongPassphrase):
        offline.delegate(str(root_file), "wrong", signer.public_b64)


def test_default_init_keeps_root_online(tmp_path: Path) -> None:
    from hub import admin
    from hub.core import Hub
    from hub.settings import Settings
    from sync.crypto import verify_directory

    hub = Hub(Settings.load({"hub_dir": str(tmp_path / "hub"), "scrypt_n": 1024}, environ={}))
    try:
        admin.init(hub, city=CITY, name="鹤壁市政务服务中心")
        assert hub.keys.has_root and "root_offline" not in hub.identity
        doc = hub.stores.main.get("directory")
        assert "delegation" not in doc and doc["sig"]["key_id"] == hub.keys.root.key_id
        verify_directory(doc, hub.identity["root_keys"])
    finally:
        hub.close()


def test_cli_offline_init_show_delegate_install(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    from hub import offline

    monkeypatch.setattr(offline, "ROOT_SCRYPT_N", 1024)
    monkeypatch.setenv("BANGBAN_SCRYPT_N", "1024")
    monkeypatch.delenv("BANGBAN_COUCHDB_URL", raising=False)
    monkeypatch.delenv("BANGBAN_ROOT_PASSPHRASE", raising=False)
    hub_dir, root_file = str(tmp_path / "hub"), str(tmp_path / "root.json")
    pass_file = tmp_path / "pass.txt"
    pass_file.write_text(PASSPHRASE + "\n", "utf-8")
    assert main(["hub", "--hub-dir", hub_dir, "init", "--offline-root", root_file,
                 "--root-passphrase-file", str(pass_file), "--delegation-days", "10"]) == 0
    capsys.readouterr()
    assert main(["hub", "--hub-dir", hub_dir, "delegation", "show"]) == 0
    shown = json.loads(capsys.readouterr().out)
    assert 9 < shown["days_left"] <= 10 and shown["signer_key_id"].startswith("ed25519-")
    out = str(tmp_path / "renewed.json")
    monkeypatch.setenv("BANGBAN_ROOT_PASSPHRASE", PASSPHRASE)
    # "--signer-key=KEY": a base64 key may begin with "-", which argparse takes for an
    # option when it is a separate word (1 key in 64: this test failed that often)
    assert main(["hub", "root", "delegate", "--root-keychain", root_file,
                 f"--signer-key={shown['signer_key']}", "--days", "90", "--out", out]) == 0
    assert main(["hub", "--hub-dir", hub_dir, "delegation", "install", out, "--json"]) == 0
    installed = json.loads(capsys.readouterr().out.split("\n", 1)[1])
    assert 89 < installed["days_left"] <= 90 and installed["directory_version"] >= 2
    # refusing to overwrite an existing root keychain; errors are one line, exit 2
    assert main(["hub", "--hub-dir", str(tmp_path / "hub2"), "init", "--offline-root",
                 root_file]) == 2
    assert "refusing to overwrite" in capsys.readouterr().err


def test_the_renewal_hint_survives_a_key_beginning_with_a_dash(offline_hub: tuple[Any, Path]
                                                               ) -> None:
    """The hint the operator copies gave ``--signer-key KEY``: a base64 key beginning with
    "-" (1 in 64) was then read by argparse as an unknown option, and the renewal failed."""
    from hub.offline import _renew_hint

    hub, _ = offline_hub
    hint = _renew_hint(hub)
    assert f"--signer-key={hub.keys.directory_signer.public_b64} " in hint
    from ops.cli import build_parser  # the parser the command line goes through

    args = build_parser().parse_args(["hub", "root", "delegate", "--root-keychain", "F",
                                      "--signer-key=-AAAA", "--out", "D.json"])
    assert args.signer_key == "-AAAA"
