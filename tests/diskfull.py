"""A full disk for tests, without root or a tmpfs: SQLite's ``PRAGMA max_page_count`` on
a store's writer connection (SQLite docs, "PRAGMA max_page_count"). A write that needs one
more page than the file holds fails with SQLITE_FULL, the code a real full disk (ENOSPC)
gives. A test hook only: no setting of the stores sets it."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

#: The limit set back when the disk is "freed" (SQLite's default maximum).
UNLIMITED = 4294967294


def writer_of(store: Any) -> Any:
    """The sqlite3 writer connection of an embedded store, through the wrappers the node
    and the hub put around it (each keeps the store it wraps as ``inner`` or ``_store``)."""
    seen = store
    for _ in range(5):
        db = getattr(seen, "_db", None)
        if db is not None and hasattr(db, "writer"):
            return db.writer
        seen = getattr(seen, "inner", None) or getattr(seen, "_store", None) or \
            getattr(seen, "store", None)
        if seen is None:
            break
    raise AssertionError(f"no embedded SQLite store inside {store!r}")


@contextlib.contextmanager
def full_disk(*stores: Any) -> Iterator[None]:
    """While inside, no write to ``stores`` may grow their files by a page."""
    writers = [writer_of(s) for s in stores]
    for w in writers:
        (pages,) = w.execute("PRAGMA page_count").fetchone()
        w.execute(f"PRAGMA max_page_count={int(pages)}")
    try:
        yield
    finally:
        for w in writers:
            w.execute(f"PRAGMA max_page_count={UNLIMITED}")


def damage(path: Any) -> None:
    """Overwrite the middle third of the SQLite file at ``path`` (b-tree pages there: a
    failing disk, a stick pulled mid-write), leaving its header readable."""
    from pathlib import Path

    p = Path(path)
    size = p.stat().st_size
    assert size >= 6 * 4096, f"{p} is too small to damage its middle ({size} bytes)"
    with p.open("r+b") as f:
        f.seek(size // 3)
        f.write(b"\xff" * (size // 3))
