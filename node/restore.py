"""A station laptop's folder put back from its own `node backup`, and a backup's one sync.

A case number is the device's yearly serial (schemas.ids.case_no), counted in the store's
``_local/serial-YEAR``. A store put back from an older backup counts from the backup's
value: the cases this laptop opened after the backup are at the hub (pushed) but not here,
and their numbers would be given again, two cases with one 编号 on printed forms. The
node takes the serial past every number its index holds (node.core.Node.next_serial), so
one completed sync brings them back; until then a restored store opens no new case.

What says "restored": ``_local/bangban-from-backup`` (``FROM_BACKUP``), written into the
copy by `node backup` itself, so it comes back however the backup is put back (`node
restore`, or the files copied by hand); `node restore` writes it into the store of a
backup made before it existed. A sync round that completed both push and pull removes it
(node.syncer). Numbers given out after the last push that reached the hub are known
nowhere once the laptop's folder is lost: docs/operations.md says what the clerk does.

`node sync --dir BACKUP` (a broken laptop's last push, docs/operations.md) pushes from a
temporary copy of the backup's store: nothing is written into the backup (no index, no
sync state, no pull, no checkpoint), and an unfinished backup is refused (node.backup).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from sync.store import DocumentStore

FROM_BACKUP = "_local/bangban-from-backup"
#: What a node folder holds (node.core), moved aside by a restore, never deleted.
FOLDER_FILES = ("enrollment.json", "keychain.json", "store.sqlite", "store.sqlite-wal",
                "store.sqlite-shm", "index.sqlite", "index.sqlite-wal", "index.sqlite-shm",
                "attachments")


def from_backup(store: DocumentStore) -> dict[str, Any] | None:
    """The stamp of a store put back from a backup and not synced since, else None."""
    from sync.errors import NotFound

    try:
        return dict(store.get_local(FROM_BACKUP))
    except NotFound:
        return None


def stamp(store: DocumentStore, device_id: Any, created_at: str) -> None:
    """Mark ``store`` as a backup's copy of ``created_at`` (kept if marked already: a
    restored laptop backed up again before it synced)."""
    if from_backup(store) is None:
        store.put_local({"_id": FROM_BACKUP, "device_id": device_id, "created_at": created_at})


def require_synced(store: DocumentStore) -> None:
    """Refuse a new case number while ``store`` is a backup's copy not synced since."""
    from node.errors import NotSyncedSinceRestore

    mark = from_backup(store)
    if mark is not None:
        raise NotSyncedSinceRestore(str(mark.get("created_at") or ""))


def synced(store: DocumentStore) -> None:
    """A sync round completed: the store holds what the hub holds of this device."""
    mark = from_backup(store)
    if mark is not None:
        store.delete_local(FROM_BACKUP, mark.get("_rev"))


def synced_by_bundle(store: DocumentStore, bundle_created_at: str) -> bool:
    """A hub bundle file made after the backup was imported (a station with no network at
    all, design.md §4): like a pull, it held every case the hub had of this station then.
    Whether that lifted the stamp. The backup's time is cut to the second: a file of the
    same second may be older, so a file counts from the next second on."""
    mark = from_backup(store)
    if mark is None:
        return False
    try:
        later = (dt.datetime.fromisoformat(bundle_created_at)
                 >= dt.datetime.fromisoformat(str(mark.get("created_at")))
                 + dt.timedelta(seconds=1))
    except (TypeError, ValueError):  # an unreadable time proves nothing: wait for a sync
        return False
    if later:
        synced(store)
    return later


def restore(backup_dir: Path, folder: Path) -> dict[str, Any]:
    """Put the complete backup ``backup_dir`` back as the node folder ``folder`` of the same
    device; what ``folder`` held is moved to a sibling folder, never deleted."""
    from node.backup import complete_backup
    from node.errors import ConfigError
    from node.folderlock import hold

    manifest = complete_backup(backup_dir, "BACKUP")
    if folder.resolve() == backup_dir.resolve():
        raise ConfigError("--dir: 不能恢复到备份目录本身 / the node folder cannot be the backup "
                          "itself: give the laptop's folder")
    try:
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        # held until the restored store is stamped: under a running `node serve` the moved
        # store stayed open and took the clerk's next steps (node.folderlock)
        lock = hold(folder, doing="restore")
    except OSError as exc:
        raise ConfigError(f"--dir: {folder}: 无法恢复 / cannot restore here "
                          f"({exc.strerror or exc})") from exc
    with lock:
        return _put_back(backup_dir, folder, manifest)


