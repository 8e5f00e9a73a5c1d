"""Institution key rotation after a lost laptop (design.md §5: "a new generation the old
key never gets").

Revoking a device (:func:`hub.admin.revoke_device`) stops its signatures and its sync, but
the institution's X25519 key is shared by every laptop of the station, so whoever holds the
lost laptop's keychain still holds it. The hub cannot make the replacement (it never holds
a key that opens personal data), so rotation is two-sided:

1. ``bangban hub institution rotate-key CODE`` (:func:`begin_key_rotation`): the
   institution's active public keys get ``revoked_at`` and a ``key_rotation:{code}`` record
   in the hub's private database says a new key is awaited; the directory is republished.
2. ``bangban node keys rotate`` on a remaining laptop makes the new key, and its
   registration (:func:`hub.admin.register_keys`) is accepted because no key is active.

Why ``revoked_at`` and not a separate ``retired_at``: ``sync.crypto``'s directory reads
only ``revoked_at`` (``PublicKeyEntry.active`` is ``not revoked_at``), schemas'
``PublicKey`` refuses unknown fields, and an entry with ``revoked_at`` stays listed, so
old keyrings still name a known key id. "Retired" is the node keychain's word for the
same state (the private half is kept to open old cases).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from hub.errors import AlreadyExists, BadInput
from sync.errors import NotFound

if TYPE_CHECKING:
    from hub.core import Hub

ROTATION_PREFIX = "key_rotation:"


def rotation_hint(institution: str, *, in_hand: bool = False) -> str:
    """What to do after revoking a device of ``institution`` (printed by ``device revoke``).

    A laptop lost or stolen (the default: what the operator did not say is taken at its
    worst) carries the institution key to whoever holds it: rotate (design.md §5). A laptop
    broken or retired but in the operator's hands exposed nothing: rotating would only
    re-wrap every open case of the station, so it is not advised; its disk is wiped."""
    if in_hand:
        return (f"电脑在管理员手中，机构 {institution} 的机构密钥未外泄，无需轮换；请清除该电脑的硬盘"
                f"（或锁存）。如果它曾离开管理员的控制，请按丢失处理 / the laptop is in hand: the "
                f"institution key of {institution} was not exposed and need not be rotated. Wipe "
                "its disk (or keep it locked away); if it was ever out of your control, treat it "
                f"as lost: `bangban hub institution rotate-key {institution}`")
    return (f"机构 {institution} 的机构密钥仍在丢失的电脑上，请轮换 / the institution key of "
            f"{institution} is still on the lost laptop: run `bangban hub institution rotate-key "
            f"{institution}`, then `bangban node keys rotate` on a remaining laptop of the "
            "station (a broken laptop in your hands: `hub device revoke --in-hand`, no rotation)")


def pending(hub: Hub, code: str) -> dict[str, Any] | None:
    """The open ``key_rotation:{code}`` record (a new key awaited), or ``None``."""
    try:
        doc: dict[str, Any] = hub.stores.private.get(ROTATION_PREFIX + code)
    except NotFound:
        return None
    return None if doc.get("completed_at") else doc


def begin_key_rotation(hub: Hub, code: str) -> dict[str, Any]:
    """Mark ``code``'s active institution key(s) revoked (kept in the directory), record
    that a new key is awaited, republish the directory. Until the new key is registered
    the institution has no active key: its laptops cannot open new cases and no case can
    be handed to it, which is the point (nothing new is wrapped to the lost key)."""
    from hub import admin

    doc = admin.institution(hub, code)
    stamp = admin.now()
    retired = []
    for key in doc.get("public_keys", []):
        if not key.get("revoked_at"):
            key["revoked_at"] = stamp
            retired.append(str(key["kid"]))
    if not retired and pending(hub, code) is None:
        raise BadInput(f"institution {code} has no active key to rotate")
    if retired:
        admin.put_reference(hub, doc)
    record = _record(hub, code, stamp, retired)
    directory = admin.publish_directory(hub)
    return {"ok": True, "institution": code, "retired": record["retired"],
            "awaiting_new_key": True, "directory_version": int(directory["version"]),
            "next": "bangban node keys rotate (on a remaining laptop), then "
                    "bangban hub device keys FILE"}


def _record(hub: Hub, code: str, stamp: str, retired: list[str]) -> dict[str, Any]:
    private = hub.stores.private
    try:
        current: dict[str, Any] = private.get(ROTATION_PREFIX + code)
    except NotFound:
        current = {"_id": ROTATION_PREFIX + code, "type": "key_rotation", "institution": code}
    if current.get("completed_at") or "retired" not in current:
        current.update(requested_at=stamp, retired=[], completed_at=None, new_key=None)
    current["retired"] = [*current["retired"], *retired]
    private.put(current)
    return current


def check_new_key(hub: Hub, inst_doc: Mapping[str, Any], ikey: Mapping[str, Any]) -> None:
    """Refuse re-registering a key this institution already retired: after a rotation an
    old laptop that has not received the new key must not bring the lost key back."""
    for key in inst_doc.get("public_keys", []):
        if key.get("kid") == ikey.get("kid") and key.get("revoked_at"):
            raise AlreadyExists(
                f"institution {inst_doc['code']}: key {ikey['kid']} was retired "
                f"({key['revoked_at']}); run `bangban node keys rotate` and register its new key, "
                "or import the new key with `node keys export` / `node init --institution-keys`")


def complete(hub: Hub, code: str, kid: str, stamp: str) -> None:
    """The awaited key arrived (called by :func:`hub.admin.register_keys`)."""
    record = pending(hub, code)
    if record is not None:
        record.update(completed_at=stamp, new_key=kid)
        hub.stores.private.put(record)
