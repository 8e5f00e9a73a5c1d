"""``bangban demo --dir DIR`` wipes DIR first: only a folder a demo made, or an empty one."""

from __future__ import annotations

from pathlib import Path

import pytest

from ops import demo
from ops.cli import main


def test_a_folder_the_demo_did_not_make_is_never_wiped(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    hub = tmp_path / "bangban-hub"  # say, --dir /var/lib/bangban-hub by mistake
    (hub / "keys").mkdir(parents=True)
    (hub / "keys" / "hub.keychain.json").write_text("{}", encoding="utf-8")
    assert main(["demo", "--dir", str(hub), "--once"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and f"--dir {hub}" in err
    assert (hub / "keys" / "hub.keychain.json").exists()


def test_what_may_be_wiped(tmp_path: Path) -> None:
    assert demo._wipe_refused(tmp_path / "new") is None
    assert demo._wipe_refused(tmp_path) is None  # empty
    (tmp_path / "notes.txt").write_text("x", encoding="utf-8")
    assert demo._wipe_refused(tmp_path) is not None
    (tmp_path / demo.MARKER).touch()
    assert demo._wipe_refused(tmp_path) is None
    old = tmp_path / "old-demo"  # made before the marker existed
    old.mkdir()
    (old / "devices.json").write_text("{}", encoding="utf-8")
    assert demo._wipe_refused(old) is None
