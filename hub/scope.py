"""Who may see a document: the scope rules of design.md §5, as pure functions.

A *scope* is an institution code, or :data:`ALL` for reference data every device
receives (catalog, calendar, the institution and device directory). A case and
every document bound to it (events, its keyring, chunks of its scans, ratings,
complaints) are visible
to the institution that created the case — the institution of the device in its
id (a case id is the creating device's HLC, ``schemas/ids.py``) — and to every
institution it was handed to (hand-up/hand-down, recorded in the case's route).
Scopes only grow: a handed-up case stays visible to the village that made it, so
the rule is monotone and every gateway computes the same answer from the same
documents in any order.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Mapping
from typing import Any

from schemas.errors import SchemaError
from schemas.hlc import unpack
from schemas.ids import split_device_id

# reference data (flows hub → nodes, read-only for devices) and the coordination boards
# (the cleartext of an institution's open cases, for those above it, design.md §5)
from schemas.written import BOARD_PREFIX as BOARD_PREFIX
from schemas.written import REFERENCE_PREFIXES as REFERENCE_PREFIXES

ALL = "all"

#: ``_id`` prefixes of documents bound to one case: ``prefix + case_id [+ ":" + more]``.
#: ``chunk:`` (slices of sealed scans, design.md §4) travel wherever their case goes.
CASE_PREFIXES = ("case:", "event:", "keyring:", "rating:", "complaint:", "access:", "chunk:")
REFERENCE_TYPES = frozenset({"institution", "device", "service_item", "calendar", "directory"})
#: Event types that make a case visible to another institution, and the field naming it.
HAND_EVENT_TYPES = frozenset({"hand_up", "hand_down"})
HAND_TARGET_FIELDS = ("to_institution", "target_institution", "to")


def is_board(docid: str, doc: Mapping[str, Any] | None = None) -> bool:
    return docid.startswith(BOARD_PREFIX) or (doc is not None and doc.get("type") == "board")


def board_scopes(doc: Mapping[str, Any] | None) -> set[str]:
    """Who receives a board: its ``audience`` (only the hub writes boards, hub/validate.py,
    so the member is the hub's own word; a tombstone goes nowhere new)."""
    members = (doc or {}).get("audience")
    return {m for m in members if isinstance(m, str) and m} if isinstance(members, list) else set()


#: ``_id`` prefix of coordination notices (schemas/notices.py): from an institution above to
#: a station, about one of its cases (4.2).
NOTICE_PREFIX = "notice:"


def is_notice(docid: str, doc: Mapping[str, Any] | None = None) -> bool:
    return docid.startswith(NOTICE_PREFIX) or (doc is not None and doc.get("type") == "notice")


def notice_scopes(doc: Mapping[str, Any] | None) -> set[str]:
    """The writer's institution and the station it is for (checked at the write,
    hub/validate.py, so both members are trustworthy once stored)."""
    d = doc or {}
    return {v for v in (d.get("institution"), d.get("to_institution"))
            if isinstance(v, str) and v}


def ancestors(code: str, institutions: Mapping[str, Mapping[str, Any]]) -> list[str]:
    """Every institution above ``code``, nearest first, from the directory's ``parent``
    members (``institutions``: code -> institution document)."""
    out: list[str] = []
    parent = (institutions.get(code) or {}).get("parent")
    while isinstance(parent, str) and parent and parent not in out and parent != code:
        out.append(parent)
        parent = (institutions.get(parent) or {}).get("parent")
    return out


def is_reference(docid: str, doc: Mapping[str, Any] | None = None) -> bool:
    # a device's write is asked this before its schema is checked: its type may be any JSON
    kind = doc.get("type") if doc is not None else None
    if isinstance(kind, str) and kind in REFERENCE_TYPES:
        return True
    return docid.startswith(REFERENCE_PREFIXES)


_CASE_HEADS = frozenset(p[:-1] for p in CASE_PREFIXES)


def case_id_of(docid: str, doc: Mapping[str, Any] | None = None) -> str | None:
    """The case a document belongs to (from its ``_id``, else its ``case_id`` field)."""
    # One split, not a startswith per prefix: asked about six times per document ingested.
    head, colon, rest = docid.partition(":")
    if colon and head in _CASE_HEADS:
        # an HLC case id is "wall-counter-node" and the node (a device id) has no ':'
        return rest.split(":", 1)[0] or None
    if doc is not None and isinstance(doc.get("case_id"), str):
        return str(doc["case_id"])
    return None


@functools.lru_cache(maxsize=65_536)
def origin_institution(case_id: str) -> str | None:
    """The institution whose device created the case (the HLC's node is a device id).
    Cached: a pure function of the id, asked for every document the hub checks and
    indexes (parsing the clock and the device id again each time was 2% of an ingest)."""
    try:
        return split_device_id(unpack(case_id).node)[0]
    except (SchemaError, ValueError):
        return None


def hand_target(doc: Mapping[str, Any]) -> str | None:
    """For a hand-up/hand-down event, the receiving institution's code."""
    if doc.get("type") != "event" or doc.get("event_type") not in HAND_EVENT_TYPES:
        return None
    for name in HAND_TARGET_FIELDS:
        value = doc.get(name)
        if isinstance(value, str) and value:
            return value
    return None


def case_scopes(case_id: str, handed: Iterable[str] = ()) -> set[str]:
    scopes = set(handed)
    origin = origin_institution(case_id)
    if origin:
        scopes.add(origin)
    return scopes


def visible_to(institution: str, scopes: Iterable[str]) -> bool:
    return institution in scopes or ALL in scopes
