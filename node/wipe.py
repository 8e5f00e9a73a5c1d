"""A revoked laptop's wipe (design.md §5: a revoked device is refused at the next contact
and wipes its keys): the keychain, the store, the index and the scans of the node folder,
and of the folders `node restore` moved aside beside it (``DIR.before-restore-…``,
node/restore.py), which hold this device's keychain and store as they were before the
restore. Kept "never deleted" for the clerk to look into after a restore, they outlived
the revocation: the institution's key, under the passphrase a former clerk knows, and the
cases synced to the laptop stayed on the lost disk. The enrollment stays, without its
secret and marked ``wiped``, so the folder says what happened to it."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from node.restore import FOLDER_FILES

ENROLLMENT = "enrollment.json"


def wipe_folder(folder: Path) -> None:
    """Remove what ``folder`` holds of this device but its enrollment, which is marked."""
    for name in FOLDER_FILES:
        path = folder / name
        if name == ENROLLMENT or not (path.exists() or path.is_symlink()):
            continue
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path)
        else:
            path.unlink()
    enr = folder / ENROLLMENT
    if enr.exists():
        try:
            data = json.loads(enr.read_text(encoding="utf-8"))
        except (OSError, ValueError):  # a broken enrollment of an old folder: wiped all the same
            data = {}
        if isinstance(data, dict):
            data.pop("secret", None)
            data["wiped"] = True
            enr.write_text(json.dumps(data, ensure_ascii=False, indent=2), encoding="utf-8")


def set_aside(folder: Path, device_id: str) -> list[Path]:
    """The folders a restore moved beside ``folder`` that hold ``device_id``'s files (or
    no enrollment to tell: what a restore moves is the node folder's own)."""
    out = []
    for path in sorted(folder.parent.glob(f"{folder.name}.before-restore-*")):
        if not path.is_dir() or path.is_symlink():
            continue
        try:
            held = json.loads((path / ENROLLMENT).read_text(encoding="utf-8")).get("device_id")
        except (OSError, ValueError, AttributeError):
            held = None
        if held in (None, device_id):
            out.append(path)
    return out


def wipe_all(folder: Path, device_id: str) -> None:
    for aside in set_aside(folder, device_id):
        wipe_folder(aside)
    wipe_folder(folder)
