"""The hub's cache of reference documents by code (hub.storage.HubStores: the 清单 the
acceptance check reads, the institutions the notice check reads)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from hub import admin
from hub.storage import HubStores
from schemas import sample
from sync.open import open_server

from .conftest import World


def test_an_empty_catalogue_is_read_once_not_at_every_check(tmp_path: Path) -> None:
    """A hub with no 清单 yet read the empty range again at every acceptance it checked."""
    stores = HubStores(open_server(tmp_path), "t")
    stores.create()
    reads: list[Any] = []
    real = stores.main.all_docs

    def all_docs(**kw: Any) -> Any:
        reads.append(kw.get("startkey"))
        return real(**kw)

    stores.main.all_docs = all_docs  # type: ignore[method-assign]
    for _ in range(3):
        assert stores.service_items() == {} and stores.institutions() == {}
    assert sorted(reads) == ["institution:", "service_item:"]
    stores.close()


def test_a_reference_document_the_hub_writes_is_seen_at_once(world: World) -> None:
    """Cached for up to a minute, but not past the hub's own write of one (`hub catalog
    import` in this process): the next acceptance is checked against the new 清单."""
    stores = world.hub.stores
    item = sample.catalog()[5]
    assert item["code"] not in stores.service_items()  # cached now
    admin.import_catalog(world.hub, [item])
    assert stores.service_items()[item["code"]]["name"] == item["name"]
