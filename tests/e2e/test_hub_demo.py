"""``bangban demo --once``: the README's main job, as a real process (stations in process)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.e2e
def test_demo_once_runs_a_round_and_writes_devices_json(tmp_path: Path) -> None:
    out = subprocess.run([sys.executable, "-m", "ops.cli", "demo", "--once", "--nodes", "sim",
                          "--json", "--dir", str(tmp_path / "demo")],
                         capture_output=True, text=True, timeout=600, cwd=ROOT)
    assert out.returncode == 0, out.stderr[-3000:]
    summary = json.loads(out.stdout[out.stdout.index("{"):])
    town, village_a, village_b = "410602101", "410602101201", "410602101202"
    assert summary["cases"][town] == 1  # only the handed-up case
    assert summary["cases"][village_a] == 7 and summary["cases"][village_b] == 6
    assert summary["conflicts_resolved"] >= 1 and summary["routed_hand_overs"] == 1
    assert summary["terminated_10_2_5_2"] >= 1 and summary["refusals"] == 0
    assert summary["boards_published"] >= 2  # both villages' boards for the town (design §5)
    devices = json.loads((tmp_path / "demo" / "devices.json").read_text("utf-8"))["devices"]
    assert {d["institution"] for d in devices} == {town, village_a, village_b}
    assert all(d["secret"] and d["database_url"].endswith("/bangban") for d in devices)
    # nothing keeps running after --once (the hub process was stopped)
    ps = subprocess.run(["ps", "-eo", "args"], capture_output=True, text=True).stdout
    assert str(tmp_path / "demo" / "hub") not in ps
