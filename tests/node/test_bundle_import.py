"""Bundle files hub → station, end to end with real ``bangban`` processes (design.md §4:
"signed, encrypted bundle files carry changes where there is no network at all").

Village A syncs once at enrollment, hands a case up and goes offline for good. The town, still
online, hands the case back down, and the hub writes a calendar. ``bangban hub bundle export
--device A`` → ``bangban node bundle import`` on A: the village sees the hand-down; the same
file again writes nothing; a file made for the town is refused on A with nothing written.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.node.net import PASSPHRASE, ROOT, TOWN, VILLAGE, NodeNet


@pytest.fixture(scope="module")
def net(tmp_path_factory: pytest.TempPathFactory) -> Iterator[NodeNet]:
    n = NodeNet(tmp_path_factory.mktemp("bundle-net"))
    try:
        n.setup(short="A1")  # SimNode replays sample cases of the A1 devices
        yield n
    finally:
        n.close()


def _sim(net: NodeNet, code: str) -> Any:
    from ops.demo_node import SimNode

    return SimNode.from_node_dir(net.node_dir(code), PASSPHRASE)


def _bangban(net: NodeNet, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "ops.cli", *args], cwd=ROOT, env=net.env,
                          capture_output=True, text=True, timeout=180)


def _import(net: NodeNet, code: str, path: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    return _bangban(net, "node", "bundle", "import", str(path), "--dir",
                    str(net.node_dir(code)), "--passphrase-file", str(net.pwfile), *extra)


def _store_seq(net: NodeNet, code: str) -> Any:
    from sync.open import open_db

    store = open_db(str(net.node_dir(code) / "store.sqlite"))
    try:
        return store.info()["update_seq"]
    finally:
        store.close()


def test_a_hand_down_reaches_an_offline_village_by_bundle(net: NodeNet, tmp_path: Path):
    from node.core import Node
    from node.settings import load

    net.start_hub()
    first = net.sync(VILLAGE)  # at enrollment: the directory (the hub's device and keys) arrives
    # the real hub's Date header against this machine's clock (node/clockcheck.py): one clock
    offset = first["state"]["clock_offset"]
    assert offset is not None and abs(offset) < 5, offset
    village = _sim(net, VILLAGE)
    case_id = village.new_case()
    village.hand_up(case_id, TOWN)
    village.store.close()
    net.sync(VILLAGE)  # the last contact: from now on village A has no network at all
    net.sync(TOWN)
    town = _sim(net, TOWN)
    town.hand_down(case_id, VILLAGE)
    town.store.close()
    net.sync(TOWN)
    net.stop("hub")  # the CLI below opens the hub's store itself
    net.cli("hub", "calendar", "set", "--year", "2031", "--holidays", "2031-01-01")

    enr = net.enrollments
    out = tmp_path / "a.bundle"
    summary = json.loads(net.cli("hub", "bundle", "export", "--device",
                                 enr[VILLAGE]["device_id"], "--out", str(out), "--json"))
    assert summary["institution"] == VILLAGE and out.exists()
    res = _import(net, VILLAGE, out, "--json")
    assert res.returncode == 0, res.stderr
    report = json.loads(res.stdout)
    assert report["refused"] == [] and report["written"] >= 2  # the hand-down and calendar
    assert report["documents"] == summary["documents"]

    node = Node(load({"node_dir": str(net.node_dir(VILLAGE))}))
    try:
        node.unlock(PASSPHRASE)
        assert node.store.get("calendar:2031")["holidays"] == ["2031-01-01"]
        events = node.store.all_docs(startkey=f"event:{case_id}:",
                                     endkey=f"event:{case_id}:\ufff0", include_docs=True)["rows"]
        assert "hand_down" in {r["doc"].get("event_type") for r in events}
        assert (node.index.get(case_id) or {}).get("holder") == VILLAGE  # reindexed
    finally:
        node.close()

    # The same file again: everything is already here, nothing is written.
    seq = _store_seq(net, VILLAGE)
    again = _import(net, VILLAGE, out)
    assert again.returncode == 0, again.stderr
    assert "写入 0" in again.stdout and "0 written" in again.stdout
    assert _store_seq(net, VILLAGE) == seq

    # A file for the town is refused on the village, Chinese first, nothing written.
    town_file = tmp_path / "town.bundle"
    net.cli("hub", "bundle", "export", "--device", enr[TOWN]["device_id"], "--out",
            str(town_file))
    refused = _import(net, VILLAGE, town_file)
    assert refused.returncode == 1
    assert "数据包被拒收" in refused.stderr and f"institution {TOWN}" in refused.stderr
    assert refused.stderr.index("数据包被拒收") < refused.stderr.index("bundle refused")
    assert _store_seq(net, VILLAGE) == seq

    # Chained files (`--since-last`): each carries only what changed; one whose predecessor
    # was never imported here is refused whole (a lost stick leaves no silent gap).
    net.cli("hub", "calendar", "set", "--year", "2032", "--holidays", "2032-01-01")
    second = tmp_path / "a-2.bundle"
    s2 = json.loads(net.cli("hub", "bundle", "export", "--device", enr[VILLAGE]["device_id"],
                            "--out", str(second), "--since-last", "--json"))
    net.cli("hub", "calendar", "set", "--year", "2033", "--holidays", "2033-01-01")
    third = tmp_path / "a-3.bundle"
    s3 = json.loads(net.cli("hub", "bundle", "export", "--device", enr[VILLAGE]["device_id"],
                            "--out", str(third), "--since-last", "--json"))
    assert s3["follows"] == s2["created_at"] and s2["follows"] == summary["created_at"]
    assert 0 < s2["documents"] < summary["documents"]
    gap = _import(net, VILLAGE, third)
    assert gap.returncode == 1 and "尚未导入" in gap.stderr and "not imported" in gap.stderr
    assert _store_seq(net, VILLAGE) == seq
    for path in (second, third):
        res = _import(net, VILLAGE, path, "--json")
        assert res.returncode == 0, res.stderr
        assert json.loads(res.stdout)["written"] >= 1
