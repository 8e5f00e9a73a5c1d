"""The key directory: institutions, devices and public keys, signed by the municipal root.

Design §5: nodes trust a public key only when it comes from a directory whose
signature verifies under the municipal root key they were enrolled with (pinned,
never fetched). The hub distributes the directory as one reference document::

    {"_id": "directory", "type": "directory", "schema_version": 1, "version": 7,
     "issued_at": "2026-11-26T03:00:00Z",
     "institutions": [{"code", "tier", "parent", "name", "public_keys": [KEY, …]}],
     "devices": [{"device_id", "institution", "public_keys": [KEY, …], "revoked_at"?}],
     "escrow": KEY,
     "bundle"?: KEY,
     "hub"?: DEVICE_ID,
     "delegation"?: DELEGATION,
     "sig": {"key_id", "alg": "Ed25519", "value"}}

where ``KEY`` is the ``PublicKey`` shape of the ``institution`` and ``device``
documents (schemas/reference.py): ``{"kid", "alg": "x25519"|"ed25519", "key",
"created_at"?, "revoked_at"?}``, so :func:`build_directory` can be fed those
documents as they are. A key with ``revoked_at`` is not active: nothing new is
wrapped to a retired institution key, and a revoked device key's signatures are
refused. ``version`` only grows; a node refuses a directory older than the one it
holds. Each ``kid`` must be the fingerprint of its ``key``. ``sig`` is the root's, or
(root offline, design.md §5) the key named by ``delegation``, a root-signed
:mod:`sync.crypto.delegation` carried inside the signed payload.

``bundle`` is the hub's X25519 *bundle key*: bundle files (:mod:`sync.bundle`, design.md §4)
are sealed for it, so importing one needs no escrow key online (design.md §5: the escrow key
is held offline). It is optional: directories published before it existed verify unchanged,
and like every member it is covered by ``sig``. It must not be the escrow key.

``hub`` is the hub's own device id: the one signer a station accepts a hub-made bundle file
from (:func:`sync.bundle.hub_device`, design.md §4, §5). Naming it in the signed directory
makes that trust explicit instead of resting on the ``{city}-HB`` naming convention. It is
optional (directories published before it existed verify unchanged) and, when present, must
name a device listed in the directory under a city-tier institution.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from sync.crypto.delegation import Delegation, parse_time, verify_delegation
from sync.crypto.delegation import trusted_roots as _trusted_roots
from sync.crypto.encoding import b64u_decode, b64u_encode, fingerprint
from sync.crypto.errors import BadSignature, MalformedEnvelope, UnknownKey
from sync.crypto.keys import ED25519_PREFIX, X25519_PREFIX, KeyPair, SigningKeyPair
from sync.crypto.sign import SIG_ALG, check_signature, signing_payload

DIRECTORY_ID = "directory"
DIRECTORY_DOMAIN = b"bangban/v1/directory\n"
_PREFIX = {"x25519": X25519_PREFIX, "ed25519": ED25519_PREFIX}


@dataclass(frozen=True)
class PublicKeyEntry:
    key_id: str
    alg: str  # "x25519" | "ed25519"
    public: str
    created_at: str | None = None
    revoked_at: str | None = None

    @property
    def active(self) -> bool:
        return not self.revoked_at

    def as_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"kid": self.key_id, "alg": self.alg, "key": self.public}
        if self.created_at:
            out["created_at"] = self.created_at
        if self.revoked_at:
            out["revoked_at"] = self.revoked_at
        return out


@dataclass(frozen=True)
class InstitutionEntry:
    code: str
    tier: str
    parent: str | None
    name: str
    keys: tuple[PublicKeyEntry, ...]


@dataclass(frozen=True)
class DeviceEntry:
    device_id: str
    institution: str
    keys: tuple[PublicKeyEntry, ...]
    revoked_at: str | None = None


def key_entry(pair: KeyPair, *, created_at: str | None = None,
              revoked_at: str | None = None) -> dict[str, Any]:
    """The ``PublicKey`` JSON (as in institution and device documents) of ``pair``'s public half."""
    return PublicKeyEntry(pair.key_id, pair.alg.lower(), pair.public_b64, created_at,
                          revoked_at).as_json()


