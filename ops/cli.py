"""The ``bangban`` command: one entry point, subcommands registered by each package.

Each package owns its commands in its own ``cli`` module exposing
``register(subparsers)``; handlers import their heavy modules lazily so that
``bangban --help`` stays fast on a village laptop.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

#: Modules that contribute subcommands, in help order. A module missing here
#: (not yet built) is skipped so that the others keep working.
COMMAND_MODULES = ("sync.cli", "node.cli", "hub.cli", "ops.demo")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="bangban",
        description="Bangban 帮办: offline-first casework and sync for assisted and proxy handling.",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name in COMMAND_MODULES:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name == name:
                continue
            raise
        module.register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    from ops.envcheck import unknown_lines

    for line in unknown_lines():
        print(line, file=sys.stderr)
    import os

    # What a command creates is the owner's alone, whatever the caller's umask: the SQLite
    # stores (and the -wal/-shm/-journal files SQLite makes beside them), keychains,
    # enrollments, backups and bundles hold credential hashes and sealed data. The service
    # units set UMask=0077; `hub init`, `node init`, `store serve`… run by hand got 0644.
    # One umask here covers every file and folder any command or library makes, where
    # explicit modes would have to be repeated at each creation (SQLite's own files can
    # take none). Only tightened (a stricter umask is kept), and put back on return (tests
    # call main in-process).
    umask = os.umask(0o077)
    os.umask(umask | 0o077)
    try:
        result = args.func(args)
        sys.stdout.flush()  # here, not at exit: a closed pipe is caught below
    except BrokenPipeError:
        # `bangban hub doctor | head -3`: the reader went away. A traceback here buried
        # the answer the operator had piped; quiet, as `cat` is (Python docs, "Note on
        # SIGPIPE"), with the shell's status of a process a broken pipe ended.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 141
    finally:
        os.umask(umask)
    return int(result or 0)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
