"""Small builders shared by the contract tests and the property tests."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from typing import Any

from sync.store import DocumentStore

REV = re.compile(r"^[1-9][0-9]*-[0-9a-f]{32}$")


def h(label: str) -> str:
    """A deterministic 32-hex rev hash for a label (readable tests, valid revs)."""
    return hashlib.md5(label.encode()).hexdigest()


def history(start: int, labels: Sequence[str]) -> dict[str, Any]:
    """``_revisions`` for a branch whose newest rev is at ``start``: labels newest first."""
    return {"start": start, "ids": [h(label) for label in labels]}


def rev(pos: int, label: str) -> str:
    return f"{pos}-{h(label)}"


def graft(store: DocumentStore, docid: str, start: int, labels: Sequence[str], *,
          deleted: bool = False, **body: Any) -> str:
    """Write one foreign revision with its history (``new_edits=false``); return its rev."""
    doc: dict[str, Any] = {"_id": docid, "_rev": rev(start, labels[0]),
                           "_revisions": history(start, labels), **body}
    if deleted:
        doc["_deleted"] = True
    assert store.bulk_docs([doc], new_edits=False) == []
    return str(doc["_rev"])


def leaves(store: DocumentStore, docid: str) -> set[str]:
    """Every leaf rev (open_revs=all), deleted ones included."""
    return {row["ok"]["_rev"] for row in store.open_revs(docid, "all") if "ok" in row}


def winner_key(rev_: str, deleted: bool) -> tuple[bool, int, str]:
    """CouchDB's winning-revision order: live before deleted, then pos, then rev id."""
    pos, _, rid = rev_.partition("-")
    return (not deleted, int(pos), rid)


def doc_ids_in_changes(result: dict[str, Any]) -> list[str]:
    return [row["id"] for row in result["results"]]
