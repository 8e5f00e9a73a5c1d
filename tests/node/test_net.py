"""The end-to-end harness keeps its loopback ports (tests/node/net.py): NodeNet chose them
as "free" and closed them, and between that and `hub serve` binding one (or while a test
kept the hub down) another process on the shared CI machine could be given the same port:
the hub then failed to start, or the test talked to someone else's server."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from tests.node.net import NodeNet


def test_a_node_net_keeps_its_ports_until_closed(tmp_path: Path) -> None:
    net = NodeNet(tmp_path)
    try:
        port = net.hub_port
        with socket.socket() as other, pytest.raises(OSError):
            other.bind(("127.0.0.1", port))  # another program's server: refused
        others = []
        try:
            for _ in range(200):  # nor is it handed out as a "free" port
                others.append(socket.socket())
                others[-1].bind(("127.0.0.1", 0))
                assert others[-1].getsockname()[1] != port
        finally:
            for s in others:
                s.close()
        with socket.socket() as hub:  # `hub serve` (SO_REUSEADDR) binds it, twice
            hub.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            hub.bind(("127.0.0.1", port))
            hub.listen(1)
        with socket.socket() as again:
            again.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            again.bind(("127.0.0.1", port))
    finally:
        net.close()
    with socket.socket() as after:  # closed: the port is free again
        after.bind(("127.0.0.1", port))
