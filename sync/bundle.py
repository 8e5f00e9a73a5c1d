"""Bundle files: signed, encrypted documents carried on a USB stick (design.md §4, "signed,
encrypted bundle files carry changes where there is no network at all").

A bundle is one JSON envelope::

    {"kind": "bangban-bundle", "v": 1, "device": "…", "institution": "…",
     "created_at": "2026-…", "count": 12,
     "payload": {"alg": "A256GCM+gzip", "recipient": "bundle", "key_id": "x25519-…",
                 "wrap": {"alg", "epk", "nonce", "wrapped"}, "ct": "<base64url>"},
     "sig": {"device", "key_id", "alg": "Ed25519", "value"}}

* ``payload.ct`` is the gzip'd JSON list of the documents (``_revisions`` and attachments
  inline), AES-256-GCM sealed under a fresh key (the sealed-attachment format of
  :class:`sync.crypto.CaseKey`, associated data binding the bundle's device and time).
* That key is wrapped for the hub's *bundle key* named in the *verified* directory
  (``directory.bundle``) with the same X25519 + HKDF + AES-GCM wrap as a case keyring
  (:func:`sync.crypto.wrap.wrap_key`), so only the hub opens the payload. The bundle key is an
  online hub key: it opens no case key, since the documents are sealed already (personal data
  in ``sealed``, design.md §5: the hub holds no key that decrypts personal data); the envelope
  hides the cleartext fields in transit too.
* Bundles written before the bundle key existed are sealed for the directory's *escrow* key
  (``recipient: "escrow"``). They still open with the escrow private key, which is held
  offline (§5), so only an operator fetching it opens them; :func:`seal_bundle` never makes
  one (no silent fallback to the key that opens every case).
* The other direction, hub → station (design.md §4 and §5): :func:`seal_for_institution`
  seals for the *institution's* active X25519 key from the verified directory
  (``recipient: "institution"``, ``payload.to`` naming the institution; every laptop of the
  station holds that private key) and the hub signs with its own device key. A station opens
  it with :func:`open_for_institution`, which accepts only the directory's hub device as the
  signer (the directory's signed ``hub`` member, :func:`hub_device`), so a bundle made by any
  other enrolled laptop (a neighbour station, a stolen one) is refused before decryption.
* ``sig`` is the device's Ed25519 signature over ``"bangban/v1/bundle\\n"`` + the canonical
  JSON of everything else (its own domain tag: a bundle signature is never valid for a
  document and the reverse). The signature covers the ciphertext, so altering any byte of the
  file refuses the *whole* bundle before anything is decrypted; the documents inside still
  carry their own signatures, which the hub checks one by one.

Only ``sync.crypto`` primitives are used; no IO beyond the file's bytes.
"""

from __future__ import annotations

import datetime as dt
import gzip
import io
import json
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sync.crypto.directory import Directory, PublicKeyEntry
from sync.crypto.encoding import b64u_decode, b64u_encode, canonical_json
from sync.crypto.errors import BadSignature, MalformedEnvelope, UnknownKey
from sync.crypto.keyring import ESCROW
from sync.crypto.keys import EncryptionKeyPair
from sync.crypto.seal import CaseKey
from sync.crypto.sign import SIG_ALG, DeviceSigner, check_signature
from sync.crypto.wrap import unwrap_key, wrap_key

BUNDLE_KIND = "bangban-bundle"
BUNDLE_VERSION = 1
BUNDLE_DOMAIN = b"bangban/v1/bundle\n"
PAYLOAD_ALG = "A256GCM+gzip"
_KID = "dk-bundle"
_PAYLOAD_NAME = "payload"
#: ``payload.recipient``: the hub's bundle key; the escrow key of bundles made before it;
#: a station's institution key (hub → station).
BUNDLE = "bundle"
INSTITUTION = "institution"
RECIPIENTS = (BUNDLE, ESCROW, INSTITUTION)
#: The hub's own device was ``{city code}-HB`` (hub.admin.HUB_SHORT) by convention only;
#: directories now name it (``hub``), the convention is the fallback for older ones.
HUB_SHORT = "HB"
#: A gzip bomb guard: the decompressed list may be at most this large.
MAX_PLAIN_BYTES = 2 * 1024**3


@dataclass(frozen=True)
class BundleHeader:
    """The checked cleartext fields of a bundle whose signature verified."""

    device: str
    institution: str
    created_at: str
    count: int
    key_id: str
    recipient: str  # BUNDLE, ESCROW or INSTITUTION: which private key opens the payload
    to: str | None = None  # INSTITUTION only: the station's institution code


