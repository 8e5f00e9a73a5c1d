"""``bangban node init|serve|sync``: enroll this laptop, run the web UI, sync once."""

from __future__ import annotations

import argparse
import getpass
import json
import os
import sys
from pathlib import Path
from typing import Any


def register(subparsers: Any) -> None:
    p = subparsers.add_parser("node", help="the field app of a village or town station")
    sub = p.add_subparsers(dest="node_command", metavar="ACTION", required=True)

    init = sub.add_parser("init", help="store the enrollment and create the passphrase-locked keys")
    init.add_argument("--hub", help="hub URL (from `bangban hub device enroll`)")
    init.add_argument("--device-id", help="device id (INSTITUTION-SHORT)")
    init.add_argument("--secret", help="device secret (HTTP Basic password); a secret that "
                      "starts with '-' is given as --secret=VALUE")
    init.add_argument("--db-url", default="", help="the device's database URL (default HUB/db/DEVICE)")
    init.add_argument("--institution-name", default="", help="shown on screens and printed forms")
    init.add_argument("--root-key", action="append", default=[],
                      help="municipal root public key (base64) that signs the key directory")
    init.add_argument("--enrollment-json", help="the JSON printed by `hub device enroll --json`")
    _common(init)
    init.set_defaults(func=cmd_init)

    serve = sub.add_parser("serve", help="run the web UI on 127.0.0.1 with background sync")
    _common(serve)
    serve.add_argument("--host", help="listen address (default BANGBAN_NODE_HOST, 127.0.0.1)")
    serve.add_argument("--port", type=int, help="port (default BANGBAN_NODE_PORT, 8470)")
    serve.add_argument("--help-settings", action="store_true", help="print the settings table")
    serve.set_defaults(func=cmd_serve)

    sync = sub.add_parser("sync", help="one sync round with the hub (push, then pull)")
    _common(sync)
    sync.add_argument("--json", action="store_true", help="print the summary as JSON")
    sync.set_defaults(func=cmd_sync)


def _common(p: argparse.ArgumentParser) -> None:
    p.add_argument("--dir", help="node folder (default BANGBAN_NODE_DIR, ./node-data)")
    p.add_argument("--passphrase-file", help="file whose first line is the passphrase (scripts)")


def _settings(args: argparse.Namespace) -> Any:
    from node import settings

    conf: dict[str, Any] = {}
    if getattr(args, "dir", None):
        conf["node_dir"] = args.dir
    if getattr(args, "passphrase_file", None):
        conf["passphrase_file"] = args.passphrase_file
    if getattr(args, "host", None):
        conf["node_host"] = args.host
    if getattr(args, "port", None):
        conf["node_port"] = args.port
    return settings.load(conf)


def _passphrase(s: Any, *, confirm: bool) -> str:
    value = s.read_passphrase()
    if value:
        return str(value)
    if not sys.stdin.isatty():
        raise SystemExit("no passphrase: give --passphrase-file or BANGBAN_PASSPHRASE(_FILE)")
    first = getpass.getpass("口令 / passphrase: ")
    if confirm and getpass.getpass("再输一次 / again: ") != first:
        raise SystemExit("passphrases differ")
    return first


def cmd_init(args: argparse.Namespace) -> int:
    from node.core import ENROLLMENT, KEYCHAIN
    from node.keys import NodeKeys
    from schemas.ids import split_device_id

    s = _settings(args)
    folder = Path(s.node_dir)
    extra: dict[str, Any] = {}
    if args.enrollment_json:
        extra = json.loads(Path(args.enrollment_json).read_text(encoding="utf-8"))
    hub = str(args.hub or extra.get("hub_url") or "").rstrip("/")
    device = args.device_id or extra.get("device_id")
    secret = args.secret or extra.get("secret")
    if not (hub and device and secret):
        raise SystemExit("node init needs --hub, --device-id and --secret (or --enrollment-json)")
    institution, _short = split_device_id(device)
    enrollment = {
        "hub_url": hub, "device_id": device, "secret": secret,
        "institution": institution,
        "db_url": args.db_url or extra.get("db_url") or extra.get("database_url")
        or f"{hub}/db/{device}",
        "institution_name": args.institution_name or extra.get("institution_name", ""),
        "root_keys": list(args.root_key) + list(extra.get("root_keys") or []),
    }
    for key in ("institution_path", "staff"):
        if extra.get(key):
            enrollment[key] = extra[key]
    passphrase = _passphrase(s, confirm=True)
    folder.mkdir(parents=True, exist_ok=True)
    keys = NodeKeys.create(folder / KEYCHAIN, passphrase, enrollment, extra.get("keys"))
    path = folder / ENROLLMENT
    path.write_text(json.dumps(enrollment, ensure_ascii=False, indent=2), encoding="utf-8")
    os.chmod(path, 0o600)
    print(json.dumps({"ok": True, "dir": str(folder), **keys.public_entries()}, ensure_ascii=False))
    return 0


def cmd_serve(args: argparse.Namespace) -> int:
    from node import settings

    if args.help_settings:
        print(settings.help_table())
        return 0
    s = _settings(args)
    from werkzeug.serving import make_server

    from node.app import create_app

    app = create_app(dict(s))
    node = app.extensions["bangban_node"]
    scripted = s.read_passphrase()
    if scripted and node.enrollment:
        node.unlock(scripted)
        node.syncer.start_background()
    server = make_server(s.node_host, int(s.node_port), app, threaded=True)
    print(f"bangban node: http://{s.node_host}:{server.server_port}/ (dir {s.node_dir})", flush=True)

    def _stop(signum: int, frame: Any) -> None:
        raise KeyboardInterrupt  # stop serving, then close the store and the sync loop

    import signal

    signal.signal(signal.SIGTERM, _stop)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        node.close()
    return 0


def cmd_sync(args: argparse.Namespace) -> int:
    from node.core import Node
    from node.errors import NodeError

    s = _settings(args)
    node = Node(s)
    scripted = s.read_passphrase()
    if scripted:
        node.unlock(scripted)
    try:
        summary = node.syncer.sync_once()
    except NodeError as exc:
        print(json.dumps(exc.as_json(), ensure_ascii=False) if args.json else str(exc),
              file=sys.stderr)
        return 1
    finally:
        node.close()
    state = node.syncer.state.as_json()
    if args.json:
        print(json.dumps({"summary": summary, "state": state}, ensure_ascii=False, default=str))
    else:
        print(f"synced: pushed {state['pushed']}, pulled {state['pulled']}, "
              f"refused {len(state['refused'])}")
    return 0
