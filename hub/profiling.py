"""cProfile of a gateway process's requests, for finding where a hub's CPU goes.

``BANGBAN_HUB_PROFILE=FOLDER bangban hub serve ...`` profiles every request of every
gateway process (each in its own request thread: cProfile follows one thread, so each
request gets a profiler of its own and they are added up) and every workers pass, and each
gateway writes ``FOLDER/gateway-PID.prof`` when it stops, the workers' process
``FOLDER/workers-PID.prof`` (:mod:`hub.workers.process`) (read it with ``python -m pstats``).
Times are each request thread's CPU time (``time.thread_time``): with wall time a thread
waiting for the GIL, the store or another thread's libsodium call was charged for it, and
the C calls that release the GIL looked several times their cost. Call counts do not depend
on how busy the machine is; the profiler roughly doubles the CPU time, so time a run
without it.
"""

from __future__ import annotations

import cProfile
import os
import pstats
import threading
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from hub.settings import env_name

ENV = env_name("hub_profile")  # BANGBAN_HUB_PROFILE, declared in hub.settings


class Profiles:
    """The profiles of one gateway process, added up when written."""

    def __init__(self, folder: str | os.PathLike[str]):
        self.folder = Path(folder)
        self._done: list[cProfile.Profile] = []
        self._lock = threading.Lock()

    def run(self, fn: Callable[..., Any], *args: Any) -> Any:
        """``fn(*args)`` under a profiler of its own."""
        prof = cProfile.Profile(time.thread_time)
        prof.enable()
        try:
            return fn(*args)
        finally:
            prof.disable()
            with self._lock:
                self._done.append(prof)

    def wsgi(self, app: Callable[..., Iterable[bytes]]) -> Callable[..., Iterable[bytes]]:
        """``app`` with each request profiled (the body is built inside the call: Flask
        returns it whole)."""
        def whole(environ: Any, start_response: Any) -> list[bytes]:
            result = app(environ, start_response)
            try:
                return list(result)
            finally:
                if hasattr(result, "close"):
                    result.close()

        def profiled(environ: Any, start_response: Any) -> Iterable[bytes]:
            return self.run(whole, environ, start_response)  # type: ignore[no-any-return]

        return profiled

    def write(self, name: str = "gateway") -> Path | None:
        with self._lock:
            done, self._done = self._done, []
        if not done:
            return None
        stats = pstats.Stats(done[0])
        for prof in done[1:]:
            stats.add(prof)
        self.folder.mkdir(parents=True, exist_ok=True)
        path = self.folder / f"{name}-{os.getpid()}.prof"
        stats.dump_stats(path)
        return path


def from_env(environ: Any = os.environ) -> Profiles | None:
    folder = environ.get(ENV)
    return Profiles(folder) if folder else None
