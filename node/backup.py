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
"A station laptop's folder").
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


def _private(path: Path) -> Any:
    """A new file only its owner reads (0600 whatever the umask, never overwriting)."""
    return os.fdopen(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "wb")


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
    for name in KEY_FILES:
        with (folder / name).open("rb") as f, _private(out / name) as copy:
            shutil.copyfileobj(f, copy)
    _private(out / STORE).close()  # created 0600 before SQLite opens it
    # read-only source: the backup never writes to the live store (nor creates one)
    src = sqlite3.connect(f"file:{folder / STORE}?mode=ro", uri=True)
    dst = sqlite3.connect(out / STORE)
    try:
        src.backup(dst)  # one consistent snapshot, whatever `node serve` writes meanwhile
        dst.execute("PRAGMA journal_mode=DELETE")  # one self-contained file, no -wal
    except sqlite3.Error as exc:
        from node.errors import NodeError

        raise NodeError(f"{folder / STORE}: 备份失败 / backup failed ({exc})") from exc
    finally:
        dst.close()
        src.close()
    from sync.open import open_db

    copy = open_db(str(out / STORE))  # the copy opens as a store: what the manifest counts
    try:
        info = copy.info()
    finally:
        copy.close()
    manifest = {"kind": "bangban-node-backup", "device_id": enrollment.get("device_id"),
                "institution": enrollment.get("institution"),
                "created_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
                "files": [STORE, *KEY_FILES], "documents": int(info.get("doc_count") or 0),
                "update_seq": info.get("update_seq")}
    with _private(out / MANIFEST) as f:
        f.write(json.dumps(manifest, ensure_ascii=False, indent=2).encode())
    return {**manifest, "dir": str(out)}


def serve_refusal(folder: Path) -> NodeError | None:
    """Why ``node serve`` must not run on ``folder``, when it is a backup (its manifest):
    served, it is a second laptop signing as the backed-up device, which the hub cannot
    tell apart from the first (docs/operations.md: a new laptop is a new device). Its one
    use, a broken laptop's last push, is ``node sync --dir`` (or ``node bundle export``)."""
    from node.errors import ConfigError

    try:
        manifest = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(manifest, dict) or manifest.get("kind") != "bangban-node-backup":
        return None
    return ConfigError(f"--dir: {folder} 是设备 {manifest.get('device_id')} 的备份，不能作为"
                       "工作目录运行（新电脑须登记为新设备）/ is a backup of device "
                       f"{manifest.get('device_id')}, not a laptop's folder: set up a new laptop "
                       "as a new device (docs/operations.md, \"A station laptop's folder\"); a "
                       "broken laptop's backup is only synced once, `node sync --dir`")


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
    """``node backup DIR`` (called by :func:`node.cli.register`)."""
    p = sub.add_parser("backup", help="copy this laptop's node folder into DIR (a consistent "
                       "SQLite snapshot, safe while `node serve` runs; no passphrase needed)")
    p.add_argument("out_dir", metavar="DIR", help="a new or empty folder (made 0700)")
    p.add_argument("--json", action="store_true", help="print the summary as JSON")
    common(p)
    from node.cli import _one_line

    p.set_defaults(func=_one_line(cmd_backup))
