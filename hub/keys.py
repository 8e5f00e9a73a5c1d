"""The hub's own keys, kept in ``HUB_DIR/keys/``.

* ``hub.keychain.json`` — a :class:`sync.crypto.Keychain` with the municipal root
  signing key (role ``root``: signs the directory) and the hub's device key (role
  ``device``: signs conflict resolutions, 10.2.5.2 terminations and reference data).
  Locked under ``BANGBAN_HUB_KEY_PASSPHRASE`` or, when unset, a random passphrase in
  ``keys/passphrase`` (mode 0600) so an unattended ``hub serve`` can start.
  design.md §5 wants the root key offline: that is the opt-in mode below.
* ``escrow-OFFLINE.json`` — the escrow X25519 private key, locked the same way. The
  hub never loads it: move it offline (audited supervision only).
* ``bundle.keychain.json`` — the hub's X25519 *bundle key* (role ``bundle``), locked the
  same way: bundle files are sealed for it (:mod:`sync.bundle`), so ``hub bundle import``
  needs no escrow key online. It is an online key like the device key: it opens only the
  bundle envelope, whose documents stay sealed (design.md §5). Its own file, not a member of
  the keychain, so giving a hub initialised before it one (``bangban hub bundle key``)
  never rewrites the file holding the root key.
* With ``hub init --offline-root FILE`` (:mod:`hub.offline`, design.md §5 root offline)
  the keychain holds no root key but an online directory-signing key (role
  ``directory_signer``), and ``delegation.json`` holds the root-signed delegation to it
  (public data: every directory carries it).

The hub holds no institution key, so it cannot open any sealed case (design.md §5).
"""

from __future__ import annotations

import json
import os
import secrets
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from hub.errors import AlreadyExists, ConfigError, NotInitialized
from sync.crypto import DeviceSigner, EncryptionKeyPair, Keychain, SigningKeyPair

if TYPE_CHECKING:
    from hub.core import Hub

KEYCHAIN = "hub.keychain.json"
ESCROW = "escrow-OFFLINE.json"
DELEGATION = "delegation.json"
BUNDLE = "bundle.keychain.json"
BUNDLE_ROLE = "bundle"
SIGNER_ROLE = "directory_signer"
SCRYPT_N = 2**14  # unattended start; the file is as safe as the folder's permissions


def _folder(hub_dir: str | Path) -> Path:
    return Path(hub_dir) / "keys"


def _passphrase(hub_dir: str | Path, *, create: bool = False) -> str:
    from hub.settings import env_name

    variable = env_name("hub_key_passphrase")  # declared once, in hub.settings
    env = os.environ.get(variable)
    if env:
        return env
    path = _folder(hub_dir) / "passphrase"
    if not path.exists():
        if not create:
            raise NotInitialized(f"{path} is missing (or set {variable})")
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_urlsafe(24), "utf-8")
        path.chmod(0o600)
    return path.read_text("utf-8").strip()


class KeysDoNotOpen(ConfigError):
    """The hub's key passphrase does not open one of its keychains; ``detail``: which file
    and where the passphrase came from, without the advice ``reason`` adds (the doctor
    gives its own)."""

    def __init__(self, detail: str):
        super().__init__(f"{detail}. Give the one `hub init` locked the keys with (for the "
                         "service: /etc/bangban/hub.env), or restore HUB_DIR/keys from the "
                         "file backup; `bangban hub doctor`")
        self.detail = detail


def unlock(path: Path, hub_dir: str | Path) -> Keychain:
    """The keychain file ``path`` of this hub, unlocked with the hub's key passphrase; a
    passphrase that does not open it is :class:`KeysDoNotOpen`, saying which passphrase was
    tried and what to do (it was "the passphrase does not unlock this keychain", with no
    file named, from `hub device enroll` or `institution add` at 2 a.m.)."""
    from hub.settings import env_name
    from sync.crypto import WrongPassphrase

    passphrase = _passphrase(hub_dir)
    try:
        return Keychain.unlock(json.loads(path.read_text("utf-8")), passphrase)
    except WrongPassphrase as exc:
        variable = env_name("hub_key_passphrase")
        source = (f"{variable}, which is set and wins over {_folder(hub_dir) / 'passphrase'}"
                  if os.environ.get(variable) else f"{_folder(hub_dir) / 'passphrase'} "
                  f"({variable} is not set)")
        raise KeysDoNotOpen(f"{path}: the passphrase does not unlock it; it came from "
                            f"{source}") from exc


def _write(path: Path, data: object) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=1), "utf-8")
    path.chmod(0o600)


def own_key_id(hub: Hub) -> str:
    """The hub device key id of HUB_DIR/keys, checked against the store's record of the
    hub's device: keys/ of another hub (a restore into a new folder, a mixed-up copy) unlock
    but sign what no station accepts (:class:`ConfigError`)."""
    kid = hub.keys.signer.key.key_id
    record = hub.stores.main.get(f"device:{hub.identity['device_id']}")
    if kid not in {k.get("kid") for k in record.get("public_keys", [])}:
        raise ConfigError(f"HUB_DIR/keys hold device key {kid}, not the key this hub's store "
                          "names for its device: they belong to another hub")
    return str(kid)


