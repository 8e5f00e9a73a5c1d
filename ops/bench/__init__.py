"""Benchmarks' harness: ``make bench`` runs every ``ops/bench/bench_*.py`` module.

Each module exposes ``TITLE: str`` and ``run(ctx: BenchContext) -> str`` returning a
Markdown section body (tables with the numbers and how they were measured). The
harness starts one PouchDB Server for all of them and writes
``docs/benchmarks.md`` with the machine and the date.
"""

from ops.bench.harness import BenchContext, machine_summary, timed

__all__ = ["BenchContext", "machine_summary", "timed"]
