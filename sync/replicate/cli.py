"""``bangban replicate SOURCE TARGET``: run one replication from the command line.

SOURCE and TARGET are each a CouchDB-API database URL (credentials in the URL)
or an embedded ``.sqlite`` file. A terminal gets a progress bar; otherwise
progress goes to stderr as plain lines at most every few seconds. ``--json``
prints the summary (``docs_read``, ``docs_written``, ``doc_write_failures``,
``bytes_sent``, ``bytes_received``, ``requests``, ``seconds``, ...) on stdout.
Exit status: 0 done, 1 error, 3 done but some documents were refused by the
target (listed in the summary's ``failures``). ``--continuous`` runs until
interrupted (Ctrl-C or SIGTERM stops it cleanly after the current step).
"""

from __future__ import annotations

import argparse
import json
import signal
import sys
import threading
import time
from typing import Any, TextIO

#: Client timeouts for URL endpoints: (connect, read) seconds. The read timeout
#: is the longest silence tolerated inside one answer: it is how a dead peer
#: (link up, nothing arriving) is noticed.
DEFAULT_TIMEOUT = (10.0, 30.0)
#: Seconds to wait for the replication to stop after Ctrl-C or SIGTERM.
STOP_GRACE = 3.0


def register(subparsers: Any) -> None:
    p = subparsers.add_parser(
        "replicate", help="replicate a database to another (URL or .sqlite file)",
        description=__doc__.split("\n\n")[1] if __doc__ else None,
    )
    p.add_argument("source", metavar="SOURCE", help="database URL or .sqlite file")
    p.add_argument("target", metavar="TARGET", help="database URL or .sqlite file")
    p.add_argument("--continuous", action="store_true", help="keep following the source's changes")
    p.add_argument("--doc-ids", nargs="+", metavar="ID", help="replicate only these documents")
    p.add_argument("--selector", type=json.loads, metavar="JSON",
                   help='replicate only documents matching a Mango selector, e.g. \'{"type": "case"}\'')
    p.add_argument("--create-target", action="store_true", help="create TARGET if it is missing")
    p.add_argument("--json", action="store_true", help="print the summary as JSON on stdout")
    p.add_argument("--batch-size", type=int, default=25, help="first batch size (default 25)")
    p.add_argument("--max-batch-size", type=int, default=1000, help="largest batch (default 1000)")
    p.add_argument("--timeout", type=float, default=DEFAULT_TIMEOUT[1],
                   help="seconds of silence before a request counts as failed (default 30)")
    p.add_argument("--no-gzip", action="store_true", help="do not gzip request bodies")
    p.add_argument("--quiet", action="store_true", help="no progress output")
    p.set_defaults(func=replicate_command)


def _open(location: str, *, create: bool, timeout: float, gzip: bool) -> Any:
    from sync.open import is_url, open_db

    if is_url(location):
        return open_db(location, create=create, timeout=(DEFAULT_TIMEOUT[0], timeout), gzip=gzip)
    return open_db(location, create=create)


def _human_bytes(n: float) -> str:
    for unit in ("B", "kB", "MB", "GB"):
        if n < 1000 or unit == "GB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1000
    return f"{n:.1f} GB"


class ProgressPrinter:
    """A one-line bar on a terminal, plain lines (at most every ``every`` s) elsewhere."""

    def __init__(self, stream: TextIO, every: float = 5.0) -> None:
        self.stream = stream
        self.tty = stream.isatty()
        self.every = every
        self.last = 0.0
        self.last_state = ""
        self.last_docs = -1

    def line(self, p: Any) -> str:
        frac = p.fraction
        eta = p.eta
        parts = [f"{p.docs_written} docs written"]
        if frac is not None:
            parts.insert(0, f"{frac * 100:3.0f}%")
        parts += [f"{_human_bytes(p.bytes_received + p.bytes_sent)}", f"{p.rate:.0f} changes/s"]
        if eta is not None and p.state == "running":
            parts.append(f"ETA {eta:.0f}s")
        if p.doc_write_failures:
            parts.append(f"{p.doc_write_failures} refused")
        if p.retries:
            parts.append(f"{p.retries} retries")
        parts.append(p.state)
        return "  ".join(parts)

    def __call__(self, p: Any) -> None:
        now = time.monotonic()
        if self.tty:
            frac = p.fraction if p.fraction is not None else 0.0
            bar = "#" * int(frac * 30)
            self.stream.write(f"\r[{bar:<30}] {self.line(p)}\x1b[K")
            if p.state in ("done", "cancelled"):
                self.stream.write("\n")
            self.stream.flush()
        elif now - self.last >= self.every or (p.state != self.last_state and p.state != "running"):
            # Plain lines: at most every ``every`` seconds, plus state changes
            # (an idle continuous replication does not repeat itself).
            if p.state == "idle" and self.last_state == "idle" and p.docs_written == self.last_docs:
                return
            self.last = now
            print(f"replicate: {self.line(p)}", file=self.stream, flush=True)
        self.last_state, self.last_docs = p.state, p.docs_written


