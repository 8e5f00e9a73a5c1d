"""``bangban hub backup DIR`` and ``hub restore DIR``: the commands of :mod:`hub.backup`.

They say, in plain lines, what was written or restored (documents, leaf revisions and
attachments per database, the folder) and what the operator does next, in the words of
the runbook (docs/operations.md, "Backups"); ``--json`` gives the same as one object, as
the other hub commands do. Kept out of :mod:`hub.cli` (one command group per module, as
:mod:`hub.device_cli`); :func:`register` adds the commands.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from hub.cli import _hub, _print, _run, _run_new

DATABASES = ("main", "private", "receipts")


def _lines(databases: dict[str, dict[str, int]]) -> list[str]:
    """One line per database: documents, leaf revisions (conflicts and tombstones
    included, as the backup keeps them), attachments."""
    out = []
    for name in DATABASES:
        c = databases.get(name)
        if c is None:  # a backup made before receipt times were saved (hub.receipts)
            out.append(f"  {name:<9} not in this backup (made before receipt times were saved)")
            continue
        out.append(f"  {name:<9} {c['documents']:>7} documents, {c['revisions']:>7} revisions, "
                   f"{c['attachments']} attachments")
    return out


def backup_next() -> list[str]:
    """What the operator does after `hub backup` (docs/operations.md, "Backups")."""
    return ["copy HUB_DIR/keys and HUB_DIR/settings.json with your file backup: they are "
            "not in this folder (keep the keychain's passphrase apart)",
            "keep the folder readable by its owner only on the backup medium (0700, files "
            "0600: it holds the devices' credential hashes and every keyring)"]


def restore_next(summary: dict[str, Any], note: str | None) -> list[str]:
    """What the operator does after `hub restore` (docs/operations.md, "Backups")."""
    steps = []
    if note:  # `hub serve` refuses to start without this hub's keys (hub.keys.own_key_id)
        steps.append("put back this hub's keys/ and settings.json from the file backup "
                     "(see the message below)")
    if summary.get("db_prefix") and summary["db_prefix"] != summary["prefix"]:
        steps.append(f"BANGBAN_DB_PREFIX={summary['prefix']} is saved in HUB_DIR/settings.json; "
                     "a BANGBAN_DB_PREFIX in /etc/bangban/hub.env still wins: change it there "
                     "too (stations keep their URL)")
    steps += [
        "start the service (systemctl start bangban-hub, or bangban hub serve), then "
        "bangban hub doctor",
        "set this machine's clock right, then redo what the hub did after the backup "
        f"(taken {summary.get('taken_at') or 'at an unknown time'}): enrollments, device "
        "keys, device revoke, institution rotate-key, catalog and roster changes, "
        "supervisor logins (docs/operations.md, Backups: what a restore cannot bring back)",
        "stations need nothing: they push what they wrote after the backup and pull once "
        "more from the beginning, by themselves"]
    return steps


@_run
def cmd_backup(args: argparse.Namespace) -> int:
    from hub import backup, backup_partial

    hub = _hub(args)
    databases = backup.backup(hub, args.dir, tell=lambda line: print(
        f"bangban hub: {line}", file=sys.stderr))
    # others killed before they finished (hub.backup_partial): told at each backup, as
    # the doctor tells them, until the operator deletes them
    partial = [p.note() for p in backup_partial.found(hub.settings.hub_dir)]
    steps = backup_next() + [f"delete the backup that did not finish: {p}" for p in partial]
    _print(args, {"folder": args.dir, "databases": databases, "next": steps,
                  "partial_backups": partial}, "\n".join([
        f"backup written to {args.dir} (manifest.json last: the backup is complete)",
        *_lines(databases), "next:", *(f"  - {s}" for s in steps)]))
    return 0


@_run_new  # into a fresh HUB_DIR too (docs/operations.md, "Backups")
def cmd_restore(args: argparse.Namespace) -> int:
    from hub import backup
    from hub.folderlock import hold_folder
    from hub.settings import Settings

    folder = Settings.load({"hub_dir": args.hub_dir} if args.hub_dir else {}).path
    with hold_folder(folder, doing="restore"):  # not under a running hub (hub.folderlock)
        return _restore(args, backup)


def _restore(args: argparse.Namespace, backup: Any) -> int:
    hub = _hub(args)
    summary = backup.restore(hub, args.dir)
    note = backup.keys_note(hub)  # the data is back; can this folder serve it?
    steps = restore_next(summary, note)
    _print(args, {"folder": args.dir, **summary, "next": steps}, "\n".join([
        f"restored from {args.dir} into the hub store (database prefix {summary['prefix']})",
        *_lines(summary["databases"]),
        "scope indexes rebuilt; HUB_DIR/oversight.sqlite dropped (the workers rebuild it "
        "from the restored feed)", "next:", *(f"  - {s}" for s in steps)]))
    if note:
        print(f"bangban hub: {note}", file=sys.stderr)
    return 1 if note else 0


def register(sub: Any) -> None:
    """Add `backup` and `restore` to the `bangban hub` subcommands."""
    p = sub.add_parser("backup", help="stream every document (all revisions) and checkpoints")
    p.add_argument("dir", help="a new or empty folder (HUB_DIR/keys, settings.json: not in it)")
    p.add_argument("--json", action="store_true", help="print the summary as JSON")
    p.set_defaults(func=cmd_backup)
    p = sub.add_parser("restore", help="restore a backup into an empty hub store")
    p.add_argument("dir", help="a folder written by `hub backup` (put HUB_DIR/keys back first)")
    p.add_argument("--json", action="store_true", help="print the summary as JSON")
    p.set_defaults(func=cmd_restore)
