"""``bangban node init|serve|sync|keys|bundle|backup|restore``: enroll this laptop, run the web UI, sync once, carry the
institution's keys to a station's second laptop."""

from __future__ import annotations

import argparse
import getpass
import json
import os
import sys
from pathlib import Path
from typing import Any

#: The hub's database for devices under its default names (hub/settings.py ``db_prefix``;
#: hub.core.Hub.db_url): what a laptop enrolled by hand without --db-url replicates with.
#: It was HUB/db/DEVICE, an address no hub serves (400 illegal_database_name at every sync).
DEFAULT_DB = "bangban"


def register(subparsers: Any) -> None:
    from node.settings import describe

    p = subparsers.add_parser("node", help="the field app of a village or town station",
                              epilog=describe(), formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="node_command", metavar="ACTION", required=True)

    init = sub.add_parser("init", help="store the enrollment and create the passphrase-locked keys")
    init.add_argument("--hub", help="hub URL (from `bangban hub device enroll`)")
    init.add_argument("--device-id", help="device id (INSTITUTION-SHORT)")
    init.add_argument("--secret", help="device secret (HTTP Basic password); a secret that "
                      "starts with '-' is given as --secret=VALUE")
    init.add_argument("--db-url", default="",
                      help="the device's database URL (the \"database URL\" `hub device enroll` "
                      f"printed; default HUB/{DEFAULT_DB})")
    init.add_argument("--institution-name", default="", help="shown on screens and printed forms")
    init.add_argument("--root-key", action="append", default=[],
                      help="municipal root public key (base64) that signs the key directory")
    init.add_argument("--enrollment-json", help="the JSON printed by `hub device enroll --json`")
    init.add_argument("--institution-keys", metavar="FILE",
                      help="second laptop of a station: the file written by `bangban node keys "
                      "export` on a laptop of the same institution; this laptop gets a new device "
                      "key and the institution's keys from the file (asks the transfer passphrase)")
    _common(init)
    _transfer(init)
    init.set_defaults(func=cmd_init, new_folder=True)

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

    from node.backup import register as register_backup  # light: imports nothing heavy
    from node.bundles import register as register_bundle  # light: imports nothing heavy

    register_bundle(sub, _common)
    register_backup(sub, _common)  # and restore
    from node.keycmds import register as register_keys

    register_keys(sub, _common, _transfer)


def _transfer(p: argparse.ArgumentParser) -> None:
    p.add_argument("--transfer-passphrase-file", metavar="F", help="file whose first line is the "
                   "passphrase of the institution key file (scripts; else "
                   "BANGBAN_TRANSFER_PASSPHRASE, else asked)")


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
    if getattr(args, "transfer_passphrase_file", None):
        conf["transfer_passphrase_file"] = args.transfer_passphrase_file
    if getattr(args, "new_passphrase_file", None):
        conf["new_passphrase_file"] = args.new_passphrase_file
    if getattr(args, "host", None):
        conf["node_host"] = args.host
    if getattr(args, "port", None) is not None:  # --port 0: any free port
        conf["node_port"] = args.port
    loaded = settings.load(conf)
    from sync.settings import foreign_owner

    owner = foreign_owner(loaded.node_dir)
    if owner is not None:  # every command resolves its folder here, wrapped or not
        raise SystemExit(f"bangban node: {loaded.node_dir} 属于用户 {owner}，请以该用户运行 / "
                         f"belongs to {owner}: run this as that user (`sudo -u {owner} bangban "
                         "node …`): files made there as root (0600) cannot be opened by "
                         "`node serve` running as its owner")
    if not getattr(args, "new_folder", False):
        _folder_exists(loaded.node_dir)
    return loaded


def _folder_exists(folder: str) -> None:
    """Refuse a node folder that does not exist (every command but `node init` and `node
    restore`, which make theirs): opening the store made it, so a mistyped ``--dir`` was a
    new empty folder and `node sync` said "not enrolled: run node init" of it."""
    from sync.settings import absent_folder

    refusal = absent_folder(folder, "node folder", "--dir or BANGBAN_NODE_DIR",
                            "give this laptop's node folder (the one `node serve` runs with), "
                            "or `bangban node init` to enroll a new laptop")
    if refusal:
        from node.errors import ConfigError

        raise ConfigError(f"没有节点文件夹 {folder}（--dir 或 BANGBAN_NODE_DIR）："
                         "请检查文件夹名称；新电脑请先运行 `bangban node init`。未创建任何文件 / "
                         + refusal)


