"""When the hub received each event (design.md §6: "Laptop clocks drift: events carry a
hybrid logical clock; the hub records receipt time; oversight uses both and shows skew").

An event's ``at`` and ``hlc`` come from the recording laptop's clock, which the clerk can
set wrong, by mistake or to make a late completion look on time (10.1.3.2, 11.1 b). The
hub's own clock at receipt is the one time a laptop cannot move. The gateway that accepts
a ``_bulk_docs`` batch writes one *receipt* into ``P-receipts`` listing the batch's events
(id, type, stated ``at``); :mod:`hub.oversight.clocks` folds them into the oversight file.

Why a database of its own and one document per batch, not a member of each event or an
index entry: an event is signed by its device and immutable (the hub cannot add to it),
the scope index is derived (rebuilt after a restore, when receipt times could no longer be
known), and one small write per batch keeps the ingest cost flat. A replayed event gets a
second receipt; the fold keeps the first.

Public API: :func:`receipt_doc` (pure), :func:`record_receipt`.
"""

from __future__ import annotations

import logging
import secrets
import time
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from sync.errors import SyncError

if TYPE_CHECKING:
    from hub.storage import HubStores

log = logging.getLogger("bangban.hub")

#: A receipt's events: ``[doc id, event type, stated at]`` each.
ReceiptEvents = list[list[str]]


def receipt_doc(device_id: str, institution: str, docs: Sequence[Mapping[str, Any]],
                received_ms: int, *, via: str = "replication") -> dict[str, Any] | None:
    """The receipt of the events among ``docs`` (accepted ones), or ``None`` when there are
    none (headers, keyrings and chunks carry no business time). Ids sort by receipt time."""
    events: ReceiptEvents = [
        [str(d["_id"]), str(d.get("event_type", "")), str(d.get("at", ""))]
        for d in docs
        if d.get("type") == "event" and not d.get("_deleted") and isinstance(d.get("_id"), str)]
    if not events:
        return None
    return {"_id": f"{received_ms:013d}-{device_id}-{secrets.token_hex(4)}", "type": "receipt",
            "device": device_id, "institution": institution, "received_ms": received_ms,
            "via": via, "events": events}


def record_receipt(stores: HubStores, device_id: str, institution: str,
                   docs: Sequence[Mapping[str, Any]], *, via: str = "replication",
                   now_ms: int | None = None) -> bool:
    """Write the receipt of ``docs`` (already stored). A failure is logged, not raised:
    the documents stand, and oversight shows their events as received with no receipt
    rather than the device being told its accepted write failed."""
    doc = receipt_doc(device_id, institution, docs,
                      int(time.time() * 1000) if now_ms is None else now_ms, via=via)
    if doc is None:
        return False
    try:
        result = stores.receipts.bulk_docs([doc])
    except SyncError:
        log.warning("receipt of %d events from %s not recorded", len(doc["events"]),
                    device_id, exc_info=True)
        return False
    if result and "error" in result[0]:
        log.warning("receipt from %s refused: %s", device_id, result[0])
        return False
    return True


__all__ = ["ReceiptEvents", "receipt_doc", "record_receipt"]
