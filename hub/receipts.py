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

A receipt is written after its batch (the batch stands whatever happens to receipts: a
device must not resend what the hub holds). When that write fails (a full disk, the
receipts database down) the device has its answer and will not send again, so nothing
would ever bring that receipt time back. It is kept in this process instead, with the time
the hub received the batch, and written in front of the next receipt this process writes
(any device's batch) or by :func:`flush_receipts` when the hub closes. They cannot be one
transaction with the batch: ``P-receipts`` is another database (CouchDB has no
transaction across databases). A process killed while some wait loses those (bounded by
:data:`BACKLOG_LIMIT`; the log said each).

Public API: :func:`receipt_doc` (pure), :func:`record_receipt`, :func:`flush_receipts`.
"""

from __future__ import annotations

import logging
import secrets
import threading
import time
import weakref
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


#: Receipts waiting to be written, per process: beyond this many the oldest are dropped
#: (a hub whose receipts database stays down must not grow without end), each said.
BACKLOG_LIMIT = 10_000
_backlog: weakref.WeakKeyDictionary[HubStores, list[dict[str, Any]]] = \
    weakref.WeakKeyDictionary()
_backlog_lock = threading.Lock()


def record_receipt(stores: HubStores, device_id: str, institution: str,
                   docs: Sequence[Mapping[str, Any]], *, via: str = "replication",
                   now_ms: int | None = None) -> bool:
    """Write the receipt of ``docs`` (already stored), after the receipts that wait. A
    failure is logged, not raised: the documents stand, and the receipt waits here with
    its time for the next write (module docstring). Whether this receipt was written."""
    doc = receipt_doc(device_id, institution, docs,
                      int(time.time() * 1000) if now_ms is None else now_ms, via=via)
    return _write(stores, [doc] if doc is not None else []) and doc is not None


def flush_receipts(stores: HubStores) -> bool:
    """Write the receipts that wait (hub.core.Hub.close); whether none waits now."""
    return _write(stores, [])


def waiting_receipts(stores: HubStores) -> int:
    """How many receipts wait in this process (hub doctor, tests)."""
    with _backlog_lock:
        return len(_backlog.get(stores, []))


def _write(stores: HubStores, new: list[dict[str, Any]]) -> bool:
    with _backlog_lock:
        batch = _backlog.pop(stores, []) + new
    if not batch:
        return True
    try:
        result = stores.receipts.bulk_docs(batch)
    except SyncError:
        _keep(stores, batch)
        log.warning("receipts of %d events not recorded yet: kept with the hub's receipt "
                    "times, written with the next receipt",
                    sum(len(d["events"]) for d in batch), exc_info=True)
        return False
    refused = [r for r in result if "error" in r]
    for r in refused:  # ids are new and random: only a broken store refuses one
        log.warning("receipt %s refused: %s", r.get("id"), r)
    return not refused


def _keep(stores: HubStores, batch: list[dict[str, Any]]) -> None:
    with _backlog_lock:
        kept = batch + _backlog.pop(stores, [])  # a concurrent failure's, after ours
        kept.sort(key=lambda d: str(d["_id"]))  # ids sort by receipt time
        dropped, kept = kept[:-BACKLOG_LIMIT], kept[-BACKLOG_LIMIT:]
        _backlog[stores] = kept
    if dropped:
        log.error("receipt times of %d events lost: more than %d receipts waited",
                  sum(len(d["events"]) for d in dropped), BACKLOG_LIMIT)


__all__ = ["ReceiptEvents", "flush_receipts", "receipt_doc", "record_receipt",
           "waiting_receipts"]
