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
import sqlite3
import threading
import time
import urllib.error
import urllib.request
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, urlsplit, urlunsplit

from node.errors import NodeError, NotEnrolled, SyncFailed, Wiped
from node.indexer import PullIndexer, index_pulled
from node.syncloop import SyncLoop, log
from node.syncloop import wait_for as wait_for  # where tests have always found it
from node.syncstate import (
    REFUSED_DEVICE,
    TWIN_WORDS,
    SyncState,
    explain_refusals,
    laptop_full,
    offline_words,
    written_since,
)

if TYPE_CHECKING:
    from node.core import Node


#: node-private (never replicated): the last good round and the store's seq at its end, so
#: the count of what waits for upload and the last sync survive a restart
STATE_DOC = "_local/bangban-sync-state"


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


def hub_url(enr: dict[str, Any]) -> str:
    """The device's database URL in the enrollment ``enr``, with its credentials (HTTP
    Basic: device id + secret); also read from a backup's enrollment (node.restore)."""
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


class Syncer(SyncLoop):
    """One per node; thread-safe (one round at a time)."""

    def __init__(self, node: Node):
        self.node = node
        self.state = SyncState()
        self._round = threading.Lock()
        self._state_doc = threading.Lock()  # STATE_DOC's read and write (_write_state)
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None
        self._cancel = threading.Event()
        self._written = 0  # documents the phase under way has written (its progress)
        self._indexer = PullIndexer(node)
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
        offset = doc.get("last_ok_offset")
        self.state.last_ok_offset = float(offset) if isinstance(offset, int | float) else None
        # kept until dealt with (twin_resolved): a restart cleared it, and the laptop
        # said nothing until the other copy's next document arrived
        self.state.twin = doc.get("twin") or None
        self.state.pending = max(0, seq - int(doc.get("seq") or 0)) + int(doc.get("waiting") or 0)

    def _twin(self, ids: list[str]) -> None:
        """Another laptop signs as this one (node.syncstate.TWIN_WORDS): said on every page."""
        device = self.node.device_id
        self.state.note_twin(device, ids, _now())
        log.warning("node: %s", TWIN_WORDS.format(device=device, n=len(ids)))
        self._keep_twin()

    def twin_resolved(self) -> None:
        """The operator has dealt with the copied folder (one laptop stopped, the other
        enrolled as a new device; docs/operations.md): the warning goes, from the folder
        too. What the other copy wrote stays stored and is not offered again."""
        self.state.twin = None
        self._keep_twin()

    def _keep_twin(self) -> None:
        """The twin warning in ``STATE_DOC``, so that a restart keeps it."""
        self._write_state(twin=self.state.twin)

    def _remember(self) -> None:
        self._write_state(last_ok=self.state.last_ok, last_ok_offset=self.state.last_ok_offset,
                          seq=int(self.node.store.info()["update_seq"]),
                          waiting=self.state.pending)  # saved during the round: not pushed yet

    def _write_state(self, **fields: Any) -> None:
        """``fields`` into ``STATE_DOC``, read and written under one lock: the sync page's
        已处理 (a request's thread) and a round (the sync thread) both write it, and one's
        write over the _rev the other had just replaced was a 409 (the round failing after
        its work, or the click a 500)."""
        from sync.errors import NotFound as StoreNotFound

        store = self.node.store
        with self._state_doc:
            try:
                doc = dict(store.get_local(STATE_DOC))  # its _rev: updated in place
            except StoreNotFound:
                doc = {"_id": STATE_DOC}
            doc.update(fields)
            store.put_local(doc)

    # -- the hub endpoint ----------------------------------------------------------
    def hub_url(self) -> str:
        """The device's database URL with its credentials (HTTP Basic: device id + secret)."""
        return hub_url(self.node.require_enrollment())

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
        # the wall clock set since the last check (the clerk put it right after the
        # warning): the offset measured then is stale, asked again at once
        wall = time.time() - time.monotonic()
        reset = abs(wall - st.clock_checked_wall) > self.node.settings.clock_warn_seconds
        if not force and not reset and time.monotonic() - st.clock_checked_at < CHECK_EVERY \
                and st.clock_checked_at:
            return st.clock_offset
        offset = measure_offset(self._hub_request(), timeout=self.node.settings.sync_timeout)
        if offset is not None:
            st.clock_offset, st.clock_checked = offset, _now()
            st.clock_checked_at, st.clock_checked_wall = time.monotonic(), wall
        return offset

    def _ask_hub(self, timeout: float) -> tuple[int | None, bytes]:
        """One GET of the device's database at the hub: its HTTP status and, for an error,
        its body; ``(None, b"")`` when the hub did not answer (refused, unreachable, timed
        out, a bad URL, not enrolled)."""
        try:
            with urllib.request.urlopen(self._hub_request(), timeout=timeout) as resp:
                return int(resp.status), b""
        except NotEnrolled:
            return None, b""
        except urllib.error.HTTPError as exc:
            return int(exc.code), exc.read()
        except (OSError, ValueError):
            return None, b""

    def hub_answers(self, timeout: float) -> bool:
        """Whether the hub answers within ``timeout``. A 4xx is the hub answering (a 401
        goes to the round, which reads a revocation); a 5xx is a hub that cannot take the
        round yet: a thousand stations starting rounds at every 503 of a busy hub would
        keep it busy."""
        status, _body = self._ask_hub(timeout)
        return status is not None and status < 500

    def _revoked(self) -> bool:
        """Ask the hub directly whether a 401 carries the wipe instruction."""
        status, body = self._ask_hub(float(self.node.settings.sync_timeout))
        if status != 401:
            return False
        try:
            return bool(json.loads(body.decode("utf-8") or "{}").get("bangban_wipe"))
        except (ValueError, AttributeError):  # not JSON, or JSON but not an object
            return False

    # -- one round -------------------------------------------------------------------
    def sync_once(self, *, rewrap_round: bool = False) -> dict[str, Any]:
        """Push then pull. Raises SyncFailed (hub unreachable / refused) or Wiped.

        A pull that brings the institution's new key re-wraps the open cases for it
        (:func:`node.rewrap.after_sync`) after the pull: those keyrings are pushed at once,
        by a second push and pull of the same call (``rewrap_round``, its summary under
        ``"rewrap"``). They waited for the next round, up to ``sync_interval`` later or the
        clerk's next click, and the page showed thousands "waiting" after a round that had
        just said "ok"."""
        from node.indexer import _case_of
        from node.pull import VerifyingTarget
        from node.repush import push_again, remember
        from node.restore import from_backup
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
            checked: VerifyingTarget | None = None
            # a store put back from a backup pulls its own later documents back (node.restore)
            restored = from_backup(local) is not None
            try:
                remote = open_db(self.hub_url(), timeout=self.node.settings.sync_timeout)
                st.status = "running"  # the hub answered
                # Every pulled document is checked before it is stored (design.md §5: a
                # hub holds no device key, so it must not be able to forge a device's event).
                # The pinned root keys come from the enrollment: a locked node syncs too.
                roots = self.node.require_enrollment().get("root_keys") or []
                checked = VerifyingTarget(local, remote, roots, own_device=self.node.device_id)
                summary: dict[str, Any] = {}
                complete = True  # neither phase cancelled (node.restore.synced)
                refused_line: str | None = None
                unpushed = self.node.index.pending_ids()  # the cases this push carries
                for phase, src, dst in (("push", local, remote), ("pull", remote, checked)):
                    st.phase, self._written = phase, 0
                    self._indexer.start()
                    opts = ReplicationOptions(
                        progress=self._progress, max_attempts=3, backoff_cap=5.0,
                        cancel=self._cancel, on_retry=self._retrying,
                        source_location="local" if phase == "push" else "hub",
                        target_location="hub" if phase == "push" else "local")
                    res = replicate(src, dst, opts)
                    complete = complete and not getattr(res, "cancelled", False)
                    summary[phase] = res.summary() if hasattr(res, "summary") else {}
                    if phase == "push":
                        # What the hub refused, in earlier rounds and in this push, sent
                        # again once the whole push is there (the replicator's checkpoint
                        # moved past it): an event whose base went in another batch that
                        # another gateway stored a moment later (base_unknown, schemas.
                        # fold.check_received) is taken now, instead of standing on the
                        # sync page as refused until the next round.
                        remember(local, res.failures)
                        again_written, failures = push_again(local, remote)
                        st.pushed += int(res.docs_written) + again_written
                        st.refused = explain_refusals(failures[-20:], local)
                        # saved after the push read the feed: not in it, still waiting
                        late = written_since(local, getattr(res, "last_seq", None))
                        st.pending = len(late)
                        kept = {str(f.get("id", "")).split(":")[1] for f in failures
                                if ":" in str(f.get("id", ""))}  # refused: still to fix
                        kept |= {c for c in map(_case_of, late) if c}
                        self.node.index.set_pending(unpushed - kept, False)
                    else:
                        st.pulled += int(res.docs_written)
                        refused_line = st.note_pull_refused(list(res.failures))
            except Unauthorized as exc:
                if self._revoked():
                    self.node.wipe()
                    st.status, st.last_error = "wiped", ("本机已被平台停用，密钥和本机数据已清除 / "
                                                         "device revoked: keys and local data wiped")
                    raise Wiped() from exc
                st.status, st.last_error = "error", REFUSED_DEVICE.format(reason=exc.reason)
                raise SyncFailed(st.last_error) from exc
            except (SyncError, OSError) as exc:
                st.status, st.last_error = "offline", offline_words(exc, str(self.node.dir))
                if st.phase == "pull" and self._written:  # what came before the cut
                    self._indexer.catch_up(self._written)
                raise SyncFailed(st.last_error) from exc
            finally:
                if remote is not None:
                    remote.close()
                # stored now, even by a round cut later: never offered again (revs_diff)
                if checked is not None and checked.own_arrived and not restored:
                    self._twin(checked.own_arrived)
            st.status, st.last_ok, st.last_error, st.phase = "ok", _now(), refused_line, ""
            st.rounds += 1
            self._remember()
            self.check_clock()
            if st.clock_offset != st.last_ok_offset:  # last_ok read in the hub's time
                st.last_ok_offset = st.clock_offset
                self._remember()
        try:
            rewrap = self.after_pull()
            if complete:
                # a store restored from a backup has now every number the hub holds of this
                # device, indexed by after_pull: new cases may be opened again (node.restore)
                from node.restore import synced

                synced(self.node.store)
        except (NodeError, SyncError, OSError, sqlite3.Error) as exc:
            # What the round moved is stored; the index's catch-up (a cache, node.indexer)
            # met this laptop's full disk and waits for the next round. The page said the
            # raw error (IndexFull(...)); the same words as every full disk here now. The
            # restore mark stays: the numbers pulled back are not indexed yet.
            if not laptop_full(exc, str(self.node.dir)):
                raise
            st.status, st.last_error = "error", offline_words(exc, str(self.node.dir))
            raise SyncFailed(st.last_error) from exc
        if rewrap and rewrap.get("rewrapped") and not rewrap_round:
            again = self.sync_once(rewrap_round=True)
            summary["rewrap"] = {"cases": len(rewrap["rewrapped"]), **again}
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
        st.last_error = offline_words(exc, str(self.node.dir))

    def _progress(self, p: Any) -> None:
        # The hub took documents: what a retry, or the round before, said about the link
        # is over (the badge said offline all through a long push after an offline round).
        if self.state.status == "offline" or self.state.unreachable():
            self.state.status, self.state.last_error = "running", None
        written = int(getattr(p, "docs_written", 0) or 0)
        if self.state.phase == "push":  # what the hub took waits no more (the count stood
            # still through a long push, and after one cut short)
            self.state.pending = max(0, self.state.pending - (written - self._written))
        self._written = written
        if self.state.phase == "pull":
            self._indexer.written(written)
        self.state.docs_done = int(getattr(p, "docs_written", 0) or getattr(p, "docs_read", 0) or 0)
        total = getattr(p, "pending", None)
        self.state.docs_total = (self.state.docs_done + int(total)) if total is not None else None

    def after_pull(self) -> dict[str, Any] | None:
        """Index what the pull brought (cases handed to us, hub events, other devices); the
        search tokens are made while unlocked, else at the unlock (node.tokenmaker). What
        a re-wrap after a key rotation did (:func:`node.rewrap.after_sync`), if one ran."""
        index_pulled(self.node)
        from node.rewrap import after_sync  # after a key rotation (design.md §5): re-wrap

        rewrap = after_sync(self.node)  # open cases once the new key is active
        # replaced revisions keep bodies until compacted: a town's boards (docs/operations.md)
        if (hours := float(self.node.settings.compact_hours)) > 0:
            self.node.store.compact_if_due(hours * 3600)
        return rewrap
