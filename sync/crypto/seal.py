"""Sealing a document's ``private`` part and its attachments with the case data key.

docs/CONVENTIONS.md: personal data lives in a nested ``private`` object while a
document is open in memory; a stored document carries ``sealed`` instead. The
sealed envelope is JSON (unpadded base64url fields)::

    "sealed": {"v": 1, "alg": "A256GCM", "kid": "dk-…", "nonce": "…", "ct": "…"}

``ct`` is AES-256-GCM over the canonical JSON of ``private``; the associated data
binds the envelope to its document (``_id``, ``type``, ``event_type``,
``schema_version``), its case and its key id, so an envelope cut from one
document and pasted into another (or into another case, or relabelled to another
schema version) does not open (design §5; standard 7.2.2.2, 7.3.2.4).

Attachments (scans, signature images) are bytes in, bytes out:
``b"BBA1" | len(kid) | kid | nonce(12) | ciphertext+tag``, with associated data
binding case, key id, document id and attachment name.

Opening is deliberately not public here: personal data is released only through
:func:`sync.crypto.access.open_private`, which records an access event first.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from sync.crypto.encoding import b64u_decode, b64u_encode, canonical_json
from sync.crypto.errors import CryptoError, DecryptionFailed, MalformedEnvelope, UnknownKey

SEAL_VERSION = 1
SEAL_ALG = "A256GCM"
#: The document fields bound into the associated data of its envelope.
BOUND_FIELDS = ("_id", "type", "event_type", "schema_version")
_ATT_MAGIC = b"BBA1"


def _json_loads(data: bytes) -> Any:
    try:
        return json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise MalformedEnvelope("sealed: plaintext is not JSON") from exc


class CaseKey:
    """The unwrapped data keys of one case (all generations; the last seals).

    Made by :func:`sync.crypto.keyring.unlock_case_key` or
    :func:`sync.crypto.keyring.new_keyring`; never stored.
    """

    def __init__(self, case_id: str, keys: Mapping[str, bytes], current: str):
        if current not in keys:
            raise UnknownKey(f"current data key {current} not among the case's keys")
        self.case_id = case_id
        self._keys = dict(keys)
        self.current = current

    def __repr__(self) -> str:
        return f"CaseKey({self.case_id!r}, current={self.current!r}, generations={len(self._keys)})"

    @property
    def key_ids(self) -> list[str]:
        return list(self._keys)

    def _key(self, kid: object) -> AESGCM:
        if not isinstance(kid, str) or kid not in self._keys:
            raise UnknownKey(f"data key {kid!r} is not a key of case {self.case_id}")
        return AESGCM(self._keys[kid])

    def _raw(self, kid: str) -> bytes:
        return self._keys[kid]

    # -- documents ----------------------------------------------------------
    def _aad(self, doc: Mapping[str, Any], kid: str) -> bytes:
        bound = {name: doc.get(name) for name in BOUND_FIELDS}
        if not isinstance(bound["_id"], str) or not bound["_id"]:
            raise CryptoError("_id: a document needs its id before it is sealed", status=400,
                              error="bad_request")
        return canonical_json({"v": SEAL_VERSION, "alg": SEAL_ALG, "case": self.case_id,
                               "kid": kid, **bound})

    def seal(self, doc: Mapping[str, Any]) -> dict[str, Any]:
        """A copy of ``doc`` with ``private`` replaced by ``sealed`` (a doc without
        ``private`` is returned unchanged)."""
        out = dict(doc)
        if "private" not in out:
            return out
        private = out.pop("private")
        if not isinstance(private, Mapping):
            raise CryptoError("private: must be an object", status=400, error="bad_request")
        try:
            plain = canonical_json(private)
        except (TypeError, ValueError) as exc:
            raise CryptoError(f"private: not JSON ({exc})", status=400, error="bad_request") from exc
        nonce = os.urandom(12)
        ct = self._key(self.current).encrypt(nonce, plain, self._aad(doc, self.current))
        out["sealed"] = {"v": SEAL_VERSION, "alg": SEAL_ALG, "kid": self.current,
                         "nonce": b64u_encode(nonce), "ct": b64u_encode(ct)}
        return out

    def _open(self, doc: Mapping[str, Any]) -> dict[str, Any]:
        """The ``private`` object of a sealed ``doc`` (internal: use ``access.open_private``)."""
        env = doc.get("sealed")
        if not isinstance(env, Mapping):
            raise MalformedEnvelope(f"sealed: document {doc.get('_id')!r} has no sealed envelope")
        if env.get("v") != SEAL_VERSION or env.get("alg") != SEAL_ALG:
            raise MalformedEnvelope(f"sealed: unsupported version/alg {env.get('v')!r}/{env.get('alg')!r}")
        kid = env.get("kid")
        aead = self._key(kid)
        nonce = b64u_decode(env.get("nonce"), field="sealed.nonce")
        ct = b64u_decode(env.get("ct"), field="sealed.ct")
        if len(nonce) != 12 or len(ct) < 16:
            raise MalformedEnvelope("sealed: nonce or ciphertext truncated")
        try:
            plain = aead.decrypt(nonce, ct, self._aad(doc, str(kid)))
        except InvalidTag as exc:
            raise DecryptionFailed(
                f"sealed part of {doc.get('_id')!r} does not open: altered, truncated, or bound "
                "to another document") from exc
        value = _json_loads(plain)
        if not isinstance(value, dict):
            raise MalformedEnvelope("sealed: plaintext is not an object")
        return value

    # -- attachments ----------------------------------------------------------
    def _att_aad(self, kid: str, doc_id: str, name: str) -> bytes:
        return canonical_json({"v": SEAL_VERSION, "alg": SEAL_ALG, "case": self.case_id,
                               "kid": kid, "doc": doc_id, "name": name})

    def seal_attachment(self, data: bytes, doc_id: str, name: str) -> bytes:
        """Encrypt attachment bytes for document ``doc_id`` under attachment ``name``."""
        kid = self.current.encode("ascii")
        nonce = os.urandom(12)
        ct = self._key(self.current).encrypt(nonce, bytes(data), self._att_aad(self.current, doc_id, name))
        return _ATT_MAGIC + bytes([len(kid)]) + kid + nonce + ct

    def _open_attachment(self, blob: bytes, doc_id: str, name: str) -> bytes:
        if len(blob) < 5 or blob[:4] != _ATT_MAGIC:
            raise MalformedEnvelope(f"attachment {name!r}: not a sealed attachment (or truncated)")
        klen = blob[4]
        header = 5 + klen + 12
        if len(blob) < header + 16:
            raise MalformedEnvelope(f"attachment {name!r}: truncated")
        try:
            kid = blob[5:5 + klen].decode("ascii")
        except UnicodeDecodeError as exc:
            raise MalformedEnvelope(f"attachment {name!r}: bad key id") from exc
        aead = self._key(kid)
        try:
            return aead.decrypt(blob[5 + klen:header], blob[header:], self._att_aad(kid, doc_id, name))
        except InvalidTag as exc:
            raise DecryptionFailed(
                f"attachment {name!r} of {doc_id!r} does not open: altered, truncated, or bound "
                "to another document") from exc


def is_sealed(doc: Mapping[str, Any]) -> bool:
    """True when ``doc`` carries a sealed envelope and no plaintext ``private``."""
    return "private" not in doc and isinstance(doc.get("sealed"), Mapping)


__all__ = ["BOUND_FIELDS", "SEAL_ALG", "SEAL_VERSION", "CaseKey", "is_sealed"]
