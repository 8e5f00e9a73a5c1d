"""A `hub restore` cut short (Ctrl-C, a dropped SSH session, a reboot) is said, refused by
`hub serve`, and finished by running the same restore again (hub.backup.UNFINISHED).

It left part of a backup in the store, which looked whole: `hub doctor` said ok once the
identity was back, `hub serve` started (the stations' pull checkpoints not dropped yet:
their pulls resumed from seqs of scope indexes that were no more), and restoring again was
refused because the store was not empty."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from hub import backup as backup_module
from hub import doctor
from hub.auth import Device
from hub.backup import UNFINISHED, backup, restore
from hub.core import Hub
from hub.errors import AlreadyExists, ConfigError
from hub.settings import Settings
from tests.hub.conftest import TOWN, VILLAGE_A, open_world


def _cut(*args: object) -> int:
    raise KeyboardInterrupt  # the operator's Ctrl-C, after the databases were loaded


@pytest.mark.parametrize("where", ["before the checkpoints", "after the indexing"])
def test_a_restore_cut_short_is_refused_by_serve_and_finished_by_running_it_again(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, where: str) -> None:
    with open_world(tmp_path / "w") as world:
        a, town = world.node(VILLAGE_A), world.node(TOWN)
        case_id = a.new_case()
        a.hand_up(case_id, TOWN)
        world.round()
        backup(world.hub, tmp_path / "bk")
        world.round()
        hub_dir = Path(world.hub.settings.hub_dir)
        world.hub.close()
        shutil.rmtree(hub_dir / "db")
        config = {"hub_dir": str(hub_dir), "scrypt_n": 1024}
        hub = Hub(Settings.load(config, environ={}))
        world.hub = hub
        try:
            with monkeypatch.context() as m:
                if where == "before the checkpoints":
                    m.setattr(backup_module, "_drop_pull_checkpoints", _cut)
                else:  # the indexer's checkpoint written: deleting it needs its rev
                    catch_up = hub.indexer.catch_up
                    m.setattr(hub.indexer, "catch_up", lambda: (catch_up(), _cut()))
                with pytest.raises(KeyboardInterrupt):
                    restore(hub, tmp_path / "bk")
            assert (hub_dir / UNFINISHED).exists()
            checks = {c.name: c for c in doctor.run(hub)}
            assert checks["restore"].status == "fail"
            assert str((tmp_path / "bk").resolve()) in checks["restore"].detail
            assert doctor.exit_status(list(checks.values())) == 2
            from hub.serve import serve

            with pytest.raises(ConfigError, match="not serving: a restore from .* has not "
                                                  "finished"):
                serve({**config, "hub_port": 0})
            # another backup over the part of this one is refused, naming the one to finish
            backup(hub, tmp_path / "other")
            manifest = tmp_path / "other" / "manifest.json"
            body = json.loads(manifest.read_text("utf-8"))
            manifest.write_text(json.dumps({**body, "taken_at": "2026-01-02T03:04:05+00:00"}))
            with pytest.raises(AlreadyExists, match="holds part of the backup"):
                restore(hub, tmp_path / "other")

            restore(hub, tmp_path / "bk")  # the same one again: it goes on
            assert not (hub_dir / UNFINISHED).exists()
            assert not [c for c in doctor.run(hub) if c.name == "restore"]
            for code, node in world.nodes.items():
                node._remote = hub.view(Device(node.device_id, code, {}))
            world.round()
            later = a.new_case()
            a.hand_up(later, TOWN)
            world.round()
            held = {r["id"] for r in town.store.all_docs()["rows"]}
            assert {f"case:{case_id}", f"case:{later}"} <= held
            view = {r["id"] for r in hub.view(Device(town.device_id, TOWN, {})).all_docs()["rows"]}
            assert view <= held
        finally:
            hub.close()


def test_the_doctor_finds_the_scope_indexes_rebuilt_by_a_restore(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """`hub restore` says "scope indexes rebuilt"; the doctor run next said "scope indexer:
    N changes behind" (its durable checkpoint was written only at a close the command never
    reached)."""
    with open_world(tmp_path / "w") as world:
        a = world.node(VILLAGE_A)
        for _ in range(3):
            a.new_case()
        world.sync(VILLAGE_A)
        # batches of 10 rows: the restore's indexing takes several (as 500-row batches of
        # a real hub's feed do), and the checkpoint is saved after the first only
        backup(world.hub, tmp_path / "bk")
        hub_dir = Path(world.hub.settings.hub_dir)
        world.hub.close()
        shutil.rmtree(hub_dir / "db")
        hub = Hub(Settings.load({"hub_dir": str(hub_dir), "scrypt_n": 1024}, environ={}))
        world.hub = hub
        monkeypatch.setattr("hub.index.BATCH", 10)
        try:
            restore(hub, tmp_path / "bk")
            lags = {c.name: c for c in doctor.check_lags(hub)}
            assert lags["scope indexer"].detail == "0 changes behind the main feed"
        finally:
            hub.close()
