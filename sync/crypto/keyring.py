"""The per-case ``keyring`` document: the case data key wrapped for each holder.

One AES-256-GCM data key per case (design §5), wrapped (:mod:`sync.crypto.wrap`)
for the owning institution, every institution the case was handed up or
transferred to, and the municipal escrow key. The keyring is a cleartext document
except for the wrapped keys, so the hub can route and check scope without reading
anything::

    {"_id": "keyring:{case id}", "type": "keyring", "schema_version": 1,
     "case_id": "…", "current": "dk-…",
     "recipients": [{"institution": "410621100201", "key_id": "x25519-…", "role": "owner"},
                    {"institution": "escrow", "key_id": "x25519-…", "role": "escrow"}],
     "data_keys": [{"kid": "dk-…", "wraps": [{"institution", "key_id", "alg", "epk", "nonce",
                                              "wrapped", "sig": {"device", "key_id", "alg", "value"}}]}]}

Each wrap is signed by the device that made it, so a keyring whose revisions
conflict can be merged by union without losing the proof of who added what, and a
breached hub cannot slip in a wrap of a key of its own choosing. A key rotation
starts a new data key generation (``current``) that the retired institution key
was never given: the old key opens nothing sealed after the rotation.
"""

from __future__ import annotations

import copy
import os
import time
from collections.abc import Mapping
from typing import Any

from sync.crypto.directory import Directory
from sync.crypto.encoding import b64u_encode, canonical_json
from sync.crypto.errors import BadSignature, CryptoError, MalformedEnvelope, UnknownKey
from sync.crypto.keys import EncryptionKeyPair, Keychain
from sync.crypto.seal import CaseKey
from sync.crypto.sign import DeviceSigner, check_signature
from sync.crypto.wrap import unwrap_key, wrap_key

KEYRING_PREFIX = "keyring:"
WRAP_DOMAIN = b"bangban/v1/key-wrap-entry\n"
ESCROW = "escrow"


def keyring_id(case_id: str) -> str:
    return f"{KEYRING_PREFIX}{case_id}"


def _new_kid() -> str:
    """A data key id that sorts by creation time (ms, hex) then random: when keyring
    revisions conflict, the greatest ``current`` is the newest generation."""
    return f"dk-{int(time.time() * 1000):012x}{b64u_encode(os.urandom(6))}"


def _context(case_id: str, kid: str, institution: str, key_id: str) -> dict[str, str]:
    return {"case": case_id, "kid": kid, "recipient": institution, "recipient_key": key_id}


def _wrap_payload(case_id: str, kid: str, wrap: Mapping[str, Any]) -> bytes:
    body = {k: v for k, v in wrap.items() if k != "sig"}
    return WRAP_DOMAIN + canonical_json({"case": case_id, "kid": kid, "wrap": body})


def _make_wrap(case_key: CaseKey, kid: str, institution: str, public: str, key_id: str,
               signer: DeviceSigner) -> dict[str, Any]:
    wrap: dict[str, Any] = {"institution": institution, "key_id": key_id}
    wrap.update(wrap_key(case_key._raw(kid), public, _context(case_key.case_id, kid, institution, key_id)))
    wrap["sig"] = signer.signature(_wrap_payload(case_key.case_id, kid, wrap))
    return wrap


def _recipient_key(directory: Directory, institution: str) -> tuple[str, str]:
    """``(public, key_id)`` of the recipient's active key from the verified directory."""
    entry = directory.escrow if institution == ESCROW else directory.encryption_key(institution)
    return entry.public, entry.key_id


