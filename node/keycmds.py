"""``bangban node keys export|rotate|import|rewrap|passphrase``: the institution's keys
carried between the laptops of one station, the key rotation after a lost laptop (design.md
§5; the runbook's "A laptop is lost or stolen"), and a new daily passphrase when the laptop
changes hands (the runbook's "Staff come and go"). Registered by :func:`node.cli.register`."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from node.cli import (
    _ask,
    _carried_keys,
    _one_line,
    _passphrase,
    _refused,
    _settings,
    _transfer_passphrase,
)


def register(sub: Any, common: Callable[[argparse.ArgumentParser], None],
             transfer: Callable[[argparse.ArgumentParser], None]) -> None:
    keys = sub.add_parser("keys", help="carry the institution's keys to a second laptop")
    keys_sub = keys.add_subparsers(dest="keys_command", metavar="ACTION", required=True)
    export = keys_sub.add_parser(
        "export", help="write this institution's keys to a file for `node init --institution-keys`",
        description="Write the institution's keys (every generation, no device key) to FILE, "
        "locked under a transfer passphrase that differs from the daily one (asked twice; "
        "scripts: --transfer-passphrase-file or BANGBAN_TRANSFER_PASSPHRASE). Carry FILE to the "
        "second laptop, run `bangban node init ... --institution-keys FILE` there, then delete it.")
    export.add_argument("--out", required=True, metavar="FILE", help="file to write (mode 0600)")
    export.add_argument("--force", action="store_true", help="overwrite FILE if it exists")
    common(export)
    transfer(export)
    export.set_defaults(func=cmd_keys_export)

    rotate = keys_sub.add_parser(
        "rotate", help="after a lost laptop: a new institution key (the old one kept, retired)",
        description="Retire the institution's key and add a new one (design.md §5), after "
        "`bangban hub device revoke` and `bangban hub institution rotate-key CODE`. Prints the "
        "public keys as JSON for `bangban hub device keys FILE`; then carry the new key to the "
        "station's other laptops (`node keys export` here, `node keys import` there).")
    common(rotate)
    rotate.add_argument("--json", action="store_true", help="print only the JSON")
    rotate.set_defaults(func=cmd_keys_rotate)

    imp = keys_sub.add_parser(
        "import", help="take the institution's new key from `node keys export` (enrolled laptop)",
        description="Merge the institution keys of FILE (written by `node keys export` on a "
        "laptop of the same station after `node keys rotate`) into this laptop's keychain: new "
        "generations added, the file's active key becomes the active one, older ones retired.")
    imp.add_argument("file", metavar="FILE", help="the file `node keys export` wrote")
    common(imp)
    transfer(imp)
    imp.add_argument("--json", action="store_true", help="print the summary as JSON")
    imp.set_defaults(func=cmd_keys_import)

    rew = keys_sub.add_parser(
        "rewrap", help="after `node keys rotate` (registered, synced): re-wrap open cases",
        description="Re-wrap the keyrings of the institution's open cases for the new key with a "
        "new data key generation the retired key never gets (also done after each sync).")
    common(rew)
    rew.add_argument("--json", action="store_true", help="print the result as JSON")
    rew.set_defaults(func=cmd_keys_rewrap)

    pw = keys_sub.add_parser(
        "passphrase", help="a new daily passphrase (the laptop handed to another clerk)",
        description="Lock this laptop's keychain under a new passphrase (8+ characters, asked "
        "twice; scripts: --new-passphrase-file or BANGBAN_NEW_PASSPHRASE(_FILE)) after the "
        "current one. The keys stay the same: every case still opens. The old passphrase no "
        "longer unlocks this laptop; a running `node serve` locks at once. Backups made "
        "before keep the old passphrase: make a new one and destroy them.")
    common(pw)
    pw.add_argument("--new-passphrase-file", metavar="F", help="file whose first line is the "
                    "new passphrase (scripts; else BANGBAN_NEW_PASSPHRASE, else asked)")
    pw.set_defaults(func=cmd_keys_passphrase)


@_one_line
def cmd_keys_export(args: argparse.Namespace) -> int:
    from node.core import KEYCHAIN
    from node.errors import TransferRefused
    from node.keys import NodeKeys
    from node.transfer import (
        check_transfer_passphrase,
        export_document,
        read_enrollment,
        summary,
        write_document,
    )

    s = _settings(args)
    folder, out = Path(s.node_dir), Path(args.out)
    enrollment = read_enrollment(folder)
    if out.exists() and not args.force:  # before any passphrase is typed
        raise TransferRefused(f"{out} 已存在 / {out} exists (give --force to overwrite)",
                              fields={"out": "exists"})
    daily = _passphrase(s, confirm=False)
    keys = NodeKeys.unlock(folder / KEYCHAIN, daily, enrollment)
    transfer = _transfer_passphrase(s, confirm=True)
    check_transfer_passphrase(transfer, daily)
    doc = export_document(keys, transfer)
    write_document(out, doc, force=args.force)
    print(json.dumps(summary(doc, out), ensure_ascii=False))
    return 0


def _unlock_keychain(s: Any, enrollment: dict[str, Any]) -> tuple[Path, Any, str]:
    """(keychain path, unlocked NodeKeys, daily passphrase) for commands that rewrite it."""
    from node.core import KEYCHAIN
    from node.keys import NodeKeys

    path = Path(s.node_dir) / KEYCHAIN
    passphrase = _passphrase(s, confirm=False)
    return path, NodeKeys.unlock(path, passphrase, enrollment), passphrase


@_one_line
def cmd_keys_rotate(args: argparse.Namespace) -> int:
    from node.rotation import REMINDER, rotate_keys
    from node.transfer import read_enrollment

    s = _settings(args)
    result = rotate_keys(*_unlock_keychain(s, read_enrollment(Path(s.node_dir))))
    # stdout is the JSON `hub device keys FILE` reads; the reminder goes to stderr
    print(json.dumps(result, ensure_ascii=False))
    if not args.json:
        print("\n".join(REMINDER), file=sys.stderr)
    return 0


@_one_line
def cmd_keys_import(args: argparse.Namespace) -> int:
    from node.rotation import import_keys
    from node.transfer import read_enrollment

    s = _settings(args)
    enrollment = read_enrollment(Path(s.node_dir))
    carried = _carried_keys(args.file, s, enrollment["institution"])
    result = import_keys(*_unlock_keychain(s, enrollment), carried)
    print(json.dumps(result, ensure_ascii=False) if args.json else
          f"institution {result['institution']}: active key {result['active']}, "
          f"{len(result['added'])} added, {len(result['retired'])} retired")
    return 0


@_one_line
def cmd_keys_rewrap(args: argparse.Namespace) -> int:
    from node.core import Node
    from node.errors import NodeError
    from node.rewrap import rewrap_open_cases

    s = _settings(args)
    node = Node(s)
    try:
        node.unlock(_passphrase(s, confirm=False))
        result = rewrap_open_cases(node)
    except NodeError as exc:
        return _refused(exc)
    finally:
        node.close()
    print(json.dumps(result, ensure_ascii=False) if args.json else
          f"re-wrapped {len(result['rewrapped'])} open case(s) for key {result['active']}; "
          f"skipped {len(result['skipped'])}" + "".join(
              f"\n  {case}: {why}" for case, why in result["skipped"].items()))
    return 0 if result["ok"] else 1


@_one_line
def cmd_keys_passphrase(args: argparse.Namespace) -> int:
    from node.keys import change_passphrase
    from node.transfer import read_enrollment

    s = _settings(args)
    path, keys, old = _unlock_keychain(s, read_enrollment(Path(s.node_dir)))
    new = _ask(s.read_new_passphrase(), "新口令 / new passphrase", confirm=True,
               hint="--new-passphrase-file or BANGBAN_NEW_PASSPHRASE(_FILE)")
    change_passphrase(path, keys, old, new)
    print("口令已更换：旧口令不再能解锁本机；此前的备份仍用旧口令，请重新备份并销毁旧备份 / "
          "passphrase changed: the old one no longer unlocks this laptop; backups made before "
          "open with the old one: make a new backup (`node backup`) and destroy the old ones")
    return 0