def refuse_existing(hub_dir: str | Path, named_by: str) -> None:
    """Refuse to make keys over those of a hub whose store looks empty.

    Every node pins the root key and every case keyring wraps for the escrow key
    (design.md §5): new ones would make every station refuse the hub's directories.
    A folder with keys and no identity is a store gone missing or pointed elsewhere
    or a restore being prepared. ``named_by`` (:attr:`hub.storage.HubStores.named_by`):
    the settings that chose the store and where each was set, the places to check; the
    message named BANGBAN_COUCHDB_URL even for a URL set in settings.json."""
    folder = _folder(hub_dir)
    found = sorted(name for name in (KEYCHAIN, ESCROW, BUNDLE) if (folder / name).exists())
    if found:
        raise AlreadyExists(
            f"{folder} already holds a hub's keys ({', '.join(found)}) but its store has no "
            f"hub: check {named_by}, or load a backup with "
            "`bangban hub restore DIR`; to start a new hub, use a new --hub-dir (stations "
            "pin the old root key)")


def create(hub_dir: str | Path, hub_device_id: str, *,
           root: bool = True) -> tuple[Keychain, EncryptionKeyPair]:
    """New hub device, escrow and bundle keys and either the municipal root key (default, root
    online) or, with ``root=False``, an online directory-signing key (role
    ``directory_signer``) for a delegation of the offline root. Returns the keychain and
    the escrow pair."""
    folder = _folder(hub_dir)
    folder.mkdir(parents=True, exist_ok=True)
    folder.chmod(0o700)
    passphrase = _passphrase(hub_dir, create=True)
    chain = Keychain()
    if root:
        chain.add("root", "municipal", SigningKeyPair.generate())
    else:
        chain.add(SIGNER_ROLE, "municipal", SigningKeyPair.generate())
    chain.add("device", hub_device_id, SigningKeyPair.generate())
    escrow = EncryptionKeyPair.generate()
    offline = Keychain()
    offline.add("escrow", "escrow", escrow)
    _write(folder / KEYCHAIN, chain.lock(passphrase, n=SCRYPT_N))
    _write(folder / ESCROW, offline.lock(passphrase, n=SCRYPT_N))
    _write_bundle_key(hub_dir, EncryptionKeyPair.generate(), passphrase)
    return chain, escrow


def _write_bundle_key(hub_dir: str | Path, pair: EncryptionKeyPair, passphrase: str) -> None:
    chain = Keychain()
    chain.add(BUNDLE_ROLE, BUNDLE_ROLE, pair)
    _write(_folder(hub_dir) / BUNDLE, chain.lock(passphrase, n=SCRYPT_N))


def load_bundle_key(hub_dir: str | Path) -> EncryptionKeyPair | None:
    """The hub's bundle key, ``None`` for a hub initialised before it existed."""
    path = _folder(hub_dir) / BUNDLE
    if not path.exists():
        return None
    key = unlock(path, hub_dir).active(BUNDLE_ROLE).key
    if not isinstance(key, EncryptionKeyPair):
        raise NotInitialized(f"{path}: holds no X25519 bundle key")
    return key


def ensure_bundle_key(hub_dir: str | Path) -> tuple[EncryptionKeyPair, bool]:
    """The bundle key, made now if the hub has none: ``(pair, created)``."""
    pair = load_bundle_key(hub_dir)
    if pair is not None:
        return pair, False
    pair = EncryptionKeyPair.generate()
    _write_bundle_key(hub_dir, pair, _passphrase(hub_dir))
    return pair, True


def save_delegation(hub_dir: str | Path, doc: Mapping[str, Any]) -> None:
    """Store the root-signed delegation the hub signs directories under."""
    _write(_folder(hub_dir) / DELEGATION, dict(doc))


def load_delegation(hub_dir: str | Path) -> dict[str, Any] | None:
    path = _folder(hub_dir) / DELEGATION
    if not path.exists():
        return None
    data = json.loads(path.read_text("utf-8"))
    return data if isinstance(data, dict) else None


def load(hub_dir: str | Path) -> Keychain:
    path = _folder(hub_dir) / KEYCHAIN
    if not path.exists():
        # Its store holds a hub (a restore, a copied folder) far more often than not: `hub
        # init` refuses a store that has one, and would orphan every station if it did not.
        raise NotInitialized(f"{path} is missing: put back this hub's keys/ folder from the "
                             "file backup (only a hub never initialised: `bangban hub init`)")
    return unlock(path, hub_dir)


class HubKeys:
    """The unlocked root and device keys (loaded once per process)."""

    def __init__(self, chain: Keychain, device_id: str):
        self.chain = chain
        self.device_id = device_id

    @property
    def root(self) -> SigningKeyPair:
        key = self.chain.active("root").key
        assert isinstance(key, SigningKeyPair)
        return key

    @property
    def has_root(self) -> bool:
        """Whether the root key is online here (the default ``hub init``)."""
        return bool(self.chain.find("root"))

    @property
    def directory_signer(self) -> SigningKeyPair:
        """The online key a root-signed delegation lets sign directories (root offline)."""
        key = self.chain.active(SIGNER_ROLE).key
        assert isinstance(key, SigningKeyPair)
        return key

    @property
    def signer(self) -> DeviceSigner:
        key = self.chain.active("device", self.device_id).key
        assert isinstance(key, SigningKeyPair)
        return DeviceSigner(self.device_id, key)
