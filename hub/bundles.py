"""Importing a bundle file at the hub (design.md §4: "signed, encrypted bundle files carry
changes where there is no network at all").

A village station with no link exports its documents to a file (``bangban node bundle
export``); someone carries it to the hub, where :func:`import_bundle` writes them exactly as
if the laptop had replicated: the file's device signature is checked against the verified
directory (enrolled, not revoked, of the named institution), the payload is opened with the
escrow private key it was sealed for, and the documents go through the replicator into that
device's view (``hub.view(Device(...))``), which checks every document one by one (schema,
signature, scope, transition) and refuses each bad one alone with its ``forbidden`` reason.

The escrow key: the payload key is wrapped for the directory's escrow public key, so opening
it needs ``keys/escrow-OFFLINE.json`` (:mod:`hub.keys`), which ``hub serve`` never loads. The
key is read only by the import command, for the command's lifetime; a hub whose escrow file
was moved offline imports with ``--escrow-file`` pointing at it (see node/README.md and the
departure bullet in docs/architecture.md: a dedicated bundle key is the better design).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

from hub.errors import BadInput, NotInitialized, Unauthorized, UnknownDevice
from sync.crypto import EncryptionKeyPair, Keychain
from sync.errors import SyncError

if TYPE_CHECKING:
    from hub.core import Hub


def load_escrow(hub_dir: str | Path, path: str | Path | None = None) -> EncryptionKeyPair:
    """The escrow private key from ``path`` (default ``HUB_DIR/keys/escrow-OFFLINE.json``),
    unlocked with the hub's key passphrase."""
    from hub import keys as hub_keys

    file = Path(path) if path else Path(hub_dir) / "keys" / hub_keys.ESCROW
    if not file.exists():
        raise NotInitialized(f"escrow key file {file} is missing: give --escrow-file where the "
                             "escrow key is kept (it opens the bundle's payload key)")
    chain = Keychain.unlock(json.loads(file.read_text("utf-8")),
                            hub_keys._passphrase(hub_dir))
    key = chain.active("escrow").key
    if not isinstance(key, EncryptionKeyPair):
        raise NotInitialized(f"{file}: holds no X25519 escrow key")
    return key


def read_bundle(path: str | Path) -> dict[str, Any]:
    from sync.bundle import loads

    file = Path(path)
    try:
        data = file.read_bytes()
    except OSError as exc:
        raise BadInput(f"FILE: cannot read {file} ({exc.strerror})") from exc
    return loads(data)


def import_bundle(hub: Hub, envelope: dict[str, Any], escrow: EncryptionKeyPair
                  ) -> dict[str, Any]:
    """Check, open and replicate one bundle into its device's view.

    Raises (nothing written) for a bad signature, an unknown or revoked device, a bundle sealed
    for another escrow key or one that does not open. Returns ``{device, institution,
    created_at, documents, written, refused: [{id, rev, error, reason}], skipped}``.
    """
    from hub.auth import Device
    from hub.signatures import DirectoryCache
    from sync.bundle import open_bundle
    from sync.bundle_stores import BundleSource
    from sync.replicate import ReplicationOptions, replicate

    device_id = str(envelope.get("device"))
    record = hub.auth.record(device_id)
    if record is None:
        raise UnknownDevice(f"device: {device_id!r} is not enrolled at this hub")
    if record.get("revoked"):
        raise Unauthorized(f"device: {device_id!r} is revoked; its bundles are refused "
                           "(design.md §5)", error="device_revoked")
    directory = DirectoryCache(hub.stores, max_age=0.0).get()
    if directory.escrow.key_id != escrow.key_id:
        raise BadInput(f"escrow: the loaded key {escrow.key_id} is not the directory's escrow "
                       f"key {directory.escrow.key_id}")
    header, docs = open_bundle(envelope, directory, escrow)
    if record.get("institution") != header.institution:
        raise Unauthorized(f"institution: device {device_id!r} is enrolled for "
                           f"{record.get('institution')!r}, the bundle says {header.institution!r}")
    view = hub.view(Device(device_id, header.institution, record))
    # One batch for a bundle of up to 1,000 documents, no pipeline: the bundle's order is the
    # node's changes order, and the view resolves dependencies within one _bulk_docs call.
    result = replicate(BundleSource(docs, name=f"bundle-{device_id}"), view,
                       ReplicationOptions(batch_size=1000, pipeline=False, max_attempts=1))
    try:
        hub.indexer.catch_up()
    except SyncError:  # the write stands; the next catch-up of any request indexes it
        pass
    return {"device": device_id, "institution": header.institution,
            "created_at": header.created_at, "documents": len(docs),
            "checked": result.missing_checked, "skipped": result.missing_checked - result.missing_found,
            "written": result.docs_written, "refused": list(result.failures)}


def import_file(hub: Hub, path: str | Path, *, escrow_file: str | Path | None = None
                ) -> dict[str, Any]:
    """:func:`import_bundle` of a file (what ``bangban hub bundle import`` runs)."""
    envelope = read_bundle(path)
    escrow = load_escrow(hub.settings.hub_dir, escrow_file)
    return {"file": str(path), **import_bundle(hub, envelope, escrow)}


__all__ = ["import_bundle", "import_file", "load_escrow", "read_bundle"]
