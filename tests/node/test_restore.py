"""A station laptop put back from its own older backup, and a backup's one sync, against an
in-process hub (the device's view, hub.core.Hub.view, stands for its HTTP endpoint).

Before: the restored laptop's serial counter came back with the backup, so its next cases
took the numbers of the cases it had opened after the backup (pushed, then pulled back
with those numbers); and `node sync --dir BACKUP` pulled into the backup and wrote its
index there, an unfinished backup included."""

from __future__ import annotations

import hashlib
import shutil
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from node.core import Node
from node.errors import NodeError, NotSyncedSinceRestore
from node.settings import load
from ops.cli import main
from tests.node.conftest import PASSPHRASE, make_node_dir

VILLAGE = "410602101201"  # a village of schemas.sample
DEVICE = f"{VILLAGE}-A1"


@pytest.fixture(autouse=True)
def no_scripted_passphrase(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("BANGBAN_NODE_DIR", "BANGBAN_PASSPHRASE", "BANGBAN_PASSPHRASE_FILE"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def hub(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """A hub with this village enrolled; every HTTP store the node opens is the device's
    view of it (files stay files)."""
    from hub import admin
    from hub.auth import Device
    from hub.core import Hub
    from hub.settings import Settings
    from schemas import sample
    from sync import open as sync_open

    h = Hub(Settings.load({"hub_dir": str(tmp_path / "hub"), "scrypt_n": 1024}, environ={}))
    admin.init(h, city="410600", name="鹤壁市政务服务中心")
    admin.import_institutions(h, [i for i in sample.institutions()
                                  if i["code"] in ("410602", "410602101", VILLAGE)])
    h.enrollment = admin.enroll_device(h, institution_code=VILLAGE, short="A1")  # type: ignore[attr-defined]
    real = sync_open.open_db

    def open_db(url: str, **kw: Any) -> Any:
        if str(url).startswith("http"):
            return h.view(Device(DEVICE, VILLAGE, {}))
        return real(url, **kw)

    monkeypatch.setattr("sync.open.open_db", open_db)
    try:
        yield h
    finally:
        h.close()


def _node(folder: Path) -> Node:
    node = Node(load({"node_dir": str(folder), "sync_interval": 0, "sync_timeout": 2.0}))
    node.unlock(PASSPHRASE)
    return node


@pytest.fixture
def station(hub: Any, tmp_path: Path) -> Iterator[Node]:
    """The laptop, enrolled at ``hub``, its keys registered, synced once (the directory)."""
    from hub import admin

    folder = make_node_dir(tmp_path / "node-data", device_id=DEVICE,
                           root_keys=hub.enrollment["root_keys"])
    node = _node(folder)
    admin.register_keys(hub, DEVICE, node.keys.public_entries())
    node.syncer.sync_once()
    yield node
    node.close()


def _open(node: Node) -> tuple[str, int]:
    """A consultation as the clerk records it: ``(case id, serial)``."""
    cw = node.casework
    case_id = cw.open_case(service_type="assist", mode="nearby", focus_area="livelihood",
                           applicant_kind="person", private={"applicant_name": "赵六"})
    cw.record(case_id, "consultation", {"channel": "window", "answered": True},
              {"name": "赵六", "question": "怎么办？"})
    return case_id, int(str(cw.header(case_id)["case_no"])[-5:])


def _hub_serials(hub: Any) -> list[int]:
    rows = hub.stores.main.all_docs(startkey="case:", endkey="case:\uffff",
                                    include_docs=True)["rows"]
    return sorted(int(r["doc"]["case_no"][-5:]) for r in rows if r.get("doc"))


def _backup(node: Node, out: Path) -> None:
    assert main(["node", "backup", str(out), "--dir", str(node.dir)]) == 0


@pytest.mark.parametrize("how", ["node restore", "by hand"])
def test_a_laptop_restored_from_an_older_backup_numbers_past_every_case(
        how: str, station: Node, hub: Any, tmp_path: Path,
        capsys: pytest.CaptureFixture[str]) -> None:
    before = [_open(station)[1] for _ in range(2)]
    station.syncer.sync_once()
    backup = tmp_path / "usb" / "backup"
    _backup(station, backup)
    after = [_open(station)[1] for _ in range(3)]  # given out after the backup, and pushed
    station.syncer.sync_once()
    assert before + after == [1, 2, 3, 4, 5] == _hub_serials(hub)
    folder = station.dir
    station.close()

    if how == "node restore":  # over the laptop's folder: what it held is moved aside
        assert main(["node", "restore", str(backup), "--dir", str(folder)]) == 0
        out = capsys.readouterr().out
        assert "no new case until one sync completes" in out
        aside = next(tmp_path.glob("node-data.before-restore-*"))
        assert (aside / "store.sqlite").exists() and (aside / "keychain.json").exists()
    else:  # the backup's files copied by hand onto the laptop's emptied folder
        shutil.rmtree(folder)
        folder.mkdir()
        for name in ("store.sqlite", "keychain.json", "enrollment.json"):
            shutil.copy2(backup / name, folder / name)
    restored = _node(folder)
    try:
        with pytest.raises(NotSyncedSinceRestore) as refused:
            _open(restored)  # 3 again, before: the backup's counter said 2
        assert "从备份恢复" in refused.value.reason and "sync" in refused.value.reason
        assert _hub_serials(hub) == [1, 2, 3, 4, 5]  # nothing written by the refusal
        if how == "node restore":  # as the runbook says, beside the running node
            assert main(["node", "sync", "--dir", str(folder)]) == 0
        else:
            restored.syncer.sync_once()  # brings back 3..5 (and indexes them)
        serial = _open(restored)[1]
        assert serial == 6 and serial > max(_hub_serials(hub)[:-1])
        restored.syncer.sync_once()
        serials = _hub_serials(hub)
        assert len(serials) == len(set(serials)) == 6
    finally:
        restored.close()


def test_restore_refuses_another_devices_folder_and_an_incomplete_backup(
        station: Node, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    backup = tmp_path / "backup"
    _backup(station, backup)
    other = make_node_dir(tmp_path / "other", device_id=f"{VILLAGE}-B2")
    assert main(["node", "restore", str(backup), "--dir", str(other)]) == 1
    assert "the backup is of device" in capsys.readouterr().err
    assert (other / "keychain.json").exists() and not list(tmp_path.glob("other.before-*"))
    (backup / "manifest.json").unlink()
    assert main(["node", "restore", str(backup), "--dir", str(tmp_path / "new")]) == 1
    assert "BACKUP:" in capsys.readouterr().err
    assert not (tmp_path / "new").exists()


def test_restoring_twice_keeps_both_folders_it_replaced(station: Node, tmp_path: Path) -> None:
    """Each restore moves what the folder held into a new folder beside it: a second one in
    the same second neither fails nor mixes the two."""
    backup = tmp_path / "backup"
    _backup(station, backup)
    folder = station.dir
    station.close()
    for _ in range(2):
        assert main(["node", "restore", str(backup), "--dir", str(folder), "--json"]) == 0
    asides = sorted(tmp_path.glob("node-data.before-restore-*"))
    assert len(asides) == 2
    assert all((a / "store.sqlite").exists() and (a / "keychain.json").exists() for a in asides)
    # the laptop's folder (opened: its index) and the first restore's (never opened)
    assert sorted((a / "index.sqlite").exists() for a in asides) == [False, True]


def _files(folder: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in folder.iterdir()}


def test_syncing_a_backup_pushes_what_the_hub_lacked_and_writes_nothing_there(
        station: Node, hub: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """The runbook's broken laptop: its last cases never reached the hub; `node sync --dir
    BACKUP` pushes them, and the backup stays as it was made (no index, no pull)."""
    pushed = _open(station)[0]
    station.syncer.sync_once()
    lost = _open(station)[0]  # then the laptop broke, before its next sync
    backup = tmp_path / "usb" / "backup"
    _backup(station, backup)
    station.close()
    made = _files(backup)
    assert main(["node", "sync", "--dir", str(backup), "--json"]) == 0
    assert '"pushed"' in capsys.readouterr().out
    assert _files(backup) == made  # not one byte: no index.sqlite, no -wal, no sync state
    held = {r["id"] for r in hub.stores.main.all_docs(startkey="case:",
                                                      endkey="case:\uffff")["rows"]}
    assert {f"case:{pushed}", f"case:{lost}"} <= held


def test_a_bundle_is_made_from_a_backup_without_writing_into_it(
        station: Node, hub: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """The runbook's broken laptop with no network: `node bundle export --dir BACKUP` (it
    unlocked the backup's store in place: its index and ``-wal`` were left in the backup);
    nothing is imported into a backup."""
    lost = _open(station)[0]
    backup = tmp_path / "usb" / "backup"
    _backup(station, backup)
    station.close()
    made = _files(backup)
    pwfile = tmp_path / "pw"
    pwfile.write_text(PASSPHRASE + "\n", encoding="utf-8")
    out = tmp_path / "usb" / "A1.bundle"
    assert main(["node", "bundle", "export", "--dir", str(backup), "--out", str(out),
                 "--passphrase-file", str(pwfile)]) == 0
    assert '"documents"' in capsys.readouterr().out and out.exists()
    assert _files(backup) == made
    from hub.bundles import import_file

    report = import_file(hub, out)
    assert not report.get("refused"), report
    held = {r["id"] for r in hub.stores.main.all_docs(startkey="case:",
                                                      endkey="case:\uffff")["rows"]}
    assert f"case:{lost}" in held
    assert main(["node", "bundle", "import", str(out), "--dir", str(backup),
                 "--passphrase-file", str(pwfile)]) == 1
    assert "is a backup" in capsys.readouterr().err and _files(backup) == made


def test_an_unfinished_backup_is_refused_by_sync_serve_and_restore(
        station: Node, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    def full_disk(src: Path, dst: Path, **kw: Any) -> None:
        raise NodeError(f"{src}: 复制失败 / copy failed (database or disk is full)")

    backup = tmp_path / "usb" / "backup"
    monkeypatch.setattr("node.backup.snapshot", full_disk)
    assert main(["node", "backup", str(backup), "--dir", str(station.dir)]) == 1
    monkeypatch.undo()
    capsys.readouterr()
    made = _files(backup)
    assert "manifest.json" not in made and "backup-unfinished.json" in made
    for argv in (["node", "sync", "--dir", str(backup)],
                 ["node", "restore", str(backup), "--dir", str(tmp_path / "new")]):
        assert main(argv) == 1
        err = capsys.readouterr().err
        assert "incomplete backup" in err and "未完成的备份" in err
    assert main(["node", "serve", "--dir", str(backup), "--port", "0"]) == 1
    assert "is a backup of device" in capsys.readouterr().err
    assert _files(backup) == made and not (tmp_path / "new").exists()


def test_a_station_without_network_is_released_by_a_hub_bundle_made_after_the_backup(
        station: Node, hub: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A restored station with no link at all never syncs: the hub's bundle file for it
    (`hub bundle export --device`, design.md §4), made after the backup, carries back the
    cases it opened since, as a pull does; imported, new cases are numbered past them. A
    file made before the backup proves nothing and releases nothing."""
    import datetime as dt

    from hub.bundles import export_file
    from node.bundle_import import import_file
    from node.restore import from_backup

    older = tmp_path / "older.bundle"
    export_file(hub, DEVICE, older)
    backup = tmp_path / "backup"
    _backup(station, backup)
    after = [_open(station)[1] for _ in range(2)]
    station.syncer.sync_once()
    folder = station.dir
    station.close()
    assert main(["node", "restore", str(backup), "--dir", str(folder)]) == 0
    restored = _node(folder)
    try:
        import_file(restored, older)
        assert from_backup(restored.store) is not None
        with pytest.raises(NotSyncedSinceRestore):
            _open(restored)

        class Later(dt.datetime):  # the file is made a little later that day
            @classmethod
            def now(cls, tz: Any = None) -> Any:
                return super().now(tz) + dt.timedelta(seconds=2)

        monkeypatch.setattr("hub.bundles.dt", SimpleNamespace(datetime=Later, UTC=dt.UTC))
        fresh = tmp_path / "fresh.bundle"
        export_file(hub, DEVICE, fresh)
        monkeypatch.undo()
        import_file(restored, fresh)
        assert from_backup(restored.store) is None
        assert _open(restored)[1] == max(after) + 1 == 3
    finally:
        restored.close()
