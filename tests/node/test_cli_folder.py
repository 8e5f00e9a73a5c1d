"""A mistyped ``--dir`` is refused by name and makes nothing (node.cli._folder_exists, the
check of sync.settings.absent_folder the hub's CLI makes of ``--hub-dir``).

Found at a village laptop: `node sync --dir` with a typo made a new folder with an empty
store in it, and said "no enrollment yet: run `bangban node init`" of that one, sending the
clerk to enroll the laptop again instead of naming the wrong folder."""

from __future__ import annotations

from pathlib import Path

import pytest

from ops.cli import main
from tests.node.conftest import PASSPHRASE, make_node_dir


@pytest.mark.parametrize("command", [
    ("sync",),
    ("serve", "--port", "0"),
    ("backup", "OUT"),
    ("keys", "export", "--out", "OUT"),
    ("keys", "rewrap"),
    ("bundle", "export", "--out", "OUT"),
])
def test_a_missing_node_folder_is_refused_and_not_made(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], command: tuple[str, ...]) -> None:
    folder = tmp_path / "node-dta"  # node-data, mistyped
    pwfile = tmp_path / "pw"
    pwfile.write_text(PASSPHRASE + "\n")
    argv = [str(tmp_path / "out") if word == "OUT" else word for word in command]
    capsys.readouterr()
    assert main(["node", *argv, "--dir", str(folder), "--passphrase-file", str(pwfile)]) == 1
    said = capsys.readouterr().err
    assert said.count("\n") == 1 and said.startswith("bangban node: "), said
    assert f"no node folder at {folder} (--dir or BANGBAN_NODE_DIR)" in said, said
    assert "nothing was made" in said and "没有节点文件夹" in said and "未创建任何文件" in said
    assert not folder.exists() and not (tmp_path / "out").exists()


def test_an_existing_folder_is_used_as_before(tmp_path: Path,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    from node.core import Node
    from node.settings import load

    folder = make_node_dir(tmp_path / "n")
    node = Node(load({"node_dir": str(folder)}))
    node.unlock(PASSPHRASE)  # its store made, as the first start makes it
    node.close()
    out = tmp_path / "bk"
    assert main(["node", "backup", str(out), "--dir", str(folder)]) == 0
    assert (out / "manifest.json").exists()
    # restore makes the folder it puts the backup in (a new disk), as init makes its own
    fresh = tmp_path / "fresh" / "node-data"
    assert main(["node", "restore", str(out), "--dir", str(fresh)]) == 0
    assert fresh.is_dir()
