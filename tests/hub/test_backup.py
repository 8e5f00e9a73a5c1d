"""``hub backup`` / ``hub restore`` into the hub's own folder after its store was lost:
the derived files of the old store must not hide what the restored one receives."""

from __future__ import annotations

import shutil
from pathlib import Path

from hub.auth import Device
from hub.backup import backup, restore
from hub.core import Hub
from hub.oversight import Oversight
from hub.settings import Settings
from tests.hub.conftest import VILLAGE_A, open_world


def test_oversight_follows_a_store_restored_into_the_same_folder(tmp_path: Path) -> None:
    with open_world(tmp_path / "w") as world:
        a = world.node(VILLAGE_A)
        for _ in range(3):
            case_id = a.new_case()
            for n in range(8):  # many changes: the old feed's sequence runs far ahead
                a.edit_header(case_id, labels=[f"l{n}"])
                world.sync(VILLAGE_A)
        Oversight(world.hub).catch_up(force=True)
        backup(world.hub, tmp_path / "bk")
        hub_dir = Path(world.hub.settings.hub_dir)
        world.hub.close()
        shutil.rmtree(hub_dir / "db")  # the disk holding the store died; keys/ survived
        hub = Hub(Settings.load({"hub_dir": str(hub_dir), "scrypt_n": 1024}, environ={}))
        world.hub = hub
        try:
            restore(hub, tmp_path / "bk")
            a._remote = hub.view(Device(a.device_id, VILLAGE_A, {}))
            a.sync()
            later = [a.new_case() for _ in range(3)]
            a.sync()
            ov = Oversight(hub)
            ov.catch_up(force=True)
            for case_id in later:
                assert ov.facts.get(case_id) is not None, case_id
            ov.facts.close()
        finally:
            hub.close()
