"""`node serve --port 0` listens on a free port the system picks and says which.

Before: ``--port 0`` was read as "not given" (``if args.port:``), so the node took its default
8470 and, where another node already listened there, refused to start (found by upgrade13)."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from ops.hubprocess import stop_process
from tests.node.net import ROOT, wait_http
from tests.node.test_folder_lock import _env

pytestmark = pytest.mark.e2e


def test_port_0_takes_a_free_port_and_says_it(tmp_path: Path) -> None:
    (tmp_path / "node").mkdir()  # a missing folder is refused (node.cli._folder_exists)
    proc = subprocess.Popen([sys.executable, "-m", "ops.cli", "node", "serve", "--dir",
                             str(tmp_path / "node"), "--port", "0"], cwd=ROOT, env=_env(),
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()  # the first line names the address it serves on
        found = re.search(r"http://127\.0\.0\.1:(\d+)/", line)
        assert found, line
        port = int(found.group(1))
        assert port not in (0, 8470), line
        wait_http(f"http://127.0.0.1:{port}/api/status", timeout=60)
    finally:
        stop_process(proc, timeout=30)