def _parse_key(raw: Any, where: str, alg: str) -> PublicKeyEntry:
    if not isinstance(raw, Mapping):
        raise MalformedEnvelope(f"{where}: key entry must be an object")
    entry = PublicKeyEntry(str(raw.get("kid")), str(raw.get("alg")), str(raw.get("key")),
                           raw.get("created_at"), raw.get("revoked_at"))
    if entry.alg != alg:
        raise MalformedEnvelope(f"{where}: alg must be {alg}, got {entry.alg!r}")
    if fingerprint(b64u_decode(entry.public, field=f"{where}.key"), _PREFIX[alg]) != entry.key_id:
        raise MalformedEnvelope(f"{where}: kid {entry.key_id!r} is not the fingerprint of its key")
    return entry


def check_public_key(raw: Any, where: str, alg: str) -> None:
    """Refuse a key entry no directory may carry: the checks every station makes when it
    verifies a directory (:func:`_parse_key`), plus the 32 bytes of an Ed25519 or X25519
    public key. The hub calls it before it publishes a key it was handed, since one bad
    entry fails the whole directory for every device."""
    entry = _parse_key(raw, where, alg)
    if len(b64u_decode(entry.public, field=f"{where}.key")) != 32:
        raise MalformedEnvelope(f"{where}.key: an {alg} public key is 32 bytes")


def _entry(raw: Mapping[str, Any], fields: tuple[str, ...]) -> dict[str, Any]:
    out = {k: raw[k] for k in fields if raw.get(k) is not None}
    out["public_keys"] = [dict(k) for k in raw.get("public_keys", ())]
    return out


@dataclass(frozen=True)
class Directory:
    """A *verified* directory. Make it with :func:`verify_directory` only."""

    version: int
    issued_at: str
    institutions: dict[str, InstitutionEntry]
    devices: dict[str, DeviceEntry]
    escrow: PublicKeyEntry
    root_key_id: str  # the trusted root it chains to (directly or through the delegation)
    doc: dict[str, Any] = field(repr=False)
    delegation: Delegation | None = None  # set when signed by a delegated online key
    bundle: PublicKeyEntry | None = None  # the hub's bundle key (absent in older directories)
    hub: str | None = None  # the hub's own device id (absent in older directories)

    def institution(self, code: str) -> InstitutionEntry:
        try:
            return self.institutions[code]
        except KeyError:
            raise UnknownKey(f"institution {code!r} is not in directory v{self.version}") from None

    def encryption_key(self, code: str) -> PublicKeyEntry:
        """The institution's active X25519 key (the newest active one)."""
        active = [k for k in self.institution(code).keys if k.active]
        if not active:
            raise UnknownKey(f"institution {code!r} has no active key in directory v{self.version}")
        return active[-1]

    def is_active_key(self, code: str, key_id: str) -> bool:
        if code == "escrow":
            return key_id == self.escrow.key_id
        inst = self.institutions.get(code)
        return inst is not None and any(k.key_id == key_id and k.active for k in inst.keys)

    def device_key(self, device_id: str, key_id: str, *,
                   allow_revoked: bool = False) -> tuple[DeviceEntry, PublicKeyEntry]:
        """The device and its Ed25519 key ``key_id``; :class:`UnknownKey` if unknown or revoked."""
        device = self.devices.get(device_id)
        if device is None:
            raise UnknownKey(f"device {device_id!r} is not in directory v{self.version}")
        key = next((k for k in device.keys if k.key_id == key_id), None)
        if key is None:
            raise UnknownKey(f"key {key_id!r} is not a key of device {device_id!r}")
        if (device.revoked_at or not key.active) and not allow_revoked:
            raise UnknownKey(f"device {device_id!r} (key {key_id!r}) is revoked")
        return device, key


