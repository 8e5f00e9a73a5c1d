"""The node's runtime: enrollment, local store, unlocked keys, search index, sync.

One :class:`Node` per process, shared by the web UI, the API and the background sync
thread. Keys exist in clear only in memory, from unlock to lock (or idle timeout).
Layout of the node folder (``BANGBAN_NODE_DIR``)::

    enrollment.json   hub URL, database URL, device id, secret, institution (from init)
    keychain.json     the passphrase-locked keychain (sync.crypto.Keychain.lock)
    store.sqlite      the local DocumentStore (sealed documents only)
    index.sqlite      the node-local case index (cleartext fields and keyed name hashes)
"""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from node.errors import BadPassphrase, Locked, NotEnrolled, TooManyAttempts, Wiped
from node.sessions import Sessions, UnlockThrottle
from node.settings import Settings
from node.tokenmaker import OwedTokens

if TYPE_CHECKING:
    from collections.abc import Sequence

    from node.casework import Casework
    from node.index import CaseIndex
    from node.keys import NodeKeys
    from node.reading import Reader
    from node.syncer import Syncer
    from schemas.workdays import Workdays
    from sync.store import DocumentStore

ENROLLMENT = "enrollment.json"
KEYCHAIN = "keychain.json"
STORE = "store.sqlite"
INDEX = "index.sqlite"


