"""``bangban hub bundle export``: the hub → station direction of bundle files (design.md §4):
exactly what the device's view would pull, sealed for its institution, signed by the hub."""

from __future__ import annotations

import json
import stat
from pathlib import Path

import pytest

from hub.auth import Device
from hub.bundles import export_bundle, export_file, import_file
from hub.errors import BadInput, Unauthorized, UnknownDevice
from ops.cli import main
from sync.bundle import dumps, hub_device, loads, open_for_institution
from sync.bundle_stores import collect
from tests.hub.conftest import CITY, VILLAGE_A, VILLAGE_B, World


def _open(world: World, code: str, data: bytes) -> list[dict]:
    node = world.node(code)
    _, docs = open_for_institution(loads(data), node.directory(), code,
                                   [node.keychain.active("institution").key])
    return docs


def test_the_export_is_exactly_what_the_view_pulls(world: World, tmp_path: Path,
                                                    capsys: pytest.CaptureFixture[str]):
    a, b = world.node(VILLAGE_A), world.node(VILLAGE_B)
    mine, theirs = a.new_case(), b.new_case()
    world.sync(VILLAGE_A, VILLAGE_B)
    out = tmp_path / "stick" / "a.bundle"
    out.parent.mkdir()
    capsys.readouterr()
    assert main(["hub", "--hub-dir", str(world.hub.settings.hub_dir), "bundle", "export",
                 "--device", a.device_id, "--out", str(out), "--json"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert stat.S_IMODE(out.stat().st_mode) == 0o600
    assert not [p for p in out.parent.iterdir() if p != out]  # no temporary file left
    env = loads(out.read_bytes())
    assert env["device"] == hub_device(a.directory()) == f"{CITY}-HB"
    assert summary["institution"] == VILLAGE_A == env["payload"]["to"]
    docs = _open(world, VILLAGE_A, out.read_bytes())
    assert summary["documents"] == len(docs)
    ids = {d["_id"] for d in docs}
    view = world.hub.view(Device(a.device_id, VILLAGE_A, {}))
    assert ids == {d["_id"] for d in collect(view)}
    assert f"case:{mine}" in ids and f"keyring:{mine}" in ids
    assert not any(theirs in i for i in ids)
    assert {"directory", f"institution:{VILLAGE_A}"} <= ids
    assert any(i.startswith("service_item:") for i in ids)  # reference data
    # Never overwritten; and village B cannot open A's file.
    capsys.readouterr()
    assert main(["hub", "--hub-dir", str(world.hub.settings.hub_dir), "bundle", "export",
                 "--device", a.device_id, "--out", str(out)]) == 2
    assert "exists" in capsys.readouterr().err
    from sync.crypto import UnknownKey

    with pytest.raises(UnknownKey, match=f"institution {VILLAGE_A}"):
        _open(world, VILLAGE_B, out.read_bytes())
    # The hub does not take its own station bundle back as an import.
    with pytest.raises(BadInput, match="node bundle import"):
        import_file(world.hub, out)


def test_unknown_or_revoked_devices_get_no_file(world: World, tmp_path: Path,
                                                capsys: pytest.CaptureFixture[str]):
    from hub import admin

    with pytest.raises(UnknownDevice, match="not enrolled"):
        export_bundle(world.hub, f"{VILLAGE_B}-Z9")
    enr = admin.enroll_device(world.hub, institution_code=VILLAGE_B, short="B9")
    admin.revoke_device(world.hub, enr["device_id"])
    out = tmp_path / "revoked.bundle"
    with pytest.raises(Unauthorized, match="revoked"):
        export_file(world.hub, enr["device_id"], out)
    capsys.readouterr()
    assert main(["hub", "--hub-dir", str(world.hub.settings.hub_dir), "bundle", "export",
                 "--device", enr["device_id"], "--out", str(out)]) == 2
    assert "revoked" in capsys.readouterr().err and not out.exists()


def test_the_published_directory_names_the_hub_device(world: World):
    """The hub names its own device in every directory it publishes (design.md §4, §5): the
    signed ``hub`` member stations check bundle signers against, not a naming convention."""
    from hub import admin
    from hub.errors import AlreadyExists

    hub_id = world.hub.identity["device_id"]
    assert world.hub.stores.main.get("directory")["hub"] == hub_id == f"{CITY}-HB"
    world.sync(VILLAGE_A)
    assert world.node(VILLAGE_A).directory().hub == hub_id
    # The hub's device has no credential to collide with: enrolling its id is refused, so no
    # laptop can take over the record (and keys) of the device the directory names.
    with pytest.raises(AlreadyExists, match="the hub's own device"):
        admin.enroll_device(world.hub, institution_code=CITY, short="HB")
    assert admin.publish_directory(world.hub)["hub"] == hub_id


def test_since_last_carries_only_what_changed_and_names_the_file_it_continues(
        world: World) -> None:
    a = world.node(VILLAGE_A)
    first_case = a.new_case()
    world.sync(VILLAGE_A)
    with pytest.raises(BadInput, match="no earlier bundle"):
        export_bundle(world.hub, f"{VILLAGE_B}-A1", since_last=True)
    full = export_bundle(world.hub, a.device_id)
    assert "follows" not in full
    later_case = a.new_case()
    world.sync(VILLAGE_A)
    delta = export_bundle(world.hub, a.device_id, since_last=True)
    assert delta["follows"] == full["created_at"] != delta["created_at"]
    ids = {d["_id"] for d in _open(world, VILLAGE_A, dumps(delta))}
    assert f"case:{later_case}" in ids and f"keyring:{later_case}" in ids
    assert not any(first_case in i for i in ids) and "directory" not in ids
    # nothing new: an empty chained file, still naming its predecessor
    again = export_bundle(world.hub, a.device_id, since_last=True)
    assert again["count"] == 0 and again["follows"] == delta["created_at"]
    # the signature covers `follows`: re-pointing it breaks the file
    from sync.bundle import verify_bundle
    from sync.crypto import BadSignature

    with pytest.raises(BadSignature):
        verify_bundle({**delta, "follows": "1999-01-01T00:00:00+00:00"}, a.directory())


def test_the_files_leave_no_checkpoint_at_the_hub(tmp_path: Path) -> None:
    """Making a file replicated the device's view into the file and left a ``_local``
    checkpoint among the device's at the hub, one per ``--since-last`` file (its ids are
    part of the replication id), of no use (a file is collected from the beginning). A
    device keeps ``LOCAL_MAX_DOCS``: after a hundred files a village given a link could
    not record its first push checkpoint, and every sync failed ("delete old checkpoints
    first")."""
    from hub.replication.local import LocalDocs
    from tests.hub.conftest import open_world

    with open_world(tmp_path) as world:
        a = world.node(VILLAGE_A)
        local = LocalDocs(world.hub.stores.private, a.device_id)
        before = local.count()
        export_bundle(world.hub, a.device_id)
        for _ in range(3):
            a.new_case()
            world.sync(VILLAGE_A)
            assert export_bundle(world.hub, a.device_id, since_last=True)["count"]
        assert local.count() == before