def new_keyring(case_id: str, owner: str, directory: Directory,
                signer: DeviceSigner) -> tuple[dict[str, Any], CaseKey]:
    """A fresh data key for a new case, wrapped for ``owner`` and the escrow key."""
    kid = _new_kid()
    case_key = CaseKey(case_id, {kid: os.urandom(32)}, kid)
    doc: dict[str, Any] = {"_id": keyring_id(case_id), "type": "keyring", "schema_version": 1,
                           "case_id": case_id, "current": kid, "recipients": [],
                           "data_keys": [{"kid": kid, "wraps": []}]}
    doc = _ensure_recipient(doc, case_key, owner, "owner", directory, signer)
    doc = _ensure_recipient(doc, case_key, ESCROW, "escrow", directory, signer)
    return doc, case_key


def _ensure_recipient(doc: dict[str, Any], case_key: CaseKey, institution: str, role: str,
                      directory: Directory, signer: DeviceSigner) -> dict[str, Any]:
    public, key_id = _recipient_key(directory, institution)
    for gen in doc["data_keys"]:
        if gen["kid"] in case_key.key_ids and not any(
                w["institution"] == institution and w["key_id"] == key_id for w in gen["wraps"]):
            gen["wraps"].append(_make_wrap(case_key, gen["kid"], institution, public, key_id, signer))
    others = [r for r in doc["recipients"] if r["institution"] != institution]
    old_role = next((r["role"] for r in doc["recipients"] if r["institution"] == institution), None)
    doc["recipients"] = [*others, {"institution": institution, "key_id": key_id,
                                   "role": old_role or role}]
    return doc


def add_recipient(keyring: Mapping[str, Any], case_key: CaseKey, institution: str,
                  directory: Directory, signer: DeviceSigner, *, role: str = "handed") -> dict[str, Any]:
    """Hand-up, hand-down or transfer: wrap every data key generation for ``institution``."""
    _check_case(keyring, case_key)
    return _ensure_recipient(copy.deepcopy(dict(keyring)), case_key, institution, role, directory, signer)


def rewrap(keyring: Mapping[str, Any], case_key: CaseKey, directory: Directory,
           signer: DeviceSigner, *, new_generation: bool = True) -> tuple[dict[str, Any], CaseKey]:
    """After a key rotation (design §5): drop wraps to keys no longer active in the
    directory, wrap every generation for each recipient's active key, and (by default)
    start a new data key generation that only active keys receive."""
    _check_case(keyring, case_key)
    doc = copy.deepcopy(dict(keyring))
    for gen in doc["data_keys"]:
        gen["wraps"] = [w for w in gen["wraps"] if directory.is_active_key(w["institution"], w["key_id"])]
    if new_generation:
        kid = _new_kid()
        keys = {k: case_key._raw(k) for k in case_key.key_ids}
        keys[kid] = os.urandom(32)
        case_key = CaseKey(case_key.case_id, keys, kid)
        doc["data_keys"].append({"kid": kid, "wraps": []})
        doc["current"] = kid
    for recipient in list(doc["recipients"]):
        doc = _ensure_recipient(doc, case_key, recipient["institution"], recipient["role"],
                                directory, signer)
    return doc, case_key


def needs_rewrap(keyring: Mapping[str, Any], directory: Directory) -> list[str]:
    """Why this keyring should be re-wrapped (empty when it need not be): a recipient
    without a wrap to its active key for some generation (e.g. a hand-up that raced a
    rotation and was merged by union), or a wrap to a key no longer active. Any holder
    of the case key repairs it with ``rewrap(..., new_generation=False)``."""
    reasons = []
    for gen in keyring.get("data_keys", ()):
        have = {(w.get("institution"), w.get("key_id")) for w in gen.get("wraps", ())}
        for inst, key_id in sorted(have):
            if not directory.is_active_key(str(inst), str(key_id)):
                reasons.append(f"{gen.get('kid')}: wrap to inactive key {key_id} of {inst}")
        for recipient in keyring.get("recipients", ()):
            inst = str(recipient.get("institution"))
            try:
                _public, key_id = _recipient_key(directory, inst)
            except UnknownKey:
                reasons.append(f"recipient {inst} has no active key in the directory")
                continue
            if (inst, key_id) not in have:
                reasons.append(f"{gen.get('kid')}: no wrap for {inst} key {key_id}")
    return reasons


