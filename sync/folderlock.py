"""One process's hold on a folder: the operating system's lock on a file in it.

``node serve`` holds its node folder (:mod:`node.folderlock` says why) and ``hub serve`` its
hub folder (:mod:`hub.serve`): two servers on one folder each ran their own workers, feed
positions and counters over the same store. SQLite's own locks cannot tell: an idle server
holds none between requests.

The lock is ``flock`` (POSIX) or ``msvcrt.locking`` (Windows station laptops), both
released by the system when the process ends however it ends (a crash, a power cut,
SIGKILL), so no stale lock file ever holds a folder. The file holds the holder's pid and
command, for the refusal's words only.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

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


def holder(folder: Path, name: str) -> tuple[str, str]:
    """The pid ("?" if unreadable) and the command ("" if none was written) of the process
    holding ``folder``'s lock file ``name``."""
    try:
        words = (folder / name).read_text(encoding="ascii").split()
    except (OSError, UnicodeDecodeError):
        words = []
    pid = words[0] if words and words[0].isdigit() else "?"
    return pid, words[1] if len(words) > 1 and words[1].isalpha() else ""


def held(folder: Path, name: str) -> bool:
    """Whether a process holds the lock of ``folder``'s file ``name`` (its own too: locks
    belong to the open file, not the process). The file is neither created nor written:
    opened for reading only (``flock`` takes any descriptor), so a marker on a medium
    mounted read-only now, or left by another user's process, is probed too (O_RDWR was an
    OSError there: `hub doctor` failed and `hub backup` stopped after writing its backup)."""
    try:
        fd = os.open(folder / name, os.O_RDONLY | getattr(os, "O_CLOEXEC", 0))
    except FileNotFoundError:
        return False
    try:
        return not _try_lock(fd)
    finally:
        os.close(fd)  # drops the lock this probe may have taken


def try_hold(folder: Path, name: str, *, doing: str) -> FolderLock | None:
    """Take the lock of ``folder``'s file ``name`` for this process and write our pid and
    ``doing`` there, or None when another process holds it (:func:`holder` says which).
    O_CLOEXEC (PEP 446's default too): a program this process starts never inherits it;
    a forked child (a pre-forked gateway) shares it until it ends."""
    fd = os.open(folder / name, os.O_RDWR | os.O_CREAT | getattr(os, "O_CLOEXEC", 0), 0o600)
    if not _try_lock(fd):
        os.close(fd)
        return None
    os.ftruncate(fd, 0)
    os.lseek(fd, 0, os.SEEK_SET)
    os.write(fd, f"{os.getpid()} {doing}\n".encode("ascii"))
    return FolderLock(folder, fd)


__all__ = ["FolderLock", "held", "holder", "try_hold"]
