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
from tests.hub.conftest import VILLAGE_A, World, open_world


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


def _restored(world: World, backup_dir: Path) -> Hub:
    """The world's hub store lost (keys/ kept) and restored from ``backup_dir``; the
    stations replicate with the restored hub."""
    hub_dir = Path(world.hub.settings.hub_dir)
    world.hub.close()
    shutil.rmtree(hub_dir / "db")
    hub = Hub(Settings.load({"hub_dir": str(hub_dir), "scrypt_n": 1024}, environ={}))
    world.hub = hub
    restore(hub, backup_dir)
    for code, node in world.nodes.items():
        node._remote = hub.view(Device(node.device_id, code, {}))
    return hub


def test_a_town_keeps_pulling_after_a_restore(tmp_path: Path) -> None:
    """The town's pull checkpoint ran ahead of the restored hub's feed (it synced after the
    backup): hand-ups made after the restore must still reach it, and nothing twice."""
    from tests.hub.conftest import TOWN

    with open_world(tmp_path / "w") as world:
        a, town = world.node(VILLAGE_A), world.node(TOWN)
        first = a.new_case()
        a.hand_up(first, TOWN)
        world.round()
        backup(world.hub, tmp_path / "bk")
        for n in range(10):  # after the backup: the town's checkpoint moves further on
            a.edit_header(first, labels=[f"l{n}"])
            world.round()
        hub = _restored(world, tmp_path / "bk")
        try:
            world.round()
            later = a.new_case()
            a.hand_up(later, TOWN)
            world.round()
            held = {r["id"] for r in town.store.all_docs()["rows"]}
            assert f"case:{later}" in held and f"case:{first}" in held
            view = {r["id"] for r in hub.view(Device(town.device_id, TOWN, {})).all_docs()["rows"]}
            assert view <= held
        finally:
            hub.close()


def test_reference_data_written_after_a_restore_reaches_a_station(tmp_path: Path) -> None:
    """The station pulled reference data written after the backup (the old hub's ``all``
    index ran on past the backup), so its pull checkpoint is ahead of the restored hub's
    rebuilt index: a roster change made after the restore was never pulled, nor a key
    directory (found walking the runbook: a revocation and a key rotation after a restore
    did not reach the station's laptop). The restore must make the stations pull again."""
    from hub import admin
    from hub.staff import set_staff
    from schemas.sample import catalog

    with open_world(tmp_path / "w") as world:
        a = world.node(VILLAGE_A)
        backup(world.hub, tmp_path / "bk")
        for n in range(6):  # after the backup: reference rewrites the station pulls
            admin.import_catalog(world.hub, [{**item, "name": f"{item['name']} {n}"}
                                             for item in catalog()[:5]])
            world.round()
        hub = _restored(world, tmp_path / "bk")
        try:
            world.round()
            set_staff(hub, VILLAGE_A, "S900", name="恢复后", role="both")
            world.round()
            inst = a.store.get(f"institution:{VILLAGE_A}")
            assert "S900" in {s.get("id") for s in inst.get("staff", [])}, inst.get("staff")
            view = hub.view(Device(a.device_id, VILLAGE_A, {}))
            held = {r["id"] for r in a.store.all_docs()["rows"]}
            assert {r["id"] for r in view.all_docs()["rows"]} <= held
            # (the catalog rewrites after the backup are lost at the hub, not at the station:
            # it keeps their newer revisions, so only the roster is compared)
        finally:
            hub.close()


def test_a_restore_without_the_keys_says_to_put_them_back(tmp_path: Path) -> None:
    """It said "hub.keychain.json is missing: run `bangban hub init`", which refuses a store
    that holds a hub, and the doctor said the same on the restored folder."""
    from hub import doctor
    from hub.backup import keys_note

    with open_world(tmp_path / "w") as world:
        backup(world.hub, tmp_path / "bk")
    hub = Hub(Settings.load({"hub_dir": str(tmp_path / "new"), "scrypt_n": 1024}, environ={}))
    try:
        restore(hub, tmp_path / "bk")
        note = keys_note(hub)
        assert note is not None and "run `bangban hub init`" not in note
        assert "from the file backup" in note
        keys = next(c for c in doctor.run(hub) if c.name == "keys")
        assert keys.status == "fail" and "put back this hub's keys/" in keys.detail
    finally:
        hub.close()


def test_backup_files_are_readable_by_their_owner_only(tmp_path: Path) -> None:
    """Run by hand (umask 022) they were 0644: device credential hashes, keyrings and case
    metadata readable by every user of the machine."""
    import os
    import stat

    old = os.umask(0o022)
    try:
        with open_world(tmp_path / "w") as world:
            backup(world.hub, tmp_path / "bk")
    finally:
        os.umask(old)
    modes = {p.name: stat.S_IMODE(p.stat().st_mode) for p in (tmp_path / "bk").iterdir()}
    assert set(modes) >= {"manifest.json", "main.jsonl.gz", "private.jsonl.gz"}
    assert all(mode == 0o600 for mode in modes.values()), modes
    assert stat.S_IMODE((tmp_path / "bk").stat().st_mode) == 0o700
