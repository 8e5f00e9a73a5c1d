"""Document signatures: every event is signed by the device that wrote it (design §5).

The signature lives in a top-level ``sig`` object::

    "sig": {"device": "410621100201-A3", "key_id": "ed25519-…", "alg": "Ed25519", "value": "…"}

and covers the *canonical* JSON of the document (sorted keys, no whitespace,
UTF-8) without what storage and replication add or rewrite: ``_rev``,
``_revisions``, every other ``_``-prefixed meta field except ``_id``, ``_deleted``
(so a tombstone forged over a signed event does not verify) and ``_attachments`` (``_conflicts``, ``_deleted_conflicts``, ``_revs_info``,
``_local_seq``), ``sig`` itself, and of each attachment everything but its
``content_type`` and ``digest`` (``revpos``, ``stub``, ``length``, ``data``,
``encoding`` change between the inline and the stub form; the digest is the
CouchDB ``md5-`` digest, computed from ``data`` when the attachment is inline).
Attachments of case documents are AES-GCM sealed, so the digest only has to
name the bytes, not resist forgery of them.

:func:`verify_document` is the one verification function used by the hub (on
every write, hub.signatures) and by nodes on every document the hub sends them,
by a pull (node.pull's verifying target) or in a bundle file (node.bundle_import),
both through node.verify (design.md §5). A node checks against the hub's
directory verified under its pinned root keys, with ``allow_revoked=True``;
tombstones and keyrings carry no document signature and pass (each keyring wrap
is signed on its own and checked where it is used).
"""

from __future__ import annotations

import base64
import binascii
import functools
import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from nacl.exceptions import CryptoError as SodiumError
from nacl.signing import VerifyKey

from sync.crypto.encoding import b64u_decode, b64u_encode, canonical_json
from sync.crypto.errors import BadSignature, MalformedEnvelope
from sync.crypto.keys import SigningKeyPair, load_ed25519_public

if TYPE_CHECKING:
    from sync.crypto.directory import Directory

SIG_ALG = "Ed25519"
DOC_DOMAIN = b"bangban/v1/document\n"
_KEPT_META = ("_id", "_attachments", "_deleted")


def _attachment_digest(att: Mapping[str, Any]) -> str | None:
    if isinstance(att.get("digest"), str):
        return str(att["digest"])
    data = att.get("data")
    if isinstance(data, str):
        try:
            raw = base64.b64decode(data, validate=True)
        except (binascii.Error, ValueError) as exc:
            raise BadSignature("_attachments: inline data is not base64", status=400) from exc
    elif isinstance(data, bytes | bytearray):
        raw = bytes(data)
    else:
        return None
    # md5 is what CouchDB names attachments by; the bytes themselves are AEAD-sealed.
    return "md5-" + base64.b64encode(hashlib.md5(raw, usedforsecurity=False).digest()).decode()


def attachment_digest(att: Mapping[str, Any]) -> str | None:
    """The digest a signature covers for an attachment: its stated ``digest``, else
    CouchDB's ``md5-…`` of its inline ``data`` (a checker compares the two)."""
    return _attachment_digest(att)


def signed_view(doc: Mapping[str, Any]) -> dict[str, Any]:
    """The part of ``doc`` a signature covers (see the module docstring)."""
    view = {k: v for k, v in doc.items() if k != "sig" and (not k.startswith("_") or k in _KEPT_META)}
    atts = view.pop("_attachments", None)
    if atts:
        view["_attachments"] = {
            name: {"content_type": att.get("content_type"), "digest": _attachment_digest(att)}
            for name, att in atts.items()
        }
    return view


def signing_payload(doc: Mapping[str, Any], domain: bytes = DOC_DOMAIN) -> bytes:
    """The exact bytes that are signed: a domain tag, then the canonical JSON."""
    return domain + canonical_json(signed_view(doc))


@dataclass(frozen=True)
class DeviceSigner:
    """A device's id and its unlocked Ed25519 key."""

    device_id: str
    key: SigningKeyPair

    def signature(self, payload: bytes) -> dict[str, str]:
        return {"device": self.device_id, "key_id": self.key.key_id, "alg": SIG_ALG,
                "value": b64u_encode(self.key.sign(payload))}