def _passphrase(s: Any, *, confirm: bool) -> str:
    return _ask(s.read_passphrase(), "口令 / passphrase", confirm=confirm,
                hint="--passphrase-file or BANGBAN_PASSPHRASE(_FILE)")


def _transfer_passphrase(s: Any, *, confirm: bool) -> str:
    return _ask(s.read_transfer_passphrase(), "传递口令 / transfer passphrase", confirm=confirm,
                hint="--transfer-passphrase-file or BANGBAN_TRANSFER_PASSPHRASE(_FILE)")


def _ask(scripted: str, label: str, *, confirm: bool, hint: str) -> str:
    if scripted:
        return str(scripted)
    if not sys.stdin.isatty():
        raise SystemExit(f"no {label}: give {hint}")
    first = getpass.getpass(f"{label}: ")
    if confirm and getpass.getpass("再输一次 / again: ") != first:
        raise SystemExit("两次输入不同 / passphrases differ")
    return first


def _refused(exc: Any) -> int:
    """A NodeError as one clear line on stderr (Chinese / English) and exit status 1."""
    print(f"bangban node: {exc.reason}", file=sys.stderr)
    return 1


def _one_line(func: Any) -> Any:
    """Refusals of this package and of ``sync`` (a wrong passphrase, a wiped folder, a
    broken enrollment file) as one line and exit 1, never a traceback."""
    def wrapper(args: argparse.Namespace) -> int:
        from node.errors import NodeError
        from schemas.errors import SchemaError
        from sync.errors import SyncError

        try:
            return int(func(args) or 0)
        except (NodeError, SchemaError, SyncError) as exc:
            return _refused(exc)
    return wrapper


def _carried_keys(path: str, s: Any, institution: str) -> Any:
    """The institution keys of ``path``, opened and checked before anything is written."""
    from node.transfer import load_document, open_document

    doc = load_document(Path(path))
    return open_document(doc, _transfer_passphrase(s, confirm=False), institution)


@_one_line
def cmd_init(args: argparse.Namespace) -> int:
    from node.core import ENROLLMENT, KEYCHAIN
    from node.errors import AlreadyEnrolled, InvalidInput, NodeError
    from node.keys import NodeKeys
    from schemas.ids import split_device_id
    from sync.settings import read_json_file

    s = _settings(args)
    folder = Path(s.node_dir)
    if (folder / KEYCHAIN).exists():  # its keys may be the only ones opening its cases
        raise AlreadyEnrolled(f"{folder} 已登记 / is already enrolled ({KEYCHAIN} exists): "
                              "a new keychain would lose the keys of its cases; give another "
                              "--dir (or BANGBAN_NODE_DIR)")
    extra: dict[str, Any] = {}
    if args.enrollment_json:
        extra = read_json_file(args.enrollment_json, "--enrollment-json")
        if "device_key" in extra and "secret" not in extra:  # the other JSON of a new station
            raise InvalidInput(f"--enrollment-json: {args.enrollment_json} 是本机密钥（node init 的"
                               "输出），不是登记文件 / is the keys JSON a `node init` printed "
                               "(for `hub device keys`), not the enrollment: give the JSON "
                               "`bangban hub device enroll --json` printed at the hub")
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
        or f"{hub}/{DEFAULT_DB}",
        "institution_name": args.institution_name or extra.get("institution_name", ""),
        "root_keys": list(args.root_key) + list(extra.get("root_keys") or []),
    }
    if not enrollment["root_keys"]:  # nothing from the hub could ever be verified (node.pull)
        raise InvalidInput("root_keys: 没有根公钥 / no root key: give --enrollment-json or --root-key")
    for key in ("institution_path", "staff"):
        if extra.get(key):
            enrollment[key] = extra[key]
    carried = None
    if args.institution_keys:
        if extra.get("keys"):
            raise SystemExit("--institution-keys cannot be combined with an enrollment that "
                             "carries a whole keychain")
        try:
            carried = _carried_keys(args.institution_keys, s, institution)
        except NodeError as exc:
            return _refused(exc)  # before the folder exists: a failed init leaves nothing
    passphrase = _passphrase(s, confirm=True)
    folder.mkdir(parents=True, exist_ok=True)
    try:
        keys = NodeKeys.create(folder / KEYCHAIN, passphrase, enrollment, extra.get("keys"),
                               institution_keys=carried)
    except NodeError as exc:
        return _refused(exc)  # refused before the keychain is written
    path = folder / ENROLLMENT
    path.write_text(json.dumps(enrollment, ensure_ascii=False, indent=2), encoding="utf-8")
    os.chmod(path, 0o600)
    print(json.dumps({"ok": True, "dir": str(folder), **keys.public_entries()}, ensure_ascii=False))
    return 0


