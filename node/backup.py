"""``bangban node backup DIR``: a consistent copy of a station laptop's folder.

What a node folder holds (node/core.py): ``store.sqlite`` (every document of the station's
scope, personal data sealed, and the writes not pushed yet; ``-wal``/``-shm`` beside it
while it is open), ``keychain.json`` (this laptop's device key and the institution's keys,
locked under the clerk's passphrase), ``enrollment.json`` (hub address, device id and the
device secret) and ``index.sqlite`` (derived: rebuilt from the store at the next unlock).

Copying ``store.sqlite`` with ``cp`` while ``node serve`` writes can give a file whose
pages come from different moments (or miss what is still in the ``-wal`` file): SQLite's
online backup API copies a consistent snapshot instead (https://sqlite.org/backup.html),
while the node keeps working. No passphrase is needed: nothing is opened, what is copied is
sealed or locked as it is in the folder. The folder is made 0700 and its files 0600, and
``manifest.json`` is written last: a backup without it is incomplete (docs/operations.md,
"A station laptop's folder"). ``backup-unfinished.json``, written first and removed after
the manifest, says so of a backup that stopped half-way (a full disk, a stick pulled): an
incomplete backup is told from a laptop's folder, which has neither file.

The copied store carries ``_local/bangban-from-backup`` (node.restore): put back on the
laptop, by `node restore` or by hand, it opens no new case until a sync has brought back
the numbers given out after the backup.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import shutil
import sqlite3
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from node.errors import NodeError

#: What a backup holds, besides the store: the files that make the store usable again on
#: the same device (the index is derived and left out).
KEY_FILES = ("keychain.json", "enrollment.json")
MANIFEST = "manifest.json"
UNFINISHED = "backup-unfinished.json"
KIND = "bangban-node-backup"


def private_file(path: Path) -> Any:
    """A new file only its owner reads (0600 whatever the umask, never overwriting)."""
    return os.fdopen(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "wb")


def snapshot(source: Path, copy: Path, *, frozen: bool = False) -> None:
    """``source`` (a SQLite store, read only: never written, nor created) copied into the
    new file ``copy`` (0600): one consistent snapshot, whatever `node serve` writes
    meanwhile, as one self-contained file (no ``-wal``). ``frozen``: ``source`` is a
    backup, opened ``immutable`` (https://sqlite.org/uri.html): read only, SQLite still
    made ``-wal``/``-shm`` beside a file in WAL mode (an older release left its backups so)."""
    from urllib.request import pathname2url

    from node.errors import DamagedStore, NodeError
    from sync.sqlite import is_damage, quick_check

    private_file(copy).close()  # created 0600 before SQLite opens it
    uri = f"file:{pathname2url(str(source.absolute()))}?mode=ro" + ("&immutable=1" if frozen else "")
    src = sqlite3.connect(uri, uri=True)
    dst = sqlite3.connect(copy)
    try:
        src.backup(dst)
        dst.execute("PRAGMA journal_mode=DELETE")
    except sqlite3.Error as exc:
        if is_damage(exc):  # the backup API met a page it cannot read
            raise DamagedStore(source, [str(exc)], backup=frozen) from exc
        raise NodeError(f"{source}: 复制失败 / copy failed ({exc})") from exc
    finally:
        dst.close()
        src.close()
    # The online backup copies pages as they are: a damaged page (a failing disk, a power
    # cut on a cheap stick) arrives in the copy. Checked there, the copy being what is kept.
    found = quick_check(copy)
    if found:
        raise DamagedStore(source, found, backup=frozen)


def copy_files(folder: Path, out: Path, *, frozen: bool = False) -> None:
    """The key files and a snapshot of the store of ``folder`` into the folder ``out``,
    as new files only the owner reads (``frozen``: ``folder`` is a backup)."""
    from node.core import STORE

    for name in KEY_FILES:
        with (folder / name).open("rb") as f, private_file(out / name) as copy:
            shutil.copyfileobj(f, copy)
    snapshot(folder / STORE, out / STORE, frozen=frozen)


def backup(folder: Path, out: Path) -> dict[str, Any]:
    """Copy the node folder ``folder`` into the new or empty folder ``out``."""
    from node.core import ENROLLMENT, KEYCHAIN, STORE
    from node.errors import InvalidInput, NotEnrolled

    if not (folder / KEYCHAIN).exists() or not (folder / STORE).exists():
        raise NotEnrolled(f"{folder}: 没有已登记的节点数据 / no enrolled node here "
                          f"({KEYCHAIN} and {STORE} are needed): check --dir")
    enrollment = json.loads((folder / ENROLLMENT).read_text(encoding="utf-8"))
    out.mkdir(mode=0o700, parents=True, exist_ok=True)
    if any(out.iterdir()):
        raise InvalidInput(f"DIR: {out} 不是空目录 / is not empty: a backup never overwrites "
                           "one; give a new folder", fields={"DIR": "not empty / 非空"})
    out.chmod(0o700)
    created_at = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
    with private_file(out / UNFINISHED) as f:  # first: whatever stops the backup, it stays
        f.write(json.dumps({"kind": KIND, "device_id": enrollment.get("device_id"),
                            "started_at": created_at}).encode())
    copy_files(folder, out)
    from node.restore import stamp
    from sync.open import open_db

    copy = open_db(str(out / STORE))  # the copy opens as a store: what the manifest counts
    try:
        info = copy.info()
        stamp(copy, enrollment.get("device_id"), created_at)
    finally:
        copy.close()
    journal = sqlite3.connect(out / STORE)  # the store opened in WAL mode: one file again
    try:
        journal.execute("PRAGMA journal_mode=DELETE")
    finally:
        journal.close()
    manifest = {"kind": KIND, "device_id": enrollment.get("device_id"),
                "institution": enrollment.get("institution"), "created_at": created_at,
                "files": [STORE, *KEY_FILES], "documents": int(info.get("doc_count") or 0),
                "update_seq": info.get("update_seq")}
    with private_file(out / MANIFEST) as f:
        f.write(json.dumps(manifest, ensure_ascii=False, indent=2).encode())
    (out / UNFINISHED).unlink()
    return {**manifest, "dir": str(out)}


def backup_state(folder: Path) -> tuple[str | None, dict[str, Any]]:
    """``("complete", manifest)`` for a backup folder, ``("unfinished", note)`` for a
    backup that stopped half-way (``UNFINISHED`` without the manifest), ``(None, {})`` for
    anything else (a laptop's folder)."""
    for state, name in (("complete", MANIFEST), ("unfinished", UNFINISHED)):
        try:
            doc = json.loads((folder / name).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        if isinstance(doc, dict) and doc.get("kind") == KIND:
            return state, doc
    return None, {}


def complete_backup(folder: Path, option: str = "--dir") -> dict[str, Any]:
    """The manifest of the complete backup ``folder``, else a clear refusal naming
    ``option``: an unfinished backup may lack documents the laptop held."""
    from node.errors import ConfigError

    state, doc = backup_state(folder)
    missing = [n for n in doc.get("files") or () if not (folder / str(n)).is_file()]
    if state == "complete" and not missing:
        return doc
    if state is None:
        raise ConfigError(f"{option}: {folder} 不是 `bangban node backup` 做的备份（没有 "
                          f"{MANIFEST}）/ is not a backup made by `bangban node backup` (no "
                          f"{MANIFEST})")
    what = ", ".join(missing) if missing else MANIFEST
    raise ConfigError(f"{option}: {folder} 是未完成的备份（缺少 {what}：备份中途停止）/ is an "
                      f"incomplete backup (no {what}: the backup stopped half-way) and may lack "
                      "documents the laptop held: make a new backup if the laptop still runs, "
                      "else use the last complete one")


def serve_refusal(folder: Path) -> NodeError | None:
    """Why ``node serve`` must not run on ``folder``, when it is a backup (its manifest):
    served, it is a second laptop signing as the backed-up device, which the hub cannot
    tell apart from the first (docs/operations.md: a new laptop is a new device). Its one
    use, a broken laptop's last push, is ``node sync --dir`` (or ``node bundle export``)."""
    from node.errors import ConfigError

    state, manifest = backup_state(folder)
    if state is None:
        return None
    return ConfigError(f"--dir: {folder} 是设备 {manifest.get('device_id')} 的备份，不能作为"
                       "工作目录运行（新电脑须登记为新设备；本机数据损坏时用 `bangban node "
                       "restore` 恢复到工作目录）/ is a backup of device "
                       f"{manifest.get('device_id')}, not a laptop's folder: set up a new laptop "
                       "as a new device (docs/operations.md, \"A station laptop's folder\"); a "
                       "broken laptop's backup is only synced once, `node sync --dir`; this "
                       "laptop's own folder is put back with `bangban node restore BACKUP`")


def cmd_backup(args: argparse.Namespace) -> int:
    from node.cli import _settings

    report = backup(Path(_settings(args).node_dir), Path(args.out_dir))
    if args.json:
        print(json.dumps(report, ensure_ascii=False))
    else:
        print(f"已备份 / backed up {report['device_id']} -> {report['dir']} "
              f"({report['documents']} documents; {', '.join(report['files'])})")
    return 0


def register(sub: Any, common: Any) -> None:
    """``node backup DIR`` and ``node restore BACKUP`` (called by :func:`node.cli.register`)."""
    from node.cli import _one_line
    from node.restore import cmd_restore

    for name, help_text, (dest, metavar, arg_help), func in (
            ("backup", "copy this laptop's node folder into DIR (a consistent SQLite snapshot, "
             "safe while `node serve` runs; no passphrase needed)",
             ("out_dir", "DIR", "a new or empty folder (made 0700)"), cmd_backup),
            ("restore", "put this laptop's own backup (`node backup`) back as its node folder; "
             "what the folder held is moved aside, not deleted; no new case until one sync",
             ("backup_dir", "BACKUP", "a complete backup (with manifest.json)"), cmd_restore)):
        p = sub.add_parser(name, help=help_text)
        p.add_argument(dest, metavar=metavar, help=arg_help)
        p.add_argument("--json", action="store_true", help="print the summary as JSON")
        common(p)
        # restore makes the folder it puts the backup in (a new disk); backup needs its own
        p.set_defaults(func=_one_line(func), new_folder=name == "restore")
