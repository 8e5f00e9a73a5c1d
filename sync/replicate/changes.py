"""Listen to Changes: one batch of the source's ``_changes`` feed.

CouchDB docs, "Replication Protocol / Listen to Changes Feed": ``style=all_docs``
so that every leaf (conflicts included) is listed; ``seq_interval`` so that a
clustered CouchDB computes only the batch's last seq (the replicator checkpoints
per batch and needs no other); ``doc_ids`` or ``selector`` filter the feed. In
continuous mode an up-to-date reader waits with ``feed=longpoll``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from sync.store import JSON, DocumentStore, Seq


@dataclass
class ChangesBatch:
    rows: list[JSON]
    last_seq: Seq
    pending: int | None
    limit: int
    #: Revisions listed per doc id (all leaves), the input of ``_revs_diff``.
    revs: dict[str, list[str]] = field(default_factory=dict)

    @property
    def complete(self) -> bool:
        """Is this the end of the feed (for now)?"""
        if self.pending is not None:
            return self.pending <= 0 or not self.rows
        return len(self.rows) < self.limit


def read_changes(
    source: DocumentStore,
    since: Seq,
    limit: int,
    *,
    doc_ids: Sequence[str] | None = None,
    selector: Mapping[str, Any] | None = None,
    longpoll: float | None = None,
) -> ChangesBatch:
    """Read up to ``limit`` changes after ``since``; with ``longpoll`` (seconds)
    wait that long for the first one."""
    kwargs: dict[str, Any] = {
        "since": since,
        "limit": limit,
        "style": "all_docs",
        "seq_interval": limit,
    }
    if doc_ids is not None:
        kwargs["doc_ids"] = list(doc_ids)
    if selector is not None:
        kwargs["selector"] = selector
    if longpoll is not None:
        kwargs.update(feed="longpoll", timeout=longpoll)
    body = source.changes(**kwargs)
    rows = list(body.get("results", []))
    last_seq = body.get("last_seq", rows[-1].get("seq") if rows else since)
    if last_seq is None:
        last_seq = since
    pending = body.get("pending")
    revs: dict[str, list[str]] = {}
    for row in rows:
        listed = revs.setdefault(row["id"], [])
        for change in row.get("changes", ()):
            if change["rev"] not in listed:
                listed.append(change["rev"])
    return ChangesBatch(rows=rows, last_seq=last_seq,
                        pending=int(pending) if pending is not None else None,
                        limit=limit, revs=revs)
