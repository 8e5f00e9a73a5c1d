"""Sync with the hub: one round = push (local → hub device endpoint) then pull (hub → local),
with D's replicator over the DocumentStore interface; a background loop in `node serve`.

State is visible to the UI and the API (last sync, pending changes, progress, errors).
A 401 whose body says ``"bangban_wipe": true`` means the hub revoked this device: the
node wipes its keys and local data at once (design §5) and stops syncing.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import threading
import time
import urllib.error
import urllib.request
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, urlsplit, urlunsplit

from node.errors import NotEnrolled, SyncFailed, Wiped

if TYPE_CHECKING:
    from node.core import Node


#: A pulled document the verifying target refused (node.pull): the hub sent something no
#: enrolled device signed, which only a compromised or broken hub does (design.md §5).
#: the hub unreachable, in words (design §4: offline first; the loop retries by itself)
OFFLINE = ("无法连接枢纽：网络中断或枢纽未运行。本机照常办理，数据已保存在本机，联通后自动上传"
           " / cannot reach the hub: the network is down or the hub is not running. Work goes on"
           " here; everything is saved on this laptop and uploads by itself when the link is back")
#: node-private (never replicated): the last good round and the store's seq at its end, so
#: the count of what waits for upload and the last sync survive a restart
STATE_DOC = "_local/bangban-sync-state"
PULL_REFUSED = ("集中端发来的文档签名无效，已拒收 / a document from the hub failed its signature "
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

    def label(self) -> str:
        from flask_babel import gettext as _

        waiting = f"（{_('待上传')} {self.pending}）" if self.pending else ""
        # On a bad link a round hangs up to sync_timeout per request: the retry after an
        # offline round is still offline to the clerk, with what is waiting to go (the badge
        # said "同步中" most of the time, and never how much was not uploaded yet).
        if self.status == "running" and str(self.last_error or "").startswith(OFFLINE):
            return _("离线，自动重试") + waiting
        if self.status == "running":
            return _("同步中") + (f" {self.docs_done}" if self.docs_done else "") + waiting
        if self.status == "wiped":
            return _("设备已吊销")
        if self.status in ("offline", "error"):
            return _("离线，自动重试") + waiting
        if self.last_ok:
            from node.labels import local_time

            return _("已同步") + f" {local_time(self.last_ok)[11:16]}" + (
                f"（{_('待上传')} {self.pending}）" if self.pending else "")
        return _("未同步") + (f"（{_('待上传')} {self.pending}）" if self.pending else "")

    def clock_warning(self, limit: float) -> str | None:
        """The warning every page shows while this laptop's clock is off by more than
        ``limit`` seconds, or ``None``."""
        from flask_babel import gettext as _

        from node.clockcheck import offset_text
        from node.labels import _en

        if self.clock_offset is None or abs(self.clock_offset) <= limit:
            return None
        return _("本机时钟比枢纽%(offset)s，办理时间将记错：请校准电脑的日期和时间。",
                 offset=offset_text(self.clock_offset, en=_en()))

    def as_json(self) -> dict[str, Any]:
        out = asdict(self)
        out.pop("clock_checked_at", None)
        try:
            out["label"] = self.label()
        except RuntimeError:  # outside a request: no locale
            out["label"] = self.status
        return out


def _now() -> str:
    return dt.datetime.now().astimezone().isoformat(timespec="seconds")


def _split_credentials(url: str) -> tuple[str, str | None]:
    """``(url without credentials, "user:pass" or None)``."""
    parts = urlsplit(url)
    if parts.username is None:
        return url, None
    host = parts.hostname or ""
    if parts.port:
        host += f":{parts.port}"
    clean = urlunsplit((parts.scheme, host, parts.path, parts.query, parts.fragment))
    return clean, f"{parts.username}:{parts.password or ''}"


class Syncer:
    """One per node; thread-safe (one round at a time)."""

    def __init__(self, node: Node):
        self.node = node
        self.state = SyncState()
        self._round = threading.Lock()
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None
        self._cancel = threading.Event()
        self._restore()

    # -- what survives a restart ---------------------------------------------------
    def _restore(self) -> None:
        """Last good sync and the writes since (``STATE_DOC``), read once at start."""
        from sync.errors import SyncError

        store = self.node.store
        try:
            doc = store.get_local(STATE_DOC)
        except SyncError:  # never synced here
            doc = {}
        try:
            seq = int(store.info()["update_seq"])
        except (SyncError, TypeError, ValueError):
            return
        self.state.last_ok = doc.get("last_ok")
        self.state.pending = max(0, seq - int(doc.get("seq") or 0))

    def _remember(self) -> None:
        from sync.errors import NotFound as StoreNotFound

        store = self.node.store
        try:
            doc = dict(store.get_local(STATE_DOC))  # its _rev: a _local doc is updated in place
        except StoreNotFound:
            doc = {"_id": STATE_DOC}
        doc.update(last_ok=self.state.last_ok, seq=int(store.info()["update_seq"]))
        store.put_local(doc)

    # -- the hub endpoint ----------------------------------------------------------
    def hub_url(self) -> str:
        """The device's database URL with its credentials (HTTP Basic: device id + secret)."""
        enr = self.node.require_enrollment()
        if enr.get("wiped"):
            raise Wiped()
        url = enr.get("db_url") or enr.get("database_url")
        if not url:
            raise NotEnrolled("the enrollment has no database URL")
        clean, creds = _split_credentials(str(url))
        if creds is None:
            user, secret = enr["device_id"], enr.get("secret", "")
        else:
            user, secret = creds.split(":", 1)
        parts = urlsplit(clean)
        netloc = f"{quote(user, safe='')}:{quote(secret, safe='')}@{parts.netloc}"
        return urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))

    def _hub_request(self) -> urllib.request.Request:
        """A GET of the device's database at the hub, with its credentials."""
        enr = self.node.require_enrollment()
        clean, _ = _split_credentials(str(enr.get("db_url") or enr.get("database_url")))
        token = base64.b64encode(f"{enr['device_id']}:{enr.get('secret', '')}".encode()).decode()
        return urllib.request.Request(clean, headers={"Authorization": f"Basic {token}",
                                                      "Accept": "application/json"})

    def check_clock(self, *, force: bool = False) -> float | None:
        """Compare this laptop's clock with the hub's (:mod:`node.clockcheck`), at most
        every ``CHECK_EVERY`` seconds unless ``force``; the offset is kept in the state."""
        from node.clockcheck import CHECK_EVERY, measure_offset

        st = self.state
        if not force and time.monotonic() - st.clock_checked_at < CHECK_EVERY \
                and st.clock_checked_at:
            return st.clock_offset
        offset = measure_offset(self._hub_request(), timeout=self.node.settings.sync_timeout)
        if offset is not None:
            st.clock_offset, st.clock_checked = offset, _now()
            st.clock_checked_at = time.monotonic()
        return offset

    def _revoked(self) -> bool:
        """Ask the hub directly whether a 401 carries the wipe instruction."""
        req = self._hub_request()
        try:
            with urllib.request.urlopen(req, timeout=self.node.settings.sync_timeout):
                return False
        except urllib.error.HTTPError as exc:
            if exc.code != 401:
                return False
            try:
                body = json.loads(exc.read().decode("utf-8") or "{}")
            except ValueError:
                return False
            return bool(body.get("bangban_wipe"))
        except OSError:
            return False

    # -- one round -------------------------------------------------------------------
    def sync_once(self) -> dict[str, Any]:
        """Push then pull. Raises SyncFailed (hub unreachable / refused) or Wiped."""
        from node.pull import VerifyingTarget
        from node.repush import push_again, remember
        from sync.errors import SyncError, Unauthorized
        from sync.open import open_db
        from sync.replicate import ReplicationOptions, replicate

        with self._round:
            st = self.state
            # Offline stays offline until the hub answers: with the link swallowing packets
            # each round's first request waits for the timeout (20 s), and the badge said
            # "syncing" for that long every round while nothing moved.
            st.status = "offline" if st.status == "offline" else "running"
            st.last_attempt, st.phase = _now(), "connect"
            st.docs_done, st.docs_total = 0, None
            local = self.node.store
            remote = None
            try:
                remote = open_db(self.hub_url(), timeout=self.node.settings.sync_timeout)
                st.status = "running"  # the hub answered
                # Every pulled document is checked before it is stored (design.md §5: a
                # hub holds no device key, so it must not be able to forge a device's event).
                # The pinned root keys come from the enrollment: a locked node syncs too.
                roots = self.node.require_enrollment().get("root_keys") or []
                checked = VerifyingTarget(local, remote, roots)
                summary: dict[str, Any] = {}
                refused_line: str | None = None
                unpushed = self.node.index.pending_ids()  # the cases this push carries
                for phase, src, dst in (("push", local, remote), ("pull", remote, checked)):
                    st.phase = phase
                    opts = ReplicationOptions(
                        progress=self._progress, max_attempts=3, backoff_cap=5.0,
                        cancel=self._cancel, on_retry=self._retrying,
                        source_location="local" if phase == "push" else "hub",
                        target_location="hub" if phase == "push" else "local")
                    res = replicate(src, dst, opts)
                    summary[phase] = res.summary() if hasattr(res, "summary") else {}
                    if phase == "push":
                        # What the hub refused in earlier rounds, sent again after this
                        # push (which may carry what it waited for): the replicator's
                        # checkpoint moved past it.
                        again_written, again = push_again(local, remote)
                        st.pushed += int(res.docs_written) + again_written
                        failures = [*again, *res.failures]
                        st.refused = failures[-20:]
                        remember(local, res.failures)
                        st.pending = 0
                        kept = {str(f.get("id", "")).split(":")[1] for f in failures
                                if ":" in str(f.get("id", ""))}  # refused: still to fix
                        self.node.index.set_pending(unpushed - kept, False)
                    else:
                        st.pulled += int(res.docs_written)
                        refused_line = st.note_pull_refused(list(res.failures))
            except Unauthorized as exc:
                if self._revoked():
                    self.node.wipe()
                    st.status, st.last_error = "wiped", ("本设备已被吊销，密钥和本机数据已清除 / "
                                                         "device revoked: keys and local data wiped")
                    raise Wiped() from exc
                st.status, st.last_error = "error", (
                    f"枢纽拒绝了本设备（设备编号或密钥不符），请联系管理员 / the hub refused the "
                    f"device: {exc.reason}")
                raise SyncFailed(st.last_error) from exc
            except SyncError as exc:
                st.status, st.last_error = "offline", f"{OFFLINE}（{exc.error}）"
                raise SyncFailed(st.last_error) from exc
            except OSError as exc:
                st.status, st.last_error = "offline", f"{OFFLINE}（{type(exc).__name__}）"
                raise SyncFailed(st.last_error) from exc
            finally:
                if remote is not None:
                    remote.close()
            st.status, st.last_ok, st.last_error, st.phase = "ok", _now(), refused_line, ""
            st.rounds += 1
            self._remember()
            self.check_clock()
        self.after_pull()
        return summary

    def _retrying(self, exc: BaseException, attempt: int, wait: float) -> None:
        """A step of the round failed on the wire and waits to be tried again: the badge
        says offline now. On a link that swallows packets each attempt waits for the
        timeout, so the round's retries take a minute or more, and the badge said "syncing"
        all that time, round after round, while nothing moved (design.md §4). One break
        after documents went through is a link that cuts now and then, not one that is
        down: the second failure in a row says offline then."""
        st = self.state
        if attempt < 2 and st.docs_done:
            return
        st.status = "offline"
        st.last_error = f"{OFFLINE}（{getattr(exc, 'error', None) or type(exc).__name__}）"

    def _progress(self, p: Any) -> None:
        if self.state.status == "offline":  # a retry said so; an upload got through since
            self.state.status, self.state.last_error = "running", None
        self.state.docs_done = int(getattr(p, "docs_written", 0) or getattr(p, "docs_read", 0) or 0)
        total = getattr(p, "pending", None)
        self.state.docs_total = (self.state.docs_done + int(total)) if total is not None else None

    def after_pull(self) -> None:
        """Index what the pull brought (cases handed to us, hub events, other devices).
        Cleartext rows need no key; name tokens are added when a case is first opened."""
        from node.indexer import index_changes

        self.node._names.clear()
        self.node.cache.clear()
        index_changes(self.node)
        # after a key rotation (design.md §5): re-wrap open cases once the new key is active
        from node.rewrap import after_sync

        after_sync(self.node)

    # -- the background loop ------------------------------------------------------------
    def start_background(self) -> None:
        interval = float(self.node.settings.sync_interval)
        if interval <= 0 or self._thread is not None or not self.node.enrollment:
            return
        self._thread = threading.Thread(target=self._loop, args=(interval,), daemon=True,
                                        name="bangban-node-sync")
        self._thread.start()

    def wake(self) -> None:
        self._wake.set()

    @property
    def in_background(self) -> bool:
        """Whether rounds run in the background loop (``node serve`` once unlocked)."""
        return self._thread is not None and self._thread.is_alive()

    def _loop(self, interval: float) -> None:
        while not self._stop.is_set():
            try:
                self.sync_once()
            except (SyncFailed, NotEnrolled):
                pass
            except Wiped:
                return
            except Exception as exc:  # keep the loop alive; the state shows the error
                self.state.status, self.state.last_error = "error", repr(exc)
            self._wake.wait(interval)
            self._wake.clear()

    def stop(self) -> None:
        self._stop.set()
        self._cancel.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None


def wait_for(pred: Any, timeout: float = 10.0) -> bool:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if pred():
            return True
        time.sleep(0.05)
    return False
