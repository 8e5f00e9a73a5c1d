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

import os
import sys
import time
from collections.abc import Callable
from pathlib import Path

from hub.errors import ConfigError
from sync.folderlock import FolderLock, holder, try_hold

#: The file in HUB_DIR whose lock `hub serve` (or `hub restore`) holds while it runs.
SERVE_LOCK = "serve.lock"
_WHAT = {"serve": "serves", "restore": "is restoring a backup into"}
#: Seconds to wait for the lock when the process that took it is gone: `hub serve` killed
#: outright (SIGKILL), its gateways and workers' process get SIGTERM (hub.serve._die_with)
#: and hold the lock while they stop, each within about 5 s (waitress's task dispatcher's
#: shutdown). Started again at once, by an operator typing fast (systemd waits 5 s), it
#: refused the folder to a hub that was already gone.
DYING_WAIT, _POLL = 10.0, 0.1


def _gone(pid: str) -> bool:
    """Whether no process has the pid the lock file names (the one that took the lock)."""
    if not pid.isdigit():
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except OSError:  # another user's process: there
        return False
    return False


def _say(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


def hold_folder(folder: Path, *, doing: str, say: Callable[[str], None] = _say) -> FolderLock:
    """Take ``folder``'s lock for `hub serve` or `hub restore` (``doing``), or refuse by
    name, saying which command holds it and its pid. When the process that took it has
    ended and its children still hold it, wait for them up to :data:`DYING_WAIT` seconds,
    saying so."""
    folder.mkdir(parents=True, exist_ok=True)  # a restore into a fresh HUB_DIR
    lock = try_hold(folder, SERVE_LOCK, doing=doing)
    if lock is not None:
        return lock
    pid, other = holder(folder, SERVE_LOCK)
    other = other if other in _WHAT else "serve"
    verb = "serving" if doing == "serve" else "restoring"
    if _gone(pid):
        say(f"hub: {folder / SERVE_LOCK} is still held by the processes of a `hub {other}` "
            f"that ended (pid {pid}): waiting up to {DYING_WAIT:g} s for them to stop")
        deadline = time.monotonic() + DYING_WAIT
        while lock is None and time.monotonic() < deadline:
            time.sleep(_POLL)
            lock = try_hold(folder, SERVE_LOCK, doing=doing)
        if lock is not None:
            return lock
        raise ConfigError(
            f"not {verb}: the processes of a `hub {other}` that ended (pid {pid}) still hold "
            f"{folder / SERVE_LOCK} after {DYING_WAIT:g} s: `fuser -v {folder / SERVE_LOCK}` "
            "lists them; stop them (`kill` their pids), then start again")
    stop = ("stop it first (`systemctl stop bangban-hub`, or `kill` its pid)"
            if other == "serve" else "let it finish first")
    more = "; --processes N serves on more cores" if doing == other == "serve" else ""
    raise ConfigError(
        f"not {verb}: `bangban hub {other}` (pid {pid}) {_WHAT[other]} {folder} (it holds "
        f"{folder / SERVE_LOCK}): one at a time in a hub folder: {stop}{more}")