def _bundle_id(device: str, created_at: str) -> str:
    # The "case" the payload key is bound to: the key opens nothing of any real case.
    return f"bundle:{device}:{created_at}"


def _context(device: str, created_at: str, recipient: str, key_id: str) -> dict[str, str]:
    # The recipient's name is bound into the wrap, so a bundle-key wrap is never taken for
    # an escrow one and the reverse.
    return {"case": _bundle_id(device, created_at), "kid": _KID, "recipient": recipient,
            "recipient_key": key_id}


def _payload_to_sign(envelope: Mapping[str, Any]) -> bytes:
    return BUNDLE_DOMAIN + canonical_json({k: v for k, v in envelope.items() if k != "sig"})


def seal_bundle(docs: Sequence[Mapping[str, Any]], *, signer: DeviceSigner, institution: str,
                directory: Directory, created_at: str | None = None) -> dict[str, Any]:
    """The signed envelope carrying ``docs`` for the hub holding ``directory``'s bundle key.

    :class:`UnknownKey` when the directory has no bundle key (one published before it
    existed): the escrow key is deliberately not used instead.
    """
    if directory.bundle is None:
        raise UnknownKey(f"bundle: directory v{directory.version} has no bundle key (the hub "
                         "must publish one: `bangban hub bundle key`)")
    return _seal(docs, signer=signer, institution=institution, recipient=BUNDLE,
                 entry=directory.bundle, created_at=created_at)


def seal_for_institution(docs: Sequence[Mapping[str, Any]], *, signer: DeviceSigner,
                         institution: str, directory: Directory,
                         created_at: str | None = None, follows: str | None = None
                         ) -> dict[str, Any]:
    """The hub's envelope carrying ``docs`` to the station of ``institution``: sealed for that
    institution's active key in the verified ``directory``, signed by ``signer`` (the hub's
    device). :class:`UnknownKey` when the institution is unknown or has no active key."""
    entry = directory.encryption_key(institution)
    own = directory.devices.get(signer.device_id)
    if own is None:
        raise UnknownKey(f"device {signer.device_id!r} is not in directory v{directory.version}")
    return _seal(docs, signer=signer, institution=own.institution,
                 recipient=INSTITUTION, entry=entry, created_at=created_at, to=institution,
                 follows=follows)


def _seal(docs: Sequence[Mapping[str, Any]], *, signer: DeviceSigner, institution: str,
          recipient: str, entry: PublicKeyEntry, created_at: str | None,
          to: str | None = None, follows: str | None = None) -> dict[str, Any]:
    """The envelope for ``recipient`` (``ESCROW`` only to make pre-bundle-key files in tests)."""
    created = created_at or dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
    key = CaseKey(_bundle_id(signer.device_id, created), {_KID: os.urandom(32)}, _KID)
    plain = gzip.compress(json.dumps(list(docs), ensure_ascii=False,
                                     separators=(",", ":")).encode("utf-8"))
    blob = key.seal_attachment(plain, _bundle_id(signer.device_id, created), _PAYLOAD_NAME)
    wrap = wrap_key(key._raw(_KID), entry.public,
                    _context(signer.device_id, created, recipient, entry.key_id))
    envelope: dict[str, Any] = {
        "kind": BUNDLE_KIND, "v": BUNDLE_VERSION, "device": signer.device_id,
        "institution": institution, "created_at": created, "count": len(docs),
        "payload": {"alg": PAYLOAD_ALG, "recipient": recipient, "key_id": entry.key_id,
                    "wrap": wrap, "ct": b64u_encode(blob)}}
    if to is not None:
        envelope["payload"]["to"] = to  # signed with the rest: never re-addressed
    if follows is not None:
        # A chained file (``hub bundle export --since-last``) carries only what changed since
        # the file made at ``follows``; signed, so a station can insist it imported that one.
        envelope["follows"] = follows
    envelope["sig"] = signer.signature(_payload_to_sign(envelope))
    return envelope


