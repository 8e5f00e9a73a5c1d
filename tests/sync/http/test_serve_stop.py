"""`store serve` stops on SIGTERM wherever the signal lands (sync.http.wsgi.serve).

The handler raises out of waitress's I/O loop. A signal landing while the main thread runs
a channel's handler (reading a request, writing an answer) raises there, and waitress lets
only SystemExit, KeyboardInterrupt and its ExitNow out of a handler: anything else is that
channel's error, logged and dropped. The old ``_Stop(Exception)`` was dropped so, and the
server served on until SIGKILL (a CI run: test_restart_keeps_data_and_uuid, -9)."""

from __future__ import annotations

import signal
import socket
import urllib.request
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from waitress import wasyncore

from sync.http.wsgi import _Stop
from tests.sync.http.conftest import start_served, stop_served


class _Channel:
    """A channel whose read handler is where the signal lands."""

    handled_error = False

    def handle_read_event(self) -> None:
        raise _Stop()

    def handle_error(self) -> None:
        self.handled_error = True

    def __getattr__(self, name: str) -> Any:
        raise AttributeError(name)


def test_the_stop_raised_inside_a_channels_handler_leaves_the_loop() -> None:
    channel = _Channel()
    with pytest.raises(_Stop):
        wasyncore.read(channel)
    assert not channel.handled_error  # not taken for the channel's own failure


@pytest.mark.e2e
def test_a_feed_left_open_is_waited_for_once_on_sigterm(tmp_path: Path) -> None:
    """Waitress's run() takes the stop itself and waits up to 5 s for a request thread at
    work (here a longpoll a client keeps open); serve() then stopped the threads again and
    waited 5 s more: 10 s to stop, and the test harness sent SIGKILL at 10 s."""
    served = start_served(tmp_path / "dbs")
    try:
        req = urllib.request.Request(served.url + "/db", method="PUT")
        with urllib.request.urlopen(req, timeout=60) as resp:
            assert resp.status == 201
        parts = urlsplit(served.url)
        feed = socket.create_connection((str(parts.hostname), int(parts.port or 0)), timeout=60)
        feed.sendall(b"GET /db/_changes?feed=longpoll&since=now&heartbeat=500 HTTP/1.1\r\n"
                     b"Host: x\r\n\r\n")
        assert feed.recv(64).startswith(b"HTTP/1.1 200")  # a thread holds the feed now
        served.process.send_signal(signal.SIGTERM)
        assert served.process.wait(timeout=60) == 0
        feed.close()
    finally:
        stop_served(served.process)
    log = (tmp_path / "dbs.log").read_text()
    assert log.count("thread(s) still running") == 1, log
