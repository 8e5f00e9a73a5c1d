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