def replicate_command(args: argparse.Namespace) -> int:
    from sync.errors import SyncError
    from sync.replicate import ReplicationOptions, Replicator

    try:
        source = _open(args.source, create=False, timeout=args.timeout, gzip=not args.no_gzip)
        target = _open(args.target, create=args.create_target, timeout=args.timeout,
                       gzip=not args.no_gzip)
    except SyncError as exc:
        print(f"bangban replicate: {exc}", file=sys.stderr)
        return 1
    progress = None if args.quiet else ProgressPrinter(sys.stderr)
    options = ReplicationOptions(
        continuous=args.continuous, doc_ids=args.doc_ids, selector=args.selector,
        source_location=args.source, target_location=args.target,
        batch_size=args.batch_size, max_batch_size=args.max_batch_size, progress=progress,
        longpoll_timeout=min(25.0, max(1.0, args.timeout - 5)),
        on_retry=None if args.quiet else (lambda exc, n, wait: print(
            f"replicate: {exc} (retry {n} in {wait:.1f}s)", file=sys.stderr, flush=True)),
    )
    replicator = Replicator(source, target, options)
    outcome: dict[str, Any] = {}

    def run() -> None:
        try:
            outcome["result"] = replicator.run()
        except BaseException as exc:  # reported by the main thread
            outcome["error"] = exc

    # The run happens in a worker so Ctrl-C (delivered to the main thread) can
    # cancel it cleanly instead of breaking an HTTP call half-way.
    worker = threading.Thread(target=run, name="replicate", daemon=True)
    # SIGTERM (a service manager) stops as cleanly as Ctrl-C does.
    # The handler only notes the signal: Event.set takes a lock the main thread may hold
    # when a second signal lands (a handler runs between that thread's bytecodes).
    terminated: list[int] = []
    previous = signal.signal(signal.SIGTERM, lambda signum, frame: terminated.append(signum))
    worker.start()
    try:
        while worker.is_alive():
            worker.join(0.2)
            if (terminated or replicator.options.cancel.is_set()) and worker.is_alive():
                raise KeyboardInterrupt  # SIGTERM: stop as Ctrl-C does
    except KeyboardInterrupt:
        replicator.cancel()
        # Every batch is checkpointed already: a worker still blocked in a
        # longpoll (it cannot be interrupted) has nothing left to save.
        worker.join(STOP_GRACE)
        if worker.is_alive():
            outcome.setdefault("result", replicator.result(cancelled=True))
    finally:
        signal.signal(signal.SIGTERM, previous)
        if not worker.is_alive():  # else the process exit releases them
            source.close()
            target.close()
    if "error" in outcome:
        print(f"bangban replicate: {outcome['error']}", file=sys.stderr)
        return 1
    result = outcome["result"]
    if args.json:
        print(json.dumps(result.summary(), ensure_ascii=False, indent=2))
    elif not args.quiet:
        print(f"replicate: {result.docs_written} docs written, {result.doc_write_failures} refused, "
              f"{result.requests} requests, {result.seconds:.1f}s", file=sys.stderr)
    for failure in result.failures[:20]:
        print(f"replicate: refused {failure['id']} {failure['rev']}: {failure['error']} "
              f"{failure['reason']}", file=sys.stderr)
    return 3 if result.failures else 0
