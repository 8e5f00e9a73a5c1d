"""After a lost laptop: `bangban node keys rotate` (old key kept, retired), new cases wrapped for
the new key only, `node keys rewrap` of open cases, `node keys import` on another laptop
(design.md §5: "a new generation the old key never gets")."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from node.app import create_app
from ops.cli import main
from tests.node.conftest import DEVICE, PASSPHRASE, TOWN, VILLAGE, make_node_dir
from tests.node.test_casework_flow import PNG, _consult, _step, later
from tests.node.test_keys_transfer import SECOND, TRANSFER, keys_of


@pytest.fixture(autouse=True)
def cheap_scrypt(monkeypatch: pytest.MonkeyPatch) -> None:
    """As tests/node/test_keys_transfer.py: a small scrypt N, passphrases from the env."""
    monkeypatch.setattr("sync.crypto.keys.SCRYPT_N", 2**12)
    for name in ("BANGBAN_NODE_DIR", "BANGBAN_PASSPHRASE", "BANGBAN_PASSPHRASE_FILE",
                 "BANGBAN_TRANSFER_PASSPHRASE_FILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("BANGBAN_TRANSFER_PASSPHRASE", TRANSFER)


class Station:
    """One node folder whose directory comes from a test root (as the hub would publish)."""

    def __init__(self, folder: Path):
        from sync.crypto import EncryptionKeyPair, SigningKeyPair

        self.root, self.escrow = SigningKeyPair.generate(), EncryptionKeyPair.generate()
        self.bundle = EncryptionKeyPair.generate()  # the hub's bundle key (bundle files)
        self.folder = make_node_dir(folder, root_keys=[self.root.public_b64],
                                    institution_path=["410600", "410621", TOWN, VILLAGE])
        self.pwfile = folder.parent / "pw"
        self.pwfile.write_text(PASSPHRASE + "\n", encoding="utf-8")
        self.version = 0
        self.app: Any = None

    def publish(self, inst_keys: list[dict[str, Any]], *, bundle: bool = True) -> Any:
        """Directory v+1 with these institution key entries, stored in the node's store
        (``bundle=False``: as a hub published before it had a bundle key)."""
        from sync.crypto import build_directory, key_entry, sign_directory, verify_directory

        self.version += 1
        dev = keys_of(self.folder).keychain.active("device", DEVICE).key
        doc = sign_directory(build_directory(
            version=self.version, escrow=key_entry(self.escrow),
            bundle=key_entry(self.bundle) if bundle else None,
            institutions=[{"code": VILLAGE, "tier": "village", "parent": TOWN, "name": "村",
                           "public_keys": inst_keys}],
            devices=[{"device_id": DEVICE, "institution": VILLAGE,
                      "public_keys": [key_entry(dev)]}]), self.root)
        with self.opened() as node:
            try:
                doc["_rev"] = node.store.get("directory")["_rev"]
            except Exception:  # the first directory
                pass
            node.store.put(doc)
        return verify_directory(doc, self.root.public_b64)

    def opened(self) -> Any:
        from contextlib import contextmanager

        @contextmanager
        def ctx() -> Iterator[Any]:
            app = create_app({"node_dir": str(self.folder), "sync_interval": 0,
                              "secret_key": "test", "TESTING": True})
            try:
                yield app.extensions["bangban_node"]
            finally:
                app.extensions["bangban_node"].close()
        return ctx()

    def client(self) -> Any:
        from tests.node.conftest import csrf

        self.close()
        self.app = create_app({"node_dir": str(self.folder), "sync_interval": 0,
                               "secret_key": "test", "TESTING": True})
        client = self.app.test_client()
        resp = client.post("/unlock", data={"passphrase": PASSPHRASE, "csrf": csrf(client)})
        assert resp.status_code == 302
        return client

    def close(self) -> None:
        if self.app is not None:
            self.app.extensions["bangban_node"].close()
            self.app = None

    def doc(self, doc_id: str) -> dict[str, Any]:
        with self.opened() as node:
            return dict(node.store.get(doc_id))

    def cli(self, *args: str) -> int:
        self.close()
        return main(["node", "keys", *args, "--dir", str(self.folder),
                     "--passphrase-file", str(self.pwfile)])


@pytest.fixture
def station(tmp_path: Path) -> Iterator[Station]:
    s = Station(tmp_path / "first")
    try:
        yield s
    finally:
        s.close()


def institution_wraps(ring: dict[str, Any]) -> dict[str, set[str]]:
    return {gen["kid"]: {w["key_id"] for w in gen["wraps"] if w["institution"] == VILLAGE}
            for gen in ring["data_keys"]}


def only(key: Any) -> Any:
    from sync.crypto import Keychain

    chain = Keychain()
    chain.add("institution", VILLAGE, key, "active")
    return chain


def rotated(station: Station, capsys: pytest.CaptureFixture[str]) -> tuple[Any, Any, Any]:
    """Rotate with the CLI; publish the directory the hub has after `rotate-key` + `device
    keys`: K1 revoked (kept), K2 active. Returns (K1, K2, that directory)."""
    from sync.crypto import key_entry

    k1 = keys_of(station.folder).institution_key
    capsys.readouterr()
    assert station.cli("rotate") == 0
    out = capsys.readouterr()
    printed = json.loads(out.out)
    assert "node keys export" in out.err and "hub device keys" in out.err
    chain = keys_of(station.folder).keychain
    k2 = chain.active("institution", VILLAGE).key
    assert printed["institution_key"] == key_entry(k2) and printed["retired"] == [k1.key_id]
    assert [(h.key_id, h.status) for h in chain.find("institution", active_only=False)] \
        == [(k1.key_id, "retired"), (k2.key_id, "active")]
    directory = station.publish([key_entry(k1, revoked_at="2026-11-26T07:00:00+08:00"),
                                 key_entry(k2)])
    return k1, k2, directory


def test_rotate_keeps_old_cases_and_wraps_new_ones_for_the_new_key_only(
        station: Station, capsys: pytest.CaptureFixture[str]) -> None:
    from sync.crypto import CryptoError, key_entry, unlock_case_key

    before = keys_of(station.folder)
    station.publish([key_entry(before.institution_key)])
    old_case = _consult(station.client())
    k1, k2, directory = rotated(station, capsys)
    assert keys_of(station.folder).name_hash_key == before.name_hash_key  # index still matches

    client = station.client()
    page = client.get(f"/cases/{old_case}")
    assert page.status_code == 200 and "王小明" in page.data.decode()  # opened with retired K1
    new_case = _consult(client)
    station.close()
    ring = station.doc(f"keyring:{new_case}")
    assert set().union(*institution_wraps(ring).values()) == {k2.key_id}
    with pytest.raises(CryptoError):  # the lost laptop's key opens nothing of it
        unlock_case_key(ring, only(k1), directory, active_only=False)
    assert unlock_case_key(ring, only(k2), directory).current == ring["current"]


def test_rewrap_open_case_then_new_events_are_closed_to_the_old_key(
        station: Station, capsys: pytest.CaptureFixture[str]) -> None:
    from node.rewrap import after_sync
    from schemas.sample import catalog
    from sync.crypto import CryptoError, key_entry, unlock_case_key

    station.publish([key_entry(keys_of(station.folder).institution_key)])
    case = _consult(station.client())
    station.close()
    old_ring = station.doc(f"keyring:{case}")
    assert station.cli("rewrap") == 1  # no new key yet
    assert "no new institution key" in capsys.readouterr().err
    k1, k2, directory = rotated(station, capsys)

    assert station.cli("rewrap", "--json") == 0
    result = json.loads(capsys.readouterr().out)
    assert result["rewrapped"] == [case] and result["active"] == k2.key_id
    ring = station.doc(f"keyring:{case}")
    assert ring["current"] != old_ring["current"] and len(ring["data_keys"]) == 2
    assert all(kids == {k2.key_id} for kids in institution_wraps(ring).values())
    assert unlock_case_key(ring, only(k2), directory).key_ids == [g["kid"] for g in ring["data_keys"]]

    client = station.client()
    r = _step(client, case, "entrustment", channel="offline", mode="nearby", ledger_no="DB-9",
              period_end=later(60), scope="代为提交", service_item=catalog()[0]["code"],
              signature_data="data:image/png;base64," + base64.b64encode(PNG).decode())
    assert r.status_code == 302, r.data.decode()[:2000]
    with station.opened() as node:
        node.unlock(PASSPHRASE)
        events = node.casework.events(case)
        assert after_sync(node) is None  # nothing left: the pass ran for K2 already
    sealed = [e for e in events if e["event_type"] == "entrustment"][0]
    assert sealed["sealed"]["kid"] == ring["current"]
    lost = unlock_case_key(old_ring, only(k1), directory, active_only=False)  # the lost laptop
    with pytest.raises(CryptoError):
        lost._open(sealed)
    assert unlock_case_key(ring, only(k2), directory)._open(sealed)  # the new key opens it


def test_import_brings_the_new_key_to_an_enrolled_laptop(
        station: Station, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    k1, k2, _directory = rotated(station, capsys)
    out = tmp_path / "inst-keys.json"
    assert station.cli("export", "--out", str(out)) == 0
    second = make_node_dir(tmp_path / "second", device_id=SECOND)
    own = keys_of(second).institution_key
    capsys.readouterr()
    assert main(["node", "keys", "import", str(out), "--dir", str(second), "--passphrase-file",
                 str(station.pwfile), "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["active"] == k2.key_id and set(result["added"]) == {k1.key_id, k2.key_id}
    chain = keys_of(second).keychain
    assert chain.active("institution", VILLAGE).key_id == k2.key_id
    assert {(h.key_id, h.status) for h in chain.find("institution", active_only=False)} \
        == {(own.key_id, "retired"), (k1.key_id, "retired"), (k2.key_id, "active")}
    assert chain.active("device", SECOND)  # its own device key is untouched


def test_the_next_sync_rewraps_once(station: Station, capsys: pytest.CaptureFixture[str]) -> None:
    from node.rewrap import after_sync
    from sync.crypto import key_entry

    station.publish([key_entry(keys_of(station.folder).institution_key)])
    case = _consult(station.client())
    station.close()
    with station.opened() as node:
        node.unlock(PASSPHRASE)
        assert after_sync(node) is None  # no rotation yet: nothing to do
    _k1, k2, _directory = rotated(station, capsys)
    with station.opened() as node:
        assert after_sync(node) is None  # locked: never touches keys
        node.unlock(PASSPHRASE)
        done = after_sync(node)
        assert done is not None and done["rewrapped"] == [case] and done["active"] == k2.key_id
        assert after_sync(node) is None


def test_import_refuses_an_older_export(station: Station, tmp_path: Path,
                                        capsys: pytest.CaptureFixture[str]) -> None:
    old = tmp_path / "old-keys.json"
    assert station.cli("export", "--out", str(old)) == 0
    rotated(station, capsys)
    before = (station.folder / "keychain.json").read_bytes()
    assert main(["node", "keys", "import", str(old), "--dir", str(station.folder),
                 "--passphrase-file", str(station.pwfile)]) == 1
    assert "retired here" in capsys.readouterr().err
    assert (station.folder / "keychain.json").read_bytes() == before


def test_the_round_that_rewraps_pushes_what_it_rewrapped(
        station: Station, capsys: pytest.CaptureFixture[str], tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    """The re-wrap runs at a round's end, after the pull that brought the new key: its
    keyrings waited for the next round (`sync_interval` later), the page saying them
    "waiting" after a round that said ok. The round that re-wraps pushes them too."""
    from sync.crypto import key_entry
    from sync.crypto.keyring import KEYRING_PREFIX
    from sync.sqlite import SQLiteStore

    class Hub(SQLiteStore):  # the hub's device view, in this process (tests/node/test_disk_full)
        def close(self) -> None:
            pass

    hub = Hub(str(tmp_path / "hub.sqlite"))
    monkeypatch.setattr("sync.open.open_db", lambda url, **kw: hub)
    station.publish([key_entry(keys_of(station.folder).institution_key)])
    case = _consult(station.client())
    station.close()
    try:
        with station.opened() as node:
            node.unlock(PASSPHRASE)
            node.syncer.sync_once()
            assert node.syncer.state.pending == 0
        _k1, k2, _directory = rotated(station, capsys)
        with station.opened() as node:
            node.unlock(PASSPHRASE)
            summary = node.syncer.sync_once()
            ring = node.store.get(KEYRING_PREFIX + case)
            assert institution_wraps(ring)[ring["data_keys"][-1]["kid"]] == {k2.key_id}
            assert hub.get(KEYRING_PREFIX + case)["_rev"] == ring["_rev"]  # up already
            assert node.syncer.state.pending == 0 and node.index.pending_ids() == set()
            assert summary["rewrap"]["cases"] == 1 and "push" in summary["rewrap"]
            assert node.syncer.sync_once().get("rewrap") is None  # once per new key
    finally:
        SQLiteStore.close(hub)
