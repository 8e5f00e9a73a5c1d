"""`hub serve` started again right after a SIGKILL (hub.folderlock.DYING_WAIT).

The killed hub's gateways and workers' process get SIGTERM from the kernel
(hub.serve._die_with) and hold HUB_DIR/serve.lock while they stop: a `hub serve` typed at
once met the lock and refused ("`bangban hub serve` (pid N) serves …", of a pid that was
gone). It now waits for them a bounded time, saying so; a live hub is refused at once."""

from __future__ import annotations

import os
import signal
from pathlib import Path

import pytest

from hub import folderlock
from hub.errors import ConfigError
from tests.hub.conftest import kill_when_ready

#: a `hub serve` as the lock sees it: the parent takes it, a forked child shares it and
#: stops once the file ``argv[3]`` exists (a gateway finishing its requests): told by the
#: test when the new serve has begun to wait, not after a time a loaded machine may exceed
_SERVE = """
import os, sys, time
from pathlib import Path
from hub.folderlock import hold_folder
lock = hold_folder(Path(sys.argv[1]), doing="serve")
child = os.fork()
if child == 0:
    while not Path(sys.argv[3]).exists():
        time.sleep(0.02)
    os._exit(0)
Path(sys.argv[2] + ".child").write_text(str(child))
Path(sys.argv[2]).write_text("serving")
time.sleep(120)
"""


def _killed_serve(tmp_path: Path) -> tuple[Path, int]:
    """A `hub serve` whose parent was SIGKILLed (and reaped, as systemd or the shell does)
    while its child still holds the lock, until ``tmp_path / "stop"`` is made; the folder
    and the dead parent's pid."""
    folder, ready = tmp_path / "hub", tmp_path / "ready"
    folder.mkdir()
    dead = kill_when_ready(_SERVE, str(folder), str(ready), str(tmp_path / "stop"), ready=ready)
    return folder, dead


def test_a_serve_typed_right_after_a_kill_waits_for_the_dying_children(
        tmp_path: Path) -> None:
    folder, dead = _killed_serve(tmp_path)
    said: list[str] = []

    def say(line: str) -> None:  # the wait begun: the child stops now
        said.append(line)
        (tmp_path / "stop").touch()

    lock = folderlock.hold_folder(folder, doing="serve", say=say)
    try:
        assert len(said) == 1 and f"a `hub serve` that ended (pid {dead})" in said[0], said
        assert f"waiting up to {folderlock.DYING_WAIT:g} s" in said[0]
    finally:
        lock.release()


def test_the_wait_is_bounded_and_the_refusal_says_why(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(folderlock, "DYING_WAIT", 0.3)
    folder, dead = _killed_serve(tmp_path)
    try:
        with pytest.raises(ConfigError) as err:
            folderlock.hold_folder(folder, doing="serve", say=lambda line: None)
        reason = err.value.reason
        assert f"a `hub serve` that ended (pid {dead}) still hold" in reason, reason
        assert "after 0.3 s" in reason and "fuser -v" in reason
    finally:  # the child that would not stop: this test's, ended by its pid
        os.kill(int((tmp_path / "ready.child").read_text()), signal.SIGKILL)


def test_a_live_hub_is_refused_without_waiting(tmp_path: Path) -> None:
    folder = tmp_path / "hub"
    held = folderlock.hold_folder(folder, doing="serve")
    said: list[str] = []
    try:
        with pytest.raises(ConfigError) as err:
            folderlock.hold_folder(folder, doing="serve", say=said.append)
    finally:
        held.release()
    assert said == [] and f"(pid {os.getpid()}) serves" in err.value.reason
