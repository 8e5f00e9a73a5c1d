"""Importing a bundle file at the hub (design.md §4: "signed, encrypted bundle files carry
changes where there is no network at all").

A village station with no link exports its documents to a file (``bangban node bundle
export``); someone carries it to the hub, where :func:`import_bundle` writes them exactly as
if the laptop had replicated: the file's device signature is checked against the verified
directory (enrolled, not revoked, of the named institution), the payload is opened with the
hub's private key it was sealed for, and the documents go through the replicator into that
device's view (``hub.view(Device(...))``), which checks every document one by one (schema,
signature, scope, transition) and refuses each bad one alone with its ``forbidden`` reason.

The keys: a node seals for the hub's *bundle key* published in the directory
(``keys/bundle.keychain.json``, :mod:`hub.keys`), so an import needs nothing offline. The
escrow key (``keys/escrow-OFFLINE.json``, held offline, design.md §5) is read only for a
file sealed before the bundle key existed (``payload.recipient: "escrow"``), from
``--escrow-file``, for the command's lifetime. A hub initialised before the bundle key gets
one with ``bangban hub bundle key`` (:func:`ensure_bundle_key`), which also publishes a
directory carrying it; its stations pick that up at their next sync.

The other direction, hub → station (``bangban hub bundle export --device ID``,
:func:`export_file`): what that device's view would pull, collected by the replicator, sealed
for its institution's key from the directory and signed with the hub's device key
(:func:`sync.bundle.seal_for_institution`); the station checks and imports it with
``bangban node bundle import`` (:mod:`node.bundles`). The hub never opens such a file: it
holds no institution key (design.md §5).
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import TYPE_CHECKING, Any

from hub.errors import BadInput, NotInitialized, Unauthorized, UnknownDevice
from sync.crypto import EncryptionKeyPair
from sync.errors import NotFound, SyncError

if TYPE_CHECKING:
    from hub.core import Hub

_MAKE_KEY = "`bangban hub bundle key` makes and publishes one"


def load_escrow(hub_dir: str | Path, path: str | Path | None = None) -> EncryptionKeyPair:
    """The escrow private key from ``path`` (default ``HUB_DIR/keys/escrow-OFFLINE.json``),
    unlocked with the hub's key passphrase."""
    from hub import keys as hub_keys

    file = Path(path) if path else Path(hub_dir) / "keys" / hub_keys.ESCROW
    if not file.exists():
        raise NotInitialized(f"escrow key file {file} is missing: this bundle was sealed for "
                             "the escrow key (a node from before the hub's bundle key): give "
                             "--escrow-file where the escrow key is kept")
    chain = hub_keys.unlock(file, hub_dir)
    key = chain.active("escrow").key
    if not isinstance(key, EncryptionKeyPair):
        raise NotInitialized(f"{file}: holds no X25519 escrow key")
    return key


def load_bundle_key(hub_dir: str | Path, sealed_for: str = "") -> EncryptionKeyPair:
    """The hub's bundle private key (:class:`NotInitialized` when it has none yet; the
    message names ``sealed_for``, the key the bundle was sealed for)."""
    from hub import keys as hub_keys

    key = hub_keys.load_bundle_key(hub_dir)
    if key is None:
        raise NotInitialized(f"{Path(hub_dir) / 'keys' / hub_keys.BUNDLE} is missing: this "
                             f"hub has no bundle key ({_MAKE_KEY}), so the bundle's key "
                             f"{sealed_for or '(unnamed)'} is another hub's")
    return key


def ensure_bundle_key(hub: Hub) -> dict[str, Any]:
    """``bangban hub bundle key``: make the bundle key if the hub has none, record its public
    half in the hub identity and publish a directory carrying it if the current one does not.
    Safe to run again: it changes nothing once all three hold."""
    from hub import admin
    from hub import keys as hub_keys
    from hub.core import IDENTITY_ID
    from sync.crypto import key_entry

    pair, created = hub_keys.ensure_bundle_key(hub.settings.hub_dir)
    if (hub.identity.get("bundle") or {}).get("kid") != pair.key_id:
        ident = hub.stores.private.get(IDENTITY_ID)
        ident["bundle"] = key_entry(pair)
        hub.stores.private.put(ident)
        hub.reset_keys()  # drops the cached identity too
    try:
        current = hub.stores.main.get("directory")
    except NotFound:
        current = {}
    published = (current.get("bundle") or {}).get("kid") != pair.key_id
    if published:
        current = admin.publish_directory(hub)
    return {"key_id": pair.key_id, "created": created, "published": published,
            "directory_version": current.get("version")}


