"""The search tokens of a case as its stored header states them, made by the machine.

A case registered on the station's other laptop, or handed down by the town, arrives here
by a pull with its particulars sealed. Its tokens (:mod:`node.nametokens`, stored only as
keyed hashes: :mod:`node.index`) were made only when a clerk opened it here, so the
applicant back after lunch was not found by name, ID number or phone on the other laptop
and a second case was opened for them. The node now makes them as it indexes what a pull
brought, while the keys are unlocked: a machine step, not a person's reading, so no access
event (design.md §5; :func:`sync.crypto.derive_private`); a search that lists the case and
its opening write theirs (node.reading). Made from the stored header, and again whenever
its revision changes (``tokens_made``), so a correction made elsewhere (更正) replaces the
tokens of the old name, while new steps cost no key unwrapped.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from node.nametokens import name_tokens

if TYPE_CHECKING:
    from node.core import Node

#: the header's particulars an applicant is found by
FIELDS = ("applicant_name", "enterprise_name", "id_number", "phone")


def tokens_of(private: Mapping[str, Any]) -> list[str]:
    """The tokens of a header's open particulars."""
    return sorted(name_tokens(*(str(private.get(k) or "") for k in FIELDS)))


def entry_tokens(node: Node, header: Mapping[str, Any], private: Mapping[str, Any] | None,
                 *, wanted: bool = True) -> Sequence[str] | None:
    """A case's tokens for its index row (node.core ``index_entry``): of ``private`` (just
    written or opened), else those it has if made from this header revision (:data:`KEPT`:
    new steps, no key unwrapped again), else made from the stored header (``wanted``)."""
    from node.indexschema import KEPT

    rev = str(header.get("_rev") or "")
    if private is not None and node.unlocked:
        return tokens_of(private)
    if rev and node.index.tokens_current(str(header["case_id"]), rev):
        return KEPT
    return machine_tokens(node, header) if wanted else None


def machine_tokens(node: Node, header: Mapping[str, Any]) -> list[str] | None:
    """The tokens of the stored ``header``, or None when they cannot be made now: the keys
    locked (made at the next unlock, node.indexer), no keyring here yet or none this
    institution's keys open (made when its wrap arrives: the keyring's change touches the
    case). A header without a sealed part has nothing to be found by."""
    from node.errors import NodeError
    from sync.crypto import derive_private
    from sync.errors import SyncError

    if "sealed" not in header:
        return tokens_of(header.get("private") or {})
    if not node.unlocked:
        return None
    try:
        key = node.reading.machine_key(str(header["case_id"]))
        return derive_private(header, key, tokens_of)
    except (NodeError, SyncError, KeyError):
        # NodeError: locked meanwhile, no keyring, no wrap for us; SyncError (CryptoError):
        # a header sealed under a generation this keyring does not hold yet
        return None


def make_owed(node: Node) -> int:
    """Make the tokens of the cases owed them for later (node.index ``tokens_owed``: indexed
    while locked, or by a catch-up during a pull), in batches of one index transaction;
    their rows stay as they are. Returns how many were made."""
    from node.errors import NodeError
    from node.indexer import BATCH
    from sync.errors import SyncError

    index = node.index
    ids = sorted(index.owed_later())
    made = 0
    for start in range(0, len(ids), BATCH):
        items: list[tuple[str, list[str] | None, str | None]] = []
        for case_id in ids[start:start + BATCH]:
            try:
                header = node.casework.header(case_id)
            except (NodeError, SyncError):
                continue  # no header here (yet): owed still
            items.append((case_id, tokens := machine_tokens(node, header), header.get("_rev")))
            made += tokens is not None
        index.set_tokens(items)
    return made


def owed_again_with_new_keys(node: Node) -> None:
    """At an unlock: when the keychain holds other keys than at the last one (``node keys
    import`` of the institution's new key after a rotation, design.md §5), the cases no
    key here opened are tried again by the catch-up (owed ``later``). Those wrapped for
    the new key only were owed till their keyring changed, which the import does not do:
    unfound by name until another laptop wrote to them."""
    from node.errors import Locked

    try:
        chain = node.keys.keychain
    except Locked:  # locked again meanwhile: the next unlock compares
        return
    held = ",".join(sorted(k.key_id for k in chain.encryption_keys()))
    if node.index.get_meta("owed_keys") != held:
        node.index.owe_again()
        node.index.set_meta("owed_keys", held)
