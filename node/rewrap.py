"""Re-wrapping the keyrings of the institution's open cases after a key rotation
(design.md §5: "a new generation the old key never gets"; :mod:`node.rotation`).

Once the new institution key is active in the hub's directory (registered, synced), each
open case whose keyring still names the retired key is re-wrapped with
``sync.crypto.rewrap`` (what ``sync.crypto.rotate_keyrings`` does per keyring, kept open
here because the case key is needed afterwards): wraps to inactive keys are dropped, every
generation is wrapped for each recipient's active key, and a new data key generation
becomes ``current``. Every event sealed after that uses the new generation, which the lost
laptop's key never received. Wraps signed by a device revoked since (the lost laptop) are
made again by this device: the hub refuses a keyring holding a wrap it cannot verify.

Runs after each sync pull (once per active key, :func:`after_sync`) and on demand with
``bangban node keys rewrap``. Closed cases are left alone (no new events), except answered
consultations (``consulted``: the visitor may come back).

:func:`share_with` adds a recipient instead: the institution a case is handed to (4.3).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from node.errors import NodeError

if TYPE_CHECKING:
    from node.core import Node

DONE_META = "rewrapped_for"  # index meta: the active key id the last full pass used


def _stale(ring: Mapping[str, Any], institution: str, active: str) -> bool:
    """Whether some generation is wrapped for ``institution`` by another key than ``active``
    or lacks the wrap for it (only keyrings naming the institution as recipient)."""
    if not any(r.get("institution") == institution for r in ring.get("recipients", ())):
        return False
    for gen in ring.get("data_keys", ()):
        have = {w.get("key_id") for w in gen.get("wraps", ()) if w.get("institution") == institution}
        if have != {active}:
            return True
    return False


def _drop_unverifiable(ring: dict[str, Any], directory: Any) -> bool:
    """Remove wraps whose signature no longer verifies (signed by a revoked device)."""
    from sync.crypto import CryptoError
    from sync.crypto.keyring import verify_wrap

    dropped = False
    for gen in ring["data_keys"]:
        kept = []
        for wrap in gen["wraps"]:
            try:
                verify_wrap(ring, str(gen["kid"]), wrap, directory)
                kept.append(wrap)
            except CryptoError:
                dropped = True
        gen["wraps"] = kept
    return dropped


def active_key(node: Node) -> str | None:
    """The institution's key id active in the directory when this keychain holds it and
    also holds a retired generation (a rotation happened); else ``None`` (nothing to do)."""
    from sync.crypto import UnknownKey

    chain = node.keys.keychain
    mine = chain.find("institution", node.institution, active_only=False)
    if all(h.status == "active" for h in mine):
        return None
    try:
        entry = node.reading.directory().encryption_key(node.institution)
    except UnknownKey:
        return None  # the new key is not registered (or not synced) yet
    held = chain.by_key_id(entry.key_id)
    return entry.key_id if held is not None and held.status == "active" else None


def rewrap_open_cases(node: Node) -> dict[str, Any]:
    """Re-wrap every open case keyring of this institution that still uses a retired key;
    returns ``{"active", "rewrapped": [case ids], "skipped": {case id: reason}}``."""
    from sync.crypto import CryptoError, add_recipient, rewrap, unlock_case_key
    from sync.crypto.keyring import KEYRING_PREFIX

    active = active_key(node)
    if active is None:
        raise NodeError("没有可用的新机构密钥 / no new institution key is active in the directory: "
                        "run `node keys rotate`, register it (`hub device keys`) and sync first",
                        status=409, error="conflict")
    directory = node.reading.directory()
    chain, signer, store = node.keys.keychain, node.keys.signer, node.store
    rows = store.all_docs(startkey=KEYRING_PREFIX, endkey=KEYRING_PREFIX + "\ufff0",
                          include_docs=True, offset=False)["rows"]
    done: list[str] = []
    skipped: dict[str, str] = {}
    for row in rows:
        ring = row.get("doc")
        if not ring or not _stale(ring, node.institution, active):
            continue
        case_id = str(ring["case_id"])
        indexed = node.index.get(case_id)
        # an answered consultation is closed but the visitor may come back and apply (10.1.2):
        # its next events must not be sealed under a generation the retired key holds
        if indexed is not None and indexed.get("closed") and indexed.get("status") != "consulted":
            continue
        try:
            # A keyring wrapped by the lost laptop still opens (the hub accepted those wraps
            # before the revocation); its wraps are then dropped and made again by this one.
            key = unlock_case_key(ring, chain, directory, active_only=False,
                                  allow_revoked=True)
            new, key = rewrap(ring, key, directory, signer)
            if _drop_unverifiable(new, directory):
                for recipient in list(new["recipients"]):
                    new = add_recipient(new, key, str(recipient["institution"]), directory,
                                        signer, role=str(recipient["role"]))
        except CryptoError as exc:
            skipped[case_id] = exc.reason
            continue
        result = store.bulk_docs([new])
        if result and "error" in result[0]:
            skipped[case_id] = str(result[0].get("reason"))
            continue
        node.note_pending(1)
        node.reading.remember(case_id, key, {})  # the next event seals under the new generation
        done.append(case_id)
    node.index.set_meta(DONE_META, active)
    return {"ok": not skipped, "active": active, "rewrapped": done, "skipped": skipped}


def after_sync(node: Node) -> dict[str, Any] | None:
    """After a pull: one pass per newly active key (unlocked nodes only). Failures are left
    to ``bangban node keys rewrap``, which reports them; sync itself never fails here."""
    from sync.crypto import CryptoError

    if not node.unlocked:
        return None
    try:
        active = active_key(node)
        if active is None or node.index.get_meta(DONE_META) == active:
            return None
        return rewrap_open_cases(node)
    except (NodeError, CryptoError):
        return None


def share_with(node: Node, case_id: str, institution: str) -> dict[str, Any]:
    """Hand-up/hand-down: the keyring with the case key wrapped for the receiving
    institution too (design §5), ready to store with the event."""
    from node.drafts import refusal
    from schemas.reference import closed
    from sync.crypto import UnknownKey, add_recipient, keyring_id
    from sync.errors import NotFound as StoreNotFound
    from sync.reference import read_latest

    try:
        closing = closed(read_latest(node.store, f"institution:{institution}"))
    except StoreNotFound:
        closing = False
    if closing:  # hub.closing: no laptop left there, the case would be stranded
        raise refusal({"to_institution": (
            f"接收机构 {institution} 已撤并，不能移交给它 / {institution} is closed (merged, "
            "or its code changed): hand the case to the institution that took its cases")})
    ring = node.store.get(keyring_id(case_id))
    try:
        new: dict[str, Any] = add_recipient(ring, node.casework.case_key(case_id), institution,
                                            node.reading.directory(), node.keys.signer)
    except UnknownKey as exc:
        raise refusal({"to_institution": (
            f"接收机构 {institution} 在密钥目录中没有有效密钥（尚未登记设备或尚未同步），暂不能"
            f"移交 / {institution} has no key in the directory yet (no device enrolled, or "
            "not synced): the case cannot be handed to it yet")}) from exc
    return new

