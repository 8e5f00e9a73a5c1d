"""``bangban hub …``: initialise, enroll, manage reference data, serve, back up.

Handlers import the hub lazily so ``bangban --help`` stays fast. Every command
reads the settings from ``--hub-dir``/``BANGBAN_HUB_DIR`` and the environment
(:mod:`hub.settings`).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any


def _hub(args: argparse.Namespace) -> Any:
    from hub.core import Hub
    from hub.settings import Settings

    config = {"hub_dir": args.hub_dir} if args.hub_dir else {}
    return Hub(Settings.load(config))


def _print(args: argparse.Namespace, data: Any, text: str) -> None:
    if getattr(args, "json", False):
        print(json.dumps(data, ensure_ascii=False, indent=1))
    else:
        print(text)


def _as_its_owner(args: argparse.Namespace) -> None:
    """Refuse root in a hub folder of another user (the service's, `bangban`): what a
    command makes there as root (a restore's databases, a new institution's scope database)
    the service cannot open (:func:`sync.settings.foreign_owner`): pushes to that scope, or
    the whole hub, failed at its next start. `hub doctor` only reads, and is not refused."""
    from hub.errors import ConfigError
    from hub.settings import Settings
    from sync.settings import foreign_owner

    try:
        folder = Settings.load({"hub_dir": args.hub_dir} if args.hub_dir else {}).hub_dir
    except ConfigError:  # the command says why
        return
    name = foreign_owner(folder)
    if name is not None:
        raise ConfigError(f"{folder} belongs to {name}: run this as that user (`sudo -u {name} "
                          "bangban hub …`): files made there as root (0600) cannot be opened "
                          "by the service running as its owner")


def _folder_exists(args: argparse.Namespace) -> None:
    """Refuse a hub folder that does not exist, before anything opens the store: opening
    it made the folder and its ``db/`` (and the indexer's cursor file), so a mistyped
    ``--hub-dir`` was a new empty hub folder, and `hub doctor` on it then advised `hub
    init` instead of naming the wrong folder (docs/operations.md, "First look")."""
    from hub.errors import ConfigError
    from hub.settings import Settings
    from sync.settings import absent_folder

    try:
        folder = Settings.load({"hub_dir": args.hub_dir} if args.hub_dir else {}).path
    except ConfigError:  # the command says why
        return
    refusal = absent_folder(folder, "hub folder", "--hub-dir or BANGBAN_HUB_DIR",
                            "give the hub's folder (the service's is BANGBAN_HUB_DIR in "
                            "ops/systemd/bangban-hub.service), or `bangban hub init` to "
                            "start a new hub")
    if refusal:
        raise ConfigError(refusal)


def _run(func: Any, *, new_folder: bool = False) -> Any:
    """A command's exit code, its refusals as one line (exit 2). ``new_folder``: the
    command may make the hub folder (`hub init`, `hub restore` into a fresh one, the
    offline root's work that needs none); every other one needs an existing folder."""
    def wrapper(args: argparse.Namespace) -> int:
        from hub.errors import HubError
        from schemas.errors import SchemaError
        from sync.errors import SyncError

        try:
            _as_its_owner(args)
            if not new_folder:
                _folder_exists(args)
            return int(func(args) or 0)
        except (HubError, SchemaError, SyncError) as exc:
            print(f"bangban hub: {exc.reason}", file=sys.stderr)
            return 2
    return wrapper


def _run_new(func: Any) -> Any:
    """:func:`_run` for a command that may make the hub folder."""
    return _run(func, new_folder=True)


@_run_new
def cmd_init(args: argparse.Namespace) -> int:
    from hub import admin
    from hub.core import Hub
    from hub.settings import Settings

    offline_root = None
    if args.offline_root:
        from hub.offline import OfflineRoot, root_passphrase

        offline_root = OfflineRoot(args.offline_root, root_passphrase(
            args.root_passphrase_file, confirm=True), days=args.delegation_days)
    flags = (("hub_dir", args.hub_dir), ("couchdb_url", args.couchdb_url),
             ("hub_port", args.port), ("public_url", args.public_url))
    hub = Hub(Settings.load({k: v for k, v in flags if v}))  # a bad URL stops here, unsaved
    ident = admin.init(hub, city=args.city, name=args.name, offline_root=offline_root)
    # Saved once init succeeded, the store's URL and prefix too when they came from the
    # environment (ops/couchdb/README.md): every later command and the service find it.
    hub.settings.save({k for k, v in flags if v} | {"couchdb_url", "db_prefix"})
    if args.sample_reference:
        from schemas import sample

        admin.import_institutions(hub, [i for i in sample.institutions()
                                        if i["code"] != ident["city"]])
        admin.import_catalog(hub, sample.catalog())
        for cal in sample.calendars():
            admin.set_calendar(hub, year=cal["year"], holidays=cal["holidays"],
                               workdays=cal["workdays"], source=cal.get("source"))
    _print(args, {k: v for k, v in ident.items() if not k.startswith("_")},
           f"hub initialised in {hub.settings.hub_dir}: city {ident['city']}, "
           f"hub device {ident['device_id']}")
    return 0


@_run
def cmd_institution_add(args: argparse.Namespace) -> int:
    from hub import admin

    hub = _hub(args)
    doc = admin.add_institution(hub, code=args.code, name=args.name, parent=args.parent,
                                region=args.region)
    _print(args, doc, f"institution {doc['code']} ({doc['tier']}) added")
    return 0


@_run
def cmd_institution_rotate_key(args: argparse.Namespace) -> int:
    from hub import admin

    result = admin.begin_key_rotation(_hub(args), args.code)
    _print(args, result, "\n".join([
        f"institution {args.code}: key(s) {', '.join(result['retired']) or '-'} retired "
        f"(directory v{result['directory_version']}); a new key is awaited",
        "请在该站另一台电脑上运行 `bangban node keys rotate`，再用 `bangban hub device keys` 登记 / "
        "next: `bangban node keys rotate` on a remaining laptop, then `bangban hub device keys "
        "FILE`"]))
    return 0


@_run_new
def cmd_root_delegate(args: argparse.Namespace) -> int:
    from hub import offline

    doc = offline.delegate(args.root_keychain, offline.root_passphrase(args.root_passphrase_file),
                           args.signer_key, days=args.days, serial=args.serial)
    with open(args.out, "w", encoding="utf-8") as out:
        json.dump(doc, out, indent=1)
    print(f"delegation to {doc['key_id']} until {doc['not_after']} written to {args.out}: "
          "install it with `bangban hub delegation install`")
    return 0


@_run
def cmd_delegation_install(args: argparse.Namespace) -> int:
    from hub import offline

    result = offline.install(_hub(args), offline.read_file(args.file))
    _print(args, result, f"delegation installed (until {result['not_after']}); "
           f"directory v{result['directory_version']} published")
    return 0


@_run
def cmd_delegation_show(args: argparse.Namespace) -> int:
    from hub import offline

    print(json.dumps(offline.info(_hub(args)), indent=1))
    return 0


@_run
def cmd_calendar_set(args: argparse.Namespace) -> int:
    from hub import admin

    dates = {k: [d.strip() for d in getattr(args, k).split(",") if d.strip()]  # "a, b" too
             for k in ("holidays", "workdays")}
    doc = admin.set_calendar(_hub(args), year=args.year, **dates,
                             source=args.source)
    print(f"calendar {doc['year']}: {len(doc['holidays'])} holidays, "
          f"{len(doc['workdays'])} make-up workdays")
    return 0


@_run
def cmd_serve(args: argparse.Namespace) -> int:
    from hub.serve import serve

    config: dict[str, Any] = {}
    if args.hub_dir:
        config["hub_dir"] = args.hub_dir
    if args.host:
        config["hub_host"] = args.host
    if args.port is not None:
        config["hub_port"] = args.port
    if args.no_workers:
        config["workers"] = False
    if args.processes:
        config["hub_processes"] = args.processes
    return serve(config)


def cmd_doctor(args: argparse.Namespace) -> int:
    """Exit 0 ok, 1 warnings, 2 failures (hub.doctor); a hub that cannot open reports too."""
    from hub import doctor
    from hub.errors import HubError
    from hub.settings import Settings
    from sync.errors import SyncError

    # What to do, by what failed ("see docs/operations.md" sent the operator to read a page).
    hint = ("set it right where it comes from: the environment (the unit's Environment=, "
            "/etc/bangban/hub.env), HUB_DIR/settings.json or the command line; `bangban hub "
            "--help` lists every setting")
    try:
        folder = Path(Settings.load({"hub_dir": args.hub_dir} if args.hub_dir else {}).hub_dir)
        if not folder.is_dir():  # opening a hub would create the folder: report, touch nothing
            hint = ("give the hub's folder (the service's is BANGBAN_HUB_DIR in "
                    "ops/systemd/bangban-hub.service), or `bangban hub init` to start a new hub")
            raise HubError(f"no hub folder at {folder} (--hub-dir or BANGBAN_HUB_DIR)",
                           status=404, error="not_found")
        hub = doctor.open_hub(Settings.load({"hub_dir": args.hub_dir} if args.hub_dir else {}))
    except (HubError, SyncError) as exc:
        checks = [doctor.Check("settings", "fail", exc.reason, hint)]
    else:
        try:
            checks = doctor.run(hub)
        finally:
            hub.close()
    _print(args, doctor.as_json(checks), doctor.render(checks))
    return doctor.exit_status(checks)


def register(subparsers: Any) -> None:
    from hub.settings import describe

    hub = subparsers.add_parser("hub", help="the municipal hub (replication gateway, workers)",
                                epilog=describe(),
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    hub.add_argument("--hub-dir", help="hub folder (default BANGBAN_HUB_DIR or ./hub-data)")
    sub = hub.add_subparsers(dest="hub_command", metavar="COMMAND", required=True)

    p = sub.add_parser("init", help="create databases, keys, identity and directory v1")
    p.add_argument("--city", default="410600", help="city code (6 digits ending in 00)")
    p.add_argument("--name", default="鹤壁市政务服务中心", help="city center name")
    p.add_argument("--couchdb-url", help="store in this Apache CouchDB (saved in settings.json)")
    p.add_argument("--port", type=int, help="port of `hub serve` (saved)")
    p.add_argument("--public-url", help="URL devices use to reach the hub (saved)")
    p.add_argument("--sample-reference", action="store_true",
                   help="also import the sample institutions, catalog and calendars")
    p.add_argument("--offline-root", metavar="FILE",
                   help="root key offline (design.md §5): write it only to FILE (locked), and "
                   "sign directories with an online key the root delegates to")
    p.add_argument("--root-passphrase-file", metavar="FILE",
                   help="passphrase of the root keychain (else $BANGBAN_ROOT_PASSPHRASE or asked)")
    p.add_argument("--delegation-days", type=int, default=365,
                   help="days the first delegation is valid (default 365)")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_init)

    root = sub.add_parser("root", help="offline root key work (needs no hub folder)").add_subparsers(
        dest="root_command", metavar="COMMAND", required=True)
    p = root.add_parser("delegate", help="sign a delegation to the hub's directory-signing key")
    p.add_argument("--root-keychain", required=True, metavar="FILE",
                   help="the file `hub init --offline-root` wrote (kept offline)")
    p.add_argument("--root-passphrase-file", metavar="FILE",
                   help="passphrase file (else $BANGBAN_ROOT_PASSPHRASE or asked)")
    p.add_argument("--signer-key", required=True, metavar="PUBLIC_B64",
                   help="the hub's signer key (`hub delegation show` prints it)")
    p.add_argument("--days", type=int, default=365, help="days it is valid (default 365)")
    p.add_argument("--serial", type=int, help="default: the current Unix time")
    p.add_argument("--out", required=True, metavar="DELEGATION.json",
                   help="file to write, for `hub delegation install`")
    p.set_defaults(func=cmd_root_delegate)

    deleg = sub.add_parser("delegation", help="the root's delegation (root offline)").add_subparsers(
        dest="delegation_command", metavar="COMMAND", required=True)
    p = deleg.add_parser("install", help="check, store a renewed delegation and republish")
    p.add_argument("file", help="the file `hub root delegate --out` wrote")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_delegation_install)
    p = deleg.add_parser("show", help="signer key id, not_after, days left (JSON)")
    p.set_defaults(func=cmd_delegation_show)

    inst = sub.add_parser("institution", help="institutions").add_subparsers(
        dest="inst_command", metavar="COMMAND", required=True)
    p = inst.add_parser("add", help="add an institution (village, town, county)")
    p.add_argument("--code", required=True, help="administrative code (12 village, 9 town, 6)")
    p.add_argument("--name", required=True, help="the service point's name (便民服务站/中心)")
    p.add_argument("--parent", help="parent code (default: from the code's prefix)")
    p.add_argument("--region", help="optional region name")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_institution_add)
    p = inst.add_parser("rotate-key", help="after a lost laptop: retire the institution's key "
                        "and accept the new one its station registers next")
    p.add_argument("code", help="institution code")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_institution_rotate_key)
    from hub.closing import register as register_close
    from hub.staff import register as register_staff

    register_staff(inst)
    register_close(inst)

    from hub.device_cli import register as register_device

    register_device(sub)

    from hub.catalog_cli import register as register_catalog  # JSON, .xlsx, CSV

    register_catalog(sub)

    cal = sub.add_parser("calendar", help="working-day calendars").add_subparsers(
        dest="cal_command", metavar="COMMAND", required=True)
    p = cal.add_parser("set", help="set a year's holidays and make-up workdays")
    p.add_argument("--year", type=int, required=True, help="the year (chinesecalendar ends 2026)")
    p.add_argument("--holidays", default="", help="comma-separated ISO dates")
    p.add_argument("--workdays", default="", help="comma-separated ISO dates (weekends)")
    p.add_argument("--source", help="where the dates come from (e.g. the State Council notice; "
                   "one starting with 'provisional' keeps the year's deadlines marked estimated)")
    p.set_defaults(func=cmd_calendar_set)

    p = sub.add_parser("serve", help="serve the replication endpoint and run the workers")
    p.add_argument("--host", help="listen address (default BANGBAN_HUB_HOST, 127.0.0.1)")
    p.add_argument("--port", type=int, help="port (default BANGBAN_HUB_PORT, 8840)")
    p.add_argument("--no-workers", action="store_true", help="serve only (BANGBAN_WORKERS=0)")
    p.add_argument("--processes", type=int, help="gateway processes on one socket (default 1)")
    p.set_defaults(func=cmd_serve)

    from hub.backup_cli import register as register_backup

    register_backup(sub)

    p = sub.add_parser("doctor", help="check the hub for an operator: store, keys, directory "
                       "and delegation, worker lag, silent devices, disk (exit 0/1/2)")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_doctor)

    # Bundle files, both directions (design.md §4): import, export, key.
    from hub.bundle_cli import register as register_bundle

    register_bundle(sub)
    from hub.escrow_cli import register as register_escrow  # a lost keychain's cases back

    register_escrow(sub)

    # Oversight (issue 8) keeps its own commands: supervisor add|list, oversight refresh.
    from hub.oversight.cli import register as register_oversight

    register_oversight(sub)
