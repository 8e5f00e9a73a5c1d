"""End-to-end: ``bangban hub serve --processes 2`` against many connections at once.

Opening connections needs no credentials, so whatever they do to a gateway anyone on the
network can do (issue 6: a crash or a hang of a gateway is a bug). Found by hand against a
real `hub serve` (the fuzzing helper's report): the 1,000th connection of a gateway crashed
the hub (waitress's select() takes no descriptor past 1023), and a SIGTERM while the gateway
closed them was lost.
"""

from __future__ import annotations

import resource
import socket
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import requests

pytestmark = pytest.mark.e2e

#: Idle connections opened at once: past select()'s 1,024 descriptors in one gateway.
CONNECTIONS = 1100


def test_a_thousand_idle_connections_neither_crash_the_hub_nor_keep_it_from_stopping(tmp_path: Path) -> None:
    from ops.cli import main
    from ops.hubprocess import HubProcess

    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = 2 * CONNECTIONS + 256  # this process's ends, and the hub's (it inherits it)
    assert hard == resource.RLIM_INFINITY or hard >= wanted, "the test needs more descriptors"
    resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, wanted), hard))
    hub_dir = tmp_path / "hub"
    assert main(["hub", "--hub-dir", str(hub_dir), "init", "--city", "410600"]) == 0
    # One gateway takes them all: the other one's share would stay under 1,024.
    proc = HubProcess(hub_dir, env={"BANGBAN_HUB_PROCESSES": "1", "BANGBAN_WORKERS": "false",
                                    "BANGBAN_HUB_CONNECTION_LIMIT": "2000"})
    url = proc.start()
    child = proc.proc
    assert child is not None
    parts = urlsplit(url)
    held: list[socket.socket] = []
    try:
        for _ in range(CONNECTIONS):
            held.append(socket.create_connection((str(parts.hostname), parts.port), timeout=30))
        # answered only once the gateway has accepted every connection before it
        resp = requests.get(url + "/", timeout=120)
        assert resp.status_code == 200 and resp.json()["couchdb"] == "Welcome"
        assert child.poll() is None, "the hub exited"
    finally:
        for s in held:
            s.close()
        proc.stop()
    # SIGTERM while the loop closed those connections: it ended the hub (waitress swallowed
    # the signal's exception in a connection's handler, and the hub was killed 20 s later)
    assert child.returncode == 0, child.returncode



def test_a_feed_left_open_is_waited_for_once_when_the_hub_stops(tmp_path: Path) -> None:
    """Waitress's run() takes a gateway's stop itself and waits up to 5 s for a request
    thread at work (here a device's longpoll, kept open); the gateway then stopped the
    threads again and waited 5 s more: 10 s to stop a hub whose devices were waiting for
    changes, half the time HubProcess gives it before SIGKILL."""
    import base64
    import signal

    from ops.bench.hubnet import build_hub
    from ops.hubprocess import HubProcess

    hub, stations = build_hub(tmp_path / "hub", 1, 1)
    hub.close()
    proc = HubProcess(tmp_path / "hub", env={"BANGBAN_HUB_PROCESSES": "1",
                                             "BANGBAN_WORKERS": "false"})
    url = proc.start()
    assert proc.proc is not None
    st = stations[0]
    parts = urlsplit(url)
    token = base64.b64encode(f"{st.device_id}:{st.enr['secret']}".encode()).decode()
    path = urlsplit(st.enr["db_url"]).path
    try:
        with socket.create_connection((str(parts.hostname), int(parts.port or 0)),
                                      timeout=60) as feed:
            feed.sendall(f"GET {path}/_changes?feed=longpoll&since=now&heartbeat=500 HTTP/1.1"
                         f"\r\nHost: x\r\nAuthorization: Basic {token}\r\n\r\n".encode())
            assert feed.recv(64).startswith(b"HTTP/1.1 200")  # a thread holds the feed
            proc.proc.send_signal(signal.SIGTERM)
            assert proc.proc.wait(timeout=60) == 0
    finally:
        proc.stop()
    log = (tmp_path / "hub" / "hub.log").read_text("utf-8")
    assert log.count("thread(s) still running") == 1, log
