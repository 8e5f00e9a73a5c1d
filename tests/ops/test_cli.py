"""The ``bangban`` dispatcher."""

from __future__ import annotations

import subprocess
import sys

import pytest

from ops import cli


def test_help_lists_commands(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        cli.main(["--help"])
    assert exc.value.code == 0
    assert "bangban" in capsys.readouterr().out


def test_console_entry_point_runs() -> None:
    out = subprocess.run([sys.executable, "-m", "ops.cli", "--help"], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr


def test_every_package_contributes_its_commands(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        cli.main(["hub", "--help"])
    hub_help = capsys.readouterr().out
    for command in ("init", "device", "serve", "supervisor", "oversight"):
        assert command in hub_help
    with pytest.raises(SystemExit):
        cli.main(["--help"])
    top = capsys.readouterr().out
    for command in ("store", "replicate", "node", "hub", "demo"):
        assert command in top


def _help(capsys: pytest.CaptureFixture[str], *argv: str) -> str:
    with pytest.raises(SystemExit):
        cli.main([*argv, "--help"])
    return capsys.readouterr().out


def _env_names(*paths: str) -> set[str]:
    """Every BANGBAN_* name a source file, a doc or a deployment file spells out."""
    import re
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    found: set[str] = set()
    for pattern in paths:
        for path in root.glob(pattern):
            found |= set(re.findall(r"\bBANGBAN_[A-Z][A-Z0-9_]*[A-Z0-9]\b", path.read_text("utf-8")))
    return found


def test_every_setting_the_code_reads_is_in_the_help(capsys: pytest.CaptureFixture[str]) -> None:
    """`bangban hub --help` and `bangban node --help` list every BANGBAN_* setting (README):
    one read straight from the environment but missing there is a setting nobody finds."""
    hub_help, node_help = _help(capsys, "hub"), _help(capsys, "node")
    assert _env_names("hub/*.py", "hub/*/*.py") - set(hub_help.split()) == set()
    assert _env_names("node/*.py") - set(node_help.split()) == set()


def test_docs_and_deployment_files_name_only_real_settings(
        capsys: pytest.CaptureFixture[str]) -> None:
    from sync.http.settings import HTTPSettings

    known = set(_help(capsys, "hub").split()) | set(_help(capsys, "node").split())
    known |= {"BANGBAN_" + name.upper() for name in HTTPSettings.__dataclass_fields__}
    known |= {"BANGBAN_TEST_COUCHDB_URL", "BANGBAN_POUCHDB_PID", "BANGBAN_POUCHDB_DIR",
              "BANGBAN_SCREENSHOTS"}  # the test harness's own (docs/CONVENTIONS.md)
    named = _env_names("README.md", "docs/*.md", "hub/README.md", "node/README.md",
                       "ops/systemd/*", "ops/couchdb/*", "ops/*.py")
    assert named - known == set()


def test_every_argument_says_what_it_is() -> None:
    """An operator reads `--help` at 2 a.m.: every argument of every command has a line
    (``--json`` speaks for itself; the oversight commands are another package's)."""
    import argparse

    bare: list[str] = []

    def walk(parser: argparse.ArgumentParser, path: list[str]) -> None:
        for action in parser._actions:
            if isinstance(action, argparse._SubParsersAction):
                for name, sub in action.choices.items():
                    walk(sub, [*path, name])
            elif (action.help is None and not isinstance(action, argparse._HelpAction)
                  and "--json" not in action.option_strings and path[:2] != ["hub", "supervisor"]):
                bare.append(" ".join([*path, *(action.option_strings or [action.dest])]))

    walk(cli.build_parser(), [])
    assert bare == []
