"""End to end with real processes (`hub serve`, `node init`, `node sync`, the CLI): a village
station loses its only laptop; it is revoked, the institution key rotated, a new laptop
enrolled; the operator runs `hub escrow rewrap` with the escrow key from its offline medium;
the new laptop opens the old open case, records a step, and the town still reads it
(design.md §5, hub/escrow.py)."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.node.net import PASSPHRASE, TOWN, VILLAGE, NodeNet

pytestmark = pytest.mark.e2e
REASON = "村站唯一电脑被盗 / the station's only laptop was stolen"


@pytest.fixture
def net(tmp_path: Path) -> Iterator[NodeNet]:
    n = NodeNet(tmp_path / "net")
    try:
        n.setup(short="A1")  # SimNode replays sample cases of the A1 devices
        yield n
    finally:
        n.close()


def _sim(folder: Path) -> Any:
    from ops.demo_node import SimNode

    return SimNode.from_node_dir(folder, PASSPHRASE)


def _sync(net: NodeNet, folder: Path) -> dict[str, Any]:
    """`node sync` once; nothing refused either way (what the hub refused from the push is
    the state's ``refused``; what the station refused from the pull, the pull's failures)."""
    out: dict[str, Any] = json.loads(net.cli("node", "sync", "--dir", str(folder),
                                             "--passphrase-file", str(net.pwfile), "--json"))
    assert not out["state"].get("refused"), out
    assert not out["summary"]["pull"].get("doc_write_failures"), out
    return out


def test_a_station_gets_its_open_case_back_after_losing_its_only_laptop(
        net: NodeNet, tmp_path: Path) -> None:
    from node.core import Node
    from node.settings import load
    from schemas import build

    net.start_hub()
    net.sync(VILLAGE)
    net.sync(TOWN)
    village = _sim(net.node_dir(VILLAGE))
    case_id = village.new_case()
    village.hand_up(case_id, TOWN)  # the town holds a wrap too ...
    village.store.close()
    net.sync(VILLAGE)
    net.sync(TOWN)
    town = _sim(net.node_dir(TOWN))
    town.hand_down(case_id, VILLAGE)  # ... and sends it back: open at the village
    town.store.close()
    net.sync(TOWN)
    net.sync(VILLAGE)

    # The only laptop is stolen: revoked, key rotated, a new laptop with a new key.
    net.stop("hub")  # the CLI below opens the hub's store itself
    net.cli("hub", "device", "revoke", net.enrollments[VILLAGE]["device_id"])
    net.cli("hub", "institution", "rotate-key", VILLAGE)
    enr = json.loads(net.cli("hub", "device", "enroll", "--institution", VILLAGE, "--short",
                             "A3", "--json"))
    epath, a3 = tmp_path / "enroll-a3.json", tmp_path / "node-a3"
    epath.write_text(json.dumps(enr), encoding="utf-8")
    keys = net.cli("node", "init", "--hub", enr["hub_url"], "--device-id", enr["device_id"],
                   f"--secret={enr['secret']}", "--enrollment-json", str(epath), "--dir",
                   str(a3), "--passphrase-file", str(net.pwfile))
    kpath = tmp_path / "keys-a3.json"
    kpath.write_text(keys, encoding="utf-8")
    net.cli("hub", "device", "keys", str(kpath))
    net.start_hub()
    _sync(net, a3)  # the case arrives, sealed for a key nobody holds

    # The escrow key comes from its offline medium (it is no longer on the server).
    kept = net.hub_dir / "keys" / "escrow-OFFLINE.json"
    usb = tmp_path / "usb-escrow.json"
    shutil.move(kept, usb)
    net.stop("hub")
    report = json.loads(net.cli("hub", "escrow", "rewrap", "--institution", VILLAGE,
                                "--escrow-file", str(usb), "--by", "王主任", "--reason", REASON,
                                "--json"))
    assert report["ok"] and report["rewrapped"] == [case_id], report
    assert REASON in net.cli("hub", "escrow", "log")
    assert not kept.exists()
    net.start_hub()
    _sync(net, a3)

    node = Node(load({"node_dir": str(a3)}))  # the station's own code opens it
    try:
        node.unlock(PASSPHRASE)
        key = node.reading.case_key(case_id)
        events = [r["doc"] for r in node.store.all_docs(
            startkey=f"event:{case_id}:", endkey=f"event:{case_id}:\ufff0",
            include_docs=True)["rows"]]
        access = [e for e in events if e.get("event_type") == "access"]
        assert access and REASON in key._open(access[-1])["note"]  # the use, on the case
        assert (node.index.get(case_id) or {}).get("holder") == VILLAGE
    finally:
        node.close()

    new = _sim(a3)
    step = build.make_event("work_log", case_id=case_id, clock=new.clock(), at=new.now(),
                            institution=VILLAGE, base_hlc=new.last_event(case_id),
                            kind="tracking", private={"text": "电话联系申请人"})
    new.store.put(new._seal_sign(step, new.case_key(case_id)))
    new.store.close()
    assert _sync(net, a3)["summary"]["push"]["docs_written"] >= 1
    net.sync(TOWN)
    town = _sim(net.node_dir(TOWN))
    try:
        doc = town.store.get(step["_id"])
        assert town.case_key(case_id)._open(doc)["text"] == "电话联系申请人"
    finally:
        town.store.close()
