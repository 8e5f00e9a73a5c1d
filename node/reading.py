"""Reading cases on the node: case keys, the trusted directory, opened personal data.

Personal data is released only through ``sync.crypto.open_case``, which stores a signed
``access`` event first (design §5; 7.2.2.2). Opened parts are kept in memory for the
unlock session (bounded LRU), so paging through a case writes one access event per case
and session, not one per click; locking the node drops them with the keys.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from typing import TYPE_CHECKING, Any

from node.errors import NodeError, NotFound

if TYPE_CHECKING:
    from node.core import Node

CACHE_CASES = 256
ACCESS_PURPOSE = "handling"


class Reader:
    """Per-node reading state (lives as long as the keys are unlocked)."""

    def __init__(self, node: Node):
        self.node = node
        self._keys: OrderedDict[str, Any] = OrderedDict()
        self._revs: dict[str, str | None] = {}  # case id -> keyring _rev its key came from
        self._header_clocks: dict[str, str | None] = {}  # case id -> private clock opened
        self._changed: set[str] = set()  # cases whose header was opened again, changed
        self._opened: dict[str, dict[str, dict[str, Any]]] = {}
        # case id -> the staff ids an access event of this unlock names: a member who
        # takes the window (or a second browser) reads a case another opened
        self._readers: dict[str, set[str]] = {}
        # case id -> the staff ids an access event of a search named in this unlock
        self._found: dict[str, set[str]] = {}
        self._mutex = threading.RLock()
        self._directory: Any = None
        self._directory_rev: str | None = None

    # -- the key directory ---------------------------------------------------------
    def directory(self) -> Any:
        """The hub's directory, verified under the pinned root keys; before the first
        sync brings one, a provisional directory of this node's own keys (so a clerk
        can work from the first minute; the hub re-wraps nothing, the keyrings made
        meanwhile stay valid because wraps are verified by device key)."""
        from sync.crypto import DIRECTORY_ID, CryptoError, verify_directory
        from sync.errors import NotFound as StoreNotFound
        from sync.reference import read_latest

        keys = self.node.keys
        try:  # the hub's latest directory among conflicting leaves (schemas.written)
            doc = read_latest(self.node.store, DIRECTORY_ID)
        except StoreNotFound:
            doc = None
        if doc is not None and keys.root_keys:
            if self._directory is not None and doc.get("_rev") == self._directory_rev:
                return self._directory
            try:
                self._directory = verify_directory(doc, keys.root_keys)
                self._directory_rev = doc.get("_rev")
                return self._directory
            except CryptoError as exc:
                raise NodeError(f"the hub's key directory does not verify: {exc.reason}") from exc
        if self._directory is None:
            self._directory = provisional_directory(keys)
        return self._directory

    # -- case keys -------------------------------------------------------------------
    def case_key(self, case_id: str) -> Any:
        key, ring, cached = self._case_key(case_id)
        if not cached:
            self._put_key(case_id, key, ring.get("_rev"))
        return key

    def machine_key(self, case_id: str) -> Any:
        """The case key for a machine step (node.tokenmaker), kept out of the cache: a first
        pull of thousands of cases would push out the cases opened here, whose next view
        then wrote a second access event."""
        return self._case_key(case_id)[0]

    def _case_key(self, case_id: str) -> tuple[Any, dict[str, Any], bool]:
        """The key, the keyring it came from, and whether it came from the cache."""
        from sync.crypto import CryptoError, keyring_id, unlock_case_key
        from sync.errors import NotFound as StoreNotFound

        try:
            ring = self.node.store.get(keyring_id(case_id))
        except StoreNotFound as exc:
            raise NotFound(f"本机没有此办件的密钥（尚未同步？）：{case_id} / no keyring for case "
                           f"{case_id} here (not synced yet?)") from exc
        with self._mutex:
            # A key unlocked from an older revision of the keyring lacks the generations
            # added since (the hub seals each complaint it takes with a fresh one, a key
            # rotation re-wraps): the case stopped opening ("data key … is not a key of
            # case") until the laptop was locked.
            if case_id in self._keys and self._revs.get(case_id) == ring.get("_rev"):
                self._keys.move_to_end(case_id)
                return self._keys[case_id], ring, True
        try:
            # Retired institution keys too: after a rotation (node keys rotate, design.md §5)
            # cases wrapped only for the old key must still open here; new generations are
            # wrapped for the active key of the directory only, never for a retired one.
            # Wraps by a device revoked since are accepted: every keyring here came
            # through the hub, which checked each wrap when it arrived (verify_wrap).
            key = unlock_case_key(ring, self.node.keys.keychain, self.directory(),
                                  active_only=False, allow_revoked=True)
        except CryptoError as exc:
            raise NodeError(f"办件密钥无法解开 / the case key does not open: {exc.reason}",
                            status=403, error="no_case_key") from exc
        return key, ring, False

    def _put_key(self, case_id: str, key: Any, rev: str | None = None) -> None:
        """``rev``: the keyring revision ``key`` was unlocked from (None: unknown, so the
        next read unlocks it again from the stored keyring)."""
        with self._mutex:
            self._keys[case_id] = key
            self._revs[case_id] = rev
            while len(self._keys) > CACHE_CASES:
                old, _ = self._keys.popitem(last=False)
                self._opened.pop(old, None)
                self._readers.pop(old, None)
                self._found.pop(old, None)
                self._revs.pop(old, None)
                self._header_clocks.pop(old, None)

    def remember(self, case_id: str, key: Any, opened: dict[str, dict[str, Any]],
                 header_clock: str | None = None) -> None:
        """What this node just wrote is already open: no access event needed to see it.
        ``header_clock``: the private clock of the header revision in ``opened``."""
        self._put_key(case_id, key)
        with self._mutex:
            self._opened.setdefault(case_id, {}).update(opened)
            if opened:  # who wrote it has seen it
                self._readers.setdefault(case_id, set()).add(self._staff())
            if header_clock:
                self._header_clocks[case_id] = header_clock

    def header_changed(self, case_id: str) -> bool:
        """Whether the case's header was opened again since the last call, a newer revision
        (its search tokens are then stale: the name or phone changed)."""
        with self._mutex:
            if case_id in self._changed:
                self._changed.discard(case_id)
                return True
            return False

    def remember_event(self, case_id: str, doc: dict[str, Any]) -> None:
        if "private" in doc:
            with self._mutex:
                if case_id in self._opened:
                    self._opened[case_id][doc["_id"]] = dict(doc["private"])

    # -- opening ---------------------------------------------------------------------
    def open_case(self, case_id: str, docs: list[dict[str, Any]], *,
                  purpose: str = ACCESS_PURPOSE) -> dict[str, dict[str, Any]]:
        """``{doc id: private}`` for every sealed doc of the case; one access event for
        whatever was not open yet in this session, and one for what was when the staff
        member at the window has not been named by an access event of it yet."""
        from sync.crypto import Actor, access_event, open_case

        staff = self._staff()
        with self._mutex:
            have = self._opened.get(case_id, {})
            # Events never change; a header does (a correction of the applicant's
            # particulars here or at the town, a merge): a revision whose private part is
            # newer than the one opened is opened again, or the page showed the old name.
            todo = [d for d in docs if "sealed" in d and (
                d["_id"] not in have or (str(d["_id"]).startswith("case:") and
                                         _private_clock(d) != self._header_clocks.get(case_id)))]
            # Open already, read by another: the plaintext came from memory and no access
            # event named this member, who read the applicant's data all the same (design
            # §5: every reading is logged; 7.2.2.2). Switching the window's staff between
            # two reads kept the second one out of the log.
            unnamed = not todo and staff not in self._readers.get(case_id, set()) and any(
                have.get(d["_id"]) for d in docs if "sealed" in d)
        if todo or unnamed:
            key = self.case_key(case_id)
            node = self.node
            from node.casework import next_clock

            actor = Actor(staff=staff, institution=node.institution,
                          signer=node.keys.signer, clock=lambda: next_clock(node.device_id))
        if unnamed:
            fields = {f for d in docs if "sealed" in d for f in have.get(d["_id"], {})}
            self._store_access(access_event(key, purpose, actor, fields_read=sorted(fields)))
            with self._mutex:
                self._readers.setdefault(case_id, set()).add(staff)
        if todo:
            opened = open_case(todo, key, purpose=purpose, actor=actor,
                               on_access=self._store_access)
            with self._mutex:
                self._readers.setdefault(case_id, set()).add(staff)
                self._opened.setdefault(case_id, {}).update(opened)
                for d in todo:
                    if str(d["_id"]).startswith("case:"):
                        if case_id in self._header_clocks:  # a newer revision than seen
                            self._changed.add(case_id)
                        self._header_clocks[case_id] = _private_clock(d)
        with self._mutex:
            return dict(self._opened.get(case_id, {}))

    def record_use(self, case_id: str, purpose: str, fields_read: list[str],
                   note: str | None = None) -> None:
        """An access event for a use of data already open, every time: a printed form or a
        copy for the applicant leaves the laptop on paper (PIPL art. 51; 7.2.2.2), which the
        one-event-per-session rule of :meth:`open_case` kept out of the log once the case
        page had been shown (design.md §5: every reading is logged, and why)."""
        self._store_access(self._use_event(case_id, purpose, fields_read, note))

    def _use_event(self, case_id: str, purpose: str, fields_read: list[str],
                   note: str | None = None) -> dict[str, Any]:
        from node.casework import next_clock
        from sync.crypto import Actor, access_event

        key, node = self.case_key(case_id), self.node
        actor = Actor(staff=self._staff(), institution=node.institution,
                      signer=node.keys.signer, clock=lambda: next_clock(node.device_id))
        return access_event(key, purpose, actor, fields_read=fields_read, note=note)

    def note_search(self, q: str, rows: list[dict[str, Any]]) -> None:
        """An access event for each case a search by a person (name, ID number, phone)
        listed, once per case, member and unlock, stored in one write. The list shows no
        particulars, but it ties the person searched for to the cases' items and states (a
        neighbour's disability allowance: health information, PIPL art. 28), and left no
        trace while opening a case did (design.md §5). A case-number search reads nobody."""
        import unicodedata

        number = unicodedata.normalize("NFKC", q or "").strip().upper()
        if not number:
            return
        staff, events = self._staff(), []
        for row in rows:
            case_id = str(row["case_id"])
            with self._mutex:
                known = self._readers.get(case_id, set()) | self._found.get(case_id, set())
            if staff in known or str(row.get("case_no") or "").startswith(number):
                continue
            try:
                events.append(self._use_event(case_id, ACCESS_PURPOSE, ["search"]))
            except NodeError as exc:
                if exc.error != "no_case_key":
                    raise
                # no key here (a wrap lost to a rotation): no event can be sealed for it,
                # and the row shows only cleartext the station's other lists show too
        if not events:
            return
        result = self.node.store.bulk_docs(events)
        if bad := [r for r in result if "error" in r]:  # not logged: the list is not shown
            raise NodeError(f"access event not stored: {bad[0].get('reason')}")
        self.node.note_pending(len(events))
        with self._mutex:
            for event in events:
                case_id = str(event["case_id"])
                self._opened.setdefault(case_id, {})[str(event["_id"])] = {}
                self._found.setdefault(case_id, set()).add(staff)

    def _staff(self) -> str:
        return self.node.acting_staff() or ""

    def _store_access(self, event: dict[str, Any]) -> None:
        result = self.node.store.bulk_docs([event])
        if result and "error" in result[0]:
            raise NodeError(f"access event not stored: {result[0].get('reason')}")
        self.node.note_pending(1)
        # Our own access event is sealed too (no note here: its private part is empty);
        # counted as open, else the next view would "read" it and write another one.
        with self._mutex:
            self._opened.setdefault(str(event["case_id"]), {})[str(event["_id"])] = {}

    def open_attachment(self, case_id: str, doc_id: str, name: str) -> tuple[bytes, str]:
        """A scan's plaintext: inline, or joined from its chunks (design.md §4); opened with
        the same AAD (event id and name) either way, after an access event."""
        from node.casework import next_clock
        from sync.crypto import Actor, open_attachment
        from sync.errors import NotFound as StoreNotFound

        try:
            blob, ctype = self.node.store.get_attachment(doc_id, name)
        except StoreNotFound:
            blob, ctype = self._joined(case_id, doc_id, name)
        node = self.node
        actor = Actor(staff=node.acting_staff() or "", institution=node.institution,
                      signer=node.keys.signer, clock=lambda: next_clock(node.device_id))
        data = open_attachment(blob, doc_id, name, self.case_key(case_id), purpose=ACCESS_PURPOSE,
                               actor=actor, on_access=self._store_access)
        return data, ctype

    def _joined(self, case_id: str, doc_id: str, name: str) -> tuple[bytes, str]:
        """The sealed blob of a chunked scan: the event's signed manifest names its chunks."""
        from sync.chunks import ChunkCorrupt, ChunksMissing, chunk_id, join
        from sync.errors import NotFound as StoreNotFound

        store = self.node.store
        try:
            entry = (store.get(doc_id).get("chunked") or {})[name]
        except (StoreNotFound, KeyError) as exc:
            raise NotFound(f"本机没有这份扫描件（{name}；可能尚未同步到本机，或地址有误） / no scan "
                           f"{name!r} on {doc_id} here (not synced yet, or a wrong address)"
                           ) from exc

        def fetch(sha: str) -> bytes | None:
            try:
                data: bytes = store.get_attachment(chunk_id(case_id, sha), "data")[0]
            except StoreNotFound:
                return None
            return data

        try:
            return join(entry, fetch), str(entry.get("content_type") or "application/octet-stream")
        except ChunksMissing as exc:
            raise NodeError(f"扫描件尚未完整同步（已收到 {exc.have}/{exc.total} 部分），请同步后再试"
                            f" / the scan has not fully synced yet ({exc.have} of {exc.total} "
                            "parts here); sync and try again", status=409,
                            error="scan_incomplete") from exc
        except ChunkCorrupt as exc:
            raise NodeError(f"扫描件的分块已损坏 / a part of the scan is corrupt: {exc.reason}",
                            status=500, error="chunk_corrupt") from exc


def _private_clock(header: dict[str, Any]) -> str | None:
    clock = (header.get("clocks") or {}).get("private")
    return str(clock) if clock else None


def provisional_directory(keys: Any) -> Any:
    """A directory of this node's own public keys, signed by a throw-away root key
    (used only until the hub's signed directory arrives)."""
    from schemas.ids import institution_tier
    from sync.crypto import SigningKeyPair, build_directory, key_entry, sign_directory
    from sync.crypto.directory import verify_directory

    chain = keys.keychain
    inst = chain.active("institution", keys.institution).key
    dev = chain.active("device", keys.device_id).key
    root = SigningKeyPair.generate()
    doc = build_directory(
        version=1,
        institutions=[{"code": keys.institution, "tier": institution_tier(keys.institution),
                       "parent": None, "name": "", "public_keys": [key_entry(inst)]}],
        devices=[{"device_id": keys.device_id, "institution": keys.institution,
                  "public_keys": [key_entry(dev)]}],
        escrow=key_entry(inst))
    return verify_directory(sign_directory(doc, root), root.public_b64)
