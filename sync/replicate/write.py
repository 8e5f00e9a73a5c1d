"""Upload the batch: ``POST /target/_bulk_docs`` with ``new_edits=false``.

CouchDB docs, "Replication Protocol / Upload Batch of Changed Documents": the
revisions are grafted onto the target's trees as given (``_revisions`` carries
the history), so the target ends with the same trees and conflicts. The answer
lists only failures; a ``forbidden`` or ``unauthorized`` document (a validation
function, or the hub refusing a write outside the node's scope) is counted in
``doc_write_failures`` and reported, and the replication goes on (CouchDB does
the same and logs it).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import orjson

from sync.store import JSON, DocumentStore


@dataclass
class WriteResult:
    written: int
    failures: list[JSON] = field(default_factory=list)


def json_size(obj: Any) -> int:
    """The compact UTF-8 JSON size of ``obj``: what it takes in a ``_bulk_docs`` or
    ``_bulk_get`` body (inline attachments are base64, so a scan chunk weighs its data plus
    a third). orjson: fetched bodies and uploads of scan chunks are large."""
    try:
        return len(orjson.dumps(obj))
    except TypeError:  # e.g. an integer beyond 64 bits, which orjson refuses
        return len(json.dumps(obj, separators=(",", ":"), ensure_ascii=False).encode("utf-8"))


def pieces(docs: Sequence[JSON], limit: int) -> list[list[JSON]]:
    """``docs`` in order, cut into uploads of at most ``limit`` bytes each (a document
    larger than that goes alone). A link that breaks every few hundred kB never carries a
    request longer than that, however often it is retried (design.md §4)."""
    out: list[list[JSON]] = []
    size = 0
    for doc in docs:
        n = json_size(doc)
        if not out or size + n > limit:
            out.append([])
            size = 0
        out[-1].append(doc)
        size += n
    return out


def write_docs(target: DocumentStore, docs: Sequence[JSON]) -> WriteResult:
    """Write ``docs`` with ``new_edits=false``; per-document failures are returned."""
    if not docs:
        return WriteResult(0)
    answer = target.bulk_docs(list(docs), new_edits=False)
    revs_by_id: dict[str, list[str]] = {}
    for doc in docs:
        revs_by_id.setdefault(doc["_id"], []).append(doc.get("_rev", ""))
    failures = []
    for row in answer or ():
        if "error" not in row:
            continue  # CouchDB answers only failures; some servers also echo successes
        doc_id = row.get("id", "")
        rev = row.get("rev") or ",".join(revs_by_id.get(doc_id, []))
        failures.append({"id": doc_id, "rev": rev, "error": row["error"],
                         "reason": row.get("reason", "")})
    failed_revs = sum(
        1 if f.get("rev") in revs_by_id.get(f["id"], []) else len(revs_by_id.get(f["id"], [1]))
        for f in failures
    )
    return WriteResult(written=max(0, len(docs) - failed_revs), failures=failures)
