"""Where the scope indexer stands, shared by the gateway processes of one hub directory.

Each gateway used to follow the main feed from a position of its own, so with N gateway
processes every write was read back with its body and index-written N times, and all but
the first attempt found the entries already there (a conflict, then a read), taking the
scope files' write lock each time (the HTTP ingest bench, 2 gateways: 115 index writes
for 80 batches; 75 with the shared position).

:class:`FileCursor` keeps one position per hub directory and store prefix in a small file,
under an exclusive ``flock`` while a gateway indexes. The gateway that wrote a batch takes
the lock, indexes from the shared position to the end of the feed (its own rows and any
other gateway's rows not yet indexed), records the new position, and only then answers:
a device still reads its own writes at once through any gateway, and each row is indexed
once. A gateway that dies while indexing loses the lock with its process (the kernel drops
a dead process's flock) and the next holder repeats what it had not recorded; indexing is
idempotent.

The file is a hint, never the truth. It is written without fsync (the index entries it
covers were committed before it is written), and :class:`hub.index.ScopeIndexer` trusts
it only while its ``epoch`` matches the durable checkpoint's (``_local/scope-indexer``
in the private database): a lost, torn or stale file (a store restored or created anew
under the same directory) only sends the indexer back to the durable checkpoint.
Gateways on other hosts (several machines over one CouchDB) have files of their own and
each host indexes every row once, idempotently, as every process did before.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

Position = dict[str, Any]  # {"seq": <the main feed's seq>, "epoch": <durable checkpoint's>}


class Cursor:
    """The position in this process only (a hub without a directory, unit tests).

    The indexer's own thread lock already serialises its passes, so :meth:`held` always
    succeeds here."""

    def __init__(self) -> None:
        self._position: Position | None = None

    @contextlib.contextmanager
    def held(self, *, wait: bool = True) -> Iterator[bool]:
        yield True

    def read(self) -> Position | None:
        return self._position

    def write(self, position: Position) -> None:
        self._position = dict(position)

    def close(self) -> None:
        """Nothing held outside the process."""


class FileCursor(Cursor):
    """The position in ``path``, shared by every process that opens the same file."""

    def __init__(self, path: str | os.PathLike[str]):
        super().__init__()
        self.path = Path(path)
        self._fd: int | None = None
        # flock belongs to the open file: threads of one process must not both think they
        # hold it (the indexer's lock serialises them too; this keeps the class safe alone).
        self._thread_lock = threading.Lock()

    def _open(self) -> int:
        # Opened on first use, not in __init__: ``hub serve`` forks its gateways after
        # building a probe hub, and a descriptor shared across fork shares its flock.
        if self._fd is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
        return self._fd

    @contextlib.contextmanager
    def held(self, *, wait: bool = True) -> Iterator[bool]:
        """Hold the exclusive lock; yields False at once when ``wait`` is False and
        another process (or thread) is indexing."""
        if not self._thread_lock.acquire(blocking=wait):
            yield False
            return
        try:
            fd = self._open()
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | (0 if wait else fcntl.LOCK_NB))
            except BlockingIOError:
                yield False
                return
            try:
                yield True
            finally:
                fcntl.flock(fd, fcntl.LOCK_UN)
        finally:
            self._thread_lock.release()

    def read(self) -> Position | None:
        """The recorded position, or None for a missing, empty or torn file."""
        raw = os.pread(self._open(), 4096, 0)
        try:
            found = json.loads(raw) if raw else None
        except ValueError:
            return None
        return found if isinstance(found, dict) and "seq" in found else None

    def write(self, position: Position) -> None:
        """Record the position (call while :meth:`held`). No fsync: see the module doc."""
        data = json.dumps(position).encode()
        fd = self._open()
        os.pwrite(fd, data, 0)
        os.ftruncate(fd, len(data))

    def close(self) -> None:
        with self._thread_lock:
            if self._fd is not None:
                os.close(self._fd)
                self._fd = None
