"""A device's feed says ``pending`` honestly when its backend leaves it out: PouchDB Server
(the CouchDB-API server the tests use) omits ``pending`` from ``_changes``, and a full page
counted as "none left" made a replicator stop after the first page, so a new laptop got its
station's cases one page per sync (hub.replication.scoped)."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest

from tests.hub.conftest import TOWN, VILLAGE_A, make_world


def _new_laptop(world: Any, folder: Path) -> Any:
    """The station's second laptop, holding the station's institution key (imported
    from the first one's keychain, as `node keys import` does)."""
    from hub import admin
    from hub.auth import Device
    from ops.demo_node import SimNode

    enr = admin.enroll_device(world.hub, institution_code=VILLAGE_A, short="A2")
    laptop = SimNode(folder, enr)
    laptop.adopt_institution_key(
        world.node(VILLAGE_A).keychain.active("institution").key)
    admin.register_keys(world.hub, enr["device_id"], laptop.public_entries())
    laptop._remote = world.hub.view(Device(enr["device_id"], VILLAGE_A, {}))
    time.sleep(1.1)  # the hub re-reads the directory at most once a second
    return laptop


@pytest.mark.parametrize("backend", ["embedded", "couchdb"])
def test_a_new_laptop_gets_its_whole_station_in_one_sync(
        backend: str, tmp_path: Path, request: pytest.FixtureRequest) -> None:
    url = request.getfixturevalue("couchdb_url") if backend == "couchdb" else ""
    world = make_world(tmp_path, couchdb_url=url)
    try:
        a1 = world.node(VILLAGE_A)
        a1.sample_cases(4, town=TOWN, scenarios=("assist_completed",))
        world.sync(VILLAGE_A)
        a2 = _new_laptop(world, tmp_path / "a2")
        first = a2.sync()
        # far more than one page of the replicator's feed (25 rows)
        assert first["pulled"] > 40, first
        held = {r["id"] for r in a2.store.all_docs()["rows"]}
        view = a2._remote.changes(since=0, limit=10_000)["results"]
        assert {r["id"] for r in view} <= held
        assert a2.sync()["pulled"] == 0  # nothing was left for a second sync
    finally:
        for node in world.nodes.values():
            node.store.close()
        world.hub.close()


def test_a_full_page_without_pending_is_not_the_end(tmp_path: Path) -> None:
    """The rule alone, on the embedded store made to answer as PouchDB Server does."""
    world = make_world(tmp_path)
    try:
        world.node(VILLAGE_A).sample_cases(2, town=TOWN, scenarios=("assist_completed",))
        world.sync(VILLAGE_A)
        view = world.node(VILLAGE_A)._remote
        for db in view._scopes:  # the station's own index and the reference data's
            real = db.changes

            def without_pending(real: Any = real, **kwargs: Any) -> Any:
                out = dict(real(**kwargs))
                out.pop("pending", None)
                return out

            db.changes = without_pending  # type: ignore[method-assign]
        reference = len(view._scopes[1].changes(since=0)["results"])
        # the reference data, then a full page of 5 of the station's own rows
        page = view.changes(since=0, limit=reference + 5)
        assert len(page["results"]) == reference + 5 and page["pending"] > 0
        rest = view.changes(since=page["last_seq"], limit=10_000)
        assert rest["results"] and rest["pending"] == 0
    finally:
        for node in world.nodes.values():
            node.store.close()
        world.hub.close()
