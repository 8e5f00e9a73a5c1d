"""The replicator: CouchDB's replication protocol between any two DocumentStores.

Public API::

    from sync.replicate import replicate, Replicator, ReplicationOptions

    result = replicate(source_store, target_store, doc_ids=["a", "b"])
    result.summary()  # docs_read, docs_written, doc_write_failures, bytes, requests, seconds

The replicator sees only :class:`sync.store.DocumentStore`, so the same code
syncs a local SQLite file with a hub URL, two URLs, or two files. One small
module per protocol step (after PouchDB's replication packages): ``peers``,
``repid``, ``checkpoint``, ``changes``, ``fetch``, ``write``; ``batching``,
``retry`` and ``progress`` carry the poor-link behaviour; ``replicator`` orders
the steps.
"""

from __future__ import annotations

from .options import ReplicationOptions, ReplicationResult
from .progress import Progress
from .repid import replication_id
from .replicator import Replicator, replicate
from .retry import Cancelled

__all__ = [
    "Cancelled",
    "Progress",
    "ReplicationOptions",
    "ReplicationResult",
    "Replicator",
    "replicate",
    "replication_id",
]
