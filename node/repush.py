"""Documents the hub refused, sent again in the following rounds until it takes them.

The replicator, like CouchDB's, counts a refused document (``forbidden``) as done and moves
its checkpoint past it, so nothing ever sent it again, even once the cause was gone: the
laptop's keys registered with `hub device keys` (docs/operations.md, "One station's
documents are refused"), or an earlier event of the case that reached the hub through
another gateway a moment later. The event stayed on the station and never reached the hub
(its oversight, the town's board), and the sync page forgot it after the next round.

The refused ids are kept in ``_local/bangban-refused`` (node-private state,
docs/CONVENTIONS.md) and each round sends their leaves again with the replication
protocol's own calls, ``_revs_diff`` then ``_bulk_docs`` with ``new_edits=false``, without
a replication of their own: one by doc ids would leave a checkpoint at the hub for every
set of ids, and the hub keeps a bounded number per device (hub.replication.local).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from sync.errors import NotFound
from sync.store import JSON, DocumentStore

REFUSED_DOC = "_local/bangban-refused"
#: Most ids kept (the oldest dropped first): a station whose every write is refused (a
#: revoked laptop is wiped instead) must not grow the list without bound.
MAX_KEPT = 1000


def kept(local: DocumentStore) -> list[str]:
    """The ids refused and not yet taken by the hub."""
    try:
        return [str(i) for i in local.get_local(REFUSED_DOC).get("ids", [])]
    except NotFound:
        return []


def _save(local: DocumentStore, ids: Iterable[str]) -> None:
    unique = list(dict.fromkeys(ids))[-MAX_KEPT:]
    try:
        doc = dict(local.get_local(REFUSED_DOC))  # its _rev: a _local doc is updated in place
    except NotFound:
        if not unique:
            return
        doc = {"_id": REFUSED_DOC}
    doc["ids"] = unique
    local.put_local(doc)


def remember(local: DocumentStore, failures: Iterable[Mapping[str, Any]]) -> None:
    """Add the documents a push refused, but not the hub's own: after a hub restore the
    station's push offers the lost hub's revisions of reference documents, which the hub
    refuses for good (read-only for devices, schemas.written); kept, they went again every
    round, and sat on the sync page for ever."""
    from schemas.written import HUB_ONLY_PREFIXES

    ids = [str(f["id"]) for f in failures
           if f.get("id") and not str(f["id"]).startswith(HUB_ONLY_PREFIXES)]
    if ids:
        _save(local, [*kept(local), *ids])


def push_again(local: DocumentStore, remote: DocumentStore) -> tuple[int, list[JSON]]:
    """Send the kept documents' leaves the hub lacks; ``(revisions written, failures)``.
    The ids it refuses again stay kept, the others are dropped."""
    ids = kept(local)
    if not ids:
        return 0, []
    leaves: list[JSON] = []
    for docid in ids:
        try:
            leaves += [leaf["ok"] for leaf in local.open_revs(docid, "all", attachments=True)
                       if "ok" in leaf]
        except NotFound:
            continue
    wanted: dict[str, list[str]] = {}
    for doc in leaves:
        wanted.setdefault(doc["_id"], []).append(doc["_rev"])
    missing = remote.revs_diff(wanted) if wanted else {}
    send = [d for d in leaves if d["_rev"] in missing.get(d["_id"], {}).get("missing", [])]
    failures = remote.bulk_docs(send, new_edits=False) if send else []
    _save(local, [str(f["id"]) for f in failures if f.get("id")])
    return len(send) - len(failures), failures
