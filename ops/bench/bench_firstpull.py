"""A new laptop's first pull at a busy station: when its lists show the first cases, what
indexing as it goes costs, and how much a cut link makes it fetch again.

Setup (not timed): a station's store filled as ``bench node`` fills it (sealed, signed
cases, 2–4 events each and their keyrings: ``bench_node.populate``), standing in for the
hub's copy of the station's documents; and a fresh laptop folder of another device of the
station (its own enrollment and keys).

Measured, in process: Bangban's replicator (``sync.replicate``, the node's round uses it)
pulls the whole store into the laptop's store with the sync round's progress hook, which
indexes the cases pulled so far every ``PullIndexer.EVERY`` documents
(node.indexer.PullIndexer). Not measured here: the signature check of each pulled document
(node.pull.VerifyingTarget, ~0.27 ms a document: node/README.md) and the network (bench
replicate measures a pull over a slow link). Then the same pull cut at half its documents
(cancelled, as a link gone for good ends a round) and run again: what the second run reads
and writes, resuming from the checkpoint the first left.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from ops.bench.bench_node import PASSPHRASE, VILLAGE, laptop, populate
from ops.bench.harness import BenchContext

TITLE = "First pull of a new laptop: progress, lists before the end, resume after a cut"
LAPTOP = f"{VILLAGE}-B2"


def _laptop(folder: Path, station: Any) -> Any:
    """The station's second laptop: the first one's institution keys (node keys export /
    init --institution-keys), and a directory naming the first laptop, as the hub's does,
    so the wraps it signed verify here and the pulled cases' search tokens are made
    (node.tokenmaker), as on a real station."""
    from node.transfer import institution_keychain

    node = laptop(folder, LAPTOP, institution_keys=institution_keychain(
        station.keys.keychain, VILLAGE))
    node.reading._directory = station.reading.directory()
    return node


def _indexed(node: Any) -> int:
    """Cases in the laptop's index (what its lists can show)."""
    import sqlite3

    with sqlite3.connect(node.index.path) as db:
        return int(db.execute("SELECT count(*) FROM cases").fetchone()[0])


def _pull(source: Any, node: Any, *, index: bool, cut_at: int | None = None) -> dict[str, Any]:
    """One pull into ``node``'s store; seconds until the first case is listed, in all."""
    import threading

    from node.indexer import PullIndexer, index_pulled
    from sync.replicate import ReplicationOptions, replicate

    indexer = PullIndexer(node)
    cancel = threading.Event()
    out: dict[str, Any] = {"first_listed": None, "last_done": 0, "last_total": None}
    start = time.perf_counter()

    def progress(p: Any) -> None:
        written = int(p.docs_written or 0)
        out["last_done"] = written
        out["last_total"] = None if p.pending is None else written + int(p.pending)
        if index:
            indexer.written(written)
            if out["first_listed"] is None and node.index.search(limit=1).rows:
                out["first_listed"] = time.perf_counter() - start
        if cut_at is not None and written >= cut_at:
            cancel.set()

    res = replicate(source, node.store, ReplicationOptions(
        progress=progress, cancel=cancel, source_location="hub", target_location="local"))
    out["pull_s"] = time.perf_counter() - start
    with_index = time.perf_counter()
    index_pulled(node)  # what the round's end does (Syncer.after_pull)
    out["end_index_s"] = time.perf_counter() - with_index
    out["total_s"] = time.perf_counter() - start
    if out["first_listed"] is None:
        out["first_listed"] = out["total_s"]
    out["read"], out["written"] = int(res.docs_read), int(res.docs_written)
    return out


def _unlock_owing(source: Any, station: Any, folder: Path) -> dict[str, Any]:
    """A laptop that pulled while locked (the sync loop runs locked: rows only, every case
    owes its search tokens), then the clerk's unlock (the unlock page's POST: scrypt and the
    catch-up): how long the page waits, and till the tokens are made in the background
    (node.tokenmaker.OwedTokens). The unlock made them all before it answered."""
    from unittest.mock import patch

    from node.core import KEYCHAIN
    from node.keys import NodeKeys
    from node.reading import Reader

    node = _laptop(folder, station)
    directory = node.reading.directory()
    node.lock()
    _pull(source, node, index=True)
    out: dict[str, Any] = {"owed": node.index.tokenless()}
    cpu = time.thread_time()  # the unlocking thread's own: the machine is shared
    NodeKeys.unlock(node.dir / KEYCHAIN, PASSPHRASE, node.enrollment)
    out["scrypt_cpu"] = time.thread_time() - cpu
    # _laptop's directory, for the reader the unlock makes (the lock dropped the first)
    with patch.object(Reader, "directory", lambda self: directory):
        start, cpu = time.perf_counter(), time.thread_time()
        node.open_session(PASSPHRASE)
        out["wait_s"], out["wait_cpu"] = time.perf_counter() - start, time.thread_time() - cpu
        out["owed_then"] = node.index.tokenless()
        node.owed.idle.wait(600)
        out["made_s"] = time.perf_counter() - start
        out["left"] = node.index.tokenless()
    node.close()
    return out