def dumps(envelope: Mapping[str, Any]) -> bytes:
    return json.dumps(envelope, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def loads(data: bytes) -> dict[str, Any]:
    """Parse a bundle file's bytes; :class:`MalformedEnvelope` naming what is wrong."""
    try:
        envelope = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise MalformedEnvelope(f"bundle: not a JSON envelope ({exc})") from exc
    if not isinstance(envelope, dict) or envelope.get("kind") != BUNDLE_KIND:
        raise MalformedEnvelope(f"kind: not a {BUNDLE_KIND} file")
    if envelope.get("v") != BUNDLE_VERSION:
        raise MalformedEnvelope(f"v: unsupported bundle version {envelope.get('v')!r}")
    for name in ("device", "institution", "created_at"):
        if not isinstance(envelope.get(name), str) or not envelope[name]:
            raise MalformedEnvelope(f"{name}: missing or not a string")
    if not isinstance(envelope.get("count"), int):
        raise MalformedEnvelope("count: missing or not an integer")
    if "follows" in envelope and (not isinstance(envelope["follows"], str)
                                  or not envelope["follows"]):
        raise MalformedEnvelope("follows: the created_at of the file this one continues")
    payload = envelope.get("payload")
    if not isinstance(payload, dict) or payload.get("alg") != PAYLOAD_ALG:
        raise MalformedEnvelope(f"payload.alg: expected {PAYLOAD_ALG}")
    for name in ("key_id", "ct"):
        if not isinstance(payload.get(name), str):
            raise MalformedEnvelope(f"payload.{name}: missing or not a string")
    if not isinstance(payload.get("wrap"), dict):
        raise MalformedEnvelope("payload.wrap: missing")
    if payload.get("recipient") not in RECIPIENTS:
        raise MalformedEnvelope(f"payload.recipient: {payload.get('recipient')!r} is not one of "
                                f"{', '.join(RECIPIENTS)}")
    if (payload["recipient"] == INSTITUTION) != isinstance(payload.get("to"), str):
        raise MalformedEnvelope("payload.to: the institution a station bundle is for, and "
                                "only there")
    return envelope


def verify_bundle(envelope: Mapping[str, Any], directory: Directory) -> BundleHeader:
    """Check the device signature against the verified ``directory``.

    :class:`UnknownKey` when the device is not enrolled, is revoked, or is not of the named
    institution; :class:`BadSignature` when the signature is missing, by another device or
    does not verify (any byte of the file altered).
    """
    sig = envelope.get("sig")
    if not isinstance(sig, Mapping) or sig.get("alg") != SIG_ALG:
        raise BadSignature(f"sig: bundle not signed (expected an {SIG_ALG} sig object)")
    device_id = str(envelope.get("device"))
    if sig.get("device") != device_id:
        raise BadSignature(f"sig.device: signed by {sig.get('device')!r}, "
                           f"but the bundle names device {device_id!r}")
    device, key = directory.device_key(device_id, str(sig.get("key_id")))
    if device.institution != envelope.get("institution"):
        raise UnknownKey(f"institution: device {device_id!r} belongs to {device.institution!r}, "
                         f"not {envelope.get('institution')!r}")
    check_signature(key.public, sig.get("value"), _payload_to_sign(envelope), what="bundle sig")
    payload = envelope["payload"]
    to = payload.get("to")
    return BundleHeader(device_id, device.institution, str(envelope["created_at"]),
                        int(envelope["count"]), str(payload["key_id"]),
                        str(payload.get("recipient")), str(to) if to is not None else None)


def recipient(envelope: Mapping[str, Any]) -> str:
    """``BUNDLE``, ``ESCROW`` or ``INSTITUTION``: which private key the checked (:func:`loads`) envelope needs."""
    return str(envelope["payload"]["recipient"])


def open_bundle(envelope: Mapping[str, Any], directory: Directory,
                key: EncryptionKeyPair) -> tuple[BundleHeader, list[dict[str, Any]]]:
    """Verify, then decrypt with ``key``, the private key of the envelope's :func:`recipient`
    (the hub's bundle key, or the escrow key for a file sealed before the bundle key existed):
    ``(header, documents)``.

    :class:`UnknownKey` naming ``payload.key_id`` when the bundle was sealed for another key
    (another hub's, or one since replaced); :class:`DecryptionFailed` if it does not open.
    """
    header = verify_bundle(envelope, directory)
    if header.recipient == INSTITUTION:
        raise UnknownKey(f"payload.recipient: a bundle for the station of {header.to}, not for "
                         "a hub (import it there with `bangban node bundle import`)")
    if header.key_id != key.key_id:
        raise UnknownKey(f"payload.key_id: sealed for {header.recipient} key {header.key_id}, "
                         f"this hub's {header.recipient} key is {key.key_id} "
                         "(a bundle for another hub?)")
    return header, _decrypt(envelope, header, key)


def hub_device(directory: Directory) -> str:
    """The hub's own device id in the verified ``directory``: its ``hub`` member, which the
    root (or delegated) signature covers and :func:`sync.crypto.verify_directory` has checked
    names a listed device of a city-tier institution (design.md §5: trust comes from the
    signed directory, not from names).

    Fallback, only for directories published before the ``hub`` member existed: ``{city}-HB``
    of its one city-tier institution, by naming convention. :class:`UnknownKey` if such an old
    directory lists no such device.
    """
    if directory.hub is not None:
        return directory.hub
    found = [f"{code}-{HUB_SHORT}" for code, inst in directory.institutions.items()
             if inst.tier == "city"]
    found = [d for d in found if d in directory.devices
             and directory.devices[d].institution == d.rsplit("-", 1)[0]]
    if len(found) != 1:
        raise UnknownKey(f"directory v{directory.version}: no hub member and no single hub "
                         f"device (city institution's {HUB_SHORT} device) in it")
    return found[0]


def open_for_institution(envelope: Mapping[str, Any], directory: Directory, institution: str,
                         keys: Sequence[EncryptionKeyPair]
                         ) -> tuple[BundleHeader, list[dict[str, Any]]]:
    """A station opening a hub-made bundle: the signature first (by the directory's hub
    device only, :func:`hub_device`), then the address (``institution`` and one of ``keys``,
    the station's institution keys, retired ones included), then the payload.

    :class:`BadSignature` / :class:`UnknownKey` for a bundle not signed by the hub, or one for
    another institution or an institution key this laptop does not hold (naming the key id).
    """
    header = verify_bundle(envelope, directory)
    hub = hub_device(directory)
    if header.device != hub:
        raise BadSignature(f"sig.device: signed by {header.device!r}, not by the hub's device "
                           f"{hub!r}: a station accepts bundles made by the hub only")
    if header.recipient != INSTITUTION:
        raise UnknownKey(f"payload.recipient: sealed for the hub's {header.recipient} key, "
                         "not for a station (import it at the hub)")
    if header.to != institution:
        raise UnknownKey(f"payload.to: a bundle for institution {header.to} (key "
                         f"{header.key_id}), this station is {institution}")
    key = next((k for k in keys if k.key_id == header.key_id), None)
    if key is None:
        raise UnknownKey(f"payload.key_id: sealed for institution key {header.key_id}, which "
                         f"this laptop does not hold (it holds {', '.join(k.key_id for k in keys)})")
    return header, _decrypt(envelope, header, key)


def _decrypt(envelope: Mapping[str, Any], header: BundleHeader, key: EncryptionKeyPair
             ) -> list[dict[str, Any]]:
    """The documents of a *verified* envelope (its header), with the recipient's ``key``."""
    payload = envelope["payload"]
    raw = unwrap_key(payload["wrap"], key,
                     _context(header.device, header.created_at, header.recipient, header.key_id))
    bundle_id = _bundle_id(header.device, header.created_at)
    data_key = CaseKey(bundle_id, {_KID: raw}, _KID)
    blob = b64u_decode(payload["ct"], field="payload.ct")
    plain = data_key._open_attachment(blob, bundle_id, _PAYLOAD_NAME)
    try:
        with gzip.GzipFile(fileobj=io.BytesIO(plain)) as gz:
            text = gz.read(MAX_PLAIN_BYTES + 1)
    except (OSError, EOFError) as exc:
        raise MalformedEnvelope(f"payload.ct: not gzip ({exc})") from exc
    if len(text) > MAX_PLAIN_BYTES:
        raise MalformedEnvelope("payload.ct: decompresses beyond the size limit")
    try:
        docs = json.loads(text.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise MalformedEnvelope(f"payload: not a JSON list ({exc})") from exc
    if not isinstance(docs, list) or not all(
            isinstance(d, dict) and isinstance(d.get("_id"), str) and isinstance(d.get("_rev"), str)
            for d in docs):
        raise MalformedEnvelope("payload: must be a list of documents with _id and _rev")
    if len(docs) != header.count:
        raise MalformedEnvelope(f"count: says {header.count}, payload holds {len(docs)}")
    return docs


__all__ = ["BUNDLE", "BUNDLE_DOMAIN", "BUNDLE_KIND", "ESCROW", "INSTITUTION", "RECIPIENTS",
           "BundleHeader", "dumps", "hub_device", "loads", "open_bundle", "open_for_institution",
           "recipient", "seal_bundle", "seal_for_institution", "verify_bundle"]
