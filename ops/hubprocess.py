"""A ``bangban hub serve`` child process, for the demo, the benchmarks and end-to-end tests.

Started with the demo's worker settings (boards rewritten at once, a short worker pass), its
URL read from the line ``hub serve`` prints, and stopped by its own handle: never by name,
so a hub the operator runs beside it is not touched.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import urllib.request
from collections.abc import Mapping
from pathlib import Path
from typing import Any


def stop_process(proc: subprocess.Popen[str] | None, timeout: float = 20.0) -> None:
    """SIGTERM a child we started (by its own handle), SIGKILL it if it lingers."""
    if proc is not None and proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


class HubProcess:
    """``bangban hub serve`` as a child process; stopped by its own PID."""

    def __init__(self, hub_dir: Path, *, port: int = 0, env: Mapping[str, str] | None = None,
                 worker_interval: float = 0.3):
        self.hub_dir = hub_dir
        self.port = port
        # The demo rewrites coordination boards on every pass (a hub's default waits
        # `board_interval`, 30 s, between two rewrites of one board), so its one round shows
        # the town every village's cases as they are.
        self.env = {"BANGBAN_BOARD_INTERVAL": "0", **os.environ, **(env or {}),
                    "BANGBAN_WORKER_INTERVAL": str(worker_interval), "PYTHONUNBUFFERED": "1"}
        self.proc: subprocess.Popen[str] | None = None
        self.url = ""

    def start(self, timeout: float = 60.0) -> str:
        cmd = [sys.executable, "-m", "ops.cli", "hub", "--hub-dir", str(self.hub_dir), "serve",
               "--port", str(self.port)]
        log = open(self.hub_dir / "hub.log", "a", encoding="utf-8")
        self.proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=log, text=True,
                                     env=self.env, cwd=str(Path(__file__).resolve().parent.parent))
        deadline = time.monotonic() + timeout
        assert self.proc.stdout is not None
        while time.monotonic() < deadline:
            line = self.proc.stdout.readline()
            if not line:
                if self.proc.poll() is not None:
                    tail = (self.hub_dir / "hub.log").read_text("utf-8")[-2000:]
                    raise RuntimeError(f"hub exited ({self.proc.returncode}):\n{tail}")
                continue
            if line.startswith("hub listening on "):
                self.url = line.split("on ", 1)[1].strip()
                return self.url
        raise RuntimeError("hub did not start in time")

    def health(self) -> dict[str, Any]:
        with urllib.request.urlopen(self.url + "/_hub/health", timeout=30) as resp:
            return dict(json.loads(resp.read()))

    def wait_idle(self, timeout: float = 60.0) -> dict[str, Any]:
        """Until the workers have looked at every change (resolutions, terminations): the
        hub's health, with ``idle`` False when ``timeout`` passed first (the health's own
        ``ok`` says only that the hub answers, so a caller must read ``idle``)."""
        deadline = time.monotonic() + timeout
        idle = 0
        health = self.health()
        while idle < 2 and time.monotonic() < deadline:  # idle twice: no pass in between
            time.sleep(0.2)
            health = self.health()
            idle = 0 if health.get("pending") else idle + 1
        return {**health, "idle": idle >= 2}

    def stop(self) -> None:
        stop_process(self.proc)
        self.proc = None
