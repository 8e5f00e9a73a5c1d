"""Keep the node-local index in step with the store: after a pull (or at unlock) read the
store's changes feed since the last indexed seq and refold each touched case (and every open
case when a calendar arrived: their due dates move)."""

from __future__ import annotations

import logging
import time
from typing import TYPE_CHECKING, Any

from node.index import FOLD_VERSION

if TYPE_CHECKING:
    from collections.abc import Sequence

    from node.core import Node

BATCH = 500
log = logging.getLogger("bangban.node")


def _case_of(docid: str) -> str | None:
    for prefix in ("case:", "event:", "keyring:"):
        if docid.startswith(prefix):
            return docid[len(prefix):].split(":", 1)[0] or None
    return None


def index_changes(node: Node, *, tokens: bool = True) -> int:
    """Reindex every case touched since the last run; returns how many. Then, unlocked,
    the search tokens of the cases owed them for later (node.tokenmaker.make_owed);
    ``tokens`` False (a catch-up during a pull) leaves all of them for later."""
    from node.errors import NodeError
    from sync.errors import NotFound, SyncError

    index = node.index
    refold = index.get_meta("refold_from") or None  # an upgrade changed the fold
    started = time.monotonic()
    if refold is not None:
        log.warning("node: index.sqlite was folded by an older version (fold %s; this "
                    "version folds %s): folding every case again from the store, once",
                    refold, FOLD_VERSION)
    since: int | str = index.get_meta("store_seq", "0")
    since = int(since) if str(since).isdigit() else since
    touched: set[str] = set()
    calendar = False
    while True:
        res = node.store.changes(since=since, limit=BATCH)
        for row in res["results"]:
            calendar = calendar or str(row["id"]).startswith("calendar:")
            cid = _case_of(str(row["id"]))
            if cid:
                touched.add(cid)
        if not res["results"]:
            break
        since = res["last_seq"]
        if len(res["results"]) < BATCH:
            break
    if calendar:
        # a year's holidays pulled (set or corrected at the hub): every open case's
        # deadlines are counted again in working days (design.md §6), not only those of
        # the cases that change later
        touched |= node.index.open_case_ids()
    from node.state import workdays

    # One calendar read and one index transaction per BATCH cases, not per case: the first
    # unlock after an upgrade that changes the fold refolds every case of the station
    # (docs/benchmarks.md, "Field app": the refold), while the clerk waits at the unlock page.
    wd = workdays(node)
    done = 0
    ids = sorted(touched)
    for start in range(0, len(ids), BATCH):
        entries: list[tuple[dict[str, Any], Sequence[str] | None]] = []
        # read and written with no batch of the owed tokens between (node.tokenmaker)
        with node.owed.batch:
            for cid in ids[start:start + BATCH]:
                try:
                    entries.append(node.index_entry(cid, wd=wd, tokens=tokens))
                except (NotFound, NodeError, SyncError):
                    continue  # events before their header, or no key for it yet: later
            index.upsert_many(entries, later=not tokens)
        done += len(entries)
    index.set_meta("store_seq", str(since))
    if tokens and node.unlocked:
        from node.tokenmaker import make_owed

        make_owed(node)
    if refold is not None:
        index.set_meta("refold_from", "")  # kept till now: serve may stop before an unlock
        log.warning("node: %d cases folded again in %.1f s", done, time.monotonic() - started)
    return done


def at_unlock(node: Node) -> None:
    """Catch up with what arrived while locked (an index never fed by the changes feed is
    complete already: every local write indexes itself, unless the index file was made
    after the store, node.core ``index``), the rows only; the search tokens owed are made
    in the background (node.tokenmaker.OwedTokens). The unlock made them before it
    answered: 5–10 s at the unlock page after a first pull of 10,000 cases while locked."""
    from node.tokenmaker import owed_again_with_new_keys

    if node.index.get_meta("store_seq") or node._index_made:
        owed_again_with_new_keys(node)  # a key import: cases no key here opened
        index_changes(node, tokens=False)
    node.owed.start()


def index_pulled(node: Node, *, tokens: bool = True) -> int:
    """Index what a pull brought; the caches of names and opened cases start again."""
    node._names.clear()
    node.cache.clear()
    return index_changes(node, tokens=tokens)


class PullIndexer:
    """Indexes during a pull, not only after it (design.md §4: work goes on offline).

    A new laptop at a busy town pulls tens of thousands of documents in its first round,
    minutes on a poor link: the lists showed none of them until the round ended, and a
    round cut by the link (a pull resumes from its checkpoint, sync.replicate) indexed
    nothing at all, so a laptop whose link never held for a whole round listed nothing it
    had pulled. Every :data:`EVERY` documents written, and once more when a round fails
    after writing some, the cases pulled so far are indexed."""

    #: documents written between two catch-ups during a pull (each costs ~0.4 ms per case,
    #: docs/benchmarks.md "Field app"; a batch of the pull is up to a few hundred)
    EVERY = 2000

    def __init__(self, node: Node):
        self.node = node
        self.indexed = 0  # documents of this pull written when it last indexed

    def start(self) -> None:
        self.indexed = 0

    def written(self, n: int) -> None:
        """The pull has written ``n`` documents so far."""
        if n - self.indexed >= self.EVERY:
            self.catch_up(n)

    def catch_up(self, n: int) -> None:
        """Index now; a failure (a full disk) is left to the round's end, which says it."""
        import sqlite3

        from node.errors import NodeError
        from sync.errors import SyncError

        self.indexed = n
        try:
            # rows only: the search tokens (~0.5 ms a case, more than its row costs:
            # unwrapping its key, opening its header; `python -m ops.bench firstpull`) would
            # slow the pull; they come with the round's end (Syncer.after_pull), or the
            # next round's if the link cuts this one, or the next unlock
            index_pulled(self.node, tokens=False)
        except (NodeError, SyncError, OSError, sqlite3.Error) as exc:
            log.warning("node: indexing during the pull failed (%s); retried at its end", exc)