def _enrolled(hub: Hub, device_id: str) -> dict[str, Any]:
    """The device's credential record: :class:`UnknownDevice` / :class:`Unauthorized` for a
    device never enrolled here or revoked (a revoked laptop gets no file either way)."""
    record = hub.auth.record(device_id)
    if record is None:
        raise UnknownDevice(f"device: {device_id!r} is not enrolled at this hub")
    if record.get("revoked"):
        raise Unauthorized(f"device: {device_id!r} is revoked; no bundle is exchanged with it "
                           "(design.md §5)", error="device_revoked")
    return record


#: Private document listing a device's hub-made bundle files (``--since-last`` chains on it).
EXPORTS_PREFIX = "bundle-exports:"
EXPORTS_KEPT = 20


def _exports(hub: Hub, device_id: str) -> dict[str, Any]:
    try:
        return hub.stores.private.get(EXPORTS_PREFIX + device_id)
    except NotFound:
        return {"_id": EXPORTS_PREFIX + device_id, "type": "bundle_exports", "exports": []}


def export_bundle(hub: Hub, device_id: str, *, since_last: bool = False) -> dict[str, Any]:
    """The hub → station direction (design.md §4): everything ``device_id``'s view would
    pull, collected by the replicator, sealed for the device's institution key and signed by
    the hub's device key. Returns the envelope.

    By default from the beginning, like the node's export: the station skips what it already
    holds, so the file never depends on what the hub believes the station has seen. With
    ``since_last`` only what the view changed since this device's previous file (its view
    seq is recorded with each export); the file names that one (``follows``, signed) and the
    station refuses it unless it imported that one (node/bundle_import.py), so a lost stick
    can never leave a silent gap.
    """
    from hub.auth import Device
    from hub.signatures import DirectoryCache
    from sync.bundle import seal_for_institution
    from sync.bundle_stores import collect

    record = _enrolled(hub, device_id)
    institution = str(record.get("institution"))
    log = _exports(hub, device_id)
    previous = log["exports"][-1] if log["exports"] else None
    if since_last and previous is None:
        raise BadInput(f"--since-last: no earlier bundle file for {device_id}; make a full one "
                       "first (without --since-last)")
    # The view answers from the scope index: bring it up to date with every write first,
    # or a document written a moment ago (a hand-down) would be missing from the file.
    hub.indexer.catch_up()
    view = hub.view(Device(device_id, institution, record))
    seq = view.info()["update_seq"]  # before collecting: later writes may come twice, never 0
    if since_last and previous is not None:
        ids: list[str] = []
        since: Any = previous["last_seq"]
        while True:
            feed = view.changes(since=since, limit=1000)
            ids.extend(r["id"] for r in feed["results"])
            since = feed["last_seq"]
            if len(feed["results"]) < 1000:
                break
        docs = collect(view, doc_ids=sorted(set(ids))) if ids else []
    else:
        docs = collect(view)
    directory = DirectoryCache(hub.stores, max_age=0.0).get()
    # Microseconds: the time names the file in a chain (``follows``), two exports in one
    # second must not share a name.
    created = dt.datetime.now(dt.UTC).isoformat(timespec="microseconds")
    envelope = seal_for_institution(
        docs, signer=hub.keys.signer, institution=institution, directory=directory,
        created_at=created,
        follows=str(previous["created_at"]) if since_last and previous else None)
    log["exports"] = [*log["exports"], {"created_at": envelope["created_at"], "last_seq": seq,
                                        "documents": len(docs),
                                        "follows": envelope.get("follows")}][-EXPORTS_KEPT:]
    hub.stores.private.put(log)
    return envelope


def export_file(hub: Hub, device_id: str, out: str | Path, *, since_last: bool = False
                ) -> dict[str, Any]:
    """:func:`export_bundle` written to ``out`` (refused if it exists), mode 0600, atomically:
    a temporary file in the same folder, fsync'd, then linked to its name, so a half-written
    file is never seen under ``out`` (the stick may be pulled out at any moment)."""

    from sync.bundle import dumps

    target = Path(out)
    if target.exists():
        raise BadInput(f"--out: {target} exists (a bundle file is never overwritten)")
    envelope = export_bundle(hub, device_id, since_last=since_last)
    data = dumps(envelope)
    write_once(target, data, "a bundle file")
    return {"file": str(target), "device": device_id, "institution": envelope["payload"]["to"],
            "key_id": envelope["payload"]["key_id"], "documents": envelope["count"],
            "bytes": len(data), "created_at": envelope["created_at"],
            "follows": envelope.get("follows")}


