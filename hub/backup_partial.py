"""Backups `hub backup` began and never finished, told to the operator.

A backup killed outright (SIGKILL, a power cut, the kernel's OOM killer) runs none of its
own cleanup (:func:`hub.backup._undo`): its folder keeps the dumps written so far and no
``manifest.json``, which no restore takes (:func:`hub.backup.restore`), and nobody was told:
a dated folder on the backup medium was taken for a backup. So each backup marks itself,
from before its first file until after its manifest:

- ``DIR/backup-unfinished.lock``, whose system lock (:mod:`sync.folderlock`) the backup
  holds while it runs: the lock goes with the process however it ends, so a backup still
  running is told from a dead one, and a folder holding this file, no manifest and no
  holder is certainly a backup of ours that did not finish;
- ``HUB_DIR/backup-unfinished-*.json``: where DIR is and when it began, for `hub doctor`
  and the next `hub backup` (into another DIR), which never look at the medium otherwise.

What is found is reported, not deleted: the folder is on the operator's medium, and only
the operator knows whether a copy of it went elsewhere. One exception, said in a line: a
`hub backup` into that very folder again, when it holds nothing but the files a backup
writes and its unheld marker: the operator asked for a backup there, and the dumps left in
it are certainly this program's and certainly unusable.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
from dataclasses import dataclass
from pathlib import Path

from hub.errors import AlreadyExists
from sync.folderlock import FolderLock, held, holder, try_hold

MARK = "backup-unfinished.lock"
MANIFEST = "manifest.json"
_RECORD = "backup-unfinished-{}.json"


@dataclass(frozen=True)
class Partial:
    """A backup that did not finish: its folder and when it began (from the record)."""
    folder: Path
    started: str

    def note(self) -> str:
        return (f"{self.folder}: a `hub backup` begun {self.started} did not finish (killed "
                f"or the power cut: no {MANIFEST}); no restore takes it, it can be deleted "
                f"(rm -r {self.folder})")


def _record(hub_dir: str | Path, out: Path) -> Path:
    digest = hashlib.sha256(str(out.absolute()).encode("utf-8")).hexdigest()[:12]
    return Path(hub_dir) / _RECORD.format(digest)


def begin(hub_dir: str | Path, out: Path) -> FolderLock:
    """Mark the empty folder ``out`` as a backup being written by this process (the lock,
    held until :func:`end`) and record it in ``hub_dir``."""
    lock = try_hold(out, MARK, doing="backup")
    if lock is None:  # another `hub backup` began here between our emptiness check and now
        pid, _doing = holder(out, MARK)
        raise AlreadyExists(f"{out}: another `hub backup` (pid {pid}) is writing into it")
    body = {"dir": str(out.absolute()),
            "started": dt.datetime.now(dt.UTC).isoformat(timespec="seconds")}
    try:
        _record(hub_dir, out).write_text(json.dumps(body), encoding="utf-8")
    except OSError:  # HUB_DIR not writable by this user: the marker in DIR still tells
        pass  # a `hub backup` into DIR again; the doctor will not know of it
    return lock


def _drop(path: Path) -> None:
    try:
        path.unlink(missing_ok=True)
    except OSError:  # the doctor run by a user who cannot write HUB_DIR: told again
        pass


def end(hub_dir: str | Path, out: Path, lock: FolderLock) -> None:
    """The backup in ``out`` finished (its manifest written) or removed what it wrote."""
    _drop(out / MARK)
    _drop(_record(hub_dir, out))
    lock.release()


def found(hub_dir: str | Path) -> list[Partial]:
    """The backups recorded in ``hub_dir`` that did not finish and whose folder is still
    there. A record whose backup finished or whose folder was deleted is dropped; one whose
    folder's medium is not mounted now (not even its parent is there) is kept, unreported."""
    out = []
    for path in sorted(Path(hub_dir).glob(_RECORD.format("*"))):
        try:
            body = json.loads(path.read_text(encoding="utf-8"))
            folder = Path(body["dir"])
        except (OSError, ValueError, KeyError, TypeError):
            continue
        if (folder / MANIFEST).exists() or not (folder / MARK).exists():
            if folder.parent.exists():  # finished, or deleted: nothing to tell
                _drop(path)
            continue
        try:
            running = held(folder, MARK)  # held: that backup is still running
        except OSError:  # a marker this user may not open (a backup run by root, 0600):
            continue  # whether it runs is unknown, so not said to be over (and no crash)
        if not running:
            out.append(Partial(folder, str(body.get("started") or "at an unknown time")))
    return out


def clear_or_refuse(out: Path, ours: frozenset[str]) -> str:
    """``out`` is not empty: when it holds a backup of ours that did not finish (its marker,
    no holder, no manifest, nothing but the files ``ours`` a backup writes), remove those
    and say so; else refuse naming what the folder holds."""
    names = {p.name for p in out.iterdir()}
    if MARK in names and held(out, MARK):
        pid, _doing = holder(out, MARK)
        raise AlreadyExists(f"{out}: another `hub backup` (pid {pid}) is writing into it")
    if MANIFEST not in names and MARK in names and names <= ours | {MARK}:  # killed
        for name in names:
            os.unlink(out / name)
        return (f"{out} held a `hub backup` that did not finish (no {MANIFEST}): its files "
                "were removed, the backup is written anew")
    if MANIFEST not in names and names & ours:
        raise AlreadyExists(
            f"{out} holds backup files but no {MANIFEST}: a backup that did not finish "
            "(killed, or the power cut), which no restore takes; delete it if so "
            f"(rm -r {out}), or choose another DIR")
    raise AlreadyExists(f"{out} is not empty")


__all__ = ["MARK", "Partial", "begin", "clear_or_refuse", "end", "found"]