class Node:
    """Everything one running node holds."""

    def __init__(self, settings: Settings):
        self.settings = settings
        self.dir = Path(settings.node_dir)
        self._lock = threading.RLock()
        self._store: DocumentStore | None = None
        self._keys: NodeKeys | None = None
        #: keychain.json as it was when the keys were unlocked (:meth:`_keychain_stamp`).
        self._unlocked_stamp: tuple[int, int, int] | None = None
        self._index: CaseIndex | None = None
        #: index.sqlite was created by this process (see :attr:`index`)
        self._index_made = False
        self._syncer: Syncer | None = None
        self._reader: Reader | None = None
        self._names: dict[str, str] = {}
        #: reference data read by pages (catalog …); cleared after every pull
        self.cache: dict[str, Any] = {}
        #: searches posted from the case list, by token (node.views.cases): kept in memory
        #: only, never in an address, and forgotten when the keys are
        self.searches: dict[str, str] = {}
        #: the search tokens owed (made after an unlock, in the background: node.tokenmaker)
        self.owed = OwedTokens(self)
        #: browser sessions allowed to use the unlocked keys (node.sessions); end on lock
        self.sessions = Sessions()
        #: wrong passphrases at the unlock page and API (node.sessions.UnlockThrottle)
        self.unlock_throttle = UnlockThrottle()
        self.last_touch = time.monotonic()
        self.wiped = False

    # -- enrollment ----------------------------------------------------------
    @property
    def enrollment(self) -> dict[str, Any] | None:
        path = self.dir / ENROLLMENT
        if not path.exists():
            return None
        data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
        return data

    def require_enrollment(self) -> dict[str, Any]:
        enr = self.enrollment
        if not enr:
            raise NotEnrolled()
        return enr

    @property
    def device_id(self) -> str:
        return str(self.require_enrollment()["device_id"])

    @property
    def institution(self) -> str:
        return str(self.require_enrollment()["institution"])

    @property
    def institution_name(self) -> str:
        """The institution's name: from the enrollment, else the synced institution doc."""
        enr = self.enrollment or {}
        if enr.get("institution_name"):
            return str(enr["institution_name"])
        return self.name_of(str(enr.get("institution", "")))

    def name_of(self, code: str) -> str:
        """An institution's name (cached: reference data changes only through a pull,
        which clears the cache)."""
        from sync.errors import NotFound as StoreNotFound
        from sync.reference import read_latest

        if not code:
            return ""
        if code not in self._names:
            try:
                doc = read_latest(self.store, f"institution:{code}")  # schemas.written
                self._names[code] = str(doc.get("name") or code)
            except StoreNotFound:  # not synced yet: the next pull clears the cache
                # this station's own name came with its enrollment: a node printing before
                # its first pull (offline from day one) named itself "410621100201" on forms
                enr = self.enrollment or {}
                own = code == str(enr.get("institution") or "") and enr.get("institution_name")
                self._names[code] = str(own or code)
        return self._names[code]

    @property
    def tier(self) -> str:
        from schemas.ids import institution_tier

        return institution_tier(self.institution)

    # -- keys --------------------------------------------------------------------
    @property
    def unlocked(self) -> bool:
        return self._keys is not None

    @property
    def keys(self) -> NodeKeys:
        if self._keys is None:
            raise Locked()
        return self._keys

    def unlock(self, passphrase: str) -> None:
        """Unlock the keys for this process (the CLI's commands, ``serve`` with a scripted
        passphrase). No browser gets in by this: each opens its own session."""
        keys = self._check_passphrase(passphrase)
        with self._lock:
            self._install(keys)
        self._catch_up()

    def open_session(self, passphrase: str) -> str:
        """A new browser session's token, for the right passphrase only: checked against the
        keychain even while the keys are unlocked already (a second browser, ``curl``: 7.2.2,
        design.md §5), then the keys are unlocked if they were not. After several wrong
        passphrases in a row a try must wait (:class:`node.sessions.UnlockThrottle`): the
        session is what keeps another OS user out, so guessing it must be slow."""
        wait = self.unlock_throttle.wait_seconds()
        if wait:
            raise TooManyAttempts(wait)
        try:
            keys = self._check_passphrase(passphrase)  # scrypt, outside the lock: pages go on
        except BadPassphrase:
            self.unlock_throttle.failed()
            raise
        self.unlock_throttle.succeeded()
        with self._lock:  # a lock() cannot fall between the keys and the token
            fresh = self._keys is None
            if fresh:
                self._install(keys)
            token = self.sessions.issue()
        if fresh:
            self._catch_up()
        return token

    def has_session(self, token: str | None) -> bool:
        """Whether ``token`` is a live session of these unlocked keys."""
        return self._keys is not None and self.sessions.valid(token)

    def _check_passphrase(self, passphrase: str) -> NodeKeys:
        from node.keys import NodeKeys

        enr = self.require_enrollment()
        return NodeKeys.unlock(self.dir / KEYCHAIN, passphrase, enr)

    def _install(self, keys: NodeKeys) -> None:
        if self.wiped:
            # The passphrase is checked outside the lock (scrypt), and a round that met the
            # revocation may wipe meanwhile: `node serve` runs its first round at the unlock
            # page. Keys read before the wipe must not open an app that can never sync.
            raise Wiped("本机已被平台停用，密钥和本机数据已清除 / device revoked: keys and "
                        "local data wiped")
        # the unlock is activity: the idle clock starts now, not at the last request
        # (a request without a session does not count, see node.app._guard)
        self.last_touch = time.monotonic()
        self._keys = keys
        self._unlocked_stamp = self._keychain_stamp()
        if self._index is not None:
            self._index.name_key = keys.name_hash_key

    def _catch_up(self) -> None:
        from node.indexer import at_unlock

        at_unlock(self)

    def lock(self) -> None:
        """Drop the keys and end every browser session (manual and idle lock, wipe)."""
        with self._lock:
            self._keys = None
            self._reader = None
            self.searches.clear()
            self.sessions.clear()
            if self._index is not None:
                self._index.name_key = None

    def touch(self, *, activity: bool = True) -> None:
        """Note activity; drop the keys after ``idle_lock_minutes`` without any. A page's
        background poll (the sync badge) is no activity: it may lock, never keeps the keys
        open on an unattended laptop (7.2.2.2)."""
        now = time.monotonic()
        idle = self.settings.idle_lock_minutes
        if idle and self._keys is not None and now - self.last_touch > idle * 60:
            self.lock()
        if self._keys is not None and self._keychain_stamp() != self._unlocked_stamp:
            # `node keys rotate` or `import` ran beside this app: the keys in memory lack
            # the institution's new key, so a case opened now was wrapped for it and its
            # first record then failed ("the case key does not open"). Unlocking again
            # reads the new keychain.
            self.lock()
        if activity:
            self.last_touch = now

    def _keychain_stamp(self) -> tuple[int, int, int] | None:
        try:
            st = (self.dir / KEYCHAIN).stat()
        except OSError:
            return None
        return st.st_ino, st.st_size, st.st_mtime_ns

    # -- storage -------------------------------------------------------------------
    @property
    def store(self) -> DocumentStore:
        with self._lock:
            if self._store is None:
                from sync.sqlite import SQLiteStore

                self.dir.mkdir(parents=True, exist_ok=True)
                self._store = SQLiteStore(str(self.dir / STORE))
            return self._store

    @property
    def index(self) -> CaseIndex:
        with self._lock:
            if self._index is None:
                from node.index import CaseIndex

                self.dir.mkdir(parents=True, exist_ok=True)
                # made now beside a store that may hold cases (a folder restored from
                # `node backup`, which leaves the derived index out): _catch_up fills it
                self._index_made = not (self.dir / INDEX).exists()
                self._index = CaseIndex(self.dir / INDEX)
                if self._keys is not None:
                    self._index.name_key = self._keys.name_hash_key
            return self._index

    @property
    def casework(self) -> Casework:
        from node.casework import Casework

        return Casework(self)

    @property
    def syncer(self) -> Syncer:
        with self._lock:
            if self._syncer is None:
                from node.syncer import Syncer

                self._syncer = Syncer(self)
            return self._syncer

    @property
    def reading(self) -> Reader:
        from node.reading import Reader

        with self._lock:
            if self._keys is None:
                raise Locked()
            if self._reader is None:
                self._reader = Reader(self)
            return self._reader

    def enrollment_staff(self) -> str:
        """The staff id recorded on events (never a name): the enrollment's, else the device id."""
        enr = self.enrollment or {}
        return str(enr.get("staff") or enr.get("device_id") or "")

    def acting_staff(self) -> str:
        """The staff id the current request acts under (node.window: the member at the
        window, 8.1.2), else :meth:`enrollment_staff` (the CLI, no roster)."""
        from node.window import ACTING

        return ACTING.get() or self.enrollment_staff()

    def institution_path(self) -> list[str]:
        """City → … → this institution, from the enrollment or the institution docs."""
        enr = self.require_enrollment()
        if enr.get("institution_path"):
            return list(enr["institution_path"])
        from sync.errors import NotFound as StoreNotFound
        from sync.reference import read_latest

        path = [self.institution]
        code: str | None = self.institution
        while code and len(path) < 4:
            try:
                parent = read_latest(self.store, f"institution:{code}").get("parent")
            except StoreNotFound:
                break
            if not parent:
                break
            path.insert(0, parent)
            code = parent
        return path

    def next_serial(self, year: int) -> int:
        """This device's next case serial for ``year``: past its ``_local`` counter and
        every number of this device and year in the index, which holds cases the counter
        missed (samples, bundles, cases pulled back after a restore: schemas.ids, unique
        per institution and year); a restored store gives none until it syncs (node.restore)."""
        from node.restore import require_synced
        from schemas.ids import split_device_id
        from sync.errors import NotFound as StoreNotFound

        with self._lock:
            require_synced(self.store)
            docid = f"_local/serial-{year}"
            try:
                doc = self.store.get_local(docid)
            except StoreNotFound:
                doc = {"_id": docid, "serial": 0}
            short = split_device_id(self.device_id)[1]
            seen = self.index.highest_serial(f"{self.institution}-{year}-{short}-")
            doc["serial"] = max(int(doc.get("serial", 0)), seen) + 1
            self.store.put_local(doc)
            return int(doc["serial"])

    def note_pending(self, n: int) -> None:
        if self._syncer is not None:
            self._syncer.state.note_local_write(n)

    def reindex_case(self, case_id: str, private: dict[str, Any] | None = None) -> None:
        self.index.upsert(*self.index_entry(case_id, private))

    def index_entry(self, case_id: str, private: dict[str, Any] | None = None,
                    wd: Workdays | None = None, *, tokens: bool = True
                    ) -> tuple[dict[str, Any], Sequence[str] | None]:
        """The index row of a case and its applicant's search tokens: of ``private`` (just
        written or opened), else of the stored header by the machine (node.tokenmaker; None
        when they cannot be made now, or with ``tokens`` False). ``wd``: the calendar, when
        the caller folds many cases (node.indexer)."""
        from node.state import index_row
        from node.tokenmaker import entry_tokens

        cw = self.casework
        header = cw.header(case_id)
        events = cw.events(case_id)
        made = entry_tokens(self, header, private, wanted=tokens)
        return {**index_row(header, events, self, wd), "header_rev": header.get("_rev")}, made

    # -- revocation ------------------------------------------------------------------
    def wipe(self) -> None:
        """Obey the hub's wipe instruction (a revoked device): drop keys and local data."""
        self.owed.stop()  # its batch ends before the files go (it takes the node's lock)
        with self._lock:
            self.lock()
            for attr in ("_store", "_index"):
                obj = getattr(self, attr)
                if obj is not None:
                    try:
                        obj.close()
                    except Exception:  # closing a broken handle must not stop the wipe
                        pass
                    setattr(self, attr, None)
            from node.wipe import wipe_all

            wipe_all(self.dir, self.device_id)  # and the folders a restore set aside
            self.wiped = True

    def close(self) -> None:
        if self._syncer is not None:
            self._syncer.stop()
        self.owed.stop()
        with self._lock:
            for attr in ("_store", "_index"):
                obj = getattr(self, attr)
                if obj is not None:
                    obj.close()
                    setattr(self, attr, None)
