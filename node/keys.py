"""The node's keys, unlocked by the staff passphrase (design §5; sync.crypto does the crypto).

``keychain.json`` holds a :class:`sync.crypto.Keychain` locked under scrypt(passphrase):
the device's Ed25519 signing key and the institution's X25519 key. Unlocked keys live
only in this object, in memory. The directory of institution and device public keys is
trusted only after :func:`sync.crypto.verify_directory` against the municipal root key
pinned at enrollment.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from node.errors import BadPassphrase, InvalidInput, NodeError, NotEnrolled

if TYPE_CHECKING:
    from sync.crypto import Keychain

NAME_HASH_INFO = b"bangban/v1/node-name-index"
#: The keychain holds the institution's private key, which opens every case of the station:
#: a copied laptop disk is guessed offline at scrypt's pace, so a short passphrase is a key
#: given away (7.2.2.2). Eight characters, as a transfer passphrase (node.transfer).
MIN_PASSPHRASE = 8


def save_keychain(path: Path, chain: Any, passphrase: str, *, n: int | None = None) -> None:
    """Lock ``chain`` (a sync.crypto.Keychain) under ``passphrase`` and replace ``path`` in
    one rename: a crash leaves the old or the new keychain, never half of one, and the
    file is 0600 from its creation. The new bytes reach the disk before the rename and the
    rename before return: renamed unsynced, a power cut could leave an empty keychain.json,
    the only copy of the station's keys on a laptop (``keys passphrase``, a rotation)."""
    from sync.crypto import keys as crypto_keys

    locked = chain.lock(passphrase, n=n or crypto_keys.SCRYPT_N)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".new")
    tmp.unlink(missing_ok=True)
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        json.dump(locked, fh, indent=1)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)
    if sys.platform != "win32":  # a folder cannot be opened there (NTFS journals the rename)
        folder = os.open(path.parent, os.O_RDONLY)
        try:
            os.fsync(folder)
        finally:
            os.close(folder)


def check_new_passphrase(passphrase: str, old: str | None = None,
                         field: str = "passphrase") -> None:
    """Refuse a passphrase too short to guard the institution's key, or (``old``) one that
    does not replace the old one, naming ``field``."""
    if len(passphrase) < MIN_PASSPHRASE:
        raise InvalidInput(f"{field}: 口令至少 {MIN_PASSPHRASE} 个字符 / the passphrase "
                           f"needs at least {MIN_PASSPHRASE} characters",
                           fields={field: f"至少 {MIN_PASSPHRASE} 个字符 / at least "
                                          f"{MIN_PASSPHRASE} characters"})
    if old is not None and passphrase == old:
        raise InvalidInput(f"{field}: 新口令与旧口令相同 / the new passphrase is the old one",
                           fields={field: "与旧口令相同 / the same as the old one"})


def change_passphrase(path: Path, keys: NodeKeys, old: str, new: str) -> None:
    """Lock the keychain at ``path`` under ``new`` (the laptop handed to another clerk, or a
    passphrase others learnt: 7.2.2.2). The keys are the same, so every case still opens;
    only ``new`` unlocks this file from now on. A running ``node serve`` sees the file
    change and locks (node.core), ending every session opened with ``old``."""
    check_new_passphrase(new, old, "new_passphrase")
    save_keychain(path, keys.keychain, new)


