"""``bangban node bundle import FILE``: documents the hub sent on a stick (design.md §4:
"signed, encrypted bundle files carry changes where there is no network at all"; the hub made
the file with ``bangban hub bundle export --device ID``).

In order, and nothing is written until all of the file-level checks pass:

1. the hub's directory this node holds, verified under the pinned root keys (design.md §5);
2. the bundle's signature: by the directory's hub device only (:func:`sync.bundle.hub_device`)
   and checked before anything is decrypted, so an altered byte or a file made by any other
   laptop is refused whole;
3. the address: this node's institution and one of its institution keys (retired ones too:
   a file sealed before a key rotation still opens), else an error naming the key id;
4. each document, as on a pull (:func:`node.verify.check_documents`, design.md §5): a
   ``sig`` must verify against the directory (the newest of this node's and the one in the
   file, both root-verified; a file has no link to ask the hub for a newer one; a device
   revoked since it signed is accepted, as its history still reaches the node by a pull),
   case headers and events must be signed, a directory must verify under the pinned root.
   A refused document is left out alone, with its reason;
5. a chained file (``hub bundle export --since-last``) names the file it continues
   (``follows``, under the signature): it is refused, nothing written, unless that one was
   imported here (``_local/bangban-bundles-imported``), so a lost stick never leaves a gap.

The accepted documents then move with the replicator from a
:class:`sync.bundle_stores.BundleSource` into the node's store, which skips the revisions it
holds already (importing the same file twice writes nothing), and the node does what it does
after a pull (:meth:`node.syncer.Syncer.after_pull`: reindex, re-wrap after a rotation).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from node.errors import NodeError
from node.verify import check_documents, keep_history

if TYPE_CHECKING:
    from node.core import Node
    from sync.crypto import Directory

def _refuse(reason: str, error: str = "bundle_refused", status: int = 409) -> NodeError:
    return NodeError(reason, error=error, status=status, fields={"file": error})


def read_envelope(path: Path) -> dict[str, Any]:
    from sync.bundle import loads
    from sync.crypto import CryptoError

    try:
        data = path.read_bytes()
    except OSError as exc:
        raise _refuse(f"file: 无法读取 {path} / cannot read {path} ({exc.strerror})",
                      "unreadable", 400) from exc
    try:
        return loads(data)
    except CryptoError as exc:
        raise _refuse(f"file: 不是有效的数据包 / not a bundle file: {exc.reason}",
                      "bad_bundle", 400) from exc


def open_file(node: Node, envelope: dict[str, Any]
              ) -> tuple[Any, list[dict[str, Any]], Directory]:
    """Verify and open a bundle ``envelope`` for this node: ``(header, documents,
    directory)``."""
    from node.bundles import verified_directory
    from sync.bundle import open_for_institution
    from sync.crypto import CryptoError, EncryptionKeyPair

    directory = verified_directory(node)
    held = node.keys.keychain.find("institution", node.institution, active_only=False)
    keys = [h.key for h in held if isinstance(h.key, EncryptionKeyPair)]
    try:
        header, docs = open_for_institution(envelope, directory, node.institution, keys)
    except CryptoError as exc:
        raise _refuse(f"file: 数据包被拒收，未写入任何内容 / bundle refused, nothing written: "
                      f"{exc.reason}") from exc
    return header, docs, directory


#: ``_local`` document listing the hub bundles imported here (by their ``created_at``): a
#: chained file (``follows``) is imported only after the one it continues.
IMPORTED_ID = "_local/bangban-bundles-imported"
IMPORTED_KEPT = 50


def _imported(node: Node) -> list[str]:
    from sync.errors import NotFound

    try:
        return list(node.store.get_local(IMPORTED_ID).get("imported", []))
    except NotFound:
        return []


def _record_import(node: Node, created_at: str, imported: list[str]) -> None:
    from sync.errors import NotFound

    try:
        doc = node.store.get_local(IMPORTED_ID)
    except NotFound:
        doc = {"_id": IMPORTED_ID}
    doc["imported"] = [*[c for c in imported if c != created_at], created_at][-IMPORTED_KEPT:]
    node.store.put_local(doc)


def import_file(node: Node, path: Path) -> dict[str, Any]:
    """Check and import one hub-made bundle file; the report (counts in revisions)."""
    from sync.bundle_stores import BundleSource
    from sync.errors import SyncError
    from sync.replicate import ReplicationOptions, replicate

    envelope = read_envelope(path)
    header, docs, directory = open_file(node, envelope)
    imported = _imported(node)
    follows = envelope.get("follows")  # signed: open_file verified the whole envelope
    if follows and follows not in imported:
        raise _refuse(f"file: 此数据包接续 {follows} 导出的数据包，本机尚未导入；请先导入该文件，"
                      f"或请平台导出完整数据包（不加 --since-last）/ this file continues the "
                      f"bundle made at {follows}, which this laptop has not imported: import "
                      "that one first, or ask the hub for a full bundle (without --since-last)",
                      "bundle_gap")
    accepted, refused = check_documents(docs, directory, node.keys.root_keys)
    accepted = keep_history(node.store, accepted, refused)
    try:
        # No pipeline, one batch per 1,000: the file's order is the hub view's changes order.
        result = replicate(BundleSource(accepted, name=f"bundle-{header.device}"), node.store,
                           ReplicationOptions(batch_size=1000, pipeline=False, max_attempts=1))
    except SyncError as exc:
        raise _refuse(f"store: 写入本机失败 / writing to this laptop's store failed: "
                      f"{exc.reason}", "store_failed", 500) from exc
    node.syncer.state.pulled += int(result.docs_written)
    _record_import(node, header.created_at, imported)
    node.syncer.after_pull()  # reindex, and re-wrap open cases after a key rotation
    from node.restore import synced_by_bundle

    synced_by_bundle(node.store, header.created_at)  # numbers given out after a backup: here
    return {"file": str(path), "device": header.device, "institution": header.to,
            "key_id": header.key_id, "created_at": header.created_at,
            "documents": len(docs), "written": int(result.docs_written),
            "already_here": int(result.missing_checked - result.missing_found),
            "refused": refused + list(result.failures)}


__all__ = ["import_file", "open_file", "read_envelope"]
