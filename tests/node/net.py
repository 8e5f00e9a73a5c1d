"""Real processes for the node's end-to-end tests: a hub, a village node and a town node.

Everything runs through the ``bangban`` CLI (``python -m ops.cli``) on loopback:
``hub init --sample-reference``, ``hub device enroll``, ``node init``, ``hub device keys``,
``hub serve``, ``node serve``, ``node sync``. Every process is stopped by its own PID.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

from ops.pouchdb_server import reserve_port

ROOT = Path(__file__).resolve().parents[2]
VILLAGE = "410602101201"  # 鹤壁集村便民服务站 (schemas.sample)
TOWN = "410602101"  # 鹤壁集镇便民服务中心, its parent
PASSPHRASE = "村站口令 2026"


def reserved_port(reservations: list[socket.socket]) -> int:
    """A port held from everyone else (:func:`ops.pouchdb_server.reserve_port`) until its
    socket, kept in ``reservations``, is closed by the owner; its number. NodeNet took ports
    found free and closed them: until `hub serve` bound one, or while a test kept the hub
    down, another run on the shared CI machine could be given it."""
    reservations.append(reserve_port())
    return int(reservations[-1].getsockname()[1])


def wait_http(url: str, timeout: float = 120.0,
              proc: subprocess.Popen[bytes] | None = None) -> None:
    """Until ``url`` answers (any status), polling; TimeoutError after ``timeout`` seconds,
    RuntimeError at once if ``proc`` (the server being waited for) has exited.

    Generous, and each try may take what is left of it: `node serve` on a loaded 2-core
    machine took over 30 s to answer its first request (unlock, imports, its first sync
    round beside it), and a try given up after 2 s never saw a slow first answer."""
    end = time.monotonic() + timeout
    while (left := end - time.monotonic()) > 0:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"the server for {url} exited ({proc.returncode})")
        try:
            with urllib.request.urlopen(url, timeout=max(1.0, min(30.0, left))):
                return
        except urllib.error.HTTPError:
            return  # it answers
        except OSError:
            time.sleep(0.1)
    raise TimeoutError(f"{url} did not answer in {timeout}s")


class NodeNet:
    """A hub and two enrolled nodes in ``folder``; start/stop each piece separately."""

    def __init__(self, folder: Path):
        self.folder = folder
        self.hub_dir = folder / "hub"
        self.reservations: list[socket.socket] = []  # held until close()
        self.hub_port = reserved_port(self.reservations)
        self.procs: dict[str, subprocess.Popen[bytes]] = {}
        self.enrollments: dict[str, dict[str, Any]] = {}
        self.ports: dict[str, int] = {}
        self.pwfile = folder / "passphrase"
        self.env = {**os.environ, "BANGBAN_HUB_DIR": str(self.hub_dir), "PYTHONPATH": str(ROOT),
                    "BANGBAN_HUB_PORT": str(self.hub_port),
                    # coordination boards rewritten within a second, not the default 30 s
                    "BANGBAN_BOARD_INTERVAL": "1"}
        for key in ("BANGBAN_NODE_DIR", "BANGBAN_PASSPHRASE", "BANGBAN_PASSPHRASE_FILE"):
            self.env.pop(key, None)

    # -- plumbing ------------------------------------------------------------------
    def cli(self, *args: str, env: dict[str, str] | None = None) -> str:
        res = subprocess.run([sys.executable, "-m", "ops.cli", *args], cwd=ROOT,
                             env=env or self.env, capture_output=True, text=True, timeout=180)
        if res.returncode != 0:
            raise RuntimeError(f"bangban {' '.join(args)} failed: {res.stderr[-2000:]}")
        return res.stdout

    def node_dir(self, code: str) -> Path:
        return self.folder / f"node-{code}"

    def setup(self, short: str | None = None) -> None:
        """``short``: the devices' short name (``A1`` matches the device ids of
        :mod:`schemas.sample_cases`, which :class:`ops.demo_node.SimNode` replays)."""
        self.folder.mkdir(parents=True, exist_ok=True)
        self.pwfile.write_text(PASSPHRASE + "\n", encoding="utf-8")
        self.cli("hub", "init", "--sample-reference", "--port", str(self.hub_port))
        for code in (VILLAGE, TOWN):
            enr = json.loads(self.cli("hub", "device", "enroll", "--institution", code, "--json",
                                      *(["--short", short] if short else [])))
            self.enrollments[code] = enr
            path = self.folder / f"enroll-{code}.json"
            path.write_text(json.dumps(enr), encoding="utf-8")
            keys = self.cli("node", "init", "--hub", enr["hub_url"], "--device-id",
                            enr["device_id"], f"--secret={enr['secret']}", "--enrollment-json",
                            str(path), "--dir", str(self.node_dir(code)), "--passphrase-file",
                            str(self.pwfile))
            kpath = self.folder / f"keys-{code}.json"
            kpath.write_text(keys, encoding="utf-8")
            self.cli("hub", "device", "keys", str(kpath))
            self.ports[code] = reserved_port(self.reservations)

    # -- processes -----------------------------------------------------------------
    def start_hub(self) -> None:
        log = (self.folder / "hub.log").open("ab")
        self.procs["hub"] = subprocess.Popen(
            [sys.executable, "-m", "ops.cli", "hub", "serve", "--port", str(self.hub_port)],
            cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT)
        wait_http(f"http://127.0.0.1:{self.hub_port}/", proc=self.procs["hub"])

    def stop(self, name: str) -> None:
        proc = self.procs.pop(name, None)
        if proc is None:
            return
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)

    def sync(self, code: str) -> dict[str, Any]:
        out = self.cli("node", "sync", "--dir", str(self.node_dir(code)), "--passphrase-file",
                       str(self.pwfile), "--json")
        result: dict[str, Any] = json.loads(out)
        return result

    def start_node(self, code: str, *, scripted: bool = False, sync_interval: float = 2.0) -> str:
        env = {**self.env, "BANGBAN_SYNC_INTERVAL": str(sync_interval)}
        args = [sys.executable, "-m", "ops.cli", "node", "serve", "--dir",
                str(self.node_dir(code)), "--port", str(self.ports[code])]
        if scripted:
            args += ["--passphrase-file", str(self.pwfile)]
        log = (self.folder / f"node-{code}.log").open("ab")
        self.procs[code] = subprocess.Popen(args, cwd=ROOT, env=env, stdout=log,
                                            stderr=subprocess.STDOUT)
        url = f"http://127.0.0.1:{self.ports[code]}"
        wait_http(url + "/api/status", proc=self.procs[code])
        return url

    def hub_get(self, code: str, docid: str) -> tuple[int, Any]:
        """GET a document through the device's scoped endpoint (what the hub holds for it)."""
        import base64
        from urllib.parse import quote

        enr = self.enrollments[code]
        token = base64.b64encode(f"{enr['device_id']}:{enr['secret']}".encode()).decode()
        req = urllib.request.Request(f"{enr['db_url']}/{quote(docid, safe='')}",
                                     headers={"Authorization": f"Basic {token}"})
        try:
            with urllib.request.urlopen(req, timeout=30) as resp:
                return resp.status, json.loads(resp.read())
        except urllib.error.HTTPError as exc:
            return exc.code, exc.read()

    def close(self) -> None:
        for name in list(self.procs):
            self.stop(name)
        for sock in self.reservations:
            sock.close()

    def rss_kb(self, name: str) -> int:
        """Resident memory of a running process (for the benchmark)."""
        pid = self.procs[name].pid
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
        return 0
