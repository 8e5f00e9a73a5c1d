"""``node serve``'s hold on its folder: one server per folder, and no restore or
``node sync`` under it.

`node restore` moves the folder's store aside and copies the backup's in: under a running
`node serve` its open SQLite connections keep writing the moved file (the clerk's next
steps land in the folder set aside, not in the restored one), and two servers on one
folder give one device's case numbers twice and race on the index. The runbook said to
stop serve first (docs/operations.md, "A station laptop's folder"); nothing enforced it.

The lock is the operating system's on the file ``serve.lock`` in the folder: ``flock``
(POSIX) or ``msvcrt.locking`` (Windows station laptops), both released by the system when
the process ends however it ends (a crash, a power cut), so no stale lock file ever holds
a folder. The file holds the holder's pid and command, for the refusal's words only.

``node sync`` holds it for its round: the running serve's background loop syncs the same
store on the same checkpoints (``_local/<repid>`` on both sides, sync.replicate.
checkpoint), and two replicators overwrite each other's, so a checkpoint can move back
(the next round reads again what went) or the two sides' logs part (a round from the
start); the serve's sync page kept its own count of what waits and its last sync, stale.
Nothing is lost either way; the clerk is sent to the serve's own sync button instead. SQLite's own
locks cannot say this: an idle server holds none between requests.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

#: The lock file in a node folder (not a FOLDER_FILES member: never moved, never backed up).
LOCK_FILE = "serve.lock"
#: Windows locks byte ranges and a locked range cannot be read by others: the lock is on a
#: byte far past the pid, which stays readable.
_WIN_OFFSET = 1 << 20


def _try_lock(fd: int) -> bool:
    if sys.platform == "win32":
        import msvcrt

        os.lseek(fd, _WIN_OFFSET, os.SEEK_SET)
        try:
            msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)
        except OSError:
            return False
        return True
    import fcntl

    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    return True


class FolderLock:
    """The held lock of one folder; :meth:`release` (or the process's end) lets it go."""

    def __init__(self, folder: Path, fd: int):
        self.folder = folder
        self._fd: int | None = fd

    def release(self) -> None:
        if self._fd is not None:
            os.close(self._fd)  # closing the descriptor drops flock and msvcrt locks alike
            self._fd = None

    def __enter__(self) -> FolderLock:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.release()


def holder(folder: Path) -> tuple[str, str]:
    """The pid ("?" if unreadable) and the command ("serve", "sync", "restore") written by
    the process holding ``folder``'s lock; a file of a release that wrote the pid alone
    was serve's."""
    try:
        words = (folder / LOCK_FILE).read_text(encoding="ascii").split()
    except (OSError, UnicodeDecodeError):
        words = []
    pid = words[0] if words and words[0].isdigit() else "?"
    return pid, words[1] if len(words) > 1 and words[1].isalpha() else "serve"


def hold(folder: Path, *, doing: str) -> FolderLock:
    """Take ``folder``'s lock for this process, or refuse by name: ``doing`` is the command
    taking it ("serve", "sync", "restore"), said by the refusal and written for the next
    one's. A folder that does not exist yet has nothing to hold (a restore into a new
    folder takes it once made)."""
    from node.errors import FolderInUse

    # O_CLOEXEC (PEP 446's default too): a child process never inherits the lock
    fd = os.open(folder / LOCK_FILE, os.O_RDWR | os.O_CREAT | getattr(os, "O_CLOEXEC", 0),
                 0o600)
    if not _try_lock(fd):
        os.close(fd)
        raise FolderInUse(str(folder), *holder(folder), doing)
    os.ftruncate(fd, 0)
    os.lseek(fd, 0, os.SEEK_SET)
    os.write(fd, f"{os.getpid()} {doing}\n".encode("ascii"))
    return FolderLock(folder, fd)
