"""The node's one exception tree, rooted at :class:`NodeError`.

Each error carries CouchDB's triple (``status``, ``error``, ``reason``) like
:class:`sync.errors.SyncError`; errors from sync, schemas, sqlite3 and reportlab are
translated at the node's boundary with ``raise ... from exc``. Validation errors carry
``fields``: field path -> message (Chinese first, as the schemas give them).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any


class NodeError(Exception):
    """Base of every error raised by :mod:`node`."""

    status: int = 500
    error: str = "node_error"

    def __init__(self, reason: str = "", *, error: str | None = None, status: int | None = None,
                 fields: dict[str, str] | None = None):
        super().__init__(reason)
        self.reason = reason or (self.__class__.__doc__ or self.error).strip()
        if error is not None:
            self.error = error
        if status is not None:
            self.status = status
        self.fields: dict[str, str] = dict(fields or {})

    def as_json(self) -> dict[str, Any]:
        body: dict[str, Any] = {"error": self.error, "reason": self.reason}
        if self.fields:
            body["fields"] = self.fields
        return body

    def __str__(self) -> str:
        return f"{self.status} {self.error}: {self.reason}"


class ConfigError(NodeError):
    """A setting has a wrong value."""

    status = 500
    error = "config_error"


class NotEnrolled(NodeError):
    """This node has no enrollment yet: run `bangban node init`."""

    status = 409
    error = "not_enrolled"


class AlreadyEnrolled(NodeError):
    """This node folder is enrolled already: `bangban node init` never replaces its keys."""

    status = 409
    error = "already_enrolled"


class FolderInUse(NodeError):
    """A running `node serve` (or `node sync`, `node restore`) holds the node folder
    (node.folderlock): a restore, a second server or a `node sync` there is refused by
    name, with the holder's command and pid."""

    status = 409
    error = "folder_in_use"

    def __init__(self, folder: str, pid: str, held_by: str, doing: str):
        what = {"restore": ("恢复", "restore"), "sync": ("运行 node sync", "run node sync"),
                "serve": (("启动第二个", "start a second one") if held_by == "serve"
                          else ("启动 node serve", "start node serve"))}
        zh, en = what.get(doing, (doing, doing))
        if held_by == "serve" and doing == "sync":  # it syncs by itself (node.folderlock)
            zh = f"它会自动同步；要立即同步，请在它的“同步”页点“立即同步”（或先停止它，再{zh}）"
            en = (f"it syncs by itself; to sync now, press 立即同步 (sync now) on its sync "
                  f"page (or stop it first, then {en})")
        elif held_by == "serve":
            zh, en = f"请先停止它，再{zh}", f"stop it first, then {en}"
        else:  # a sync or restore ends by itself
            zh, en = f"请等它结束，再{zh}", f"wait for it to end, then {en}"
        super().__init__(f"node {held_by} 正在使用 {folder}（进程 {pid}）：{zh} / node "
                         f"{held_by} is running on {folder} (pid {pid}): {en}")


class Locked(NodeError):
    """The keys are locked: unlock with the passphrase first."""

    status = 423
    error = "locked"


class NoSession(NodeError):
    """The keys are unlocked, but not for this browser or program: it sends no live session
    cookie (node.sessions). It enters the passphrase to get one."""

    status = 401
    error = "no_session"

    def __init__(self, reason: str = "", **kw: Any):
        super().__init__(reason or (
            "本浏览器（或程序）尚未输入口令：即使本应用已解锁，每个浏览器也须在解锁页输入口令"
            "（程序：POST /api/unlock 并回传其会话 Cookie） / this browser (or program) has no "
            "session: each must enter the passphrase at /unlock even while the app is unlocked "
            "(programs: POST /api/unlock and send its session cookie back)"), **kw)


class BadPassphrase(NodeError):
    """The passphrase does not unlock the keys."""

    status = 401
    error = "bad_passphrase"


class TooManyAttempts(NodeError):
    """Too many wrong passphrases in a row: the next try must wait (node.sessions)."""

    status = 429
    error = "too_many_attempts"

    def __init__(self, seconds: int):
        minutes = (seconds + 59) // 60
        super().__init__(f"口令错误次数过多，请 {minutes} 分钟后再试 / too many wrong "
                         f"passphrases: try again in {minutes} min")


class InvalidInput(NodeError):
    """The input was refused; ``fields`` says what to fix."""

    status = 400
    error = "invalid"


class TransitionRefused(NodeError):
    """The step is not allowed in the case's current state."""

    status = 409
    error = "illegal_transition"


class NotFound(NodeError):
    """No such case, event, form or attachment."""

    status = 404
    error = "not_found"