def build_directory(*, version: int, institutions: Iterable[Mapping[str, Any]],
                    devices: Iterable[Mapping[str, Any]], escrow: Mapping[str, Any],
                    issued_at: str | None = None,
                    bundle: Mapping[str, Any] | None = None,
                    hub: str | None = None) -> dict[str, Any]:
    """An unsigned directory document (sign it with :func:`sign_directory`).

    ``institutions`` and ``devices`` may be the ``institution`` and ``device`` reference
    documents themselves; only the members the directory needs are copied. ``bundle`` is the
    hub's bundle key entry, left out when ``None`` (a hub that has none yet). ``hub`` is the
    hub's own device id (left out when ``None``); it must be one of ``devices``, under a
    city-tier institution, or :func:`verify_directory` refuses the directory.
    """
    if not isinstance(version, int) or version < 1:
        raise MalformedEnvelope("version: must be a positive integer")
    stamp = issued_at or dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    doc: dict[str, Any] = {
        "_id": DIRECTORY_ID, "type": "directory", "schema_version": 1, "version": version,
        "issued_at": stamp,
        "institutions": [_entry(i, ("code", "tier", "parent", "name")) for i in institutions],
        "devices": [_entry(d, ("device_id", "institution", "revoked_at")) for d in devices],
        "escrow": dict(escrow)}
    if bundle is not None:
        doc["bundle"] = dict(bundle)
    if hub is not None:
        doc["hub"] = hub
    return doc


