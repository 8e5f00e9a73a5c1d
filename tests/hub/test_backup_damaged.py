"""`hub backup` checks the embedded store's files it reads (SQLite's quick_check) and refuses
a damaged one by name, with what to do, instead of saving what it can read of it."""

from __future__ import annotations

from pathlib import Path

import pytest

from ops.cli import main
from tests.diskfull import damage
from tests.hub.conftest import open_world


def test_a_damaged_hub_store_is_named_and_not_backed_up(
        tmp_path: Path, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("BANGBAN_COUCHDB_URL", raising=False)
    with open_world(tmp_path / "w") as world:
        for node in world.nodes.values():
            for _ in range(6):
                node.new_case()
        world.sync()
        hub_dir, main_file = world.hub.settings.hub_dir, Path(world.hub.stores.main.path)
    damage(main_file)
    out = tmp_path / "bk"
    assert main(["hub", "--hub-dir", str(hub_dir), "backup", str(out)]) != 0
    err = capsys.readouterr().err
    assert str(main_file) in err and "damaged" in err and "older backups" in err
    assert "stations push again" in err
    assert not (out / "manifest.json").exists()
