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
    try:
        result = args.func(args)
        sys.stdout.flush()  # here, not at exit: a closed pipe is caught below
    except BrokenPipeError:
        # `bangban hub doctor | head -3`: the reader went away. A traceback here buried
        # the answer the operator had piped; quiet, as `cat` is (Python docs, "Note on
        # SIGPIPE"), with the shell's status of a process a broken pipe ended.
        import os

        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 141
    return int(result or 0)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
