"""``bangban hub device enroll|revoke|keys``: a station's laptops at the hub (design.md §5).

* ``enroll``: the device id and its secret, shown once (the hub keeps a hash);
* ``keys FILE``: the public keys ``bangban node init`` printed, into the directory;
* ``revoke``: refused (and told to wipe) at its next contact; its institution's key is
  rotated apart (``hub institution rotate-key``, :mod:`hub.rotation`).

Kept out of :mod:`hub.cli` (one command group per module, as :mod:`hub.bundle_cli`);
:func:`register` adds the commands.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from hub.cli import _hub, _print, _run


@_run
def cmd_device_enroll(args: argparse.Namespace) -> int:
    from hub import admin

    hub = _hub(args)
    enr = admin.enroll_device(hub, institution_code=args.institution, short=args.short,
                              label=args.label, staff=args.staff)
    roots = [f"root key:     {key}" for key in enr["root_keys"]]
    # what a laptop without the JSON file types: without the root key its `node init` was
    # refused, and without --db-url it guessed an address no hub serves (node/cli.py)
    init = " ".join(["bangban node init", f"--hub {enr['hub_url']}",
                     f"--device-id {enr['device_id']}", f"--secret={enr['secret']}",
                     f"--db-url {enr['db_url']}",
                     *(f"--root-key {key}" for key in enr["root_keys"])])
    _print(args, enr, "\n".join([
        f"hub URL:      {enr['hub_url']}", f"database URL: {enr['db_url']}",
        f"device id:    {enr['device_id']}", f"secret:       {enr['secret']}", *roots,
        "(the secret is shown once; the hub keeps only its hash)",
        "on the laptop (or `--json > enrollment.json` and `node init --enrollment-json`):",
        f"  {init}"]))
    if note := hub.settings.loopback_note():  # stderr: `--json > enrollment.json` stays JSON
        print(f"bangban hub: {note}", file=sys.stderr)
    return 0


@_run
def cmd_device_revoke(args: argparse.Namespace) -> int:
    from hub import admin

    result = admin.revoke_device(_hub(args), args.device_id, in_hand=args.in_hand)
    print(f"device {args.device_id} revoked: it is refused (and told to wipe) at next contact")
    print(result["hint"])  # the institution key is not rotated automatically (hub.rotation)
    return 0


@_run
def cmd_device_keys(args: argparse.Namespace) -> int:
    from hub import admin
    from hub.errors import BadInput
    from sync.settings import read_json_file

    entries = read_json_file(args.file, "FILE (the JSON `node init` printed)")
    if "secret" in entries or "db_url" in entries:  # the two JSON files of "A new station"
        raise BadInput(f"FILE: {args.file} is an enrollment (what `hub device enroll --json` "
                       "printed, with the device's secret), not its keys: give the JSON "
                       "`bangban node init` printed on the laptop")
    dev = args.device_id or entries.get("device_id")
    if not isinstance(dev, str) or not dev:
        raise BadInput("device_id: give --device-id or a FILE naming its device_id")
    result = admin.register_keys(_hub(args), dev, entries)
    _print(args, result, f"keys registered; directory v{result['directory_version']}")
    return 0


def register(sub: Any) -> None:
    """``hub device …`` under the ``hub`` command's subparsers ``sub``."""
    dev = sub.add_parser("device", help="devices").add_subparsers(
        dest="dev_command", metavar="COMMAND", required=True)
    p = dev.add_parser("enroll", help="enroll a device: prints hub URL, database URL, id, secret")
    p.add_argument("--institution", required=True, help="institution code")
    p.add_argument("--short", help="device short name (default D1, D2, …)")
    p.add_argument("--label", help="a note to recognise the laptop (default: the device id)")
    p.add_argument("--staff", metavar="ID", help="a laptop of one person: that roster id "
                   "(`hub institution staff`) is its default staff at the window")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_device_enroll)
    p = dev.add_parser("revoke", help="revoke a device (401 + wipe at next contact)")
    p.add_argument("device_id", help="the device id (INSTITUTION-SHORT), as enrolled")
    # which laptop: its advice on the institution key differs (hub.rotation.rotation_hint);
    # unsaid is lost, the worst case, so a stolen laptop is always told to rotate
    which = p.add_mutually_exclusive_group()
    which.add_argument("--lost", dest="in_hand", action="store_false",
                       help="lost or stolen (the default): rotate the institution key next")
    which.add_argument("--in-hand", dest="in_hand", action="store_true",
                       help="broken or retired and in your hands, never out of your control: "
                       "its institution key was not exposed, no rotation")
    p.set_defaults(func=cmd_device_revoke, in_hand=False)
    p = dev.add_parser("keys", help="register a device's public keys (the JSON `node init` "
                       "printed)")
    p.add_argument("file", help="the JSON `bangban node init` (or `node keys rotate`) printed")
    p.add_argument("--device-id", help="default: the file's device_id")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_device_keys)
