"""Key pairs and the passphrase-locked keychain (design §5 "Keys").

* Institution keys are X25519 (case data keys are wrapped to them); device keys
  and the municipal root key are Ed25519 (they sign events and the directory);
  the municipal escrow key is X25519 and is held offline.
* Private halves exist in clear only in memory. At rest a :class:`Keychain` is a
  JSON object (storable in a ``_local`` doc or a file) where each private key is
  AES-256-GCM encrypted under one key derived from the staff passphrase with
  scrypt (RFC 7914). One derivation unlocks every key, so unlocking costs one
  scrypt run.

scrypt parameters: ``n=2**17, r=8, p=1`` (128 MiB of memory per attempt). On the
development machine (AMD EPYC, 2 cores) one derivation costs 0.50-0.64 s of CPU; the
wall time was 0.69 s with the machine near idle (load 1.3), 0.5-1.1 s at load 5
and up to 2.4 s at load 6 (eight engineers sharing two cores). So an unlock takes 0.3-1 s here
when the machine is not oversubscribed: slow enough that each guess at a stolen
laptop's keychain costs an attacker ~0.5 s of a core and 128 MiB, fast enough for
staff unlocking once at the start of a day. (``n=2**16`` costs 0.25-0.3 s of CPU,
below the target.) ``ops/bench/bench_crypto.py`` measures it (wall and CPU); the
parameters are stored with each keychain so they can be raised later without
breaking old files (:func:`change_passphrase` re-locks with the current ones).
"""

from __future__ import annotations

import os
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from cryptography.hazmat.primitives.kdf.scrypt import Scrypt

from sync.crypto.encoding import b64u_decode, b64u_encode, canonical_json, fingerprint
from sync.crypto.errors import CryptoError, MalformedEnvelope, UnknownKey, WrongPassphrase

X25519_PREFIX = "x25519-"
ED25519_PREFIX = "ed25519-"

#: scrypt cost parameters for new keychains (see module docstring for the measurement).
SCRYPT_N = 2**17
SCRYPT_R = 8
SCRYPT_P = 1
KEYCHAIN_VERSION = 1
_CHECK = b"bangban keychain v1"
_RAW = serialization.Encoding.Raw
_RAW_PUB = serialization.PublicFormat.Raw
_RAW_PRIV = serialization.PrivateFormat.Raw
_NOENC = serialization.NoEncryption()


class EncryptionKeyPair:
    """An X25519 key pair (an institution's or the escrow key); data keys are wrapped to it."""

    alg = "X25519"

    def __init__(self, private: X25519PrivateKey):
        self._private = private
        self.public_bytes = private.public_key().public_bytes(_RAW, _RAW_PUB)
        self.key_id = fingerprint(self.public_bytes, X25519_PREFIX)

    @classmethod
    def generate(cls) -> EncryptionKeyPair:
        return cls(X25519PrivateKey.generate())

    @property
    def public_b64(self) -> str:
        return b64u_encode(self.public_bytes)

    def exchange(self, peer: X25519PublicKey) -> bytes:
        """ECDH shared secret with ``peer`` (used by :mod:`sync.crypto.wrap`)."""
        return self._private.exchange(peer)

    def derive_key(self, info: bytes, length: int = 32) -> bytes:
        """A secret derived from this private key for one purpose named by ``info``
        (HKDF-SHA256), e.g. the node index's HMAC key for name tokens: the same on every
        node holding the institution key, never stored, changed by a key rotation."""
        if not info:
            raise CryptoError("info: name the purpose of the derived key", status=400,
                              error="bad_request")
        return HKDF(algorithm=hashes.SHA256(), length=length, salt=b"bangban/v1/derive",
                    info=bytes(info)).derive(self._private_bytes())

    def _private_bytes(self) -> bytes:
        return self._private.private_bytes(_RAW, _RAW_PRIV, _NOENC)

    def __repr__(self) -> str:  # never print private material
        return f"EncryptionKeyPair({self.key_id})"


