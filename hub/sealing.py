"""Events the hub writes itself (10.2.5.2 terminations, complaints taken at the hub).

The hub's own device signs them, but the hub holds no case key (design.md §5). So each
such event gets a fresh data-key generation, wrapped with :func:`sync.crypto.add_recipient`
for every recipient of the case's keyring (public keys only, from the verified directory)
and escrow, and is sealed with it. The keyring's ``current`` generation is left unchanged,
so nodes keep sealing with a key the hub never knew — and the hub cannot open what it wrote.
"""

from __future__ import annotations

import copy
import os
import time
from typing import TYPE_CHECKING, Any

from schemas.hlc import HLC, tick, unpack
from sync.crypto import CaseKey, add_recipient, sign_document
from sync.crypto.encoding import b64u_encode

if TYPE_CHECKING:
    from hub.core import Hub


def next_clock(hub: Hub, base_hlc: str | None) -> HLC:
    """The hub device's clock for a new event after ``base_hlc`` (the case's last event)."""
    signer = hub.keys.signer
    last = unpack(base_hlc) if base_hlc else None
    return tick(int(time.time() * 1000),
                HLC(last.wall_ms, last.counter, signer.device_id) if last else None,
                signer.device_id)


def seal_hub_event(hub: Hub, case_id: str, event: dict[str, Any]) -> list[dict[str, Any]]:
    """``[new keyring, sealed and signed event]``, ready for one ``bulk_docs``.

    Raises :class:`sync.errors.NotFound` when the hub has no keyring for the case.
    """
    from hub.signatures import DirectoryCache

    ring = hub.stores.main.get(f"keyring:{case_id}")
    directory = DirectoryCache(hub.stores).get()
    signer = hub.keys.signer
    kid = "dk-hub-" + b64u_encode(os.urandom(9))
    case_key = CaseKey(case_id, {kid: os.urandom(32)}, kid)
    new_ring = copy.deepcopy(ring)
    new_ring["data_keys"] = [*new_ring.get("data_keys", []), {"kid": kid, "wraps": []}]
    for recipient in ring.get("recipients", []):
        new_ring = add_recipient(new_ring, case_key, recipient["institution"], directory, signer,
                                 role=recipient.get("role", "handed"))
    new_ring["current"] = ring.get("current")
    return [new_ring, sign_document(case_key.seal(event), signer)]


def store_hub_event(hub: Hub, case_id: str, event: dict[str, Any],
                    attempts: int = 5) -> dict[str, Any]:
    """Seal ``event`` (:func:`seal_hub_event`) and store it with its keyring; the stored
    event. The keyring goes first and alone: written in one ``bulk_docs`` with the event, a
    keyring a station changed meanwhile (a hand-over's wrap, a re-wrap) was refused as a
    conflict while the event was stored, sealed under a generation no stored keyring has,
    and nobody could ever open it (a complaint's text, a termination's reason: lost). On a
    conflict the event is sealed again over the keyring as it is now.

    Raises :class:`sync.errors.NotFound` when the hub has no keyring for the case."""
    from sync.errors import Conflict

    for _ in range(attempts):
        new_ring, sealed = seal_hub_event(hub, case_id, event)
        try:
            hub.stores.main.put(new_ring)
        except Conflict:
            continue
        hub.stores.main.put(sealed)
        return sealed
    raise Conflict(f"keyring:{case_id} kept changing; the hub's event was not written")
