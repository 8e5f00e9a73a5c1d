"""`hub backup` taken while stations push (the runbook's backup of a serving hub): a push
that lands between the databases' dumps is not lost after a restore.

The main database was dumped before the private one, which holds the stations' push
checkpoints. A push that landed in between was missing from the backup's main database
while the backup's checkpoint counted it as pushed: after a restore, the station resumed
from that checkpoint and never pushed those documents again; the hub, and every other
station, lacked them for good."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from hub import backup as backup_module
from hub.backup import FILES, backup
from sync.errors import NotFound
from tests.hub.conftest import VILLAGE_A, open_world
from tests.hub.test_backup import _restored


def test_a_push_during_the_backup_reaches_the_restored_hub(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with open_world(tmp_path / "w") as world:
        a = world.node(VILLAGE_A)
        a.new_case()
        world.sync(VILLAGE_A)
        dump = backup_module._dump
        during: list[str] = []

        def dump_then_a_push(db: Any, path: Path) -> dict[str, int]:
            counts = dump(db, path)
            if path.name == FILES["main"]:  # the station pushes as the main dump ends
                during.append(a.new_case())
                world.sync(VILLAGE_A)
            return counts

        monkeypatch.setattr(backup_module, "_dump", dump_then_a_push)
        backup(world.hub, tmp_path / "bk")
        monkeypatch.undo()
        hub = _restored(world, tmp_path / "bk")
        try:
            world.sync(VILLAGE_A)  # the station, after the restore
            try:
                hub.stores.main.get(f"case:{during[0]}")
            except NotFound:
                pytest.fail("a case pushed during the backup never reached the restored hub")
        finally:
            hub.close()
