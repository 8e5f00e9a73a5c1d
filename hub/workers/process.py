"""The workers' process of ``hub serve``: background work gives way to the stations.

The workers (indexer and router, conflict resolver, deadline watcher, the oversight fold and
the boards) ran in a thread of the first gateway. During a burst of pushes their passes took
about 1 s of that gateway's CPU in a 2.7 s push, under the GIL its request threads need. They
now run in a process of their own, forked by ``hub serve`` after its PRELOAD like the
gateways (the loaded modules are shared), that accepts no connections, at a lower CPU
priority (``worker_nice``): the kernel gives the cores to the gateways first and the workers
catch up after the burst; they are idempotent and follow the feed from their checkpoints
(design.md §7), so running late loses nothing. With ``--processes 1`` too: the one gateway
then keeps its GIL for the requests, and the kernel can put the workers on the other core.

A small supervisor process (single-threaded, so forking from it is safe, unlike forking
from a gateway running waitress's threads) starts the workers' process and, if it ends
without being asked (a crash, the OOM killer), logs it and starts it again after a backoff
(1 s, doubling up to a minute; back to 1 s after a minute of running). Both end with
``hub serve``: SIGTERM from it, or the kernel's signal when it dies (``_die_with``).
"""

from __future__ import annotations

import logging
import os
import signal
import time
from typing import Any

from hub.workers.shared import SharedWorkerState

log = logging.getLogger("bangban.hub.workers")

#: First wait before starting a crashed workers' process again, the longest, and how long
#: one must run for the next crash to wait the first again.
RESTART_FIRST, RESTART_MAX, RESTART_CALM = 1.0, 60.0, 60.0


def run_workers(settings: Any, state: SharedWorkerState) -> None:
    """The workers' loop in this process until SIGTERM/SIGINT (finishing the pass)."""
    from hub.compaction import compact_due
    from hub.core import Hub
    from hub.oversight import Oversight
    from hub.profiling import from_env
    from hub.workers import Workers

    if settings.worker_nice:
        os.nice(int(settings.worker_nice))
    hub = Hub(settings)
    # The oversight facts file is shared by path: the workers fold it and build the boards,
    # the gateways' pages read it and fold what arrived since themselves (at most once a
    # second, hub.oversight.CATCH_UP_SECONDS), as every gateway but the first always did.
    oversight = Oversight(hub)
    workers = Workers(hub, interval=settings.worker_interval,
                      passes=[oversight.work, lambda: compact_due(hub)], state=state)
    profiles = from_env()  # BANGBAN_HUB_PROFILE: every pass, in workers-PID.prof
    if profiles:
        run_once = workers.run_once
        workers.run_once = lambda: profiles.run(run_once)  # type: ignore[method-assign]
    # The handler only sets a flag, polled here: a handler that set a threading.Event hung
    # the process for good when a second signal (the supervisor's SIGTERM and a service
    # manager's to the whole group) landed inside the first handler's Event.set, which then
    # waited for the Condition lock its own interrupted frame held (seen in py-spy: an
    # orphaned workers' process in Event.set under Event.set). Python runs handlers in the
    # main thread between bytecodes: nothing they call may take a lock that thread can hold.
    stopping: list[int] = []
    previous = {sig: signal.signal(sig, lambda signum, frame: stopping.append(signum))
                for sig in (signal.SIGTERM, signal.SIGINT)}
    try:
        workers.start()
        while not stopping:
            time.sleep(0.2)
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        workers.stop()
        hub.close()
        if profiles:
            profiles.write("workers")


def _fork(target: Any, *args: Any) -> int:
    """``target(*args)`` in a forked child that never returns into the caller."""
    pid = os.fork()
    if pid:
        return pid
    code = 0
    try:
        target(*args)
    except BaseException as exc:
        from hub.serve import _Stop

        if not isinstance(exc, _Stop):
            import traceback

            traceback.print_exc()
            code = 1
    finally:
        os._exit(code)


def _workers_child(settings: Any, state: SharedWorkerState, supervisor: int) -> None:
    from hub.serve import _die_with

    # Not the supervisor's handlers, inherited by the fork: a SIGTERM before run_workers
    # set its own was only noted in this copy of the supervisor, and the process went on.
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, signal.SIG_DFL)
    _die_with(supervisor)
    run_workers(settings, state)


def supervise(settings: Any, state: SharedWorkerState, parent: int,
              first_wait: float = RESTART_FIRST) -> None:
    """Keep a workers' process running until SIGTERM/SIGINT or ``parent`` ends."""
    from hub.serve import _die_with

    _die_with(parent)
    stopping = False
    child = 0

    def stop(signum: int, frame: Any) -> None:
        nonlocal stopping
        stopping = True
        if child:
            os.kill(child, signal.SIGTERM)

    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, stop)
    wait = first_wait
    while not stopping:
        started = time.monotonic()
        child = _fork(_workers_child, settings, state, os.getpid())
        if stopping:  # the signal came while forking, before `child` was set
            os.kill(child, signal.SIGTERM)
        _, status = os.waitpid(child, 0)  # PEP 475: resumed after the handler
        child = 0
        state.publish(busy=False)  # a pass it was in will not end
        if stopping:
            break
        if time.monotonic() - started >= RESTART_CALM:
            wait = first_wait
        log.error("hub workers: their process ended (%s); starting it again in %g s",
                  _exit_reason(status), wait)
        until = time.monotonic() + wait
        while not stopping and time.monotonic() < until:
            time.sleep(min(0.2, wait))
        wait = min(2 * wait, RESTART_MAX)


def _exit_reason(status: int) -> str:
    if os.WIFSIGNALED(status):
        sig = os.WTERMSIG(status)
        return f"killed by {signal.Signals(sig).name}"
    return f"exit code {os.waitstatus_to_exitcode(status)}"


def start(settings: Any, state: SharedWorkerState, close: Any = None) -> int:
    """Fork the supervisor (it forks the workers' process); its pid, for ``hub serve`` to
    SIGTERM and wait for. ``close`` (the listening socket) is closed in it: the workers
    accept no connections."""
    parent = os.getpid()

    def child() -> None:
        if close is not None:
            close.close()
        supervise(settings, state, parent)

    return _fork(child)
