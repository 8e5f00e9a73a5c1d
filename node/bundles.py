"""``bangban node bundle export``: the station's documents in a signed, encrypted file for a
hub it cannot reach (design.md §4: "bundle files carry changes where there is no network at
all").

The node's store is replicated from the beginning into a collecting target
(:func:`sync.bundle_stores.collect`); the hub skips what it already holds when the file is
imported, so a bundle never depends on what was synced before (simple, and a lost stick costs
nothing but a second export). The list is sealed for the hub's bundle key named in the
root-signed directory and signed by this device (:func:`sync.bundle.seal_bundle`); the file
is written with mode 0600 (it is encrypted, but it is still the station's whole case list).

A directory without a bundle key (a hub initialised before it, not yet updated with
``bangban hub bundle key``) refuses the export: never the escrow key instead, since opening
that at the hub would need the offline key that opens every case (design.md §5).

``bangban node bundle import FILE`` is the other direction (hub → station): a file the hub
made with ``bangban hub bundle export --device ID``, checked and written by
:mod:`node.bundle_import`.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from node.errors import NodeError

if TYPE_CHECKING:
    from node.core import Node


def verified_directory(node: Node) -> Any:
    """The hub's directory in the store, verified under the pinned root keys (the
    provisional directory a node uses before its first sync knows neither the hub's bundle key
    nor the hub's device: a bundle needs the real one, either way)."""
    from sync.crypto import DIRECTORY_ID, CryptoError, verify_directory
    from sync.errors import NotFound
    from sync.reference import read_latest

    keys = node.keys
    try:
        doc = read_latest(node.store, DIRECTORY_ID)
    except NotFound:
        doc = None
    if doc is None or not keys.root_keys:
        raise NodeError("directory: 尚未从平台取得密钥目录，请先联网同步一次 / no hub key "
                        "directory yet: sync once (at enrollment) before using bundle files",
                        error="no_directory", status=409, fields={"directory": "missing"})
    try:
        return verify_directory(doc, keys.root_keys)
    except CryptoError as exc:
        raise NodeError(f"directory: 平台密钥目录验证失败 / the hub's key directory does not "
                        f"verify: {exc.reason}", error="bad_directory", status=409) from exc


def hub_directory(node: Node) -> Any:
    """:func:`verified_directory`, which must carry the hub's bundle key (for an export)."""
    directory = verified_directory(node)
    if directory.bundle is None:
        raise NodeError(f"directory: 平台密钥目录 v{directory.version} 没有数据包密钥，请联网同步"
                        "一次，或请平台管理员运行 `bangban hub bundle key` 发布新目录 / the hub's "
                        f"key directory v{directory.version} has no bundle key: sync once, or "
                        "ask the hub operator to run `bangban hub bundle key` (it publishes a "
                        "directory with one)", error="no_bundle_key", status=409,
                        fields={"directory": "没有数据包密钥 / no bundle key"})
    return directory


def export_bundle(node: Node, out: Path) -> dict[str, Any]:
    """Write the bundle file ``out`` (refused if it exists); the one-line summary."""
    from sync.bundle import dumps, seal_bundle
    from sync.bundle_stores import collect

    directory = hub_directory(node)
    docs = collect(node.store)
    envelope = seal_bundle(docs, signer=node.keys.signer, institution=node.institution,
                           directory=directory)
    data = dumps(envelope)
    try:
        fd = os.open(out, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError as exc:
        raise NodeError(f"out: {out} 已存在 / exists", error="file_exists", status=409,
                        fields={"out": "exists"}) from exc
    except OSError as exc:
        raise NodeError(f"out: cannot write {out} ({exc.strerror})", status=400,
                        fields={"out": str(exc.strerror)}) from exc
    with os.fdopen(fd, "wb") as fh:
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())  # the stick is pulled out right after
    return {"documents": len(docs), "bytes": len(data), "file": str(out),
            "device": node.device_id, "created_at": envelope["created_at"]}


def _unlocked(args: argparse.Namespace, work: Callable[[Node], dict[str, Any]], *,
              on_backup: bool = False) -> dict[str, Any]:
    """``work`` on this node, unlocked as the other node commands are (passphrase file,
    environment, else asked), closed again afterwards. ``on_backup``: a `node backup`
    folder is read through a temporary copy (node.restore.working_copy: nothing written
    into it), else refused (a backup is no laptop: nothing is imported into it)."""
    from node.backup import backup_state
    from node.cli import _settings
    from node.settings import Settings

    s = _settings(args)
    folder = Path(s.node_dir)
    if backup_state(folder)[0] is None:
        return _on(s, work)
    if not on_backup:
        raise NodeError(f"--dir: {folder} 是备份，不能导入 / is a backup, nothing is imported "
                        "into it: give the laptop's folder", error="config_error")
    from node.restore import working_copy

    with working_copy(folder) as tmp:  # refuses an unfinished backup
        return _on(Settings({**dict(s), "node_dir": str(tmp)}), work)


def _on(s: Any, work: Callable[[Node], dict[str, Any]]) -> dict[str, Any]:
    from node.cli import _passphrase
    from node.core import Node

    node = Node(s)
    try:
        node.unlock(_passphrase(s, confirm=False))
        return work(node)
    finally:
        node.close()


def cmd_export(args: argparse.Namespace) -> int:
    from node.cli import _refused

    try:
        summary = _unlocked(args, lambda node: export_bundle(node, Path(args.out)),
                            on_backup=True)  # docs/operations.md: a broken laptop's backup
    except NodeError as exc:
        return _refused(exc)
    print(json.dumps(summary, ensure_ascii=False))
    return 0


def cmd_import(args: argparse.Namespace) -> int:
    from node.bundle_import import import_file

    try:
        report = _unlocked(args, lambda node: import_file(node, Path(args.file)))
    except NodeError as exc:
        # Chinese first, then English, like every node CLI error; nothing was written.
        print(json.dumps(exc.as_json(), ensure_ascii=False) if args.json
              else f"bangban node: {exc.reason}", file=sys.stderr)
        return 1
    refused = report["refused"]
    if args.json:
        print(json.dumps(report, ensure_ascii=False))
    else:
        print(f"数据包已导入：写入 {report['written']}，已有 {report['already_here']}，拒收 "
              f"{len(refused)} / bundle imported: {report['written']} written, "
              f"{report['already_here']} already here, {len(refused)} refused" + "".join(
                  f"\n  拒收 / refused {r['id']}: {r['reason']}" for r in refused))
    return 1 if refused else 0


def register(sub: Any, common: Any) -> None:
    """``node bundle export|import`` (called by :func:`node.cli.register`)."""
    bundle = sub.add_parser("bundle", help="no network at all: carry documents to the hub in "
                            "a signed, encrypted file")
    bundle_sub = bundle.add_subparsers(dest="bundle_command", metavar="ACTION", required=True)
    export = bundle_sub.add_parser("export", help="write this station's documents to FILE "
                                   "(import at the hub with `bangban hub bundle import FILE`)")
    export.add_argument("--out", required=True, metavar="FILE", help="the bundle file to write")
    common(export)
    export.set_defaults(func=cmd_export)
    imp = bundle_sub.add_parser("import", help="check and import a bundle the hub made for this "
                                "station (`bangban hub bundle export --device ID`)")
    imp.add_argument("file", metavar="FILE", help="the bundle file to read")
    imp.add_argument("--json", action="store_true", help="print the report as JSON")
    common(imp)
    imp.set_defaults(func=cmd_import)

