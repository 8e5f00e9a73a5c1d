"""A real field node for the demo, driven through its CLI (``bangban node``): enrolled,
synced and served as a station's clerk would run it (kept apart from
:mod:`ops.demo_node`'s simulated node so each module stays small).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ops.demo_node import ROOT, SimNode, with_credentials


class RealStation:
    """A real field node (engineer H's ``bangban node``) driven through its CLI."""

    def __init__(self, folder: Path, enrollment: Mapping[str, Any], *, env: Mapping[str, str]):
        self.folder = folder
        self.enrollment = dict(enrollment)
        self.device_id = str(enrollment["device_id"])
        self.passphrase_file = folder.parent / f"{folder.name}.passphrase"
        self.env = {**os.environ, **env, "PYTHONUNBUFFERED": "1"}
        self.proc: subprocess.Popen[str] | None = None
        self.url = ""

    def _run(self, *args: str) -> str:
        out = subprocess.run([sys.executable, "-m", "ops.cli", "node", *args, "--dir",
                              str(self.folder), "--passphrase-file", str(self.passphrase_file)],
                             capture_output=True, text=True, env=self.env, timeout=600,
                             cwd=str(ROOT))
        if out.returncode != 0:
            raise RuntimeError(f"bangban node {args[0]} failed: {out.stderr[-2000:]}")
        return out.stdout

    def init(self) -> dict[str, Any]:
        self.folder.parent.mkdir(parents=True, exist_ok=True)
        self.passphrase_file.write_text(f"demo passphrase {self.device_id}\n", "utf-8")
        self.passphrase_file.chmod(0o600)
        enr_file = self.folder.parent / f"{self.folder.name}.enrollment.json"
        enr_file.write_text(json.dumps(self.enrollment, ensure_ascii=False), "utf-8")
        enr_file.chmod(0o600)
        # --secret=VALUE: a base64url secret may start with '-', which argparse would take
        # for an option after a separate --secret (one demo start in about 20 failed so)
        out = self._run("init", "--hub", str(self.enrollment["hub_url"]), "--device-id",
                        self.device_id, f"--secret={self.enrollment['secret']}",
                        "--db-url", str(self.enrollment["db_url"]),
                        "--enrollment-json", str(enr_file))
        return dict(json.loads(out.strip().splitlines()[-1]))

    def sync(self) -> dict[str, Any]:
        out = json.loads(self._run("sync", "--json").strip().splitlines()[-1])
        state = out.get("state", {})
        return {"pulled": int(state.get("pulled", 0)), "pushed": int(state.get("pushed", 0)),
                "refused": len(state.get("refused") or [])}

    def sim(self) -> Any:
        """The node's folder as a :class:`~ops.demo_node.SimNode` (process stopped)."""
        phrase = self.passphrase_file.read_text("utf-8").splitlines()[0]
        return SimNode.from_node_dir(self.folder, phrase)

    def cases(self) -> list[str]:
        from sync.open import open_db

        store = open_db(str(self.folder / "store.sqlite"), create=True)
        try:
            res = store.all_docs(startkey="case:", endkey="case:\ufff0")
            return [r["id"][5:] for r in res["rows"]]
        finally:
            store.close()

    @property
    def db_url(self) -> str:
        return with_credentials(str(self.enrollment["db_url"]), self.device_id,
                                str(self.enrollment["secret"]))

    def serve(self, port: int = 0) -> str:
        reservation = None
        if not port:  # `node serve --port 0` means its default port: pick a free one, and
            # hold it until the node listens (ops.pouchdb_server.reserve_port says why)
            from ops.pouchdb_server import reserve_port

            reservation = reserve_port()
            port = int(reservation.getsockname()[1])
        try:
            return self._serve(port)
        finally:
            if reservation is not None:
                reservation.close()

    def _serve(self, port: int) -> str:
        cmd = [sys.executable, "-m", "ops.cli", "node", "serve", "--dir", str(self.folder),
               "--passphrase-file", str(self.passphrase_file), "--port", str(port)]
        log = open(self.folder.parent / f"{self.folder.name}.log", "a", encoding="utf-8")
        self.proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=log, text=True,
                                     env=self.env, cwd=str(ROOT))
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline()
        if "http://" not in line:
            raise RuntimeError(f"node {self.device_id} did not start: {line!r}")
        self.url = line[line.index("http://"):].split()[0]
        return self.url

    def stop(self) -> None:
        from ops.hubprocess import stop_process

        stop_process(self.proc)
        self.proc = None
