"""A worker's position in the main database's changes feed (a ``_local`` checkpoint)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from sync.errors import Conflict, NotFound
from sync.store import Seq

if TYPE_CHECKING:
    from hub.storage import HubStores


class FeedFollower:
    """Reads ``_changes`` batches after a checkpoint named ``name``; saves after each batch."""

    def __init__(self, stores: HubStores, name: str, *, batch: int = 200):
        self.stores = stores
        self.name = name
        self.batch = batch

    def checkpoint(self) -> Seq:
        try:
            return self.stores.private.get_local(self.name).get("seq", 0)
        except NotFound:
            return 0

    def save(self, seq: Seq) -> None:
        private = self.stores.private
        try:
            doc = private.get_local(self.name)
        except NotFound:
            doc = {"_id": f"_local/{self.name}"}
        doc["seq"] = seq
        try:
            private.put_local(doc)
        except Conflict:
            pass  # another gateway's worker saved one; the next pass saves again

    def batches(self, **options: Any) -> Iterator[list[dict[str, Any]]]:
        """Yield batches of rows; the checkpoint advances after the caller handled each."""
        since = self.checkpoint()
        while True:
            feed = self.stores.main.changes(since=since, limit=self.batch, **options)
            rows = feed["results"]
            if rows:
                yield rows
            if feed["last_seq"] != since:
                self.save(feed["last_seq"])
            since = feed["last_seq"]
            if len(rows) < self.batch:
                return
