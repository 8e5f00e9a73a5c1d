"""Which revision of a hub-written document is the hub's latest (design.md §2, §3).

Reference documents (institutions and their rosters, devices, catalog items, calendars, the
key directory) are written by the hub alone, each revision a child of the one before, so
they never conflict while the hub lives. A hub restored from a backup (`bangban hub
restore`, docs/operations.md) starts again from the backup's revisions: its next edit of a
document the lost hub had rewritten since is a *sibling* of the lost hub's revisions that
the stations already pulled. CouchDB then keeps the leaf with the longer history, or at
equal depth the greater rev hash ("Replication and conflict model", CouchDB docs): often
the lost hub's, so a roster change, a revocation or a key directory made after the restore
did not show on the laptop.

So the hub stamps every write of such a document with ``written``: a hybrid logical clock
(:mod:`schemas.hlc`) of the hub's device, ticked from the revision it replaces, so each
revision's clock is after its parent's even if the hub's clock stepped back. A reader
holding several leaves takes the one with the latest ``written`` (:func:`latest`); a leaf
without one (written before this member existed) loses to one with it; leaves without it
fall back to CouchDB's own winner rule, which is what readers saw before.

A restored hub's clock runs after the lost hub's last write (wall clock; the counter breaks
ties within one millisecond), which is all the order needs.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Mapping
from typing import Any

from schemas.hlc import is_hlc, pack, tick, unpack

#: The member holding the hub's clock of the write.
WRITTEN = "written"
#: ``_id`` prefixes of reference data: written by the hub alone, flowing to every node
#: read-only (hub.scope serves them to all; hub/validate.py refuses them from devices).
REFERENCE_PREFIXES = ("institution:", "device:", "service_item:", "calendar:", "directory:",
                      "directory")
#: ``_id`` prefix of the hub's coordination boards (schemas/boards.py, design.md §5).
BOARD_PREFIX = "board:"
#: ``_id`` prefixes of the documents only the hub writes: reference data and boards.
HUB_ONLY_PREFIXES = (*REFERENCE_PREFIXES, BOARD_PREFIX)


def stamp(previous: Mapping[str, Any] | None, device: str, wall_ms: int | None = None) -> str:
    """``written`` for a new revision replacing ``previous`` (None: a new document), by
    the hub's ``device`` at ``wall_ms`` (default: now): after ``previous``'s clock whatever
    the wall says."""
    last = (previous or {}).get(WRITTEN)
    now = time.time_ns() // 1_000_000 if wall_ms is None else wall_ms
    return pack(tick(now, unpack(str(last)) if is_hlc(last) else None, device))


def written_key(doc: Mapping[str, Any]) -> tuple[bool, str]:
    """Stamped after unstamped, then by the clock (its string form sorts in clock order,
    schemas/hlc.py)."""
    written = doc.get(WRITTEN)
    return (True, str(written)) if is_hlc(written) else (False, "")


def order_key(doc: Mapping[str, Any]) -> tuple[bool, str, bool, int, str]:
    """The sort key of one leaf: :func:`written_key`, then CouchDB's winner rule (not
    deleted, the revision's depth, its hash: sync.revtree's order)."""
    pos, _, rev_id = str(doc.get("_rev") or "0-").partition("-")
    return (*written_key(doc), not doc.get("_deleted"), int(pos) if pos.isdigit() else 0,
            rev_id)


def latest(leaves: Iterable[Mapping[str, Any]]) -> Mapping[str, Any]:
    """The leaf the hub wrote last among ``leaves`` (the live leaves of one document);
    ``ValueError`` when there are none."""
    return max(leaves, key=order_key)


def is_newer(a: Mapping[str, Any], b: Mapping[str, Any]) -> bool:
    """Whether ``a`` was written after ``b`` by the order of :func:`latest`."""
    return order_key(a) > order_key(b)
