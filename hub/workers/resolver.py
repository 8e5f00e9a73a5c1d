"""The conflict resolver (design.md §3): the hub alone writes one resolution per conflict.

A case header edited on two offline nodes arrives as two leaves of one document.
The resolver merges all live leaves field by field with engineer E's rules
(:func:`schemas.merge.resolve`: a hybrid logical clock per field, losing
values kept in ``history``), writes the merged body as **one child of the winning
leaf** (signed by the hub's device key) and deletes every other leaf, in one
``_bulk_docs``. Keyrings merge by union of their signed wraps. Every node computes
the same merged view locally until the resolution arrives, so nothing changes
for its user; and since the merge is commutative, associative and idempotent,
two gateways racing on the same conflict write equivalent bodies (the slower one
gets ``conflict`` and stops).
"""

from __future__ import annotations

import copy
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from hub.workers.feed import FeedFollower
from sync.crypto import sign_document
from sync.errors import NotFound
from sync.store import conflicting_leaves

if TYPE_CHECKING:
    from hub.core import Hub

CHECKPOINT = "worker-resolver"


def merge_keyrings(leaves: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """Union of recipients and wraps (each wrap is signed by its maker, so union is safe)."""
    base = copy.deepcopy(dict(leaves[0]))
    recipients = {r["institution"]: r for r in base.get("recipients", [])}
    gens: dict[str, dict[str, Any]] = {g["kid"]: g for g in base.get("data_keys", [])}
    for leaf in leaves[1:]:
        for r in leaf.get("recipients", []):
            recipients.setdefault(r["institution"], r)
        for gen in leaf.get("data_keys", []):
            mine = gens.setdefault(gen["kid"], {"kid": gen["kid"], "wraps": []})
            have = {(w.get("institution"), w.get("key_id")) for w in mine["wraps"]}
            mine["wraps"].extend(copy.deepcopy(w) for w in gen.get("wraps", [])
                                 if (w.get("institution"), w.get("key_id")) not in have)
    base["recipients"] = sorted(recipients.values(), key=lambda r: str(r["institution"]))
    base["data_keys"] = list(gens.values())
    currents = sorted(str(leaf.get("current")) for leaf in leaves if leaf.get("current"))
    if currents:
        base["current"] = currents[-1]
    return base


def merge_leaves(doc_type: str, leaves: Sequence[Mapping[str, Any]]) -> dict[str, Any] | None:
    """The merged body of a conflicted document, or None when the type never merges."""
    if doc_type == "case":
        from schemas.merge import resolve

        return dict(resolve([dict(leaf) for leaf in leaves]))
    if doc_type == "keyring":
        return merge_keyrings(leaves)
    return None


class ConflictResolver:
    def __init__(self, hub: Hub):
        self.hub = hub
        self.feed = FeedFollower(hub.stores, CHECKPOINT)
        self.resolved = 0

    def run_once(self) -> int:
        done = 0
        for rows in self.feed.batches(style="all_docs"):
            for row in rows:
                if len(row.get("changes", ())) > 1 and not row.get("deleted"):
                    done += self.resolve(row["id"])
        return done

    def resolve(self, docid: str) -> int:
        main = self.hub.stores.main
        try:
            winner = main.get(docid, conflicts=True)
        except NotFound:
            return 0
        losers = list(winner.get("_conflicts", []))
        if not losers:
            return 0
        leaves = conflicting_leaves(main, winner)
        merged = merge_leaves(str(winner.get("type")), leaves)
        if merged is None:
            return 0
        body = {k: v for k, v in merged.items() if not k.startswith("_") or k == "_id"}
        body["_id"] = docid
        if winner.get("type") == "case":
            body = sign_document({k: v for k, v in body.items() if k != "sig"},
                                 self.hub.keys.signer)
        body["_rev"] = winner["_rev"]
        docs = [body] + [{"_id": docid, "_rev": rev, "_deleted": True} for rev in losers]
        result = main.bulk_docs(docs)
        if any("error" in r for r in result):
            return 0  # someone resolved or edited meanwhile: the feed brings it back
        self.resolved += 1
        return 1
