"""`hub serve` ends, exit 1 after one log line, when one of its processes (another gateway,
the workers' supervisor) ends while it runs (hub.serve.ChildWatch).

A supervisor killed with SIGKILL took the workers' process with it (``_die_with``) and
nothing started either again: the hub served on without scope indexing, routing or
conflict resolution, its log said nothing, ``/_hub/health`` said ok (``pending`` stuck at
true) and `hub doctor` ok until 5,000 changes lagged. A gateway killed left the hub on
fewer cores, also unsaid. The service manager (``Restart=on-failure``) starts it whole."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

import pytest

from hub.serve import ChildWatch

from .conftest import serving_hub
from .test_worker_process import _alive, _tree, _workers_pid


def _sleeper() -> int:
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child
        # the default dispositions: a test run earlier in this process may have left a
        # Python SIGTERM handler (a demo's, a serve's), and under it the child exited 0
        for signum in (signal.SIGTERM, signal.SIGINT):
            signal.signal(signum, signal.SIG_DFL)
        try:
            time.sleep(60)
        finally:
            os._exit(0)
    return pid


def _watch(children: dict[int, str], grace: float = 0.5
           ) -> tuple[ChildWatch, list[str], list[int]]:
    said: list[str] = []
    stopped: list[int] = []
    watch = ChildWatch(children, say=said.append, stop=lambda: stopped.append(1))
    watch.INTERVAL, watch.GRACE = 0.05, grace
    watch.start()
    return watch, said, stopped


def test_a_child_killed_ends_the_hub_with_one_line_naming_it() -> None:
    gateway, supervisor = _sleeper(), _sleeper()
    watch, said, stopped = _watch({gateway: "gateway 2 of 2",
                                   supervisor: "the workers' supervisor"})
    try:
        os.kill(supervisor, signal.SIGKILL)
        watch.join(timeout=10)
        assert stopped == [1]
        assert said == [f"hub: the workers' supervisor (pid {supervisor}) ended (killed by "
                        "SIGKILL); stopping the hub (exit 1) for its service manager to "
                        "start it again whole (Restart=on-failure)"]
        assert watch.ended
    finally:
        os.kill(gateway, signal.SIGKILL)
        os.waitpid(gateway, 0)


def test_children_stopped_with_the_hub_are_not_reported() -> None:
    """A service manager's SIGTERM reaches every process of the group: a child may end
    before the main gateway's handler has run, which is no failure."""
    child = _sleeper()
    # The grace is long and the handler comes once the watch has seen the child end (it
    # came after a fixed 0.1 s: a loaded machine that kept this thread off the CPU for the
    # 0.5 s grace had the watch report the child)
    watch, said, stopped = _watch({child: "gateway 2 of 2"}, grace=120)
    os.kill(child, signal.SIGTERM)
    deadline = time.monotonic() + 60
    while child in watch.children and time.monotonic() < deadline:
        time.sleep(0.01)
    assert child not in watch.children, "the watch never saw the child end"
    watch.signalled.append(signal.SIGTERM)  # the main gateway's handler, a moment later
    watch.join(timeout=10)
    assert said == [] and stopped == [] and not watch.ended


def test_a_child_stopped_alone_ends_the_hub_after_the_grace() -> None:
    """`kill PID` of one gateway (exit 0) left the hub on fewer gateways for good."""
    child = _sleeper()
    watch, said, stopped = _watch({child: "gateway 2 of 2"})
    os.kill(child, signal.SIGTERM)
    watch.join(timeout=10)
    assert stopped == [1] and "gateway 2 of 2" in said[0] and "SIGTERM" in said[0]


@pytest.mark.e2e
@pytest.mark.timeout(180)
def test_hub_serve_exits_1_when_its_workers_supervisor_is_killed(tmp_path: Path) -> None:
    proc = serving_hub(tmp_path, {"BANGBAN_HUB_PROCESSES": "2"})
    try:
        assert proc.proc is not None
        main = proc.proc.pid
        supervisor, workers = _workers_pid(main)
        gateway = next(c for c in _tree(main)[main] if c != supervisor)
        os.kill(supervisor, signal.SIGKILL)
        assert proc.proc.wait(timeout=60) == 1
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and (_alive(workers) or _alive(gateway)):
            time.sleep(0.2)
        assert not _alive(workers) and not _alive(gateway)
        log = (tmp_path / "hub" / "hub.log").read_text("utf-8")
        assert (f"hub: the workers' supervisor (pid {supervisor}) ended (killed by SIGKILL); "
                "stopping the hub (exit 1)") in log
        assert "Traceback" not in log
    finally:
        proc.stop()
