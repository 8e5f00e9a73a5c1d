"""Checkpoints: ``_local/<repid>`` on both sides, compared as CouchDB does.

CouchDB docs, "Replication Protocol / Retrieve Replication Logs" and
"Compare Replication Logs": when the two logs carry the same ``session_id``
their ``source_last_seq`` is where to start; otherwise the histories are
scanned for a common session and its ``recorded_seq`` is used; with no common
session the replication starts from ``0``. After every batch
(:meth:`Checkpointer.record`) a new history entry is written to the target
first, then to the source (as CouchDB: a target that has the docs but not the
log only costs a re-check, never a lost doc). The model is
``pouchdb-checkpointer``.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from email.utils import formatdate
from typing import Any

from sync.errors import CheckpointConflict, Conflict, NotFound, SyncError
from sync.store import JSON, DocumentStore, Seq

from .repid import REPLICATION_ID_VERSION

#: CouchDB keeps the last 50 sessions in a log.
HISTORY_LIMIT = 50
#: ... and this log keeps fewer when 50 would be longer than this (JSON bytes). Each entry
#: holds four seqs, and a CouchDB cluster's seqs run to hundreds of characters (the hub's
#: feed seq is two of them: hub/replication/seqs.py); 50 such entries made a log of
#: ~190 kB, past the 64 kB the hub keeps of a device's ``_local`` document
#: (hub/replication/local.py), so after a few weeks of rounds every pull failed writing
#: its checkpoint (413). An older session dropped costs at most a re-check from an older
#: common session, never a document.
HISTORY_MAX_BYTES = 32 * 1024
LOWEST_SEQ: Seq = 0


def _has_session(session_id: Any, history: Sequence[Mapping[str, Any]]) -> bool:
    return any(entry.get("session_id") == session_id for entry in history)


def compare_histories(
    source_history: Sequence[Mapping[str, Any]], target_history: Sequence[Mapping[str, Any]]
) -> tuple[Seq, list[JSON]]:
    """CouchDB's ``compare_rep_history``: walk both histories newest first and
    take the ``recorded_seq`` of the first session that both sides know."""
    src, tgt = list(source_history), list(target_history)
    while src and tgt:
        s, t = src[0], tgt[0]
        if _has_session(s.get("session_id"), tgt):
            return s.get("recorded_seq", LOWEST_SEQ), [dict(e) for e in src[1:]]
        if _has_session(t.get("session_id"), src):
            return t.get("recorded_seq", LOWEST_SEQ), [dict(e) for e in tgt[1:]]
        src, tgt = src[1:], tgt[1:]
    return LOWEST_SEQ, []


def compare_logs(source_log: Mapping[str, Any] | None, target_log: Mapping[str, Any] | None
                 ) -> tuple[Seq, list[JSON]]:
    """CouchDB's ``compare_replication_logs``: ``(start_seq, history)``."""
    if not source_log or not target_log:
        return LOWEST_SEQ, []
    if source_log.get("session_id") == target_log.get("session_id"):
        return (source_log.get("source_last_seq", LOWEST_SEQ),
                [dict(e) for e in source_log.get("history", [])])
    return compare_histories(source_log.get("history", []), target_log.get("history", []))


def _read_log(store: DocumentStore, doc_id: str) -> JSON | None:
    try:
        return store.get_local(doc_id)
    except NotFound:
        return None


@dataclass
class Checkpointer:
    """Reads the start seq and records one checkpoint per batch on both sides."""

    source: DocumentStore
    target: DocumentStore
    rep_id: str
    session_id: str = field(default_factory=lambda: uuid.uuid4().hex)
    start_time: str = field(default_factory=lambda: formatdate(usegmt=True))
    start_seq: Seq = LOWEST_SEQ
    history: list[JSON] = field(default_factory=list)
    _revs: dict[str, str | None] = field(default_factory=dict)
    #: False when the source refuses ``_local`` writes (read-only peer): the
    #: target log alone still lets a restart on this side resume.
    source_writable: bool = True
    last_recorded: Seq | None = None

    @property
    def doc_id(self) -> str:
        return f"_local/{self.rep_id}"

    def read(self) -> Seq:
        """Fetch both logs and settle the start seq (CouchDB "Compare Replication Logs")."""
        source_log = _read_log(self.source, self.doc_id)
        target_log = _read_log(self.target, self.doc_id)
        self._revs = {
            "source": (source_log or {}).get("_rev"),
            "target": (target_log or {}).get("_rev"),
        }
        self.start_seq, self.history = compare_logs(source_log, target_log)
        return self.start_seq

    def _body(self, seq: Seq, stats: Mapping[str, int]) -> JSON:
        entry: JSON = {
            "session_id": self.session_id,
            "start_time": self.start_time,
            "end_time": formatdate(usegmt=True),
            "start_last_seq": self.start_seq,
            "end_last_seq": seq,
            "recorded_seq": seq,
            **{k: int(stats.get(k, 0)) for k in (
                "missing_checked", "missing_found", "docs_read", "docs_written",
                "doc_write_failures")},
        }
        history = [entry, *self.history][:HISTORY_LIMIT]
        size = len(json.dumps(history, ensure_ascii=False).encode("utf-8"))
        while len(history) > 1 and size > HISTORY_MAX_BYTES:
            dropped = history.pop()
            size -= len(json.dumps(dropped, ensure_ascii=False).encode("utf-8")) + 2
        return {
            "session_id": self.session_id,
            "source_last_seq": seq,
            "replication_id_version": REPLICATION_ID_VERSION,
            "history": history,
        }

    def _write(self, side: str, store: DocumentStore, body: JSON) -> None:
        doc = {"_id": self.doc_id, **body}
        for _attempt in range(3):
            if self._revs.get(side):
                doc["_rev"] = self._revs[side]
            else:
                doc.pop("_rev", None)
            try:
                self._revs[side] = store.put_local(doc)["rev"]
                return
            except Conflict:
                # Our previous PUT may have landed before a cut connection lost
                # its answer: re-read the rev and write again (the log is ours).
                current = _read_log(store, self.doc_id)
                self._revs[side] = (current or {}).get("_rev")
        raise CheckpointConflict(f"checkpoint {self.doc_id} keeps conflicting on the {side}")

    def record(self, seq: Seq, stats: Mapping[str, int]) -> None:
        """Write the checkpoint for ``seq`` to the target, then the source."""
        body = self._body(seq, stats)
        self._write("target", self.target, body)
        if self.source_writable:
            try:
                self._write("source", self.source, body)
            except SyncError as exc:
                if exc.status not in (401, 403):
                    raise
                # A read-only source (e.g. a reader's credentials): CouchDB
                # then also relies on the target log only.
                self.source_writable = False
        self.last_recorded = seq
