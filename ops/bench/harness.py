"""Shared pieces of the benchmarks: context, timing helpers, machine description."""

from __future__ import annotations

import os
import platform
import resource
import statistics
import subprocess
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


@dataclass
class BenchContext:
    """What each benchmark gets: a scratch folder, a PouchDB Server URL, a scale switch."""

    workdir: Path
    couchdb_url: str
    quick: bool = False
    notes: list[str] = field(default_factory=list)

    def scale(self, full: int, quick: int) -> int:
        """Pick the full size, or a small one for ``make bench QUICK=1`` smoke runs."""
        return quick if self.quick else full

    def scratch(self, name: str) -> Path:
        path = self.workdir / name
        path.mkdir(parents=True, exist_ok=True)
        return path


@contextmanager
def timed() -> Iterator[dict[str, float]]:
    """``with timed() as t: ...`` then ``t["seconds"]``."""
    out: dict[str, float] = {}
    start = time.perf_counter()
    try:
        yield out
    finally:
        out["seconds"] = time.perf_counter() - start


def percentile(values: list[float], pct: float) -> float:
    """Nearest-rank percentile (pct in 0..100)."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    k = max(0, min(len(ordered) - 1, round(pct / 100 * len(ordered) + 0.5) - 1))
    return ordered[k]


def repeat(fn: Callable[[], Any], times: int) -> list[float]:
    """Run ``fn`` ``times`` times and return the seconds of each run."""
    out = []
    for _ in range(times):
        start = time.perf_counter()
        fn()
        out.append(time.perf_counter() - start)
    return out


def median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


def max_rss_mb(children: bool = False) -> float:
    who = resource.RUSAGE_CHILDREN if children else resource.RUSAGE_SELF
    return resource.getrusage(who).ru_maxrss / 1024


def machine_summary() -> str:
    """One line naming the machine the numbers came from."""
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as fh:
            for line in fh:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    mem_gb = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    try:
        node = subprocess.run(["node", "--version"], capture_output=True, text=True, timeout=10).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        node = "n/a"
    return (
        f"{cpu}, {os.cpu_count()} cores, {mem_gb:.0f} GiB RAM; {platform.system()} "
        f"{platform.release()}; Python {platform.python_version()}; Node.js {node}"
    )


def process_tree(pid: int) -> list[int]:
    """``pid`` and its descendants now living (Linux ``/proc``; just ``pid`` elsewhere)."""
    try:
        with open(f"/proc/{pid}/task/{pid}/children", encoding="ascii") as fh:
            children = [int(c) for c in fh.read().split()]
    except OSError:
        children = []
    return [pid, *(p for child in children for p in process_tree(child))]


def cpu_seconds(pids: list[int]) -> float:
    """User + system CPU seconds the processes have used so far (``/proc/PID/stat``).

    On a shared machine wall-clock speeds move with other people's load; the CPU a
    server spent per document moves much less, so benchmarks report both."""
    total = 0
    for pid in pids:
        try:
            with open(f"/proc/{pid}/stat", encoding="ascii") as fh:
                fields = fh.read().rsplit(")", 1)[1].split()
        except OSError:
            continue  # exited: its time is lost to this sum, which the caller's text says
        total += int(fields[11]) + int(fields[12])  # utime, stime (proc(5): fields 14, 15)
    return total / os.sysconf("SC_CLK_TCK")