def sign_document(doc: Mapping[str, Any], signer: DeviceSigner) -> dict[str, Any]:
    """A copy of ``doc`` with a fresh ``sig``. Sign the *sealed* form: no ``private``."""
    if "private" in doc:
        raise BadSignature("private: seal the document before signing it", status=400)
    out = {k: v for k, v in doc.items() if k != "sig"}
    try:
        payload = signing_payload(out)
    except (TypeError, ValueError) as exc:
        raise BadSignature(f"document {doc.get('_id')!r} is not JSON ({exc})", status=400) from exc
    out["sig"] = signer.signature(payload)
    return out


@dataclass(frozen=True)
class Signer:
    """Who signed a verified document."""

    device_id: str
    institution: str
    key_id: str


@functools.lru_cache(maxsize=4096)
def _public_key(public: str | bytes) -> VerifyKey:
    """The verifying key of ``public`` (immutable; cached by its text, so a hub verifying
    thousands of documents parses each device key once).

    Verification runs in libsodium (PyNaCl), signing stays with ``cryptography``:
    Ed25519 signatures are deterministic (RFC 8032), so both make and accept the same
    bytes. libsodium verifies in 105 us against OpenSSL's 177 us on the hub's CPU and
    releases the GIL while doing it (docs/benchmarks.md, hub), and it is the stricter of
    the two (it also refuses small-order keys and R values), so nothing the hub accepts
    is refused by a node. The key is parsed by ``cryptography`` first so a malformed one
    gets the same error as everywhere else.
    """
    return VerifyKey(load_ed25519_public(public).public_bytes_raw())


def check_signature(public: str | bytes, value: object, payload: bytes, *, what: str) -> None:
    """Verify one Ed25519 ``value`` (base64url) over ``payload``; :class:`BadSignature` otherwise."""
    try:
        raw = b64u_decode(value, field=f"{what}.value")
    except MalformedEnvelope as exc:
        raise BadSignature(f"{what}: signature is not base64url") from exc
    try:
        key = _public_key(public)
    except TypeError:  # unhashable: not a key text; let the loader name the problem
        key = VerifyKey(load_ed25519_public(public).public_bytes_raw())
    try:
        key.verify(payload, raw)
    except SodiumError as exc:  # BadSignatureError, or a signature of the wrong length
        raise BadSignature(f"{what}: signature does not verify (altered or signed by another key)") from exc


def verify_document(doc: Mapping[str, Any], directory: Directory, *,
                    allow_revoked: bool = False) -> Signer:
    """Check ``doc``'s ``sig`` against the device key in the verified ``directory``.

    Raises :class:`BadSignature` (missing, malformed, altered, re-signed by a key that
    is not the named device's) or :class:`UnknownKey` (device or key not in the
    directory, or revoked unless ``allow_revoked``). Returns the signer so callers can
    check scope (the signer's institution may write this document).
    """
    what = f"document {doc.get('_id')!r}"
    sig = doc.get("sig")
    if not isinstance(sig, Mapping):
        raise BadSignature(f"{what}: not signed (no sig object)")
    if sig.get("alg") != SIG_ALG:
        raise BadSignature(f"{what}: sig.alg must be {SIG_ALG}, got {sig.get('alg')!r}")
    device, key = directory.device_key(str(sig.get("device")), str(sig.get("key_id")),
                                       allow_revoked=allow_revoked)
    check_signature(key.public, sig.get("value"), signing_payload(doc), what=what)
    return Signer(device.device_id, device.institution, key.key_id)


def recorder_mismatch(doc: Mapping[str, Any], signer: Signer) -> str | None:
    """Why an event's recorder is not its signer, or None. An event names its recorder
    (``device``; its hlc and institution follow it), which the work log (7.3.2), the case
    page and oversight show. Signed by another device, a station recorded events as another
    station or as the hub (a 10.2.5.2 termination, a complaint intake), and a compromised
    hub, with its own key, put words in a station laptop's mouth. The hub's write check and
    the node's pull check both ask this (design.md §5)."""
    if doc.get("type") == "event" and doc.get("device") != signer.device_id:
        return (f"device: the event names {doc.get('device')} as its recorder but is signed "
                f"by {signer.device_id}; an event is recorded by the device that signs it")
    return None


__all__ = ["DeviceSigner", "Signer", "recorder_mismatch", "sign_document", "signed_view",
           "signing_payload", "verify_document"]
