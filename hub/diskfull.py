"""The hub's disk full: what a device hears, what the operator reads, how to tell it.

A write that finds no room (SQLite's SQLITE_FULL, :class:`sync.errors.InsufficientStorage`;
CouchDB's 507 from its disk monitor, or the 500 "enospc" of CouchDB without one) stored
nothing of its request. A device is told 507 ``insufficient_storage`` (CouchDB's answer, CouchDB
docs "Disk Monitor Configuration"; RFC 4918 §11.5): its replicator retries, the documents
wait on the station, none is taken for refused. The operator reads one line per gateway at
most every :data:`hub.app.LOG_EVERY` seconds naming the folder and its free space (during
the outage every upload of every station meets it).
"""

from __future__ import annotations

import errno
import logging
import shutil
import sqlite3
from pathlib import Path
from typing import Any

from sync.errors import InsufficientStorage, SyncError

#: The body a device gets (the folder and the free space go to the log only).
STORE_FULL = {"error": "insufficient_storage",
              "reason": "the hub's storage is full; nothing of this request was stored and "
                        "nothing is lost: retry later, and tell the hub's operator (the "
                        "hub's log and `bangban hub doctor` say where)"}

#: Free space below this is a full disk for `hub doctor` (fail, not warn): SQLite needs room
#: for a write's WAL frames and its checkpoint, and one station's scans are megabytes.
DISK_FULL_BYTES = 64 * 1000**2
FULL_HINT = ("free space there now (old backups elsewhere, logs) or move HUB_DIR: meanwhile "
             "uploads are answered 507 and stations keep everything and retry "
             "(docs/operations.md, \"Disk full\")")

log = logging.getLogger("bangban.hub")
_last_logged = [float("-inf"), 0]  # monotonic time of the last line, requests since


def is_disk_full(exc: BaseException) -> bool:
    """A write refused for want of room: the store's 507, SQLite's SQLITE_FULL (the
    oversight facts file), or the file system's ENOSPC (a checkpoint file, a backup)."""
    if isinstance(exc, SyncError):
        return exc.status == 507 or (exc.status == 500 and "enospc" in exc.reason.lower())
    if isinstance(exc, sqlite3.Error):
        return getattr(exc, "sqlite_errorcode", None) == sqlite3.SQLITE_FULL
    return isinstance(exc, OSError) and exc.errno in (errno.ENOSPC, errno.EDQUOT)


def as_store_full(exc: SyncError) -> SyncError:
    """CouchDB without a disk monitor crashes a write on ENOSPC and answers 500 with
    ``{error,enospc}`` in its reason (apache/couchdb issues 3975, 5265): the same 507."""
    if exc.status == 500 and "enospc" in exc.reason.lower():
        return InsufficientStorage(f"the CouchDB server's disk is full ({exc.reason})")
    return exc


def human(n: float) -> str:
    """Bytes in the unit an operator reads at a glance (``0.0 GiB`` said nothing of 3 MB)."""
    for unit in ("B", "kB", "MB", "GB"):
        if n < 1000:
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1000
    return f"{n:.1f} TB"


def disk_usage(settings: Any) -> tuple[Path, Any]:
    """The folder the hub writes its store to (``HUB_DIR/db``, else ``HUB_DIR``: the
    oversight facts and backups; on CouchDB the store's disk is its server's) and
    :func:`shutil.disk_usage` of it."""
    folder = Path(settings.hub_dir)
    if (folder / "db").exists() and not getattr(settings, "couchdb_url", ""):
        folder = folder / "db"
    return folder, shutil.disk_usage(folder if folder.exists() else folder.parent)


def where(settings: Any) -> str:
    """The store's folder and its free space, or the CouchDB server whose disk is full."""
    url = str(getattr(settings, "couchdb_url", "") or "")
    if url:
        return (f"CouchDB at {url.split('@')[-1]} (its server's disk: free space there, "
                "or raise its disk_monitor thresholds)")
    try:
        folder, usage = disk_usage(settings)
    except OSError:
        return str(Path(settings.hub_dir) / "db")
    return f"{folder}: {human(usage.free)} free of {human(usage.total)}"


def store_full(what: str, settings: Any) -> None:
    """Log that ``what`` met a full disk: one line at most every LOG_EVERY seconds, with
    how many more requests met it meanwhile."""
    from hub.app import time_to_log

    more = time_to_log(_last_logged)
    if more is not None:
        log.warning("%s: the hub's disk is full, nothing of it was stored (stations retry): "
                    "%s; free space there (docs/operations.md, \"Disk full\")%s",
                    what, where(settings), more)