@_one_line
def cmd_serve(args: argparse.Namespace) -> int:
    from node import settings

    if args.help_settings:
        print(settings.help_table())
        return 0
    s = _settings(args)
    from waitress import create_server

    from node.backup import serve_refusal

    if (refusal := serve_refusal(Path(s.node_dir))) is not None:
        return _refused(refusal)

    from node.app import create_app
    from node.folderlock import hold

    folder = Path(s.node_dir)
    try:
        folder.mkdir(parents=True, exist_ok=True)  # as the store's first open would
        # one server per folder, and no `node restore` under it (node.folderlock)
        lock = hold(folder, doing="serve")
    except OSError as exc:
        raise _unwritable(folder, exc) from exc
    with lock:
        app = create_app(dict(s))
        node = app.extensions["bangban_node"]
        scripted = s.read_passphrase()
        if scripted and node.enrollment:
            node.unlock(scripted)
        if node.enrollment:
            # rounds run while locked too (the enrollment's secret and pinned root keys are
            # all a round needs): a laptop switched off while the hub revoked it, then
            # started by whoever holds it, wipes at its first round (design.md §5), not only
            # once someone enters the passphrase
            node.syncer.start_background()
        # waitress (the hub's server too), not werkzeug's development server: a clerk's
        # laptop runs this all day; scan uploads beyond 512 kB spool to a temporary file.
        try:
            server = create_server(app, host=s.node_host, port=int(s.node_port), threads=8,
                                   ident="Bangban node", expose_tracebacks=False,
                                   max_request_body_size=int(s.max_upload_bytes) * 2 + 1_048_576)
        except OSError as exc:  # the port is taken (another node serve?) or the address is wrong
            node.close()
            from node.errors import ConfigError

            raise ConfigError(f"--port {s.node_port} --host {s.node_host}: cannot listen "
                              f"({exc.strerror or exc}); give another --port "
                              "(BANGBAN_NODE_PORT)") from exc
        print(f"bangban node: http://{s.node_host}:{server.effective_port}/ (dir {s.node_dir})",
              flush=True)

        def _stop(signum: int, frame: Any) -> None:
            raise KeyboardInterrupt  # stop serving, then close the store and the sync loop

        import signal

        signal.signal(signal.SIGTERM, _stop)
        try:
            server.run()
        except KeyboardInterrupt:
            pass
        finally:
            server.close()
            node.close()
    return 0


def _unwritable(folder: Path, exc: OSError) -> Any:
    """The refusal of a node folder this process cannot write (a read-only disk or mount, a
    folder of another user): every command writes its store there."""
    from node.errors import ConfigError

    return ConfigError(f"--dir: {folder}: 无法写入 / cannot write here ({exc.strerror or exc})")


@_one_line
def cmd_sync(args: argparse.Namespace) -> int:
    from node.core import Node
    from node.errors import NodeError, Wiped

    s = _settings(args)
    from node.backup import backup_state

    if backup_state(Path(s.node_dir))[0] is not None:  # a broken laptop's last push
        from node.restore import cmd_push_backup

        return cmd_push_backup(args, s)  # refuses an unfinished backup; writes nothing there
    from node.folderlock import hold

    def failed(exc: NodeError, state: Any = None) -> int:
        since = f"；{state.since_words()}" if state is not None else ""
        if isinstance(exc, Wiped):  # what waited for upload went with the store
            since = ("；未上传的记录已一并清除 / what had not been pushed was wiped with it"
                     if state is not None and state.pending else "")
        print(json.dumps(exc.as_json(), ensure_ascii=False) if args.json else str(exc) + since,
              file=sys.stderr)
        return 1

    try:  # not beside a running serve's own sync loop (node.folderlock says why)
        lock = hold(Path(s.node_dir), doing="sync")
    except NodeError as exc:
        return failed(exc)
    except OSError as exc:  # no folder: Node says so in its own words below ("node init")
        if Path(s.node_dir).is_dir():  # a read-only one: SQLite said only "unable to open
            return failed(_unwritable(Path(s.node_dir), exc))  # database file"
        lock = None
    try:
        node = Node(s)
        scripted = s.read_passphrase()
        if scripted:
            node.unlock(scripted)
        try:
            summary = node.syncer.sync_once()
        except NodeError as exc:
            return failed(exc, node.syncer.state)
        finally:
            node.close()
    finally:
        if lock is not None:
            lock.release()
    state = node.syncer.state.as_json()
    if args.json:
        print(json.dumps({"summary": summary, "state": state}, ensure_ascii=False, default=str))
    else:
        print(node.syncer.state.round_words())
    return 0