def _put_back(backup_dir: Path, folder: Path, manifest: dict[str, Any]) -> dict[str, Any]:
    from node.backup import copy_files
    from node.core import ENROLLMENT, STORE
    from node.errors import ConfigError, DamagedStore
    from sync.open import open_db

    device = manifest.get("device_id")
    present = [n for n in FOLDER_FILES if (folder / n).exists()]
    aside = None
    if present:
        try:
            held = json.loads((folder / ENROLLMENT).read_text(encoding="utf-8")).get("device_id")
        except (OSError, ValueError, AttributeError):
            held = None  # the broken folder's enrollment may be what broke
        if held is not None and held != device:
            raise ConfigError(f"--dir: {folder} 是设备 {held} 的目录，备份是设备 {device} 的 / "
                              f"holds device {held}, the backup is of device {device}: a backup "
                              "goes back only onto its own laptop (a new laptop is a new device)")
    try:
        if present:  # a new folder (0700) beside it, whatever ran a second before
            when = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
            aside = Path(tempfile.mkdtemp(prefix=f"{folder.name}.before-restore-{when}-",
                                          dir=folder.parent))
            for name in present:
                (folder / name).rename(aside / name)
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        copy_files(backup_dir, folder, frozen=True)
    except DamagedStore:  # the backup is damaged: the folder goes back as it was
        for name in FOLDER_FILES:
            (folder / name).unlink(missing_ok=True)
            if aside is not None and (aside / name).exists():
                (aside / name).rename(folder / name)
        if aside is not None:
            aside.rmdir()
        raise
    except OSError as exc:
        kept = f"; 原有文件在 / what was there is in {aside}" if aside else ""
        raise ConfigError(f"--dir: {folder}: 无法恢复 / cannot restore here "
                          f"({exc.strerror or exc}){kept}") from exc
    store = open_db(str(folder / STORE))
    try:  # a backup made before the stamp existed
        stamp(store, device, str(manifest.get("created_at") or ""))
    finally:
        store.close()
    return {"device_id": device, "backup_created_at": manifest.get("created_at"),
            "documents": manifest.get("documents"), "dir": str(folder),
            "moved_aside": str(aside) if aside else None}


@contextmanager
def working_copy(folder: Path) -> Iterator[Path]:
    """A temporary node folder made from the complete backup ``folder`` (its store, as a
    snapshot, its keychain and enrollment), removed afterwards: what reads a backup (its
    push, `node bundle export`) works there, and opening a store writes (``-wal``, the index
    at unlock), so nothing is written into the backup."""
    from node.backup import complete_backup, copy_files

    complete_backup(folder)
    with tempfile.TemporaryDirectory(prefix="bangban-backup-") as tmp:
        copy_files(folder, Path(tmp), frozen=True)
        yield Path(tmp)


def push_backup(folder: Path, timeout: float) -> dict[str, Any]:
    """Push the complete backup ``folder`` to the hub once, from a temporary copy of its
    store: a broken laptop's writes the hub lacked reach it, the backup stays as made."""
    from node.backup import complete_backup
    from node.core import ENROLLMENT, STORE
    from node.errors import SyncFailed
    from node.syncer import hub_url
    from sync.errors import SyncError, Unauthorized
    from sync.open import open_db
    from sync.replicate import ReplicationOptions, replicate

    manifest = complete_backup(folder)
    enr = json.loads((folder / ENROLLMENT).read_text(encoding="utf-8"))
    with working_copy(folder) as tmp:
        local = open_db(str(tmp / STORE))
        remote = None
        try:
            remote = open_db(hub_url(enr), timeout=timeout)
            res = replicate(local, remote, ReplicationOptions(
                max_attempts=3, backoff_cap=5.0, source_location="backup",
                target_location="hub"))
        except Unauthorized as exc:
            raise SyncFailed(f"平台拒绝了设备 {enr.get('device_id')}（已停用或密钥不符）/ the hub "
                             f"refused device {enr.get('device_id')} (revoked, or the secret "
                             f"differs): {exc.reason}") from exc
        except (SyncError, OSError) as exc:
            raise SyncFailed(f"无法连接平台，未上传 / the hub cannot be reached, nothing pushed "
                             f"({getattr(exc, 'error', None) or type(exc).__name__})") from exc
        finally:
            local.close()
            if remote is not None:
                remote.close()
    return {"device_id": manifest.get("device_id"), "backup_created_at":
            manifest.get("created_at"), "pushed": int(res.docs_written),
            "refused": list(res.failures)}


def cmd_push_backup(args: argparse.Namespace, settings: Any) -> int:
    """``node sync --dir BACKUP`` (node.cli.cmd_sync): exit 1 when the hub refused some."""
    out = push_backup(Path(settings.node_dir), float(settings.sync_timeout))
    if args.json:
        print(json.dumps(out, ensure_ascii=False))
    else:
        print(f"备份已上传 / backup pushed: device {out['device_id']} (backup of "
              f"{out['backup_created_at']}): pushed {out['pushed']}, refused "
              f"{len(out['refused'])}; nothing written into {settings.node_dir}")
        for row in out["refused"]:
            print(f"  refused {row.get('id')}: {row.get('reason')}", file=sys.stderr)
    return 1 if out["refused"] else 0


def cmd_restore(args: argparse.Namespace) -> int:
    from node.cli import _settings

    out = restore(Path(args.backup_dir), Path(_settings(args).node_dir))
    if args.json:
        print(json.dumps(out, ensure_ascii=False))
        return 0
    print(f"已恢复 / restored device {out['device_id']} from the backup of "
          f"{out['backup_created_at']} into {out['dir']}"
          + (f"; what was there is kept in {out['moved_aside']}" if out["moved_aside"] else ""))
    print("同步完成前不能新建办件 / no new case until one sync completes: `bangban node sync "
          f"--dir {out['dir']}` (or `node serve`, which syncs by itself)")
    return 0
