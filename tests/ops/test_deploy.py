"""The service units and CouchDB files of ops/ against the CLI and settings as they are now
(Apache CouchDB itself cannot run here: its files are checked as files)."""

from __future__ import annotations

import configparser
import http.server
import json
import os
import re
import shlex
import subprocess
import threading
from pathlib import Path
from typing import Any

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


class _ClusterSetup(http.server.BaseHTTPRequestHandler):
    """CouchDB's /_cluster_setup state machine, as far as the script meets it (couch_setup:
    enabling twice or finishing twice is a 400 bad_request saying so)."""

    actions: list[dict[str, Any]] = []
    state = "cluster_disabled"

    def _answer(self, code: int, body: dict[str, Any]) -> None:
        data = json.dumps(body).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self) -> None:
        if self.path == "/_membership":
            self._answer(200, {"all_nodes": ["couchdb@couchdb1.bangban"]})
        else:
            self._answer(200, {"state": type(self).state})

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        cls, action = type(self), body["action"]
        cls.actions.append(body)
        if action == "enable_cluster" and "remote_node" not in body:
            if cls.state != "cluster_disabled":
                return self._answer(400, {"error": "bad_request",
                                          "reason": "Cluster is already enabled"})
            cls.state = "cluster_enabled"
        elif action in ("add_node", "enable_cluster") and cls.state != "cluster_enabled":
            return self._answer(400, {"error": "bad_request", "reason": "cluster not enabled"})
        elif action == "finish_cluster":
            if cls.state == "cluster_finished":
                return self._answer(400, {"error": "bad_request",
                                          "reason": "Cluster is already finished"})
            cls.state = "cluster_finished"
        self._answer(201, {"ok": True})

    def log_message(self, *args: Any) -> None:
        pass


def test_cluster_setup_enables_this_node_first_and_runs_again_harmlessly() -> None:
    """The CouchDB docs' order: enable_cluster on the coordinating node, then enable_cluster
    and add_node per remote node, then finish_cluster. Without the first step CouchDB 3
    refuses add_node, so the earlier script could not build the cluster."""
    _ClusterSetup.actions, _ClusterSetup.state = [], "cluster_disabled"
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _ClusterSetup)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    env = {**os.environ, "COUCHDB_SETUP_HOST": f"127.0.0.1:{server.server_port}"}
    script = str(OPS / "couchdb" / "cluster-setup.sh")
    try:
        first = subprocess.run(["bash", script], env=env, capture_output=True, text=True,
                               timeout=60)
        assert first.returncode == 0, first.stderr
        steps = [(a["action"], a.get("remote_node") or a.get("host")) for a in
                 _ClusterSetup.actions]
        assert steps == [("enable_cluster", None),
                         ("enable_cluster", "couchdb2.bangban"), ("add_node", "couchdb2.bangban"),
                         ("enable_cluster", "couchdb3.bangban"), ("add_node", "couchdb3.bangban"),
                         ("finish_cluster", None)]
        assert _ClusterSetup.actions[0]["node_count"] == "3"
        again = subprocess.run(["bash", script], env=env, capture_output=True, text=True,
                               timeout=60)
        assert again.returncode == 0 and "already set up" in again.stdout
        assert len(_ClusterSetup.actions) == 6  # nothing posted a second time
        _ClusterSetup.state = "cluster_enabled"  # a run cut short after step 1
        _ClusterSetup.actions = []
        resumed = subprocess.run(["bash", script], env=env, capture_output=True, text=True,
                                 timeout=60)
        assert resumed.returncode == 0, resumed.stderr
        assert "already done: enable_cluster on this node" in resumed.stdout
        assert _ClusterSetup.state == "cluster_finished"
    finally:
        server.shutdown()
        server.server_close()
