"""`store serve` stops on SIGTERM wherever the signal lands (sync.http.wsgi.serve).

The handler raises out of waitress's I/O loop. A signal landing while the main thread runs
a channel's handler (reading a request, writing an answer) raises there, and waitress lets
only SystemExit, KeyboardInterrupt and its ExitNow out of a handler: anything else is that
channel's error, logged and dropped. The old ``_Stop(Exception)`` was dropped so, and the
server served on until SIGKILL (a CI run: test_restart_keeps_data_and_uuid, -9)."""

from __future__ import annotations

from typing import Any

import pytest
from waitress import wasyncore

from sync.http.wsgi import _Stop


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