def rotate_keyrings(keyrings: list[Mapping[str, Any]], keychain: Keychain, directory: Directory,
                    signer: DeviceSigner) -> list[dict[str, Any]]:
    """An institution's key rotation over its active cases: open each keyring with
    whatever key the keychain still holds (the retired one), re-wrap under the new
    directory. The caller stores the results, then forgets the retired key."""
    out = []
    for ring in keyrings:
        case_key = unlock_case_key(ring, keychain, directory, active_only=False)
        out.append(rewrap(ring, case_key, directory, signer)[0])
    return out


def verify_wrap(keyring: Mapping[str, Any], kid: str, wrap: Mapping[str, Any],
                directory: Directory, *, allow_revoked: bool = False) -> None:
    """Check a wrap's device signature. ``allow_revoked`` accepts a device revoked since:
    for a keyring received from the hub, which checked every wrap against the directory
    of the moment it arrived (revocation stops new writes at the hub; it does not undo
    the accepted ones, or a lost laptop would take its station's cases with it)."""
    sig = wrap.get("sig")
    if not isinstance(sig, Mapping):
        raise BadSignature(f"keyring {keyring.get('_id')!r}: wrap for {wrap.get('institution')!r} unsigned")
    _, key = directory.device_key(str(sig.get("device")), str(sig.get("key_id")),
                                  allow_revoked=allow_revoked)
    check_signature(key.public, sig.get("value"), _wrap_payload(str(keyring["case_id"]), kid, wrap),
                    what=f"keyring {keyring.get('_id')!r} wrap for {wrap.get('institution')!r}")


def unlock_case_key(keyring: Mapping[str, Any], keychain: Keychain, directory: Directory, *,
                    active_only: bool = True, allow_revoked: bool = False) -> CaseKey:
    """Unwrap every data key generation this keychain can open (wrap signatures checked;
    ``allow_revoked``: see :func:`verify_wrap`).

    :class:`UnknownKey` if no key of the keychain opens the current generation (a
    station outside the case); :class:`DecryptionFailed` if a wrap meant for one of
    our keys does not open (altered).
    """
    try:
        case_id = str(keyring["case_id"])
        current = str(keyring["current"])
        generations = list(keyring["data_keys"])
    except (KeyError, TypeError) as exc:
        raise MalformedEnvelope(f"keyring: missing field {exc}") from exc
    held = {k.key_id: k for k in keychain.encryption_keys() if k.status == "active" or not active_only}
    keys: dict[str, bytes] = {}
    failure: CryptoError | None = None
    for gen in generations:
        kid = str(gen.get("kid"))
        for wrap in gen.get("wraps", ()):
            mine = held.get(str(wrap.get("key_id")))
            if mine is None or not isinstance(mine.key, EncryptionKeyPair):
                continue
            # A bad wrap (forged, altered) must not hide a good one for the same key.
            try:
                verify_wrap(keyring, kid, wrap, directory, allow_revoked=allow_revoked)
                ctx = _context(case_id, kid, str(wrap.get("institution")), mine.key_id)
                keys[kid] = unwrap_key(wrap, mine.key, ctx)
                break
            except CryptoError as exc:
                failure = failure or exc
    if current not in keys:
        if failure is not None:
            raise failure
        raise UnknownKey(f"no key held here opens case {case_id} (not a recipient of its keyring)")
    return CaseKey(case_id, keys, current)


def _check_case(keyring: Mapping[str, Any], case_key: CaseKey) -> None:
    if keyring.get("case_id") != case_key.case_id:
        raise MalformedEnvelope(f"keyring of {keyring.get('case_id')!r} used with the key of "
                                f"{case_key.case_id!r}")


__all__ = ["ESCROW", "KEYRING_PREFIX", "add_recipient", "keyring_id", "needs_rewrap", "new_keyring", "rewrap",
           "rotate_keyrings", "unlock_case_key", "verify_wrap"]
