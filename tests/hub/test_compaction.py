"""The hub's embedded databases are compacted by the workers (hub/compaction.py): a
station's replication checkpoints, rewritten after every batch of every round, kept every
replaced body (up to revs_limit, 1,000, of several kB each) in the private database, for
ever: nothing compacted the embedded store."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

from hub.compaction import compact_due

from .conftest import VILLAGE_A, open_world


def _bodies(store: Any, prefix: str) -> tuple[int, int]:
    """(revision bodies, documents) stored under ``prefix``."""
    with store._db.read() as conn:
        bodies = conn.execute("SELECT count(*) FROM revs WHERE doc_id >= ? AND doc_id < ?",
                              (prefix, prefix + "\ufff0")).fetchone()[0]
        docs = conn.execute("SELECT count(*) FROM docs WHERE id >= ? AND id < ?",
                            (prefix, prefix + "\ufff0")).fetchone()[0]
    return int(bodies), int(docs)


def test_the_workers_compact_the_stations_checkpoints(tmp_path: Path) -> None:
    with open_world(tmp_path) as world:
        a = world.node(VILLAGE_A)
        for day in range(12):  # a dozen rounds, each with something to push
            a.new_case(dt.date(2026, 3, 2) + dt.timedelta(days=day))
            a.sync()
        private = world.hub.stores.private
        bodies, docs = _bodies(private, f"local:{a.device_id}:")
        assert docs >= 1 and bodies >= docs + 10  # every checkpoint write kept
        assert compact_due(world.hub) == {"compacted": len(world.hub.stores.server.all_dbs())}
        assert _bodies(private, f"local:{a.device_id}:") == (docs, docs)
        a.new_case(dt.date(2026, 4, 1))
        a.sync()  # the checkpoints still resume: nothing was pushed again
        assert a.sync()["pushed"] == 0
        assert compact_due(world.hub) == {}  # not due again for compact_hours


def test_no_compaction_when_the_setting_is_0(tmp_path: Path) -> None:
    with open_world(tmp_path, extra={"compact_hours": 0}) as world:
        assert compact_due(world.hub) == {}


def test_the_workers_look_now_and_then_and_keep_no_database_open_for_it(
        tmp_path: Path, monkeypatch: Any) -> None:
    """A city has a scope index database per institution and the workers pass every few
    seconds: each pass read every database's last compaction, and the look left each one
    open in the workers' process (its page cache too) for the process's life."""
    from hub import compaction

    with open_world(tmp_path) as world:
        server = world.hub.stores.server
        looked: list[str] = []
        real = type(server).compact_if_due

        def counting(self: Any, name: str, every: float) -> bool:
            looked.append(name)
            return real(self, name, every)

        monkeypatch.setattr(type(server), "compact_if_due", counting)
        server.create_db(f"{world.hub.stores.prefix}-scope-x")  # made by another process
        server._stores.pop(f"{world.hub.stores.prefix}-scope-x").close()
        compact_due(world.hub)
        assert f"{world.hub.stores.prefix}-scope-x" in looked
        assert f"{world.hub.stores.prefix}-scope-x" not in server._stores
        looked.clear()
        assert compact_due(world.hub) == {} and looked == []  # not again within LOOK_EVERY
        monkeypatch.setattr(compaction, "_next_look", {})
        compact_due(world.hub)
        assert looked  # the next look reads them again (none due: compacted just now)
