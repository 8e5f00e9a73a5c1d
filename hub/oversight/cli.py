"""``bangban hub supervisor add|list|disable`` and ``bangban hub oversight refresh`` (issue 8).

:func:`register` takes the ``hub`` command's subparsers; hub/cli.py calls it (one line)
so that the oversight package keeps its own commands. Passwords are read from
``--password-env`` (an environment variable's name) or prompted, never from argv.
"""

from __future__ import annotations

import argparse
import getpass
import json
import os
import sys
from typing import Any


def _hub(args: argparse.Namespace) -> Any:
    from hub.core import Hub
    from hub.settings import Settings

    return Hub(Settings.load({"hub_dir": args.hub_dir} if args.hub_dir else {}))


def cmd_add(args: argparse.Namespace) -> int:
    from hub.oversight.supervisors import add_supervisor

    if args.password_env:
        password = os.environ.get(args.password_env, "")
    else:
        password = getpass.getpass(f"password for {args.login}: ")
    hub = _hub(args)
    try:
        who = add_supervisor(hub, args.login, password, institution=args.institution,
                             name=args.name or "", replace=args.replace)
    finally:
        hub.close()
    print(f"supervisor {who.login}: {who.level} {who.institution} ({who.name})")
    return 0


def cmd_list(args: argparse.Namespace) -> int:
    hub = _hub(args)
    try:
        res = hub.stores.private.all_docs(startkey="supervisor:", endkey="supervisor:\ufff0",
                                          include_docs=True, offset=False)
        rows = [{k: r["doc"].get(k) for k in ("login", "name", "level", "institution",
                                              "disabled")}
                for r in res["rows"] if r.get("doc")]
    finally:
        hub.close()
    if args.json:
        print(json.dumps(rows, ensure_ascii=False))
    else:
        for r in rows:
            print(f"{r['login']}\t{r['level']}\t{r['institution']}\t{r['name']}"
                  + (f"\tdisabled {r['disabled']}" if r["disabled"] else ""))
    return 0


def cmd_disable(args: argparse.Namespace) -> int:
    from hub.oversight.supervisors import disable_supervisor

    hub = _hub(args)
    try:
        doc = disable_supervisor(hub, args.login)
    finally:
        hub.close()
    print(f"supervisor {args.login}: disabled since {doc['disabled']}; its sessions end at "
          "their next request")
    return 0


def cmd_refresh(args: argparse.Namespace) -> int:
    """Fold everything new in the feed into HUB_DIR/oversight.sqlite (e.g. after an import)."""
    from pathlib import Path

    from hub.oversight import FACTS_FILE, Oversight, discard_if_stale

    hub = _hub(args)
    try:
        # a file another version folded would take the new changes beside the old counts
        # and say "1 cases folded": folded again whole, as `hub serve` does at its start
        if discard_if_stale(Path(hub.settings.hub_dir) / FACTS_FILE):
            print(f"oversight: {FACTS_FILE} was folded by another version: folding the "
                  "feed again", file=sys.stderr, flush=True)
        ov = Oversight(hub)
        n = ov.catch_up(force=True)
        ov.facts.close()
    finally:
        hub.close()
    print(f"oversight: {n} cases folded")
    return 0


def register(hub_subparsers: Any) -> None:
    # hub/cli.py's wrapper: a refused input (a village's supervisor, a short password, an
    # unknown institution) is one line on stderr and exit 2, not a traceback
    from hub.cli import _run

    sup = hub_subparsers.add_parser(
        "supervisor", help="supervisor logins of the oversight dashboard (11.1)"
    ).add_subparsers(dest="supervisor_command", metavar="COMMAND", required=True)
    p = sup.add_parser("add", help="add a supervisor of a city, county or town institution")
    p.add_argument("login")
    p.add_argument("--institution", required=True, help="institution code; sees its subtree")
    p.add_argument("--name", help="display name")
    p.add_argument("--password-env", help="read the password from this environment variable")
    p.add_argument("--replace", action="store_true", help="replace an existing login "
                   "(a new password; enables a disabled one again)")
    p.set_defaults(func=_run(cmd_add))
    p = sup.add_parser("disable", help="the supervisor left: no login from now on, sessions "
                       "end at their next request (the account is kept for the record)")
    p.add_argument("login")
    p.set_defaults(func=_run(cmd_disable))
    ovs = hub_subparsers.add_parser(
        "oversight", help="the oversight materialization (HUB_DIR/oversight.sqlite)"
    ).add_subparsers(dest="oversight_command", metavar="COMMAND", required=True)
    p = ovs.add_parser("refresh", help="fold every change since the last checkpoint")
    p.set_defaults(func=_run(cmd_refresh))
    p = sup.add_parser("list", help="list supervisors")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=_run(cmd_list))
    from hub.oversight.archive_cli import register as register_case

    register_case(hub_subparsers)
