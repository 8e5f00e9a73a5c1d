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
tokens of the old name, while new steps cost no key unwrapped. Those owed by the cases
pulled while locked are made after the unlock, in the background (:class:`OwedTokens`).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from node.nametokens import name_tokens

if TYPE_CHECKING:
    from node.core import Node

#: the header's particulars an applicant is found by
FIELDS = ("applicant_name", "enterprise_name", "id_number", "phone")
#: cases whose owed tokens one index transaction makes (~0.5 ms a case: `python -m ops.bench
#: firstpull`): a lock, a catch-up of node.indexer or the process's end waits for one batch
BATCH = 100
log = logging.getLogger("bangban.node")


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


def machine_tokens(node: Node, header: Mapping[str, Any], *, strict: bool = False
                   ) -> list[str] | None:
    """The tokens of the stored ``header``, or None when they cannot be made now: the keys
    locked (made at the next unlock, node.indexer; ``strict``: :class:`node.errors.Locked`
    raised instead, so the case stays owed them for later), no keyring here yet or none
    this institution's keys open (made when its wrap arrives: the keyring's change touches
    the case). A header without a sealed part has nothing to be found by."""
    from node.errors import Locked, NodeError
    from sync.crypto import derive_private
    from sync.errors import SyncError

    if "sealed" not in header:
        return tokens_of(header.get("private") or {})
    try:
        if not node.unlocked:
            raise Locked()
        key = node.reading.machine_key(str(header["case_id"]))
        return derive_private(header, key, tokens_of)
    except Locked:
        if strict:
            raise
        return None
    except (NodeError, SyncError, KeyError):
        # NodeError: no keyring, no wrap for us; SyncError (CryptoError): a header sealed
        # under a generation this keyring does not hold yet
        return None


def make_owed(node: Node, *, stop: threading.Event | None = None) -> int:
    """Make the tokens of the cases owed them for later (node.index ``tokens_owed``: indexed
    while locked, or by a catch-up during a pull), :data:`BATCH` cases an index transaction,
    each batch whole or not at all; their rows stay as they are. A lock (or ``stop``: the
    process ends) stops it between two batches, a lock within one drops that batch: the
    rest stays owed, made at the next unlock. Returns how many were made."""
    from node.errors import Locked

    index = node.index
    made, after = 0, ""
    while node.unlocked and not (stop is not None and stop.is_set()):
        # one batch at a time with node.indexer's: the header a batch makes a case's tokens
        # from is never older than the one its row was just folded from (a name corrected
        # elsewhere, 更正, pulled meanwhile would be found by the old name again)
        with node.owed.batch:
            ids = index.owed_later(after, BATCH)
            if not ids:
                break
            after = ids[-1]
            try:
                items = _batch(node, ids)
            except Locked:
                break
            index.set_tokens(items)
        made += sum(tokens is not None for _, tokens, _ in items)
    return made


def _batch(node: Node, ids: Sequence[str]) -> list[tuple[str, list[str] | None, str | None]]:
    """The tokens of the cases' stored headers (Locked: the keys locked meanwhile)."""
    from node.errors import NodeError
    from sync.errors import SyncError

    items = []
    for case_id in ids:
        try:
            header = node.casework.header(case_id)
        except (NodeError, SyncError):
            continue  # no header here (yet): owed still
        items.append((case_id, machine_tokens(node, header, strict=True), header.get("_rev")))
    return items


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


class OwedTokens:
    """Makes the owed tokens in the background, one thread per node, started by the unlock.

    A first pull of 10,000 cases while locked (the sync loop runs locked) owed each its
    tokens, and the unlock made them all before it answered: the clerk waited 5–10 s at
    the unlock page. The unlock now answers after scrypt; until the tokens are made the
    search page says how many cases a name may miss (node.views.cases)."""

    def __init__(self, node: Node):
        self.node = node
        #: one index batch at a time: this thread's, the sync round's and node.indexer's
        self.batch = threading.Lock()
        #: set while no thread runs (what a test waits on)
        self.idle = threading.Event()
        self.idle.set()
        self._stop = threading.Event()
        self._guard = threading.Lock()
        self._again = False
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        """Make them now (at an unlock); a thread at work goes round once more, as a lock
        may have stopped it meanwhile."""
        with self._guard:
            self._again = True
            self._stop.clear()
            if self._thread is not None:
                return
            self.idle.clear()
            # a daemon: the process's end stops it (a batch is one transaction, committed
            # whole or not at all; the rest stays owed), Node.close lets it end its batch
            self._thread = threading.Thread(target=self._run, daemon=True,
                                            name="bangban-node-tokens")
            self._thread.start()

    def _run(self) -> None:
        while True:
            with self._guard:  # one section with start(): an unlock now is never missed
                if not self._again or self._stop.is_set():
                    self._thread = None
                    self.idle.set()
                    return
                self._again = False
            try:
                log.info("node: search tokens made for %d cases", make_owed(
                    self.node, stop=self._stop))
            except Exception as exc:  # a full disk: the rest stays owed (round's end, unlock)
                log.warning("node: making the search tokens failed (%s); left for later", exc)

    def stop(self, timeout: float = 10.0) -> None:
        """End the thread after its batch (the node closes or wipes)."""
        self._stop.set()
        thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout)
