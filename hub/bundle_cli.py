"""``bangban hub bundle import|export|key``: bundle files where there is no network at all
(design.md §4), both directions.

* ``import FILE``: a station's file (``bangban node bundle export``), opened with the hub's
  bundle key and written through the device's view (:func:`hub.bundles.import_file`).
* ``export --device ID --out FILE``: what that device's view would pull, sealed for its
  institution's key and signed by the hub (:func:`hub.bundles.export_file`); the station
  reads it with ``bangban node bundle import FILE``.
* ``key``: give a hub initialised before bundle keys its bundle key.

Kept out of :mod:`hub.cli` so that module stays small; :func:`register` adds the commands.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import Any

from hub.cli import _hub, _print, _run


def _on_hub(args: argparse.Namespace, work: Callable[[Any], dict[str, Any]]) -> dict[str, Any]:
    """``work`` on the hub of ``--hub-dir``, closed again afterwards."""
    hub = _hub(args)
    try:
        return work(hub)
    finally:
        hub.close()


@_run
def cmd_bundle_import(args: argparse.Namespace) -> int:
    from hub.bundles import import_file

    report = _on_hub(args, lambda hub: import_file(hub, args.file, escrow_file=args.escrow_file))
    _print(args, report, f"bundle {args.file} from {report['device']}: "
           f"{report['documents']} documents, {report['written']} written, "
           f"{report['skipped']} already here, {len(report['refused'])} refused" + "".join(
               f"\n  refused {r['id']}: {r['reason']}" for r in report["refused"]))
    return 1 if report["refused"] else 0


@_run
def cmd_bundle_export(args: argparse.Namespace) -> int:
    from hub.bundles import export_file

    summary = _on_hub(args, lambda hub: export_file(hub, args.device, args.out,
                                                    since_last=args.since_last))
    chained = (f"; it continues the file of {summary['follows']}, which the station must "
               "have imported" if summary.get("follows") else "")
    _print(args, summary, f"bundle {summary['file']} for {summary['device']}: "
           f"{summary['documents']} documents sealed for institution {summary['institution']} "
           f"(key {summary['key_id']}){chained}; import it there with "
           "`bangban node bundle import`")
    return 0


@_run
def cmd_bundle_key(args: argparse.Namespace) -> int:
    from hub.bundles import ensure_bundle_key

    result = _on_hub(args, ensure_bundle_key)
    _print(args, result, f"bundle key {result['key_id']} "
           f"({'created' if result['created'] else 'already there'}); directory "
           f"v{result['directory_version']} carries it"
           + (" (published now: stations get it at their next sync)" if result["published"]
              else ""))
    return 0


def register(sub: Any) -> None:
    """``hub bundle …`` under the ``hub`` command's subparsers ``sub``."""
    bundle = sub.add_parser("bundle", help="bundle files carried to and from stations without "
                            "network (design.md §4)").add_subparsers(
        dest="bundle_command", metavar="COMMAND", required=True)
    p = bundle.add_parser("import", help="check, open (with the hub's bundle key) and import a "
                          "node's bundle file")
    p.add_argument("file", metavar="FILE", help="the file `bangban node bundle export` wrote")
    p.add_argument("--escrow-file", help="only for an old file sealed for the escrow key "
                   "(before the bundle key): the escrow key file (default "
                   "keys/escrow-OFFLINE.json)")
    p.add_argument("--json", action="store_true", help="print the report as JSON")
    p.set_defaults(func=cmd_bundle_import)
    p = bundle.add_parser("export", help="write what a station's device would pull to FILE, "
                          "sealed for its institution and signed by the hub")
    p.add_argument("--device", required=True, metavar="DEVICE_ID",
                   help="the station's device (enrolled, not revoked)")
    p.add_argument("--out", required=True, metavar="FILE", help="the bundle file to write")
    p.add_argument("--since-last", action="store_true",
                   help="only what changed since this device's previous file (the station "
                        "refuses it unless it imported that one)")
    p.add_argument("--json", action="store_true", help="print the summary as JSON")
    p.set_defaults(func=cmd_bundle_export)
    p = bundle.add_parser("key", help="give a hub initialised before bundle keys its bundle "
                          "key and publish it in the directory (safe to run again)")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_bundle_key)