class SigningKeyPair:
    """An Ed25519 key pair (a device's or the municipal root key)."""

    alg = "Ed25519"

    def __init__(self, private: Ed25519PrivateKey):
        self._private = private
        self.public_bytes = private.public_key().public_bytes(_RAW, _RAW_PUB)
        self.key_id = fingerprint(self.public_bytes, ED25519_PREFIX)

    @classmethod
    def generate(cls) -> SigningKeyPair:
        return cls(Ed25519PrivateKey.generate())

    @property
    def public_b64(self) -> str:
        return b64u_encode(self.public_bytes)

    def sign(self, data: bytes) -> bytes:
        return self._private.sign(data)

    def _private_bytes(self) -> bytes:
        return self._private.private_bytes(_RAW, _RAW_PRIV, _NOENC)

    def __repr__(self) -> str:
        return f"SigningKeyPair({self.key_id})"


KeyPair = EncryptionKeyPair | SigningKeyPair


def load_x25519_public(value: str | bytes, *, field: str = "public") -> X25519PublicKey:
    raw = b64u_decode(value, field=field) if isinstance(value, str) else value
    try:
        return X25519PublicKey.from_public_bytes(raw)
    except ValueError as exc:
        raise MalformedEnvelope(f"{field}: not an X25519 public key") from exc


def load_ed25519_public(value: str | bytes, *, field: str = "public") -> Ed25519PublicKey:
    raw = b64u_decode(value, field=field) if isinstance(value, str) else value
    try:
        return Ed25519PublicKey.from_public_bytes(raw)
    except ValueError as exc:
        raise MalformedEnvelope(f"{field}: not an Ed25519 public key") from exc


def _from_private_bytes(kind: str, raw: bytes) -> KeyPair:
    try:
        if kind == "X25519":
            return EncryptionKeyPair(X25519PrivateKey.from_private_bytes(raw))
        if kind == "Ed25519":
            return SigningKeyPair(Ed25519PrivateKey.from_private_bytes(raw))
    except ValueError as exc:
        raise MalformedEnvelope(f"keychain: bad {kind} private key") from exc
    raise MalformedEnvelope(f"keychain: unknown key algorithm {kind!r}")


@dataclass
class HeldKey:
    """One unlocked key with what it is for.

    ``role`` is ``institution``, ``device``, ``escrow`` or ``root``; ``owner`` the
    institution code or device id; ``status`` ``active`` or ``retired`` (kept only
    until the keyrings that still name it are re-wrapped).
    """

    role: str
    owner: str
    key: KeyPair
    status: str = "active"

    @property
    def key_id(self) -> str:
        return self.key.key_id


def _derive(passphrase: str, salt: bytes, n: int, r: int, p: int) -> bytes:
    if not isinstance(passphrase, str) or not passphrase:
        raise CryptoError("passphrase: must be a non-empty string", status=400, error="bad_request")
    # Bounds keep a crafted keychain from asking for gigabytes (or a useless n).
    if not (2**10 <= n <= 2**20 and n & (n - 1) == 0 and 1 <= r <= 32 and 1 <= p <= 16
            and len(salt) >= 16):
        raise MalformedEnvelope(f"kdf: scrypt parameters out of bounds (n={n}, r={r}, p={p})")
    # NFKC so the same passphrase typed through different input methods derives the same key.
    secret = unicodedata.normalize("NFKC", passphrase).encode("utf-8")
    return Scrypt(salt=salt, length=32, n=n, r=r, p=p).derive(secret)


