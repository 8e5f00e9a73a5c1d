"""``python -m ops.bench [NAME ...] [--quick]``: run benchmarks, write docs/benchmarks.md.

Sections of benchmarks not run this time are kept from the previous file, so a
single benchmark can be rerun without losing the others.
"""

from __future__ import annotations

import argparse
import datetime as dt
import importlib
import pkgutil
import re
import sys
import tempfile
import traceback
from pathlib import Path

from ops import pouchdb_server
from ops.bench.harness import BenchContext, machine_summary

DOC = Path(__file__).resolve().parents[2] / "docs" / "benchmarks.md"
HEADER = "# Benchmarks\n\nRerun all with `make bench`, one with `python -m ops.bench NAME`.\n"


def discover() -> list[str]:
    pkg = Path(__file__).parent
    return sorted(m.name[len("bench_"):] for m in pkgutil.iter_modules([str(pkg)]) if m.name.startswith("bench_"))


def read_sections() -> dict[str, str]:
    if not DOC.exists():
        return {}
    text = DOC.read_text(encoding="utf-8")
    parts = re.split(r"^<!-- bench:(\w+) -->\n", text, flags=re.M)
    return {parts[i]: parts[i + 1].rstrip() + "\n" for i in range(1, len(parts) - 1, 2)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m ops.bench")
    parser.add_argument("names", nargs="*", help=f"benchmarks to run (default all: {', '.join(discover())})")
    parser.add_argument("--quick", action="store_true", help="small sizes, for a smoke run")
    parser.add_argument("--no-write", action="store_true", help="print, do not update docs/benchmarks.md")
    args = parser.parse_args(argv)
    names = args.names or discover()
    sections: dict[str, str] = {}
    server = pouchdb_server.start()
    failed = 0
    try:
        with tempfile.TemporaryDirectory(prefix="bangban-bench-") as tmp:
            ctx = BenchContext(workdir=Path(tmp), couchdb_url=server.url, quick=args.quick)
            for name in names:
                module = importlib.import_module(f"ops.bench.bench_{name}")
                print(f"== {name}: {module.TITLE}", flush=True)
                stamp = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
                try:
                    body = module.run(ctx)
                except Exception:  # report and go on with the others
                    failed += 1
                    traceback.print_exc()
                    continue
                text = f"## {module.TITLE}\n\n_Run {stamp} on {machine_summary()}" + (
                    " (quick sizes)" if args.quick else "") + "._\n\n" + body.strip() + "\n"
                print(text, flush=True)
                sections[name] = text
    finally:
        server.stop()
    if not args.no_write and sections:
        # Re-read just before writing and replace only the sections run now, so that
        # benchmarks run in parallel (or edited meanwhile) keep their sections.
        merged = {**read_sections(), **sections}
        DOC.parent.mkdir(parents=True, exist_ok=True)
        out = HEADER + "".join(f"\n<!-- bench:{k} -->\n{v}" for k, v in sorted(merged.items()))
        DOC.write_text(out, encoding="utf-8")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
