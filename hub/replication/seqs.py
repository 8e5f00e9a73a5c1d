"""A device's ``_changes`` seq: its institution's index seq and the reference index seq.

A device's feed merges two index feeds (its institution's and ``all``), so its seq
is the pair, written as one opaque string ``"{scope seq}~{all seq}"`` (CouchDB 3
seqs are opaque strings too, and ``~`` never occurs in them: they are digits,
``-`` and base64url). Every row's seq is a valid resume point.
"""

from __future__ import annotations

from sync.errors import BadRequest
from sync.store import Seq

SEP = "~"


def _part(text: str) -> Seq:
    return int(text) if text.isdigit() else text


def join_seq(scope_seq: Seq, all_seq: Seq) -> str:
    return f"{scope_seq}{SEP}{all_seq}"


def split_seq(since: Seq | None) -> tuple[Seq, Seq]:
    """``since`` as given by a client → (scope seq, all seq); ``0`` starts both."""
    if since is None or since == 0 or since == "0" or since == "":
        return 0, 0
    if isinstance(since, int) or SEP not in str(since):
        raise BadRequest(f"invalid since: {since!r} is not a seq of this database")
    left, _, right = str(since).partition(SEP)
    if not left or not right:
        raise BadRequest(f"invalid since: {since!r}")
    return _part(left), _part(right)
