"""``bangban store serve`` as an operator meets it: a port in use is one line naming it."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from ops.cli import main


def test_store_serve_on_a_port_in_use(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        assert main(["store", "serve", str(tmp_path / "dbs"), "--port", str(port)]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and f"--port {port}" in err and "another --port" in err
