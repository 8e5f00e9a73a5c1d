"""What the sync badge and the sync page show (:class:`SyncState`), kept apart from the
rounds that change it (:mod:`node.syncer`)."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

#: the hub unreachable, in words (design §4: offline first; the loop retries by itself)
OFFLINE = ("无法连接平台：网络中断或平台未运行。本机照常办理，数据已保存在本机，联通后自动上传"
           " / cannot reach the hub: the network is down or the hub is not running. Work goes on"
           " here; everything is saved on this laptop and uploads by itself when the link is back")
#: The hub answered 503: it runs, but its database does not (CouchDB down or refusing the
#: hub, hub.app.STORE_DOWN). Not the station's network: the clerk calls the hub's operator.
HUB_STORE_DOWN = ("平台有应答，但其数据库暂不可用，请告知平台管理员。本机照常办理，数据已保存在本机，"
                  "恢复后自动上传 / the hub answers but its database is unavailable: tell the "
                  "hub's operator. Work goes on here; everything is saved on this laptop and "
                  "uploads by itself when the hub is back")


#: The hub answered 507: its disk is full (hub.diskfull.STORE_FULL). Nothing was taken and
#: nothing refused: the documents wait here and go once the hub's operator frees space.
HUB_FULL = ("平台的存储空间已满，暂时不能接收上传，请告知平台管理员。本机照常办理，数据已保存在本机，"
            "平台腾出空间后自动上传 / the hub's storage is full and takes no uploads for now: "
            "tell the hub's operator. Work goes on here; everything is saved on this laptop "
            "and uploads by itself once the hub has room")


#: The hub's address answered 404 for the database of the enrollment's ``db_url``: a hub
#: restored or set up under another name, a proxy path; not the network either.
HUB_NO_DB = ("平台有应答，但没有本机登记的数据库地址，请告知平台管理员。本机照常办理，数据已保存在本机"
             " / the hub answers but has no database at this laptop's address (its enrollment's "
             "db_url): tell the hub's operator. Work goes on here; everything is saved on "
             "this laptop")


#: The hub answered the round with an error of its own (a 500 of a bug there, a request of
#: the round refused whole): not the network, which the clerk was sent to look at.
HUB_ERROR = ("平台有应答，但本轮同步出错（HTTP {status}），请告知平台管理员。本机照常办理，数据已保存在"
             "本机，会自动重试 / the hub answers but failed this round (HTTP {status}): tell the "
             "hub's operator. Work goes on here; everything is saved on this laptop and the "
             "round is tried again by itself")


#: What a pull brought that this laptop's device signed and its store never held: the node
#: folder (keychain, enrollment) copied onto another laptop that works as this one. Both give
#: out the same case numbers (the device's serial) to different cases, and the hub cannot
#: tell their signatures apart ("Never copy keychain.json", docs/operations.md).
TWIN_WORDS = ("平台发来了 {n} 条本机未写过、却以本设备（{device}）名义签名的记录：本机的节点文件夹多半"
              "被复制到了另一台电脑，两台会给出相同的办件编号。请立即停用其中一台，并联系管理员 / "
              "the hub sent {n} documents signed as this device ({device}) that this laptop never "
              "wrote: its node folder was most likely copied onto another laptop, and both give "
              "out the same case numbers. Stop using one of them now and call the operator")


#: The hub refused this device (401: unknown device or a key that does not match).
REFUSED_DEVICE = ("平台拒绝了本设备（设备编号或密钥不符），请联系管理员 / the hub refused the "
                  "device: {reason}")


#: The replication checkpoint (``_local/<repid>``, the same id for one device on every
#: laptop) kept changing under this round's writes: another laptop replicates as this device
#: at the same time, its node folder copied (:data:`TWIN_WORDS`). Not a fault of the hub's.
TWIN_CHECKPOINT = ("平台上本设备的同步进度被另一台电脑同时改写：本机的节点文件夹多半被复制到了另一台电脑，"
                   "两台会给出相同的办件编号。请立即停用其中一台，并联系管理员 / this device's "
                   "replication checkpoint on the hub was changed by another laptop at the same "
                   "time: its node folder was most likely copied onto another laptop, and both "
                   "give out the same case numbers. Stop using one of them now and call the operator")


#: The round was cancelled: ``node serve`` is stopping (the laptop shutting down).
STOPPED = ("本轮同步已停止（程序正在退出）。本机数据都已保存，下次启动后自动继续 / the round was stopped "
           "(node serve is shutting down). Everything is saved on this laptop; it goes on by "
           "itself at the next start")


def offline_words(exc: BaseException, here: str = "") -> str:
    """Why a round (or one of its retries) failed, for the sync page: the hub unreachable,
    or the hub answering 503, 404, 507 or another error; or a full disk ``here`` (the node's folder); the
    error's code in brackets."""
    from node.errors import LAPTOP_DISK_FULL
    from sync.errors import CheckpointConflict, SyncError, TransportError

    code = getattr(exc, "error", None) or type(exc).__name__
    if laptop_full(exc, here):  # this laptop's store (or a file here) had no room
        return f"{LAPTOP_DISK_FULL}（{code}）"
    # TransportError: no answer; any other SyncError is the status the hub's address sent
    words = None
    if isinstance(exc, SyncError) and not isinstance(exc, TransportError):
        from node.pull import NoRootKeys
        from sync.replicate.retry import Cancelled

        if isinstance(exc, NoRootKeys):  # this laptop's enrollment, said in its own words
            return f"{exc.reason}（{code}）"
        if isinstance(exc, Cancelled):  # node serve is stopping
            return f"{STOPPED}（{code}）"
        if isinstance(exc, CheckpointConflict):
            return f"{TWIN_CHECKPOINT}（{code}）"
        words = {503: HUB_STORE_DOWN, 404: HUB_NO_DB, 507: HUB_FULL}.get(
            exc.status, HUB_ERROR.format(status=exc.status))
    return f"{words or OFFLINE}（{code}）"


def laptop_full(exc: BaseException, here: str) -> bool:
    """A full disk here: the file system's ENOSPC, the node's own :class:`node.errors.
    DiskFull` (the case index, say), SQLite's SQLITE_FULL on a file the node wrote itself,
    or a 507 of a store file in the folder ``here`` (sync.errors.InsufficientStorage.where;
    the hub's 507 names no file)."""
    import errno
    import os
    import sqlite3

    from node.errors import DiskFull

    if isinstance(exc, OSError):
        return exc.errno in (errno.ENOSPC, errno.EDQUOT)
    if isinstance(exc, DiskFull):
        return True
    if isinstance(exc, sqlite3.Error):
        return getattr(exc, "sqlite_errorcode", None) == sqlite3.SQLITE_FULL
    where = str(getattr(exc, "where", "") or "")
    return bool(where) and (not here or where.startswith(os.path.abspath(here) + os.sep))


#: A round that failed on an error of this software or this laptop (no answer of the hub's
#: said it): the clerk is told that nothing is lost and what to do; the error itself goes
#: to node serve's log (its window or journal), not to the page (it said ``repr(exc)``).
UNEXPECTED = ("同步出现意外错误，本轮没有完成。本机数据都已保存，没有丢失；会自动重试。如果反复出现，"
              "请联系管理员（详情在 node serve 的日志中）/ the sync round failed on an "
              "unexpected error. Everything on this laptop is saved, nothing is lost, and it "
              "tries again by itself. If this keeps happening, call the operator (the details "
              "are in node serve's log)")


def unexpected_words(exc: BaseException, here: str = "") -> str:
    """The sync page's words for an error no round expects: a full disk here is said as
    every full disk (:func:`offline_words`), anything else as :data:`UNEXPECTED`, with the
    error's kind in brackets for the operator."""
    if laptop_full(exc, here):
        return offline_words(exc, here)
    return f"{UNEXPECTED}（{type(exc).__name__}）"


def written_since(store: Any, since: Any) -> list[str]:
    """The ids of the documents ``store`` changed after its seq ``since`` (``None``: none
    known): what the clerk saved after a push read the feed waits for the next push."""
    if since is None:
        return []
    return [str(row["id"]) for row in store.changes(since=since)["results"]]


#: The hub refused a record for its schema version, newer than any it knows: it runs an
#: older Bangban than this laptop (the laptop upgraded first). The laptop writes only the
#: newest version (docs/CONVENTIONS.md), which for a step's free text is the sealed one
#: (7.2.2.2): it cannot write the old one instead, so the hub is what must be upgraded.
HUB_OLDER = ("平台的软件版本比本机旧，还不认识本机记录的格式（schema_version {version}）：请告知平台"
             "管理员升级平台。记录已保存在本机，平台升级后自动重新上传 / the hub runs an older "
             "Bangban than this laptop and does not know this record's format (schema_version "
             "{version}): ask the hub's operator to upgrade the hub. The record is kept on this "
             "laptop and sent again by itself once the hub takes it")
#: Refused only because the step before it was (base_unknown): it goes up with that one.
WAITS_FOR_BASE = ("上一步记录被平台拒收，本记录随它一起重新上传（见上）/ the step before it was "
                  "refused (above): this one is sent again with it")
#: What the hub's schemas say of a version they do not know, from the first release on
#: (schemas.events, schemas.reference): "schema_version must be 1" or "... 1 or 2 for ...".
_KNOWN_VERSIONS = re.compile(r"schema_version must be (\d+(?:(?:, | or )\d+)*)")


def refusal_words(failure: Mapping[str, Any], refused_ids: Iterable[str], store: Any) -> str:
    """The sync page's words for a document the hub refused on push: a version the hub does
    not know yet (:data:`HUB_OLDER`), the step after such a one (:data:`WAITS_FOR_BASE`),
    else the hub's own reason."""
    from sync.errors import SyncError

    reason = str(failure.get("reason") or "")
    known = _KNOWN_VERSIONS.search(reason)
    if known:
        try:
            version = int(store.get(str(failure.get("id")))["schema_version"])
        except (SyncError, KeyError, TypeError, ValueError):
            version = 0
        if version > max(int(v) for v in re.findall(r"\d+", known.group(1))):
            return HUB_OLDER.format(version=version)
    base = re.search(r"base_hlc (\S+) is not an event", reason)
    if "base_unknown" in reason and base and any(
            str(i).endswith(f":{base.group(1)}") for i in refused_ids):
        return WAITS_FOR_BASE
    return reason


def explain_refusals(failures: list[dict[str, Any]], store: Any) -> list[dict[str, Any]]:
    """``failures`` (the replicator's, for the sync page and the API), each with its
    ``message`` in the clerk's words (:func:`refusal_words`) beside the hub's ``reason``."""
    ids = [str(f.get("id")) for f in failures]
    return [{**f, "message": refusal_words(f, ids, store)} for f in failures]


#: A pulled document the verifying target refused (node.pull): the hub sent something no
#: enrolled device signed, which only a compromised or broken hub does (design.md §5).
PULL_REFUSED = ("平台发来的记录未通过签名校验，已拒收 / a document from the hub failed its signature "
                "check and was refused: {id}: {reason}")


@dataclass
class SyncState:
    """What the sync badge and /sync show."""

    status: str = "idle"  # idle, running, ok, offline, error, wiped
    last_ok: str | None = None
    last_attempt: str | None = None
    last_error: str | None = None
    pending: int = 0  # local changes written since the last successful push
    phase: str = ""
    docs_done: int = 0
    docs_total: int | None = None
    pushed: int = 0
    pulled: int = 0
    refused: list[dict[str, Any]] = field(default_factory=list)
    #: Documents from the hub refused on pull (bad signature, design.md §5), the last 20 kept
    #: across rounds: the checkpoint moves past them, so they are not offered again.
    pull_refused: list[dict[str, Any]] = field(default_factory=list)
    rounds: int = 0
    #: Seconds this laptop's clock is ahead of the hub's (negative: behind), measured at
    #: :data:`node.clockcheck.CHECK_EVERY` intervals during sync rounds (design.md §6).
    clock_offset: float | None = None
    clock_checked: str | None = None
    clock_checked_at: float = field(default=0.0, repr=False)
    #: Another laptop signing as this device (:meth:`note_twin`): when, how many, a few ids.
    twin: dict[str, Any] | None = None
    #: ``time.time() - time.monotonic()`` at that check: when it moves, the wall clock was
    #: set (by the clerk, after the warning) and the offset measured before is stale
    clock_checked_wall: float = field(default=0.0, repr=False)
    #: The clock offset known when ``last_ok`` was stamped (kept with it across restarts):
    #: ``last_ok`` is this laptop's time, so the hub's time of that sync is ``last_ok``
    #: minus it (:meth:`_clock_went_back`)
    last_ok_offset: float | None = None

    def note_twin(self, device: str, ids: list[str], at: str) -> None:
        """Another laptop signs as ``device``, this one (:data:`TWIN_WORDS`): ``ids`` it wrote."""
        count = int((self.twin or {}).get("count", 0)) + len(ids)
        self.twin = {"at": at, "device": device, "count": count, "ids": ids[:3]}

    def twin_warning(self) -> str | None:
        """The warning every page shows once another laptop signed as this one."""
        from flask_babel import gettext as _

        if not self.twin:
            return None
        return _("平台发来了 %(n)s 条本机未写过、却以本设备名义签名的记录：本机的节点文件夹多半被复制到"
                 "了另一台电脑，两台会给出相同的办件编号。请立即停用其中一台，并联系管理员。",
                 n=self.twin["count"])

    def note_local_write(self, n: int) -> None:
        self.pending += n

    def note_pull_refused(self, failures: list[dict[str, Any]]) -> str | None:
        """Keep the documents a pull refused, each with its line for the sync page; the
        first line (and how many more), or ``None`` when nothing was refused."""
        lines = [dict(f, message=PULL_REFUSED.format(id=f.get("id"), reason=f.get("reason")))
                 for f in failures if f.get("error") == "forbidden"]
        if not lines:
            return None
        self.pull_refused = (self.pull_refused + lines)[-20:]
        more = f" (+{len(lines) - 1})" if len(lines) > 1 else ""
        return str(lines[0]["message"]) + more

    def since_words(self) -> str:
        """When the last round got through and what waits here, for ``bangban node sync``
        (it said only why the round failed, or counts in English, never either)."""
        last = self.last_ok or "从未 / never"
        waiting = (f"待上传 {self.pending} 项 / {self.pending} changes wait for upload"
                   if self.pending else "没有待上传的 / nothing waits for upload")
        return f"上次成功同步 / last good sync: {last}；{waiting}"

    def round_words(self) -> str:
        """``bangban node sync``'s line after a round that got through (and, when the hub
        is older than this laptop, what to do: the count alone said nothing of it)."""
        older = next((str(r["message"]) for r in self.refused
                      if str(r.get("message", "")).startswith(HUB_OLDER[:8])), "")
        return (f"已同步 / synced: 上传 pushed {self.pushed}，下载 pulled {self.pulled}，"
                f"被拒 refused {len(self.refused)}，下载被拒 refused on pull "
                f"{len(self.pull_refused)}；{self.since_words()}"
                + (f"\n{older}" if older else "")
                + (f"\n{TWIN_WORDS.format(n=self.twin['count'], device=self.twin['device'])}"
                   if self.twin else ""))

    def unreachable(self) -> bool:
        """Whether the last error says the hub was out of reach (or could not take it)."""
        return str(self.last_error or "").startswith((OFFLINE, HUB_STORE_DOWN, HUB_NO_DB,
                                                      HUB_FULL, HUB_ERROR.split("（")[0]))

    def hub_said_no(self) -> bool:
        """Whether the hub answered the last round no (its disk full, no database for this
        laptop, an error of its own): not the link, so a probe's answer says nothing of it."""
        return str(self.last_error or "").startswith((HUB_FULL, HUB_NO_DB,
                                                      HUB_ERROR.split("（")[0]))

    def label(self) -> str:
        from flask_babel import gettext as _

        waiting = f"（{_('待上传')} {self.pending}）" if self.pending else ""
        # On a bad link a round hangs up to sync_timeout per request: the retry after an
        # offline round is still offline to the clerk, with what is waiting to go (the badge
        # said "同步中" most of the time, and never how much was not uploaded yet).
        if self.status == "running" and self.unreachable():
            return self.trouble_label() + waiting
        if self.status == "running":
            return _("同步中") + (f" {self.docs_done}" if self.docs_done else "") + waiting
        if self.status == "wiped":
            return _("本机已停用")
        if self.status in ("offline", "error"):
            return self.trouble_label() + waiting
        if self.last_ok:
            from node.labels import local_time

            return _("已同步") + f" {local_time(self.last_ok)[11:16]}" + (
                f"（{_('待上传')} {self.pending}）" if self.pending else "")
        return _("未同步") + (f"（{_('待上传')} {self.pending}）" if self.pending else "")

    def trouble_label(self) -> str:
        """The badge of a round that failed, by who said no: 离线 only when nothing answered
        (the badge said 离线 for a hub's 409, 507 or refusal too, and the clerk checked a
        network that worked while the page's line below said the hub had answered)."""
        from flask_babel import gettext as _

        from node.errors import LAPTOP_DISK_FULL

        said = str(self.last_error or "")
        if said.startswith(OFFLINE):
            return _("离线，自动重试")
        if said.startswith(REFUSED_DEVICE[:8]):  # 401: retrying does not help
            return _("平台拒绝本设备，请联系管理员")
        if said.startswith(TWIN_CHECKPOINT[:8]):
            return _("平台出错：本机的节点文件夹可能被复制，请停用其中一台并联系管理员")
        if self.unreachable():  # the hub answered (offline was said above): it erred
            return _("平台出错，请告知平台管理员，自动重试")
        if said.startswith(LAPTOP_DISK_FULL[:6]):
            return _("本机磁盘已满，请清理磁盘空间")
        return _("同步出错，自动重试")

    def clock_warning(self, limit: float) -> str | None:
        """The warning every page shows while this laptop's clock is off by more than
        ``limit`` seconds, or ``None``."""
        from flask_babel import gettext as _

        from node.clockcheck import offset_text
        from node.labels import _en

        if self.clock_offset is not None and abs(self.clock_offset) > limit:
            return _("本机时钟比平台%(offset)s，办理时间将记错：请校准电脑的日期和时间。",
                     offset=offset_text(self.clock_offset, en=_en()))
        return self._clock_went_back(limit)

    def _clock_went_back(self, limit: float) -> str | None:
        """Offline, the hub cannot be asked, but a clock now earlier than this laptop's own
        last good sync went back for certain (a reset battery-backed clock after a restart,
        a clock set by hand): the clerk of a station offline all morning recorded every step
        a day or years early, warned by nothing until the network returned (design.md §6)."""
        import datetime as dt

        from flask_babel import gettext as _

        from node.labels import local_time

        try:
            # the hub's time of the last good sync: a laptop a year ahead then, its clock
            # put right by the clerk after the warning and restarted offline, was told its
            # now right clock "may have been reset", until the network came back
            last = dt.datetime.fromisoformat(str(self.last_ok)) \
                - dt.timedelta(seconds=self.last_ok_offset or 0.0)
        except (ValueError, OverflowError):
            return None
        if dt.datetime.now(dt.UTC) >= last - dt.timedelta(seconds=limit):
            return None
        return _("本机时钟早于上次成功同步的时间（%(at)s）：电脑的日期或时间可能被重置，办理时间"
                 "将记错。请校准电脑的日期和时间。", at=local_time(last.isoformat())[:16])

    def as_json(self) -> dict[str, Any]:
        out = asdict(self)
        out.pop("clock_checked_at", None)
        out.pop("clock_checked_wall", None)
        out.pop("last_ok_offset", None)
        try:
            out["label"] = self.label()
        except RuntimeError:  # outside a request: no locale
            out["label"] = self.status
        return out
