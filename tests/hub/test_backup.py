"""``hub backup`` / ``hub restore`` into the hub's own folder after its store was lost:
the derived files of the old store must not hide what the restored one receives."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

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


def test_reference_edits_on_the_restored_hub_win_on_the_station(tmp_path: Path) -> None:
    """The lost hub edited rosters and revoked a laptop after the backup, and the station
    pulled that; the restored hub edits the same documents differently. The station then
    holds two leaves of each: the lost hub's (deeper for VILLAGE_A's roster, edited twice,
    and for the directory) and the restored hub's. CouchDB's rule (depth, then rev hash) kept the lost hub's for
    some: a roster change, or a revocation in the key directory, hidden on the laptop."""
    from hub import admin
    from hub.staff import set_staff
    from node.pull import VerifyingTarget
    from sync.reference import read_latest
    from tests.hub.conftest import CITY, TOWN, VILLAGE_B

    codes = (CITY, "410602", TOWN, VILLAGE_A, VILLAGE_B)  # five rosters: five rev hash draws
    with open_world(tmp_path / "w") as world:
        a = world.node(VILLAGE_A)
        spare = [admin.enroll_device(world.hub, institution_code=VILLAGE_A, short=f"Z{n}")
                 ["device_id"] for n in range(2)]
        world.round()
        backup(world.hub, tmp_path / "bk")
        for code in (*codes, VILLAGE_A):
            set_staff(world.hub, code, "S800", name="恢复前", role="both")
        admin.revoke_device(world.hub, spare[0])
        admin.publish_directory(world.hub)  # the lost hub's directory branch is the deeper
        world.round()
        assert read_latest(a.store, f"device:{spare[0]}").get("revoked_at")
        hub = _restored(world, tmp_path / "bk")
        try:
            world.round()
            for code in codes:
                set_staff(hub, code, "S800", name="恢复后", role="both")
            admin.revoke_device(hub, spare[1])  # the lost revocation is redone later, or not
            world.round()
            stale = 0
            for code in codes:
                docid = f"institution:{code}"
                stale += a.store.get(docid)["staff"] != read_latest(a.store, docid)["staff"]
                names = {m["id"]: m["name"] for m in read_latest(a.store, docid)["staff"]}
                assert names["S800"] == "恢复后", code
                assert "_conflicts" not in hub.stores.main.get(docid, conflicts=True)
            assert stale >= 1  # CouchDB's winner was the lost hub's somewhere (VILLAGE_A)
            assert read_latest(a.store, f"device:{spare[1]}").get("revoked_at")
            held = VerifyingTarget(a.store, a.remote, a.enrollment["root_keys"]).held_directory()
            assert held is not None and held.devices[spare[1]].revoked_at
            assert not held.devices[spare[0]].revoked_at  # the restored hub's: redo it (runbook)
            assert a.directory().devices[spare[1]].revoked_at  # ops.demo_node's reader too
        finally:
            hub.close()


def test_a_laptop_enrolled_after_a_restore_is_trusted_by_its_station(tmp_path: Path) -> None:
    """The restored hub numbers its directories on from the backup's, below the lost hub's
    last, which the station holds: by version the station kept checking signatures against
    the lost hub's directory, which does not list a laptop enrolled after the restore, and
    refused that laptop's documents."""
    from hub import admin
    from ops.demo_node import SimNode

    with open_world(tmp_path / "w") as world:
        a = world.node(VILLAGE_A)
        backup(world.hub, tmp_path / "bk")
        for _ in range(3):  # directories the lost hub published after the backup
            admin.publish_directory(world.hub)
        world.round()
        hub = _restored(world, tmp_path / "bk")
        try:
            world.round()
            enr = admin.enroll_device(hub, institution_code=VILLAGE_A, short="A2")
            second = SimNode(tmp_path / "a2", enr)
            second.adopt_institution_key(a.keychain.active("institution").key)
            admin.register_keys(hub, enr["device_id"], second.public_entries())
            second._remote = hub.view(Device(enr["device_id"], VILLAGE_A, {}))
            second.sync()
            case_id = second.new_case()
            assert second.sync()["refused"] == 0
            pulled = a.sync()
            assert pulled["pull_refused"] == 0, pulled
            assert a.store.get(f"case:{case_id}")["case_id"] == case_id
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


