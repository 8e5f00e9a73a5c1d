"""One `hub serve` per hub folder, and no `hub restore` under it.

A second `hub serve` given another port (by hand beside the service, `--port`) served on:
two sets of workers over one store and one ``oversight.sqlite``, two gateways each keeping
its own receipt times waiting, and `hub doctor` seeing one of them. A `hub restore` beside a
running hub (into another CouchDB prefix, docs/operations.md "Backups") saved the new prefix
and dropped ``oversight.sqlite`` under it, and "start the service" then started nothing: the
old hub went on serving the broken store. The lock is the system's on ``HUB_DIR/serve.lock``
(:mod:`sync.folderlock`), gone with the process however it ended; the gateways and the
workers' process forked by `hub serve` share it.
"""

from __future__ import annotations

from pathlib import Path

from hub.errors import ConfigError
from sync.folderlock import FolderLock, holder, try_hold

#: The file in HUB_DIR whose lock `hub serve` (or `hub restore`) holds while it runs.
SERVE_LOCK = "serve.lock"
_WHAT = {"serve": "serves", "restore": "is restoring a backup into"}


def hold_folder(folder: Path, *, doing: str) -> FolderLock:
    """Take ``folder``'s lock for `hub serve` or `hub restore` (``doing``), or refuse by
    name, saying which command holds it and its pid."""
    folder.mkdir(parents=True, exist_ok=True)  # a restore into a fresh HUB_DIR
    lock = try_hold(folder, SERVE_LOCK, doing=doing)
    if lock is None:
        pid, other = holder(folder, SERVE_LOCK)
        other = other if other in _WHAT else "serve"
        stop = ("stop it first (`systemctl stop bangban-hub`, or `kill` its pid)"
                if other == "serve" else "let it finish first")
        more = "; --processes N serves on more cores" if doing == other == "serve" else ""
        raise ConfigError(
            f"not {'serving' if doing == 'serve' else 'restoring'}: `bangban hub {other}` "
            f"(pid {pid}) {_WHAT[other]} {folder} (it holds {folder / SERVE_LOCK}): one "
            f"at a time in a hub folder: {stop}{more}")
    return lock