#: A full disk met outside a form (a page, the API, a sync round writing here).
LAPTOP_DISK_FULL = ("本机磁盘已满，无法写入：请清理本机磁盘空间（删除不需要的文件、清空回收站）或联系"
                    "管理员。已保存的数据都在，没有丢失 / this laptop's disk is full, nothing "
                    "more can be written: free space on the laptop (delete files you do not "
                    "need, empty the recycle bin) or call the operator. Everything saved is "
                    "kept, nothing is lost")


class DiskFull(NodeError):
    """This laptop's disk is full: the write was refused whole (sync.errors.
    InsufficientStorage, the store's transaction undone), so nothing of it is stored and
    nothing stored before is lost; the page keeps what was typed."""

    status = 507
    error = "insufficient_storage"

    def __init__(self, reason: str = "", **kw: Any):
        super().__init__(reason or (
            "本机磁盘已满，刚才的内容没有保存，但仍保留在本页，未丢失：请清理本机磁盘空间（删除不需要"
            "的文件、清空回收站）或联系管理员，然后再点保存。此前保存的数据都在 / this laptop's disk "
            "is full: what you just entered was not saved, but it is still on this page and "
            "not lost. Free space on the laptop (delete files you do not need, empty the "
            "recycle bin) or call the operator, then save again. Everything saved before is "
            "kept"), **kw)


class IndexFull(DiskFull):
    """The case index (a cache of the store) found no room for a row."""


def index_write_failed(exc: Exception, db: Any) -> NodeError:
    """The case index's failed write undone (the sqlite3 connection ``db``) and its error
    as the node's: a full disk, or a failed write."""
    import sqlite3

    if db.in_transaction:  # SQLITE_FULL may have undone it already (sync.sqlite._db)
        db.execute("ROLLBACK")
    if getattr(exc, "sqlite_errorcode", None) == sqlite3.SQLITE_FULL:
        return IndexFull(LAPTOP_DISK_FULL)
    return NodeError(f"index write failed: {exc}")


@contextlib.contextmanager
def disk_full_said() -> Iterator[None]:
    """The store's 507 (a full disk) as :class:`DiskFull`, in the clerk's words."""
    from sync.errors import InsufficientStorage

    try:
        yield
    except InsufficientStorage as exc:
        raise DiskFull() from exc


class DamagedStore(NodeError):
    """A store file failed SQLite's quick_check after it was copied: refused by name."""

    status = 500
    error = "damaged_store"

    def __init__(self, path: Any, found: list[str], *, backup: bool):
        what = (("这份备份的数据文件已损坏，不能恢复：请用较早的一份备份 / this backup's store "
                 "is damaged and cannot be restored: use an older backup") if backup else
                ("本机的数据文件已损坏，不能备份（不要用它覆盖以前的备份）：请用最近一份完好的备份"
                 "恢复（bangban node restore）/ this laptop's store is damaged and cannot be "
                 "backed up (keep the older backups): restore the last good one (`bangban "
                 "node restore`)"))
        super().__init__(f"{path}: {what}；平台仍保存着本站已上传的全部数据 / the hub still "
                         f"has everything this station pushed (SQLite quick_check: "
                         f"{'; '.join(found[:3])})")


class SyncFailed(NodeError):
    """A sync round with the hub failed (the hub is unreachable or refused us)."""

    status = 503
    error = "sync_failed"


class Wiped(NodeError):
    """The hub revoked this device: keys and local data were wiped."""

    status = 410
    error = "wiped"

    def __init__(self, reason: str = "", **kwargs: Any):
        super().__init__(reason or "本机已被平台停用，密钥和本机数据已清除 / the hub revoked this "
                         "device: its keys and local data were wiped", **kwargs)


class PrintError(NodeError):
    """A printable form could not be made."""

    status = 500
    error = "print_error"


class TransferRefused(NodeError):
    """An institution key file was refused (wrong kind, institution, or altered)."""

    status = 400
    error = "bad_key_file"


class NotSyncedSinceRestore(NodeError):
    """This folder's store came from `node backup` and has not completed a sync with the hub
    since (node.restore): the numbers this device gave out after the backup are not here
    yet, so a new case could be given one of them again."""

    status = 409
    error = "restored_not_synced"

    def __init__(self, created_at: str = ""):
        from node.labels import local_time

        at = local_time(created_at)  # the stamp is UTC ISO: the clerk reads Beijing time
        when = f"（备份时间 {at}）" if created_at else ""
        since = f" (backup of {at}, Beijing time)" if created_at else ""
        super().__init__(
            f"本机数据是从备份恢复的{when}，恢复后尚未与平台同步完成：同步前不能新建办件（备份之后"
            "本机发出的编号尚未取回，可能重复）。请联网后在“同步”页点“立即同步”，或运行 "
            "`bangban node sync` / this laptop's data was restored from a backup"
            f"{since} and has not completed a sync with the hub since: new cases wait for one "
            "(the numbers this laptop gave out after the backup are not here yet and could be "
            "given again). Connect, then sync now on the sync page or run `bangban node sync`")
