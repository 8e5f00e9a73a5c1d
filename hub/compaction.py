"""Compaction of the hub's embedded databases, a worker pass (docs/operations.md).

The embedded store keeps the body of every replaced revision until it is compacted, as
CouchDB does (CouchDB docs, "Compaction"); CouchDB 3 compacts by itself (its compaction
daemon), the embedded store only when asked, and nothing asked. Some documents are
rewritten all day: a device's replication checkpoint (``local:{device}:{name}`` in the
private database, one write per batch of every round, several kB each) and each
institution's coordination board (``board:{code}``, up to every ``board_interval``); each
kept up to ``revs_limit`` (1,000) old bodies, tens of MB per station over a year, the
private database of a city's 1,000 stations growing by gigabytes. So the workers compact
every database of the hub once every ``compact_hours``. They look at most every
:data:`LOOK_EVERY` seconds (one small read per database: a city has one index database per
institution, and the workers pass every few seconds), and a database not open in the
workers' process is opened for its compaction alone and closed again.

Public API: :func:`compact_due`.
"""

from __future__ import annotations

import logging
import time
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from hub.core import Hub

log = logging.getLogger("bangban.hub.workers")
#: Seconds between two looks at which databases are due (at most ``compact_hours``).
LOOK_EVERY = 600.0
#: When each hub folder's databases are next looked at (monotonic clock), by folder.
_next_look: dict[str, float] = {}


def compact_due(hub: Hub) -> dict[str, Any]:
    """Compact each of ``hub``'s embedded databases whose last compaction is
    ``compact_hours`` old (none on CouchDB, which compacts itself; none when the setting
    is 0); counters for ``/_hub/health`` when any ran."""
    from sync.sqlite import SQLiteServer

    hours = float(hub.settings.compact_hours)
    stores = hub.stores
    if hours <= 0 or not isinstance(stores.server, SQLiteServer):
        return {}
    folder, now = str(hub.settings.hub_dir), time.monotonic()
    if now < _next_look.get(folder, 0.0):
        return {}
    _next_look[folder] = now + min(LOOK_EVERY, hours * 3600)
    names = [n for n in stores.server.all_dbs()
             if n == stores.main_name or n.startswith(stores.prefix + "-")]
    ran = 0
    for name in names:
        if stores.server.compact_if_due(name, hours * 3600):
            ran += 1
            log.info("compacted %s", name)
    return {"compacted": ran} if ran else {}
