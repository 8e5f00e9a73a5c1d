"""Commands run by hand make files only their owner can read, whatever the caller's umask.

The service units set UMask=0077; an operator's shell usually has 022, and `bangban hub
init`, `hub device enroll`, `node init`, `node sync`… run by hand left the SQLite stores
(credential hashes, sealed case data) world-readable (0644) and their folders 0755."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.node.net import ROOT, VILLAGE


def _bangban(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "ops.cli", *args], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=180,
                          preexec_fn=lambda: os.umask(0o022))  # an operator's shell


def test_commands_run_under_umask_022_create_owner_only_files(tmp_path: Path) -> None:
    from ops.pouchdb_server import reserve_port

    hub_dir, node_dir = tmp_path / "hub", tmp_path / "node"
    pw = tmp_path / "pw"
    pw.write_text("村站口令 umask 2026\n", encoding="utf-8")
    sock = reserve_port()  # held: `node sync` finds nobody there, and nobody else's
    port = sock.getsockname()[1]
    env = {**os.environ, "BANGBAN_HUB_DIR": str(hub_dir), "PYTHONPATH": str(ROOT)}
    for key in ("BANGBAN_NODE_DIR", "BANGBAN_PASSPHRASE", "BANGBAN_PASSPHRASE_FILE"):
        env.pop(key, None)
    try:
        res = _bangban(env, "hub", "init", "--sample-reference", "--port", str(port))
        assert res.returncode == 0, res.stderr
        res = _bangban(env, "hub", "device", "enroll", "--institution", VILLAGE, "--json")
        assert res.returncode == 0, res.stderr
        enrollment = tmp_path / "enroll.json"
        enrollment.write_text(res.stdout, encoding="utf-8")
        res = _bangban(env, "node", "init", "--enrollment-json", str(enrollment), "--dir",
                       str(node_dir), "--passphrase-file", str(pw))
        assert res.returncode == 0, res.stderr
        # the hub is not up: the round fails, after the node opened (made) its store
        _bangban(env, "node", "sync", "--dir", str(node_dir), "--passphrase-file", str(pw))
    finally:
        sock.close()
    made = [p for folder in (hub_dir, node_dir) for p in (folder, *folder.rglob("*"))]
    assert any(p.suffix == ".sqlite" for p in node_dir.rglob("*"))
    assert sum(p.suffix == ".sqlite" for p in hub_dir.rglob("*")) >= 2
    loose = {str(p.relative_to(tmp_path)): oct(p.stat().st_mode & 0o777) for p in made
             if p.stat().st_mode & 0o077}
    assert loose == {}
