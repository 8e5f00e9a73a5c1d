"""``bangban demo --once``: the README's main job, as a real process (stations in process)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _ps() -> str:
    """Every process's whole command line ("ps -eo args" cuts them at 80 columns when not
    on a terminal, so a demo's folder was never found, running or not)."""
    return subprocess.run(["ps", "-eww", "-o", "args"], capture_output=True, text=True).stdout


@pytest.mark.e2e
@pytest.mark.timeout(900)  # its own 600 s: the suite's 300 s cut it short under load
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
    assert str(tmp_path / "demo" / "hub") not in _ps()
    _the_concurrent_edit_names_a_clerk(tmp_path / "demo" / "hub", village_a)


def _the_concurrent_edit_names_a_clerk(hub_dir: Path, village: str) -> None:
    """Village A's half of the concurrent header edit gave the case to "staff-201-9", on
    no roster: the town's and the hub's pages showed a bare id. It is a clerk of A's
    roster (8.1.2), merged with the town's label."""
    from hub.core import Hub
    from hub.settings import Settings
    from schemas.reference import staff_names

    hub = Hub(Settings.load({"hub_dir": str(hub_dir)}))
    try:
        rows = hub.stores.main.all_docs(startkey="case:", endkey="case:\ufff0",
                                        include_docs=True)["rows"]
        roster = staff_names(hub.stores.main.get(f"institution:{village}"))
    finally:
        hub.close()
    (edited,) = [r["doc"] for r in rows if "town-coordinated" in (r["doc"].get("labels") or [])]
    assert edited["staff"] in roster, (edited["staff"], roster)


@pytest.mark.e2e
@pytest.mark.timeout(600)  # the whole demo comes up first: about 4 min on a loaded machine
def test_a_terminated_demo_stops_its_servers(tmp_path: Path) -> None:
    """SIGTERM (``kill PID``, the way to stop a demo started in the background: the shell
    makes it ignore SIGINT) left the hub and the three node servers running, ports and
    files open."""
    import signal
    import time

    folder = tmp_path / "demo"
    proc = subprocess.Popen([sys.executable, "-m", "ops.cli", "demo", "--dir", str(folder),
                             "--interval", "3600"], stdout=subprocess.PIPE,
                            stderr=(tmp_path / "stderr").open("w"), text=True, cwd=ROOT)
    try:
        assert proc.stdout is not None
        for line in proc.stdout:  # up once the dashboard's URL is printed
            if line.startswith("oversight dashboard:"):
                break
        assert f"node serve --dir {folder}" in _ps()
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=120) == 0, (tmp_path / "stderr").read_text()[-3000:]
    finally:
        if proc.poll() is None:
            proc.kill()
    deadline = time.monotonic() + 30
    while str(folder) in _ps() and time.monotonic() < deadline:
        time.sleep(0.5)
    assert str(folder) not in _ps()
