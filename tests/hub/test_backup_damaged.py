"""`hub backup` checks the embedded store's files it reads (SQLite's quick_check) and refuses
a damaged one by name, with what to do, instead of saving what it can read of it; a backup
that fails removes what it made (its files, the folders it made), nothing else."""

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


def _disk_full_at_main(monkeypatch: pytest.MonkeyPatch) -> None:
    """The disk fills while the main database is dumped (the private one is written)."""
    import errno

    from hub import backup

    real = backup._dump

    def dump(db, path):  # type: ignore[no-untyped-def]
        if path.name == backup.FILES["main"]:
            path.write_bytes(b"half")
            raise OSError(errno.ENOSPC, "No space left on device")
        return real(db, path)
    monkeypatch.setattr(backup, "_dump", dump)


def test_a_failed_backup_removes_the_folders_it_made(
        hub_dir: str, tmp_path: Path, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    """It left its new folder behind, empty: taken for a backup on the medium."""
    _disk_full_at_main(monkeypatch)
    medium = tmp_path / "usb"
    medium.mkdir()
    (medium / "other.txt").write_text("the operator's")
    out = medium / "2026-11-28" / "hub"
    assert main(["hub", "--hub-dir", hub_dir, "backup", str(out)]) != 0
    err = capsys.readouterr().err
    assert "No space left" in err and "no backup was written" in err
    assert sorted(p.name for p in medium.iterdir()) == ["other.txt"]


def test_a_failed_backup_keeps_a_folder_that_was_there(
        hub_dir: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Only what the backup wrote goes: the empty folder given stays, as does a file put
    into it meanwhile (here: by the dump, beside its own)."""
    from hub import backup

    _disk_full_at_main(monkeypatch)
    out = tmp_path / "bk"
    out.mkdir()
    real = backup._check_files

    def check(hub):  # type: ignore[no-untyped-def]
        (out / "notes.txt").write_text("someone else's")
        return real(hub)
    monkeypatch.setattr(backup, "_check_files", check)
    assert main(["hub", "--hub-dir", hub_dir, "backup", str(out)]) != 0
    assert sorted(p.name for p in out.iterdir()) == ["notes.txt"]


def test_a_backup_refused_for_a_full_folder_touches_nothing_in_it(
        hub_dir: str, tmp_path: Path) -> None:
    out = tmp_path / "bk"
    out.mkdir()
    (out / "main.jsonl.gz").write_bytes(b"an earlier backup's")
    assert main(["hub", "--hub-dir", hub_dir, "backup", str(out)]) != 0
    assert (out / "main.jsonl.gz").read_bytes() == b"an earlier backup's"