def sign_directory(doc: Mapping[str, Any], key: SigningKeyPair,
                   delegation: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """A copy of ``doc`` signed by ``key``: the municipal root itself, or (design.md §5,
    root offline) the online key a root-signed ``delegation`` names. The delegation is
    put in the field ``delegation`` *before* signing, so it is part of the signed payload
    and cannot be swapped or stripped without breaking the signature."""
    out = {k: v for k, v in doc.items() if k not in ("sig", "delegation")}
    if delegation is not None:
        if delegation.get("key_id") != key.key_id:
            raise MalformedEnvelope(f"delegation.key_id: {delegation.get('key_id')!r} does not "
                                    f"name the signing key {key.key_id!r}")
        out["delegation"] = dict(delegation)
    out["sig"] = {"key_id": key.key_id, "alg": SIG_ALG,
                  "value": b64u_encode(key.sign(signing_payload(out, DIRECTORY_DOMAIN)))}
    return out


def _signer_key(doc: Mapping[str, Any], sig: Mapping[str, Any],
                by_id: Mapping[str, bytes]) -> tuple[bytes, str, Delegation | None]:
    """The public key that must have signed ``doc``, the root it chains to, the delegation.

    (a) ``sig.key_id`` is a trusted root: that root (today's behaviour). (b) Otherwise the
    directory must carry a delegation that verifies under a trusted root, names
    ``sig.key_id`` and had not expired when the directory was issued (design.md §5).
    """
    key_id = str(sig.get("key_id"))
    if key_id in by_id:
        return by_id[key_id], key_id, None
    raw = doc.get("delegation")
    if raw is None:
        raise BadSignature(f"directory: signed by {sig.get('key_id')!r}, not a trusted root key, "
                           "and it carries no delegation from one")
    issued = parse_time(doc.get("issued_at"), field="directory.issued_at")
    deleg = verify_delegation(raw, list(by_id.values()), at=issued, what="directory.delegation",
                              at_name="the directory's issued_at")
    if deleg.key_id != key_id:
        raise BadSignature(f"directory.sig.key_id: {key_id!r} is not the key the delegation "
                           f"names (directory.delegation.key_id {deleg.key_id!r})")
    return b64u_decode(deleg.public, field="directory.delegation.key"), deleg.root_key_id, deleg


def verify_directory(doc: Mapping[str, Any], trusted_roots: Sequence[str | bytes] | str | bytes, *,
                     min_version: int = 0, now: dt.datetime | None = None) -> Directory:
    """Verify ``doc`` under one of the pinned root public keys and parse it.

    The signature is a trusted root's, or that of the online key named by the
    root-signed delegation the directory carries (:mod:`sync.crypto.delegation`).
    Raises :class:`BadSignature` (unsigned, altered, signed by an untrusted key, a
    delegation that does not verify, names another key or had expired when the
    directory was issued, or a rollback below ``min_version``) or
    :class:`MalformedEnvelope` (bad shape, a key id that is not the fingerprint of its key).

    ``now``: a directory *arriving* (not one already held) must also carry a delegation
    that has not expired by then. Its ``issued_at`` is the delegated key's own word, so
    without this a taken online key signed directories forever, each dated before the
    delegation's end: the expiry, the limit of the scheme, limited nothing.
    """
    by_id = _trusted_roots(trusted_roots)
    sig = doc.get("sig")
    if not isinstance(sig, Mapping) or sig.get("alg") != SIG_ALG:
        raise BadSignature("directory: not signed by an Ed25519 root key")
    signer_pub, root_key_id, deleg = _signer_key(doc, sig, by_id)
    if deleg is not None and now is not None and deleg.expired(now):
        stamp = now.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        raise BadSignature(f"directory.delegation.not_after: {deleg.doc.get('not_after')} has "
                           f"passed ({stamp}): a directory signed by a delegated key is "
                           "accepted only while its delegation lasts, whatever date it says "
                           "it was issued; renew the delegation with the root key")
    check_signature(signer_pub, sig.get("value"), signing_payload(doc, DIRECTORY_DOMAIN),
                    what="directory")
    version = doc.get("version")
    if not isinstance(version, int) or version < min_version:
        raise BadSignature(f"directory: version {version!r} is older than the trusted v{min_version} "
                           "(rollback refused)")
    try:
        institutions = {}
        for i, raw_inst in enumerate(doc["institutions"]):
            keys = tuple(_parse_key(k, f"institutions[{i}].public_keys", "x25519")
                         for k in raw_inst["public_keys"])
            institutions[str(raw_inst["code"])] = InstitutionEntry(
                str(raw_inst["code"]), str(raw_inst.get("tier", "")), raw_inst.get("parent"),
                str(raw_inst.get("name", "")), keys)
        devices = {}
        for i, raw_dev in enumerate(doc["devices"]):
            keys = tuple(_parse_key(k, f"devices[{i}].public_keys", "ed25519")
                         for k in raw_dev["public_keys"])
            devices[str(raw_dev["device_id"])] = DeviceEntry(
                str(raw_dev["device_id"]), str(raw_dev["institution"]), keys, raw_dev.get("revoked_at"))
        escrow = _parse_key(doc["escrow"], "escrow", "x25519")
        bundle = _parse_key(doc["bundle"], "bundle", "x25519") if "bundle" in doc else None
    except (KeyError, TypeError) as exc:
        raise MalformedEnvelope(f"directory: missing or malformed field {exc}") from exc
    if bundle is not None and bundle.key_id == escrow.key_id:
        # Sealing bundles for the escrow key is what the bundle key exists to avoid (§5).
        raise MalformedEnvelope(f"bundle: {bundle.key_id} is the escrow key")
    hub = _check_hub(doc["hub"], institutions, devices) if "hub" in doc else None
    return Directory(version, str(doc.get("issued_at", "")), institutions, devices, escrow,
                     root_key_id, dict(doc), deleg, bundle, hub)


def _check_hub(raw: Any, institutions: Mapping[str, InstitutionEntry],
               devices: Mapping[str, DeviceEntry]) -> str:
    """The ``hub`` member, which must name a listed device of a city-tier institution.

    Stations accept hub-made bundle files from this device only (design.md §4, §5), so a
    ``hub`` naming a station's laptop, or no laptop at all, is refused outright rather than
    left to fail later at a station.
    """
    if not isinstance(raw, str) or not raw:
        raise MalformedEnvelope(f"hub: must be a device id, got {raw!r}")
    device = devices.get(raw)
    if device is None:
        raise MalformedEnvelope(f"hub: device {raw!r} is not listed in the directory")
    inst = institutions.get(device.institution)
    if inst is None or inst.tier != "city":
        tier = inst.tier if inst is not None else "unlisted"
        raise MalformedEnvelope(f"hub: device {raw!r} belongs to institution "
                                f"{device.institution!r} ({tier}), not to the city-tier one")
    return raw


__all__ = ["DIRECTORY_ID", "DeviceEntry", "Directory", "InstitutionEntry", "PublicKeyEntry",
           "build_directory", "key_entry", "sign_directory", "verify_directory"]
