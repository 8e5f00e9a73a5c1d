"""A station's pull checkpoint at the hub stays within what the hub keeps of a device's
``_local`` document (hub/replication/local.py, LOCAL_MAX_BYTES) after months of rounds.

On a CouchDB cluster a seq runs to hundreds of characters, the hub's feed seq is two of
them (hub/replication/seqs.py) and each history entry holds four: CouchDB's 50 sessions
made a log of ~190 kB, and from about the 17th round on every pull failed writing its
checkpoint at the hub (413) until someone deleted it by hand."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from hub.replication.local import LOCAL_MAX_BYTES, LocalDocs
from sync.replicate.checkpoint import Checkpointer
from sync.sqlite import SQLiteStore
from tests.sync.replicate.memstore import MemStore

#: a CouchDB 3 cluster seq (q=8 over three nodes): "N-" and base64 of the shards' ranges
CLUSTER_SEQ = "g1AAAA" + "x" * 600


class HubSide:
    """The hub as the pull's source sees it: one device's ``_local`` documents."""

    def __init__(self, local: LocalDocs):
        self.local = local
        self.name = "hub"

    def get_local(self, docid: str) -> Any:
        return self.local.get(docid)

    def put_local(self, doc: Any) -> Any:
        return self.local.put(doc)


def test_a_year_of_pull_rounds_keeps_the_checkpoint_within_the_hub_s_bound(
        tmp_path: Path) -> None:
    private = SQLiteStore(tmp_path / "private.sqlite")
    try:
        hub = HubSide(LocalDocs(private, "410621100201-A1"))
        laptop = MemStore("laptop")
        for n in range(1, 120):  # one round a few times a day for weeks, then a year
            seq = f"{n}-{CLUSTER_SEQ}~{n}-{CLUSTER_SEQ}"
            cp = Checkpointer(hub, laptop, "pull")  # type: ignore[arg-type]
            start = cp.read()
            assert n == 1 or str(start).startswith(f"{n - 1}-")  # resumes where it stopped
            cp.record(seq, {"docs_read": 1})
        log = hub.get_local("_local/pull")
        assert len(json.dumps(log).encode()) <= LOCAL_MAX_BYTES
        assert log["history"][0]["recorded_seq"].startswith("119-")
        assert len(log["history"]) >= 5
    finally:
        private.close()
