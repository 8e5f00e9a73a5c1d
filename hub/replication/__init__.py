"""The scoped replication endpoint: each device sees its institution's view of the hub.

Public API: :class:`ScopedStore` (a :class:`sync.store.DocumentStore` per device),
:class:`DeviceServer` (the :class:`sync.store.StoreServer` a device sees), and the
Flask blueprint :data:`blueprint` that authenticates and serves them through the
CouchDB HTTP core of :mod:`sync.http`.
"""

from hub.replication.scoped import ScopedStore
from hub.replication.seqs import join_seq, split_seq

__all__ = ["ScopedStore", "join_seq", "split_seq"]
