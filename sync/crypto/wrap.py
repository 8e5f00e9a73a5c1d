"""Wrapping a case data key for one recipient: X25519 ECDH + HKDF-SHA256 + AES-256-GCM.

The sender makes a fresh (ephemeral) X25519 key pair per wrap, so wrapping needs
only the recipient's *public* key from the signed directory, and the hub, which
holds no institution private key, can never unwrap (design §5). The key-encryption
key is ``HKDF-SHA256(ECDH(eph, recipient), salt = eph_pub || recipient_pub,
info = "bangban/v1/key-wrap")``; the data key is AES-256-GCM encrypted under it
with associated data binding the case, the data key id and the recipient, so a
wrap cannot be moved to another case or recipient entry. (The same construction as
HPKE's base mode with DHKEM(X25519, HKDF-SHA256) and AES-256-GCM, RFC 9180, built
from ``cryptography`` primitives because that library has no HPKE API here.)
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from sync.crypto.encoding import b64u_decode, b64u_encode, canonical_json
from sync.crypto.errors import DecryptionFailed, MalformedEnvelope
from sync.crypto.keys import EncryptionKeyPair, load_x25519_public

WRAP_ALG = "X25519-HKDF-SHA256-A256GCM"
_INFO = b"bangban/v1/key-wrap"


def _kek(shared: bytes, epk: bytes, recipient_pub: bytes) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=epk + recipient_pub, info=_INFO).derive(shared)


def wrap_key(data_key: bytes, recipient: X25519PublicKey | str | bytes,
             context: Mapping[str, Any]) -> dict[str, str]:
    """Wrap ``data_key`` for ``recipient``; ``context`` becomes the associated data.

    Returns the JSON fields ``alg``, ``epk``, ``nonce``, ``wrapped``.
    """
    if not isinstance(recipient, X25519PublicKey):
        recipient = load_x25519_public(recipient)
    eph = X25519PrivateKey.generate()
    epk = eph.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
    recipient_pub = recipient.public_bytes(Encoding.Raw, PublicFormat.Raw)
    kek = _kek(eph.exchange(recipient), epk, recipient_pub)
    nonce = os.urandom(12)
    wrapped = AESGCM(kek).encrypt(nonce, data_key, canonical_json(dict(context)))
    return {"alg": WRAP_ALG, "epk": b64u_encode(epk), "nonce": b64u_encode(nonce),
            "wrapped": b64u_encode(wrapped)}


def unwrap_key(entry: Mapping[str, Any], recipient: EncryptionKeyPair,
               context: Mapping[str, Any]) -> bytes:
    """The data key wrapped in ``entry``; :class:`DecryptionFailed` for a wrong key,
    altered fields or a context that does not match."""
    if entry.get("alg") != WRAP_ALG:
        raise MalformedEnvelope(f"alg: expected {WRAP_ALG}, got {entry.get('alg')!r}")
    epk = b64u_decode(entry.get("epk"), field="epk")
    nonce = b64u_decode(entry.get("nonce"), field="nonce")
    wrapped = b64u_decode(entry.get("wrapped"), field="wrapped")
    if len(nonce) != 12 or len(wrapped) != 32 + 16:
        raise MalformedEnvelope("wrapped key: wrong nonce or key length (truncated?)")
    try:
        shared = recipient.exchange(load_x25519_public(epk, field="epk"))
    except ValueError as exc:  # a low-order point: no shared secret
        raise MalformedEnvelope("epk: unusable ephemeral key") from exc
    try:
        return AESGCM(_kek(shared, epk, recipient.public_bytes)).decrypt(
            nonce, wrapped, canonical_json(dict(context)))
    except InvalidTag as exc:
        raise DecryptionFailed(
            f"wrapped key for {context.get('recipient_key')} does not open with key {recipient.key_id}"
        ) from exc


__all__ = ["WRAP_ALG", "unwrap_key", "wrap_key"]