@dataclass
class Keychain:
    """The unlocked keys of one node (or of the offline municipal key holder)."""

    keys: list[HeldKey] = field(default_factory=list)

    # -- lookup -------------------------------------------------------------
    def add(self, role: str, owner: str, key: KeyPair, status: str = "active") -> HeldKey:
        held = HeldKey(role, owner, key, status)
        self.keys.append(held)
        return held

    def find(self, role: str, owner: str | None = None, *, active_only: bool = True) -> list[HeldKey]:
        return [k for k in self.keys if k.role == role and (owner is None or k.owner == owner)
                and (k.status == "active" or not active_only)]

    def active(self, role: str, owner: str | None = None) -> HeldKey:
        """The one active key for ``role``/``owner`` (the newest if several)."""
        found = self.find(role, owner)
        if not found:
            raise UnknownKey(f"no active {role} key{' for ' + owner if owner else ''} in this keychain")
        return found[-1]

    def by_key_id(self, key_id: str) -> HeldKey | None:
        return next((k for k in self.keys if k.key_id == key_id), None)

    def encryption_keys(self) -> Iterable[HeldKey]:
        return (k for k in self.keys if isinstance(k.key, EncryptionKeyPair))

    def retire(self, key_id: str) -> None:
        held = self.by_key_id(key_id)
        if held is None:
            raise UnknownKey(f"key {key_id} is not in this keychain")
        held.status = "retired"

    def forget(self, key_id: str) -> None:
        """Drop a key from memory (a retired key once every keyring is re-wrapped)."""
        self.keys = [k for k in self.keys if k.key_id != key_id]

    # -- at rest ------------------------------------------------------------
    def lock(self, passphrase: str, *, n: int = SCRYPT_N, r: int = SCRYPT_R, p: int = SCRYPT_P) -> dict[str, Any]:
        """The JSON form: every private key AES-256-GCM encrypted under scrypt(passphrase)."""
        salt = os.urandom(16)
        aead = AESGCM(_derive(passphrase, salt, n, r, p))
        check_nonce = os.urandom(12)
        entries = []
        for held in self.keys:
            meta = {"role": held.role, "owner": held.owner, "alg": held.key.alg,
                    "key_id": held.key_id, "public": held.key.public_b64, "status": held.status}
            nonce = os.urandom(12)
            ct = aead.encrypt(nonce, held.key._private_bytes(), canonical_json(meta))
            entries.append({**meta, "nonce": b64u_encode(nonce), "ct": b64u_encode(ct)})
        return {
            "v": KEYCHAIN_VERSION,
            "kdf": {"name": "scrypt", "n": n, "r": r, "p": p, "salt": b64u_encode(salt)},
            "alg": "A256GCM",
            "check": {"nonce": b64u_encode(check_nonce),
                      "ct": b64u_encode(aead.encrypt(check_nonce, _CHECK, None))},
            "keys": entries,
        }

    @classmethod
    def unlock(cls, locked: Mapping[str, Any], passphrase: str) -> Keychain:
        """Decrypt a locked keychain into memory; :class:`WrongPassphrase` if it does not open."""
        try:
            kdf = locked["kdf"]
            if locked.get("v") != KEYCHAIN_VERSION or kdf.get("name") != "scrypt":
                raise MalformedEnvelope(f"keychain: unsupported version {locked.get('v')!r}")
            salt = b64u_decode(kdf["salt"], field="kdf.salt")
            key = _derive(passphrase, salt, int(kdf["n"]), int(kdf["r"]), int(kdf["p"]))
            check = locked["check"]
            entries = list(locked["keys"])
        except (KeyError, TypeError) as exc:
            raise MalformedEnvelope(f"keychain: missing field {exc}") from exc
        aead = AESGCM(key)
        try:
            aead.decrypt(b64u_decode(check["nonce"], field="check.nonce"),
                         b64u_decode(check["ct"], field="check.ct"), None)
        except InvalidTag as exc:
            raise WrongPassphrase("the passphrase does not unlock this keychain") from exc
        chain = cls()
        for i, entry in enumerate(entries):
            meta = {k: entry.get(k) for k in ("role", "owner", "alg", "key_id", "public", "status")}
            try:
                raw = aead.decrypt(b64u_decode(entry["nonce"], field=f"keys[{i}].nonce"),
                                   b64u_decode(entry["ct"], field=f"keys[{i}].ct"), canonical_json(meta))
            except KeyError as exc:
                raise MalformedEnvelope(f"keychain: keys[{i}] misses {exc}") from exc
            except InvalidTag as exc:
                raise MalformedEnvelope(f"keychain: keys[{i}] was altered") from exc
            pair = _from_private_bytes(str(meta["alg"]), raw)
            if pair.key_id != meta["key_id"]:
                raise MalformedEnvelope(f"keychain: keys[{i}] does not match its key id")
            chain.add(str(meta["role"]), str(meta["owner"]), pair, str(meta["status"]))
        return chain


def change_passphrase(locked: Mapping[str, Any], old: str, new: str, *, n: int = SCRYPT_N,
                      r: int = SCRYPT_R, p: int = SCRYPT_P) -> dict[str, Any]:
    """Re-lock a keychain under a new passphrase: new salt, current scrypt parameters
    (a natural moment to raise them), the same keys."""
    return Keychain.unlock(locked, old).lock(new, n=n, r=r, p=p)


__all__ = [
    "SCRYPT_N",
    "SCRYPT_P",
    "SCRYPT_R",
    "EncryptionKeyPair",
    "HeldKey",
    "KeyPair",
    "Keychain",
    "SigningKeyPair",
    "change_passphrase",
    "load_ed25519_public",
    "load_x25519_public",
]
