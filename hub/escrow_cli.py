"""``bangban hub escrow rewrap|log``: a station's cases back after its only keychain is
lost, with the escrow key brought from its offline medium (:mod:`hub.escrow`).

Kept out of :mod:`hub.cli` (one command group per module, as :mod:`hub.bundle_cli`);
:func:`register` adds the commands.
"""

from __future__ import annotations

import argparse
import getpass
from typing import Any

from hub.cli import _hub, _print, _run


@_run
def cmd_escrow_rewrap(args: argparse.Namespace) -> int:
    from hub.escrow import rewrap_cases

    hub = _hub(args)
    try:
        # the escrow file's passphrase, when the hub's does not open it, is asked at the
        # terminal: never an argument (shell history, the process list)
        report = rewrap_cases(hub, args.institution, args.escrow_file, reason=args.reason,
                              by=args.by, cases=args.cases or (), ask=getpass.getpass)
    finally:
        hub.close()
    lines = [f"escrow key used for {report['institution']} by {report['by']} "
             f"({report['os_user']}@{report['host']}), recorded as {report['_id']}",
             f"  re-wrapped for key {report['institution_key']}: {len(report['rewrapped'])}"
             f" case(s); already opening at the station: {len(report['unchanged'])}"]
    lines += [f"  {case}: {d['generations']} generation(s) opened"
              + (f", {d['unopened']} not wrapped for escrow (stay sealed)" if d["unopened"]
                 else "") for case, d in report["details"].items()]
    lines += [f"  skipped {case}: {why}" for case, why in report["skipped"].items()]
    if report["rewrapped"]:
        lines.append("  the station's laptop opens them after its next sync; the escrow key "
                     "goes back to its offline medium now")
    _print(args, report, "\n".join(lines))
    return 0 if report["ok"] else 1


@_run
def cmd_escrow_log(args: argparse.Namespace) -> int:
    from hub.escrow import uses

    hub = _hub(args)
    try:
        found = uses(hub, args.institution)
    finally:
        hub.close()
    _print(args, found, "\n".join(
        f"{u['started_at']} {u['institution']} by {u['by']} ({u['os_user']}@{u['host']}): "
        f"{u['reason']} — {len(u['rewrapped'])} re-wrapped"
        + (f", {len(u['skipped'])} skipped" if u["skipped"] else "")
        + ("" if u.get("finished_at") else " (did not finish)")
        for u in found) or "the escrow key has not been used through this hub")
    return 0


def register(sub: Any) -> None:
    """``hub escrow …`` under the ``hub`` command's subparsers ``sub``."""
    esc = sub.add_parser("escrow", help="the escrow key (held offline): give a station whose "
                         "keychain is lost its cases back; every use recorded").add_subparsers(
        dest="escrow_command", metavar="COMMAND", required=True)
    p = esc.add_parser("rewrap", help="re-wrap the institution's open cases for its current "
                       "key with the escrow key (after rotate-key and the new laptop's keys)")
    p.add_argument("--institution", required=True, help="institution code")
    p.add_argument("--escrow-file", required=True, help="the escrow key file, brought from its "
                   "offline medium (read, never written or copied); its passphrase is asked "
                   "when the hub's does not open it")
    p.add_argument("--reason", required=True, help="why (recorded; the station sees it)")
    p.add_argument("--by", required=True, help="who runs this (recorded)")
    p.add_argument("--cases", nargs="+", metavar="CASE",
                   help="only these cases, by case number or id (default: the cases the "
                   "institution holds that are not finished)")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_escrow_rewrap)
    p = esc.add_parser("log", help="every use of the escrow key: who, when, why, which cases")
    p.add_argument("--institution", help="only this institution's")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_escrow_log)
