"""The service units and CouchDB files of ops/ against the CLI and settings as they are now
(Apache CouchDB itself cannot run here: its files are checked as files)."""

from __future__ import annotations

import configparser
import re
import shlex
from pathlib import Path

import pytest

from ops.cli import build_parser

OPS = Path(__file__).resolve().parents[2] / "ops"
UNITS = sorted((OPS / "systemd").glob("*.service"))


def _environment(unit: Path) -> dict[str, str]:
    pairs = re.findall(r"^Environment=(BANGBAN_\w+)=(.*)$", unit.read_text("utf-8"), re.M)
    return dict(pairs)


def _commands(unit: Path) -> list[list[str]]:
    """Every `bangban …` command the unit runs or its comments tell the operator to run."""
    text = unit.read_text("utf-8")
    lines = re.findall(r"^ExecStart=\S*/bangban (.*)$", text, re.M)
    lines += re.findall(r"^#\s+(?:sudo -u \w+ )?bangban (.*)$", text, re.M)
    return [shlex.split(line) for line in lines]


@pytest.mark.parametrize("unit", UNITS, ids=lambda p: p.name)
def test_units_parse_and_name_real_settings(unit: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from hub.settings import SETTINGS as HUB
    from node.settings import SETTINGS as NODE

    parser = configparser.ConfigParser(strict=False, interpolation=None)
    parser.read_string(unit.read_text("utf-8"))
    assert {"Unit", "Service", "Install"} <= set(parser.sections())
    declared = {s.env for s in (*HUB, *NODE)}
    assert set(_environment(unit)) <= declared
    commands = _commands(unit)
    assert commands
    for argv in commands:
        build_parser().parse_args(argv)  # SystemExit(2) on an option the CLI no longer has


def test_the_hub_unit_keeps_what_hub_init_saved() -> None:
    """`hub init --port/--public-url/--couchdb-url` save to settings.json; the environment
    wins over it (hub/settings.py), so the unit must not set those again."""
    unit = OPS / "systemd" / "bangban-hub.service"
    env = _environment(unit)
    assert not {"BANGBAN_HUB_PORT", "BANGBAN_HUB_HOST", "BANGBAN_PUBLIC_URL",
                "BANGBAN_COUCHDB_URL"} & set(env)
    assert f"ReadWritePaths={env['BANGBAN_HUB_DIR']}" in unit.read_text("utf-8")
    init = next(argv for argv in _commands(unit) if "init" in argv)
    assert init[init.index("--hub-dir") + 1] == env["BANGBAN_HUB_DIR"]


def test_the_node_unit_serves_the_folder_node_init_wrote() -> None:
    unit = OPS / "systemd" / "bangban-node.service"
    folder = _environment(unit)["BANGBAN_NODE_DIR"].replace("%h", "~")
    init = next(argv for argv in _commands(unit) if argv[:2] == ["node", "init"])
    assert "--dir" in init and init[init.index("--dir") + 1] == folder


def test_couchdb_ini_files_parse() -> None:
    for name in ("local.ini", "cluster.ini"):
        ini = configparser.ConfigParser(strict=True, interpolation=None)
        ini.read_string((OPS / "couchdb" / name).read_text("utf-8"))
    local = configparser.ConfigParser(interpolation=None)
    local.read_string((OPS / "couchdb" / "local.ini").read_text("utf-8"))
    # one scope database per institution (hub/index.py): about 1,000 for a city
    assert int(local["couchdb"]["max_dbs_open"]) >= 1000
    assert local["chttpd"]["require_valid_user"] == "true"