def write_once(target: Path, data: bytes, what: str) -> None:
    """Write ``data`` to ``target`` 0600, whole or not at all, never over a file there."""
    import os
    import secrets

    tmp = target.with_name(f".{target.name}.{secrets.token_hex(4)}.tmp")
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.link(tmp, target)  # fails if ``out`` appeared meanwhile: never overwrite
    except FileExistsError as exc:
        raise BadInput(f"--out: {target} exists ({what} is never overwritten)") from exc
    except OSError as exc:
        raise BadInput(f"--out: cannot write {target} ({exc.strerror})") from exc
    finally:
        tmp.unlink(missing_ok=True)


def read_bundle(path: str | Path) -> dict[str, Any]:
    from sync.bundle import loads

    file = Path(path)
    try:
        data = file.read_bytes()
    except OSError as exc:
        raise BadInput(f"FILE: cannot read {file} ({exc.strerror})") from exc
    return loads(data)


def import_bundle(hub: Hub, envelope: dict[str, Any], key: EncryptionKeyPair
                  ) -> dict[str, Any]:
    """Check, open (with ``key``, the private key of the envelope's recipient) and replicate
    one bundle into its device's view.

    Raises (nothing written) for a bad signature, an unknown or revoked device, a bundle sealed
    for another hub's key or one that does not open. Returns ``{device, institution,
    created_at, documents, written, refused: [{id, rev, error, reason}], skipped}``.
    """
    from hub.auth import Device
    from hub.signatures import DirectoryCache
    from sync.bundle import BUNDLE, open_bundle, recipient
    from sync.bundle_stores import BundleSource
    from sync.replicate import ReplicationOptions, replicate

    device_id = str(envelope.get("device"))
    record = _enrolled(hub, device_id)
    directory = DirectoryCache(hub.stores, max_age=0.0).get()
    name = recipient(envelope)
    published = directory.bundle if name == BUNDLE else directory.escrow
    if published is None or published.key_id != key.key_id:
        raise BadInput(f"{name}: the loaded key {key.key_id} is not the directory's {name} key "
                       f"{published.key_id if published else '(none published)'}"
                       + (f": {_MAKE_KEY}" if name == BUNDLE else ""))
    header, docs = open_bundle(envelope, directory, key)
    if record.get("institution") != header.institution:
        raise Unauthorized(f"institution: device {device_id!r} is enrolled for "
                           f"{record.get('institution')!r}, the bundle says {header.institution!r}")
    view = hub.view(Device(device_id, header.institution, record), via="bundle")
    # One batch for a bundle of up to 1,000 documents, no pipeline: the bundle's order is the
    # node's changes order, and the view resolves dependencies within one _bulk_docs call.
    result = replicate(BundleSource(docs, name=f"bundle-{device_id}"), view,
                       ReplicationOptions(batch_size=1000, pipeline=False, max_attempts=1))
    try:
        hub.indexer.catch_up()
    except SyncError:  # the write stands; the next catch-up of any request indexes it
        pass
    return {"device": device_id, "institution": header.institution,
            "created_at": header.created_at, "documents": len(docs), "sealed_for": name,
            "checked": result.missing_checked, "skipped": result.missing_checked - result.missing_found,
            "written": result.docs_written, "refused": list(result.failures)}


def import_file(hub: Hub, path: str | Path, *, escrow_file: str | Path | None = None
                ) -> dict[str, Any]:
    """:func:`import_bundle` of a file (what ``bangban hub bundle import`` runs): the hub's
    bundle key opens it, or, for a file sealed for the escrow key, the escrow key from
    ``escrow_file`` (default ``keys/escrow-OFFLINE.json``)."""
    from sync.bundle import ESCROW, INSTITUTION, recipient

    envelope = read_bundle(path)
    hub_dir = hub.settings.hub_dir
    if recipient(envelope) == INSTITUTION:
        raise BadInput(f"FILE: {path} is a bundle the hub made for the station of "
                       f"{envelope['payload'].get('to')}: import it there with `bangban node "
                       "bundle import`")
    if recipient(envelope) == ESCROW:
        key = load_escrow(hub_dir, escrow_file)
    else:
        # --escrow-file is not needed (nor read): the point of the bundle key (design.md §5)
        key = load_bundle_key(hub_dir, str(envelope["payload"]["key_id"]))
    return {"file": str(path), **import_bundle(hub, envelope, key)}


__all__ = ["ensure_bundle_key", "export_bundle", "export_file", "import_bundle", "import_file", "load_bundle_key", "load_escrow",
           "read_bundle"]
