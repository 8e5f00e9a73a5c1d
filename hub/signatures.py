"""Signature and keyring checks of device writes, with engineer F's one verifier.

The hub trusts public keys only from the root-signed directory (``_id: directory``
in the main database), verified with :func:`sync.crypto.verify_directory` under the
root key pinned in the hub's identity. Case headers and events must carry a ``sig``
of the very device that pushes them (design.md §5: "signed by itself"); keyrings
carry a signature per wrap (:mod:`sync.crypto.keyring`) and every wrap must verify.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from sync.crypto import CryptoError, Directory, verify_directory, verify_document
from sync.crypto.directory import DIRECTORY_ID
from sync.crypto.keyring import verify_wrap
from sync.crypto.sign import recorder_mismatch
from sync.errors import BadRequest, NotFound
from sync.revtree import path_from_revisions

if TYPE_CHECKING:
    from hub.auth import Device
    from hub.storage import HubStores


class DirectoryCache:
    """The verified directory, re-verified only when its revision changes; the store is
    asked at most once per ``max_age`` seconds (a new directory is seen within that)."""

    def __init__(self, stores: HubStores, *, max_age: float = 1.0):
        self.stores = stores
        self.max_age = max_age
        self._lock = threading.Lock()
        self._rev: str | None = None
        self._directory: Directory | None = None
        self._checked = 0.0

    def root_keys(self) -> list[str]:
        ident = self.stores.private.get("hub:identity")
        return list(ident.get("root_keys", []))

    def get(self) -> Directory:
        if self._directory is not None and time.monotonic() - self._checked < self.max_age:
            return self._directory
        # One thread re-checks; the others keep using the verified directory meanwhile
        # (it is at most a moment older than max_age) instead of all reading it at once.
        if not self._lock.acquire(blocking=self._directory is None):
            return self._directory  # type: ignore[return-value]
        try:
            if self._directory is not None and time.monotonic() - self._checked < self.max_age:
                return self._directory
            # Aged from the read's start, not its end: a revocation written while a slow read
            # (a loaded machine, a CouchDB far away) was answering was missed for max_age
            # after that read ended, longer than the max_age promised after the write.
            reading = time.monotonic()
            # The revision alone first (no body): the directory lists every device and is
            # parsed and verified again only when it changed.
            rows = self.stores.main.all_docs(keys=[DIRECTORY_ID])["rows"]
            row = rows[0] if rows else {}
            value = row.get("value") or {}
            if "error" in row or not value.get("rev") or value.get("deleted"):
                raise CryptoError("the hub has no directory yet: run `bangban hub init`")
            if value["rev"] != self._rev or self._directory is None:
                try:
                    doc = self.stores.main.get(DIRECTORY_ID)
                except NotFound:
                    raise CryptoError("the hub has no directory yet: run `bangban hub init`") \
                        from None
                self._directory = verify_directory(doc, self.root_keys())
                self._rev = doc["_rev"]
            self._checked = reading
            return self._directory
        finally:
            self._lock.release()


def _handed_back(signer: str, directory: Directory) -> bool:
    """Is ``signer`` the hub's own device? A station pushes what it pulled from the hub only
    when the hub has lost it: a hub restored from a backup taken before it wrote its
    10.2.5.2 terminations, the complaints taken at the hub and its conflict resolutions
    (docs/operations.md, Backups). The hub's signature, verified here, vouches for them
    whoever carries them (design.md §5: trust comes from the signed directory); refused,
    they were lost for good at the hub and the oversight, kept only on the stations."""
    from sync.bundle import hub_device
    from sync.crypto import UnknownKey

    try:
        return signer == hub_device(directory)
    except UnknownKey:
        return False


class SignatureCheck:
    """``check(device, doc)`` → None, or a ``forbidden`` refusal naming the rule."""

    def __init__(self, stores: HubStores, directory: DirectoryCache | None = None):
        self.stores = stores
        self.directory = directory or DirectoryCache(stores)

    def check(self, device: Device, doc: Mapping[str, Any], *, stored: bool = True
              ) -> dict[str, str] | None:
        """``stored=False``: the hub holds no revision of ``doc`` (a new keyring has no
        wraps accepted before, and need not be looked up)."""
        try:
            directory = self.directory.get()
            if doc.get("type") == "keyring":
                return self._check_keyring(doc, directory, stored=stored)
            signer = verify_document(doc, directory)
        except CryptoError as exc:
            return {"error": "forbidden", "reason": f"signature: {exc.reason}"}
        if signer.device_id != device.device_id and not _handed_back(signer.device_id,
                                                                      directory):
            return {"error": "forbidden", "reason": (
                f"signature: signed by {signer.device_id}, pushed by {device.device_id}; "
                "a device writes only what it signed itself (design.md §5) / 签名设备"
                f"（{signer.device_id}）与上传设备（{device.device_id}）不符，设备只能上传自己签名的记录")}
        mismatch = recorder_mismatch(doc, signer)
        return {"error": "forbidden", "reason": mismatch} if mismatch else None

    def _check_keyring(self, doc: Mapping[str, Any], directory: Directory, *,
                       stored: bool = True) -> dict[str, str] | None:
        # A wrap is checked when it first arrives. Wraps already in the stored keyring
        # were checked then; re-checking them against today's directory would refuse every
        # later revision of a keyring a since-revoked laptop once wrapped (a hand-up or a
        # re-wrap by the station's other laptop), and lock the station out of its cases.
        accepted = _stored_wraps(self.stores, doc.get("_id")) if stored else set()
        gens = doc.get("data_keys")
        if not isinstance(gens, list) or not gens:
            return {"error": "forbidden", "reason": "keyring: data_keys must be a non-empty list"}
        for gen in gens:
            if not isinstance(gen, Mapping) or not isinstance(gen.get("wraps"), list):
                return {"error": "forbidden", "reason": "keyring: malformed data key generation"}
            for wrap in gen["wraps"]:
                if _wrap_key(gen, wrap) not in accepted:
                    verify_wrap(doc, str(gen.get("kid")), wrap, directory)
        return None


    def check_kept(self, doc: Mapping[str, Any], *, new_edits: bool) -> dict[str, str] | None:
        """A keyring's next revision keeps every generation of the one it replaces and, in
        each, a wrap for every (institution, key) wrapped there whose key is still active:
        what :func:`sync.crypto.keyring.rewrap` keeps (it drops only wraps to retired keys;
        a re-made wrap has a new signature, the same recipient). Any holder of a case pushes
        its keyring, so without this the town a case was handed up to dropped the village's
        wraps and locked the village out of its own case (nothing stored is lost, §3)."""
        parent = _parent_rev(doc, new_edits=new_edits)
        if parent is None:
            return None
        try:
            before = self.stores.main.get(str(doc["_id"]), rev=parent)
            directory = self.directory.get()
        except (NotFound, CryptoError):
            return None  # a revision the hub never had (or no body left): nothing to keep
        after = {str(g.get("kid")): {(str(w.get("institution")), str(w.get("key_id")))
                                     for w in g.get("wraps") or [] if isinstance(w, Mapping)}
                 for g in doc.get("data_keys") or [] if isinstance(g, Mapping)}
        for gen in before.get("data_keys") or []:
            kid = str(gen.get("kid"))
            for wrap in gen.get("wraps") or []:
                inst, key_id = str(wrap.get("institution")), str(wrap.get("key_id"))
                if directory.is_active_key(inst, key_id) and (inst, key_id) not in after.get(
                        kid, set()):
                    return {"error": "forbidden", "reason": (
                        f"keyring: generation {kid} lost its wrap for {inst} (key {key_id}, "
                        "still active); a keyring revision keeps every wrap to an active key "
                        f"(design.md §3, §5) / 办件密钥不能撤销已授权机构 {inst} 的访问；"
                        "请先同步再重试")}
        return None


def _parent_rev(doc: Mapping[str, Any], *, new_edits: bool) -> str | None:
    """The revision ``doc`` replaces: its ``_rev`` for an edit, the second entry of its
    ``_revisions`` for a replicated revision (None for a first one)."""
    if new_edits:
        rev = doc.get("_rev")
        return rev if isinstance(rev, str) else None
    revs = doc.get("_revisions")
    try:
        path = path_from_revisions(revs) if isinstance(revs, Mapping) else []
    except BadRequest:
        return None
    return path[1] if len(path) > 1 else None


def _wrap_key(gen: Mapping[str, Any], wrap: Any) -> tuple[str, str]:
    """A signed wrap's identity: its generation and its signature value (an Ed25519
    signature over the generation, recipient and wrapped key, so equal means the same wrap)."""
    sig = wrap.get("sig") if isinstance(wrap, Mapping) else None
    return (str(gen.get("kid")), str(sig.get("value")) if isinstance(sig, Mapping) else "")


def _stored_wraps(stores: HubStores, docid: Any) -> set[tuple[str, str]]:
    """The wraps of the keyring as stored now (every leaf: each was checked on arrival)."""
    if not isinstance(docid, str):
        return set()
    try:
        leaves = stores.main.open_revs(docid, "all")
    except NotFound:
        return set()
    out: set[tuple[str, str]] = set()
    for leaf in leaves:
        body = leaf.get("ok") if isinstance(leaf, Mapping) else None
        for gen in (body or {}).get("data_keys") or []:
            if isinstance(gen, Mapping):
                out.update(_wrap_key(gen, w) for w in gen.get("wraps") or [] if w)
    out.discard(("", ""))
    return {k for k in out if k[1]}


def keyring_has_wrap(keyring: Mapping[str, Any], institution: str) -> bool:
    """Whether the current data key generation is wrapped for ``institution`` (hand-up rule)."""
    current = keyring.get("current")
    for gen in keyring.get("data_keys") or []:
        if isinstance(gen, Mapping) and gen.get("kid") == current:
            return any(isinstance(w, Mapping) and w.get("institution") == institution
                       for w in gen.get("wraps") or [])
    return False
