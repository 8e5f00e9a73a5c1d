"""A lost laptop: ``device revoke`` → ``institution rotate-key`` → the station registers a new
institution key (design.md §5, hub/rotation.py)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from ops.cli import main
from sync.crypto import EncryptionKeyPair

CITY, COUNTY, TOWN, VILLAGE = "410600", "410602", "410602101", "410602101201"


def entries(device: str, institution_key: Any) -> dict[str, Any]:
    """What ``node init`` / ``node keys rotate`` print (NodeKeys.public_entries())."""
    from sync.crypto import SigningKeyPair, key_entry

    return {"device_id": device, "institution": VILLAGE,
            "device_key": key_entry(SigningKeyPair.generate()),
            "institution_key": key_entry(institution_key)}


@pytest.fixture
def station(tmp_path: Path) -> Iterator[tuple[Any, dict[str, dict[str, Any]], Any]]:
    """A hub with one village station of two laptops sharing institution key K1."""
    from hub import admin
    from hub.core import Hub
    from hub.settings import Settings
    from schemas import sample
    from sync.crypto import EncryptionKeyPair

    hub = Hub(Settings.load({"hub_dir": str(tmp_path / "hub"), "scrypt_n": 1024}, environ={}))
    admin.init(hub, city=CITY, name="鹤壁市政务服务中心")
    admin.import_institutions(hub, [i for i in sample.institutions()
                                    if i["code"] in (COUNTY, TOWN, VILLAGE)])
    k1 = EncryptionKeyPair.generate()
    laptops = {}
    for short in ("A1", "A2"):
        enr = admin.enroll_device(hub, institution_code=VILLAGE, short=short)
        laptops[short] = entries(enr["device_id"], k1)
        admin.register_keys(hub, enr["device_id"], laptops[short])
    try:
        yield hub, laptops, k1
    finally:
        hub.close()


def directory(hub: Any) -> Any:
    from sync.crypto import verify_directory

    return verify_directory(hub.stores.main.get("directory"), hub.identity["root_keys"])


def test_revoke_rotate_register_new_key(station: tuple[Any, dict[str, dict[str, Any]], Any]) -> None:
    from hub import admin
    from hub.errors import AlreadyExists, BadInput
    from hub.rotation import pending
    from sync.crypto import EncryptionKeyPair

    hub, laptops, k1 = station
    a1, a2 = laptops["A1"]["device_id"], laptops["A2"]["device_id"]
    revoked = admin.revoke_device(hub, a1)
    assert f"rotate-key {VILLAGE}" in revoked["hint"] and "node keys rotate" in revoked["hint"]
    assert directory(hub).encryption_key(VILLAGE).key_id == k1.key_id  # not rotated by itself

    k2 = EncryptionKeyPair.generate()
    new = {**laptops["A2"], "institution_key": entries(a2, k2)["institution_key"]}
    started = admin.begin_key_rotation(hub, VILLAGE)
    assert started["retired"] == [k1.key_id] and started["awaiting_new_key"]
    assert pending(hub, VILLAGE) is not None
    between = directory(hub)
    assert not between.is_active_key(VILLAGE, k1.key_id)  # nothing new is wrapped to it

    with pytest.raises(BadInput, match="revoked"):  # the lost laptop cannot answer the call
        admin.register_keys(hub, a1, {**laptops["A1"], "institution_key": new["institution_key"]})
    with pytest.raises(AlreadyExists, match="retired"):  # nor an old laptop bring K1 back
        admin.register_keys(hub, a2, laptops["A2"])
    result = admin.register_keys(hub, a2, new)
    assert result["ok"] and result["directory_version"] > between.version
    after = directory(hub)
    assert after.encryption_key(VILLAGE).key_id == k2.key_id
    assert after.is_active_key(VILLAGE, k2.key_id) and not after.is_active_key(VILLAGE, k1.key_id)
    listed = {k.key_id: k for k in after.institution(VILLAGE).keys}
    assert set(listed) == {k1.key_id, k2.key_id} and listed[k1.key_id].revoked_at  # kept
    assert pending(hub, VILLAGE) is None
    record = hub.stores.private.get(f"key_rotation:{VILLAGE}")
    assert record["new_key"] == k2.key_id and record["retired"] == [k1.key_id]
    with pytest.raises(AlreadyExists, match="already has key"):  # one rotation, one new key
        admin.register_keys(hub, a2, {**new, "institution_key": entries(
            a2, EncryptionKeyPair.generate())["institution_key"]})


def test_new_key_without_rotate_key_is_refused(
        station: tuple[Any, dict[str, dict[str, Any]], Any]) -> None:
    from hub import admin
    from hub.errors import AlreadyExists
    from sync.crypto import EncryptionKeyPair

    hub, laptops, k1 = station
    admin.revoke_device(hub, laptops["A1"]["device_id"])
    a2 = laptops["A2"]["device_id"]
    with pytest.raises(AlreadyExists, match="already has key"):
        admin.register_keys(hub, a2, entries(a2, EncryptionKeyPair.generate()))
    assert directory(hub).encryption_key(VILLAGE).key_id == k1.key_id


def _cli_hub(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """A hub folder with the village and its county and town: ``hub --hub-dir DIR``."""
    monkeypatch.setenv("BANGBAN_SCRYPT_N", "1024")
    monkeypatch.delenv("BANGBAN_COUCHDB_URL", raising=False)
    hub_cmd = ["hub", "--hub-dir", str(tmp_path / "hub")]
    assert main([*hub_cmd, "init"]) == 0
    for code, name in ((COUNTY, "鹤山区"), (TOWN, "鹤壁集镇"), (VILLAGE, "村")):
        assert main([*hub_cmd, "institution", "add", "--code", code, "--name", name]) == 0
    return hub_cmd


def _cli_device(hub_cmd: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str],
                inst_key: Any) -> str:
    """A laptop of the village enrolled and its keys registered (``inst_key``, the
    institution's, one for the station's laptops): its device id."""
    capsys.readouterr()
    assert main([*hub_cmd, "device", "enroll", "--institution", VILLAGE, "--json"]) == 0
    dev = json.loads(capsys.readouterr().out)["device_id"]
    keyfile = tmp_path / f"keys-{dev}.json"
    keyfile.write_text(json.dumps(entries(dev, inst_key)), encoding="utf-8")
    assert main([*hub_cmd, "device", "keys", str(keyfile)]) == 0
    capsys.readouterr()
    return dev


def test_cli_revoke_hint_and_rotate_key(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                        capsys: pytest.CaptureFixture[str]) -> None:
    hub_cmd = _cli_hub(tmp_path, monkeypatch)
    assert main([*hub_cmd, "institution", "rotate-key", VILLAGE]) == 2  # no key yet
    assert "no active key" in capsys.readouterr().err
    dev = _cli_device(hub_cmd, tmp_path, capsys, EncryptionKeyPair.generate())
    assert main([*hub_cmd, "device", "revoke", dev]) == 0
    assert f"bangban hub institution rotate-key {VILLAGE}" in capsys.readouterr().out
    assert main([*hub_cmd, "institution", "rotate-key", VILLAGE, "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["institution"] == VILLAGE and out["awaiting_new_key"] and len(out["retired"]) == 1


def test_a_laptop_in_hand_is_not_told_to_rotate_a_lost_one_is(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    """`device revoke` advised rotating the institution key for every laptop, a broken one
    on the operator's desk too (its key never left the office): rotating re-wraps every open
    case of the station for nothing. The operator says which; unsaid is lost."""
    hub_cmd = _cli_hub(tmp_path, monkeypatch)
    key = EncryptionKeyPair.generate()
    broken, stolen, unsaid = (_cli_device(hub_cmd, tmp_path, capsys, key) for _ in range(3))
    assert main([*hub_cmd, "device", "revoke", broken, "--in-hand"]) == 0
    said = capsys.readouterr().out
    assert "无需轮换" in said and "need not be rotated" in said and "Wipe its disk" in said
    assert "node keys rotate" not in said
    assert main([*hub_cmd, "device", "revoke", stolen, "--lost"]) == 0
    said = capsys.readouterr().out
    assert f"run `bangban hub institution rotate-key {VILLAGE}`" in said, said
    assert "无需轮换" not in said
    assert main([*hub_cmd, "device", "revoke", unsaid]) == 0  # a stolen laptop, unsaid
    assert f"run `bangban hub institution rotate-key {VILLAGE}`" in capsys.readouterr().out
    with pytest.raises(SystemExit):  # argparse: not both
        main([*hub_cmd, "device", "revoke", unsaid, "--lost", "--in-hand"])