@pytest.mark.couchdb
def test_stations_keep_their_database_url_after_a_restore_into_another_prefix(
        tmp_path: Path, couchdb_url: str) -> None:
    """On CouchDB a hub is restored into fresh databases beside the broken ones
    (BANGBAN_DB_PREFIX). It answered devices under the new prefix only: every station's
    `db_url` (`{hub}/{old prefix}`) got 404 not_found, and the stations said "cannot reach
    the hub" until each was enrolled again."""
    import base64
    import uuid

    from hub.app import create_app

    with open_world(tmp_path / "w", couchdb_url=couchdb_url) as world:
        a = world.node(VILLAGE_A)
        case_id = a.new_case()
        world.sync(VILLAGE_A)
        backup(world.hub, tmp_path / "bk")
        old_prefix, db_url = world.hub.stores.prefix, world.hub.db_url
        settings = dict(world.hub.settings, db_prefix="r" + uuid.uuid4().hex[:10])
    hub = Hub(Settings.load(settings, environ={}))
    try:
        restore(hub, tmp_path / "bk")
        assert hub.stores.prefix != old_prefix and hub.db_url == db_url
        client = create_app(hub=hub).test_client()
        login = {"Authorization": "Basic " + base64.b64encode(
            f"{a.device_id}:{a.secret}".encode()).decode()}
        info = client.get(f"/{old_prefix}", headers=login)
        assert info.status_code == 200, info.get_data(as_text=True)
        assert info.get_json()["db_name"] == old_prefix
        feed = client.get(f"/{old_prefix}/_changes", headers=login).get_json()
        assert f"case:{case_id}" in {row["id"] for row in feed["results"]}
    finally:
        hub.close()


def test_a_restore_into_a_store_in_use_says_where_to_restore(tmp_path: Path) -> None:
    """It said "restore into a fresh store", not how to get one."""
    from hub.errors import AlreadyExists

    with open_world(tmp_path / "w") as world:
        backup(world.hub, tmp_path / "bk")
        with pytest.raises(AlreadyExists) as refused:
            restore(world.hub, tmp_path / "bk")
    assert "BANGBAN_DB_PREFIX" in refused.value.reason and "keys/" in refused.value.reason


def test_the_prefix_restored_into_is_saved_for_the_service(tmp_path: Path) -> None:
    """Restored with BANGBAN_DB_PREFIX given to `hub restore` only, the service (run without
    the variable) opened the old prefix: the broken databases, or no hub at all."""
    import json
    import stat

    with open_world(tmp_path / "w") as world:
        backup(world.hub, tmp_path / "bk")
        keys = Path(world.hub.settings.hub_dir) / "keys"
        folder = tmp_path / "new"
        shutil.copytree(keys, folder / "keys")
        (folder / "settings.json").write_text('{"hub_port": 18999}', "utf-8")
        hub = Hub(Settings.load({"hub_dir": str(folder), "scrypt_n": 1024,
                                 "db_prefix": "bangban2"}, environ={}))
        try:
            restore(hub, tmp_path / "bk")
        finally:
            hub.close()
    saved = folder / "settings.json"
    assert json.loads(saved.read_text("utf-8")) == {"db_prefix": "bangban2", "hub_port": 18999}
    assert stat.S_IMODE(saved.stat().st_mode) == 0o600
    hub = Hub(Settings.load({"hub_dir": str(folder)}, environ={}))
    try:
        assert hub.stores.prefix == "bangban2" and hub.identity["city"]
    finally:
        hub.close()