def run(ctx: BenchContext) -> str:
    from sync.sqlite import SQLiteStore

    n = ctx.scale(10_000, 1_000)
    station = ctx.scratch("firstpull-station")
    populate(station, n)
    from node.core import Node
    from node.settings import load

    registered = Node(load({"node_dir": str(station), "sync_interval": 0}))
    registered.unlock(PASSPHRASE)  # the laptop the cases were registered on
    source = SQLiteStore(station / "store.sqlite")
    docs = int(source.info()["doc_count"])
    # distinct cases (two of populate's generated openings can share a clock, so an id)
    cases = len(source.all_docs(startkey="case:", endkey="case:\uffff")["rows"])
    rows = []
    results = {}
    for label, index in (("indexed as it goes (this version)", True),
                         ("indexed at the end only (before)", False)):
        node = _laptop(ctx.workdir / f"laptop-{index}", registered)
        r = _pull(source, node, index=index)
        listed = _indexed(node)
        unfound = node.index.tokenless()  # not found by name: the tokens were not made
        node.close()
        results[index] = r
        rows.append(f"| {label} | {r['first_listed']:.1f} | {r['pull_s']:.1f} | "
                    f"{r['end_index_s']:.1f} | {r['total_s']:.1f} | {listed:,} | {unfound:,} |")
    node = _laptop(ctx.workdir / "laptop-cut", registered)
    first = _pull(source, node, index=True, cut_at=docs // 2)
    listed_after_cut = _indexed(node)
    again = _pull(source, node, index=True)
    node.close()
    locked = _unlock_owing(source, registered, ctx.workdir / "laptop-locked")
    registered.close()
    source.close()
    on, off = results[True], results[False]
    per_case = off["end_index_s"] / max(cases, 1) * 1000
    return "\n".join([
        f"A station of **{cases:,} cases** ({docs:,} documents, sealed and signed) pulled into a "
        "fresh laptop's store in process (no network, no signature check: see the docstring "
        "of `ops/bench/bench_firstpull.py`).",
        "",
        "| pull | first case listed (s) | pull (s) | index at the end (s) | all listed (s) | "
        "cases listed | not found by name |",
        "|---|---:|---:|---:|---:|---:|---:|",
        *rows,
        "",
        f"- Lists before the end: the first cases are listed after **{on['first_listed']:.1f} "
        f"s** of a {on['total_s']:.1f} s pull (before: {off['first_listed']:.1f} s, its end); "
        f"until every case is listed it takes {on['total_s']:.1f} s against "
        f"{off['total_s']:.1f} s (the index's catch-ups ride along with the pull's batches).",
        f"- Indexing costs **{per_case:.2f} ms a case** (the end-only pull's catch-up over "
        f"its {cases:,} cases: the fold, its row, and the search tokens made from the sealed "
        "header: node.tokenmaker).",
        f"- Progress: the round's hook saw {on['last_done']:,} documents done of "
        f"{on['last_total'] if on['last_total'] is not None else 0:,} at the last batch "
        "(the sync page's 进度 bar: done / done + the source's pending).",
        f"- A cut at half: the first run wrote {first['written']:,} documents and left "
        f"{listed_after_cut:,} cases listed; the next run read {again['read']:,} and wrote "
        f"{again['written']:,} (of {docs:,}): it resumed from the checkpoint.",
        f"- The unlock after a pull while locked (the sync loop runs locked: {locked['owed']:,} "
        f"cases owe their search tokens): the unlock page waits **{locked['wait_s']:.2f} s** "
        f"({locked['wait_cpu']:.2f} s CPU in its thread, the passphrase's scrypt alone "
        f"{locked['scrypt_cpu']:.2f} s) and answers with {locked['owed_then']:,} "
        f"still owed; they are made in the background, all {locked['made_s']:.1f} s after the "
        f"unlock ({locked['left']:,} left; node.tokenmaker.OwedTokens). Before, the unlock "
        "made them before it answered, and the page waited for them too.",
        "- Rerun: `python -m ops.bench firstpull` (`--quick` for 1,000 cases).",
    ])
