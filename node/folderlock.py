"""``node serve``'s hold on its folder: one server per folder, and no restore or
``node sync`` under it.

`node restore` moves the folder's store aside and copies the backup's in: under a running
`node serve` its open SQLite connections keep writing the moved file (the clerk's next
steps land in the folder set aside, not in the restored one), and two servers on one
folder give one device's case numbers twice and race on the index. The runbook said to
stop serve first (docs/operations.md, "A station laptop's folder"); nothing enforced it.

The lock is the operating system's on the file ``serve.lock`` in the folder
(:mod:`sync.folderlock`): released when the process ends however it ends, so no stale
lock file ever holds a folder.

``node sync`` holds it for its round: the running serve's background loop syncs the same
store on the same checkpoints (``_local/<repid>`` on both sides, sync.replicate.
checkpoint), and two replicators overwrite each other's, so a checkpoint can move back
(the next round reads again what went) or the two sides' logs part (a round from the
start); the serve's sync page kept its own count of what waits and its last sync, stale.
Nothing is lost either way; the clerk is sent to the serve's own sync button instead. SQLite's own
locks cannot say this: an idle server holds none between requests.
"""

from __future__ import annotations

from pathlib import Path

from sync.folderlock import FolderLock, try_hold
from sync.folderlock import holder as _holder

#: The lock file in a node folder (not a FOLDER_FILES member: never moved, never backed up).
LOCK_FILE = "serve.lock"


def holder(folder: Path) -> tuple[str, str]:
    """The pid ("?" if unreadable) and the command ("serve", "sync", "restore") written by
    the process holding ``folder``'s lock; a file of a release that wrote the pid alone
    was serve's."""
    pid, doing = _holder(folder, LOCK_FILE)
    return pid, doing or "serve"


def hold(folder: Path, *, doing: str) -> FolderLock:
    """Take ``folder``'s lock for this process, or refuse by name: ``doing`` is the command
    taking it ("serve", "sync", "restore"), said by the refusal and written for the next
    one's. A folder that does not exist yet has nothing to hold (a restore into a new
    folder takes it once made)."""
    from node.errors import FolderInUse

    lock = try_hold(folder, LOCK_FILE, doing=doing)
    if lock is None:
        raise FolderInUse(str(folder), *holder(folder), doing)
    return lock