@dataclass
class NodeKeys:
    """Unlocked keys of this node."""

    keychain: Any  # sync.crypto.Keychain
    device_id: str
    institution: str
    root_keys: list[str]

    @classmethod
    def create(cls, path: Path, passphrase: str, enrollment: Mapping[str, Any],
               imported: Mapping[str, Any] | None = None, *, scrypt_n: int | None = None,
               institution_keys: Keychain | None = None) -> NodeKeys:
        """A new keychain locked to ``path``: a new device key plus a new institution key, or
        the institution's keys carried from another laptop (``institution_keys``, a
        ``sync.crypto.Keychain`` from :mod:`node.transfer`; statuses kept, the newest active
        one is used), or the whole keychain a demo enrollment handed over (``imported``)."""
        from sync.crypto import EncryptionKeyPair, Keychain, SigningKeyPair
        from sync.crypto.keys import SCRYPT_N

        check_new_passphrase(passphrase)
        institution = enrollment["institution"]
        chain: Any
        if imported and imported.get("keychain"):
            if institution_keys is not None:
                raise InvalidInput("institution_keys: 不能与登记中的整套密钥同时使用 / cannot be "
                                   "combined with the enrollment's keychain",
                                   fields={"institution_keys": "conflicts with keys"})
            chain = Keychain.unlock(imported["keychain"], imported.get("passphrase", passphrase))
        else:
            chain = Keychain()
            chain.add("device", enrollment["device_id"], SigningKeyPair.generate())
            if institution_keys is None:
                chain.add("institution", institution, EncryptionKeyPair.generate())
            else:
                _add_institution_keys(chain, institution_keys, institution)
        save_keychain(path, chain, passphrase, n=scrypt_n or SCRYPT_N)
        return cls(chain, enrollment["device_id"], enrollment["institution"],
                   list(enrollment.get("root_keys") or []))

    @classmethod
    def unlock(cls, path: Path, passphrase: str, enrollment: Mapping[str, Any]) -> NodeKeys:
        from sync.crypto import CryptoError, Keychain, WrongPassphrase

        if not path.exists():
            raise NotEnrolled(f"no keychain at {path}: run `bangban node init`")
        try:
            chain = Keychain.unlock(json.loads(path.read_text(encoding="utf-8")), passphrase)
        except WrongPassphrase as exc:
            raise BadPassphrase("口令错误 / wrong passphrase") from exc
        except CryptoError as exc:
            raise NodeError(f"keychain unreadable: {exc.reason}") from exc
        return cls(chain, enrollment["device_id"], enrollment["institution"],
                   list(enrollment.get("root_keys") or []))

    # -- what casework needs -------------------------------------------------------
    @property
    def signer(self) -> Any:
        from sync.crypto import DeviceSigner

        return DeviceSigner(self.device_id, self.keychain.active("device", self.device_id).key)

    @property
    def institution_key(self) -> Any:
        return self.keychain.active("institution", self.institution).key

    @property
    def name_hash_key(self) -> bytes:
        """HMAC key for the index's name tokens: HKDF-like derivation from the institution's
        private key (never stored; the same on every node of the institution).

        Derived from the institution's *first* key generation, retired or not: a rotation
        after a lost laptop (``node keys rotate``, design.md §5) must not change the hashes
        already in the index, or name search would miss every older case. The index is a
        node-local file; the lost laptop's own index used the same key anyway."""
        first = self.keychain.find("institution", self.institution, active_only=False)
        raw = (first[0].key if first else self.institution_key)._private_bytes()
        return hmac.new(raw, NAME_HASH_INFO, hashlib.sha256).digest()

    def public_entries(self) -> dict[str, Any]:
        """Public halves, for the hub's directory (printed by `node init --json`)."""
        from sync.crypto import key_entry

        dev = self.keychain.active("device", self.device_id).key
        inst = self.keychain.active("institution", self.institution).key
        return {"device_id": self.device_id, "institution": self.institution,
                "device_key": key_entry(dev), "institution_key": key_entry(inst)}


def _add_institution_keys(chain: Keychain, carried: Keychain, institution: str) -> None:
    """Add ``carried``'s keys (in order, statuses kept) to ``chain``; refuse anything that is
    not ``institution``'s key or a set without an active one (this laptop could not work)."""
    for held in carried.keys:
        if held.role != "institution" or held.owner != institution:
            raise InvalidInput(f"institution_keys: {held.role} key of {held.owner} is not a key "
                               f"of institution {institution}",
                               fields={"institution_keys": "foreign key"})
        chain.add(held.role, held.owner, held.key, held.status)
    if not chain.find("institution", institution):
        raise InvalidInput(f"institution_keys: 没有机构 {institution} 的有效密钥 / no active key "
                           f"of institution {institution}",
                           fields={"institution_keys": "no active key"})
