"""A station loses its only laptop: revoked, its institution key rotated, a new laptop
enrolled with a new key; `hub escrow rewrap` with the escrow key gives it its open cases
back (design.md §5, hub/escrow.py), every use on record (7.2.2.2)."""

from __future__ import annotations

import json
import shutil
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.hub.conftest import TOWN, VILLAGE_A, VILLAGE_B, World, make_world

#: the cases re-wrapped by default: not finished (an answered consultation is not either)
UNFINISHED = ("plain", "handed", "consulted")
REASON = "A1 站唯一电脑被盗，已注销并轮换密钥 / the station's only laptop was stolen"


@pytest.fixture
def lost(tmp_path: Path, request: pytest.FixtureRequest
         ) -> Iterator[tuple[World, Any, dict[str, str], Path]]:
    """Village A's only laptop A1 held two open cases (one handed up to the town and back
    down, so the town holds a wrap too) and is lost: revoked, key rotated. The escrow key
    is copied to "offline media" and deleted from the hub. The hub on the embedded store,
    or on CouchDB (PouchDB Server) with ``indirect`` parameter ``"couchdb"``."""
    from hub import admin

    on_couchdb = getattr(request, "param", "embedded") == "couchdb"
    world = make_world(tmp_path, couchdb_url=request.getfixturevalue("couchdb_url")
                       if on_couchdb else "")
    a1, town = world.node(VILLAGE_A), world.node(TOWN)
    cases = {"plain": a1.new_case(), "handed": a1.new_case()}
    # an answered consultation (the visitor may come back, 10.1.2) and a finished case
    consulted, done = a1.sample_cases(2, town=TOWN, scenarios=("consult_answered",
                                                               "assist_completed"))
    a1.hand_up(cases["handed"], TOWN)
    world.sync(VILLAGE_A, TOWN)
    town.hand_down(cases["handed"], VILLAGE_A)
    world.sync(TOWN, VILLAGE_A)
    admin.revoke_device(world.hub, a1.device_id)
    admin.begin_key_rotation(world.hub, VILLAGE_A)
    usb = tmp_path / "usb" / "escrow.json"
    usb.parent.mkdir()
    kept = Path(world.hub.settings.hub_dir) / "keys" / "escrow-OFFLINE.json"
    shutil.copy(kept, usb)
    kept.unlink()
    world.sync(VILLAGE_A)
    cases["consulted"] = consulted
    cases["finished"] = done  # not re-wrapped by default
    try:
        yield world, a1, cases, usb
    finally:
        for node in world.nodes.values():
            node.store.close()
        world.hub.close()


def new_laptop(world: World, folder: Path) -> Any:
    """`hub device enroll`, `node init` (a new institution key), `hub device keys`."""
    from hub import admin
    from hub.auth import Device
    from ops.demo_node import SimNode

    enr = admin.enroll_device(world.hub, institution_code=VILLAGE_A, short="A3")
    a3 = SimNode(folder, enr)
    a3.adopt_institution_key()
    admin.register_keys(world.hub, enr["device_id"], a3.public_entries())
    a3._remote = world.hub.view(Device(enr["device_id"], VILLAGE_A, {}))
    time.sleep(1.1)  # the hub re-reads the directory at most once a second (DirectoryCache)
    return a3


def settle(world: World, node: Any, case_ids: list[str], most: int = 3) -> int:
    """Sync ``node`` until it holds the hub's revision of each case's keyring; the rounds."""
    for rounds in range(1, most + 1):
        assert node.sync()["pull_refused"] == 0
        held = {c: node.store.all_docs(keys=[f"keyring:{c}"])["rows"][0] for c in case_ids}
        if all((row.get("value") or {}).get("rev") == world.hub.stores.main.get(
                f"keyring:{c}")["_rev"] for c, row in held.items()):
            return rounds
    raise AssertionError(f"the keyrings did not arrive in {most} syncs")


def work_log(node: Any, case_id: str, key: Any, text: str) -> str:
    from schemas import build

    ev = build.make_event("work_log", case_id=case_id, clock=node.clock(), at=node.now(),
                          institution=node.institution, base_hlc=node.last_event(case_id),
                          kind="tracking", private={"text": text})
    node.store.put(node._seal_sign(ev, key))
    return str(ev["_id"])


@pytest.mark.parametrize("lost", ["embedded", "couchdb"], indirect=True)
def test_the_new_laptop_opens_and_advances_its_old_cases_and_the_town_reads_them(
        lost: tuple[World, Any, dict[str, str], Path], tmp_path: Path) -> None:
    from hub.errors import BadInput
    from hub.escrow import rewrap_cases, uses
    from sync.crypto import CryptoError
    from sync.errors import NotFound

    world, a1, cases, usb = lost
    with pytest.raises(BadInput, match="institution: .* no current key registered yet"):
        rewrap_cases(world.hub, VILLAGE_A, usb, reason=REASON, by="王主任")
    assert uses(world.hub) == []  # a refusal opens nothing and records no use
    a3 = new_laptop(world, tmp_path / "a3")
    assert a3.sync()["pull_refused"] == 0
    with pytest.raises((CryptoError, NotFound)):  # before: nothing the station holds opens
        a3.case_key(cases["plain"])             # them (on CouchDB: not pulled yet either)

    report = rewrap_cases(world.hub, VILLAGE_A, usb, reason=REASON, by="王主任")
    unfinished = sorted(cases[k] for k in UNFINISHED)
    assert report["ok"] and sorted(report["rewrapped"]) == unfinished
    k1 = a1.keychain.active("institution").key.key_id
    for case_id in unfinished:
        ring = world.hub.stores.main.get(f"keyring:{case_id}")
        current = next(g for g in ring["data_keys"] if g["kid"] == ring["current"])
        assert k1 not in {w["key_id"] for w in current["wraps"]}  # a generation K1 never got
        assert not any(w["key_id"] == k1 for g in ring["data_keys"] for w in g["wraps"])
    (use,) = uses(world.hub, VILLAGE_A)
    assert use["reason"] == REASON and use["by"] == "王主任" and use["finished_at"]
    assert sorted(use["cases"]) == unfinished and use["os_user"]
    finished = world.hub.stores.main.get(f"keyring:{cases['finished']}")
    assert len(finished["data_keys"]) == 1  # a finished case is left as it was

    rounds = settle(world, a3, unfinished)
    # the next sync brings them, on CouchDB too (the view's ``pending`` when PouchDB Server
    # leaves it out: tests/hub/test_view_pending.py)
    assert rounds == 1, rounds
    case_id = cases["handed"]
    key = a3.case_key(case_id)  # opens now: the hub's wraps verify at the station
    access = world.hub.stores.main.get(report["details"][case_id]["access_event"])
    assert access["event_type"] == "access" and access["purpose"] == "supervision"
    seen = a3.store.get(access["_id"])  # the station sees the use on the case, and why
    assert REASON in key._open(seen)["note"] and "王主任" in key._open(seen)["note"]
    step = work_log(a3, case_id, key, "已电话联系申请人补正材料")
    a3.hand_up(cases["plain"], TOWN)  # a keyring revision over the hub's wraps
    pushed = a3.sync()
    assert pushed["refused"] == 0 and pushed["pushed"] >= 3, pushed
    assert world.hub.stores.main.get(step)["event_type"] == "work_log"

    town = world.node(TOWN)
    town.sync()
    opened = town.case_key(case_id)._open(town.store.get(step))
    assert opened["text"] == "已电话联系申请人补正材料"
    assert town.case_key(cases["plain"]).case_id == cases["plain"]

    from hub.oversight.archive_check import check_archive
    from tests.hub.oversight.test_case_archive import _archive

    # the case's signed archive still verifies: the hub's wraps and access event included
    checked = check_archive(_archive(world, case_id), world.hub.identity["root_keys"])
    assert checked["ok"], checked["problems"]

    again = rewrap_cases(world.hub, VILLAGE_A, usb, reason=REASON, by="王主任")
    # the plain case is the town's now; the other opens at the station: nothing to re-wrap
    assert again["rewrapped"] == [] and sorted(again["unchanged"]) == sorted(
        [cases["handed"], cases["consulted"]])
    no = world.hub.stores.main.get(f"case:{case_id}")["case_no"]  # named by its number
    named = rewrap_cases(world.hub, VILLAGE_A, usb, reason=REASON, by="王主任", cases=[no])
    assert named["cases"] == [case_id] and named["unchanged"] == [case_id]


def test_refusals_name_the_field_and_the_rule(lost: tuple[World, Any, dict[str, str], Path],
                                              tmp_path: Path) -> None:
    from hub import admin
    from hub.errors import BadInput
    from hub.escrow import rewrap_cases, uses
    from sync.crypto import EncryptionKeyPair, Keychain

    world, _a1, cases, usb = lost
    new_laptop(world, tmp_path / "a3")
    other = Keychain()
    other.add("escrow", "escrow", EncryptionKeyPair.generate())
    wrong = tmp_path / "wrong.json"
    wrong.write_text(json.dumps(other.lock("another passphrase", n=1024)), encoding="utf-8")
    asked: list[str] = []

    def ask(prompt: str) -> str:
        asked.append(prompt)
        return "another passphrase"

    with pytest.raises(BadInput, match="escrow-file: .* not this hub's escrow key"):
        rewrap_cases(world.hub, VILLAGE_A, wrong, reason=REASON, by="王", ask=ask)
    assert asked == [f"passphrase of {wrong}: "]  # asked, since the hub's does not open it
    with pytest.raises(BadInput, match="escrow-file: .* does not open"):
        rewrap_cases(world.hub, VILLAGE_A, wrong, reason=REASON, by="王", ask=lambda _: "no")
    with pytest.raises(BadInput, match="escrow-file: .* does not exist"):
        rewrap_cases(world.hub, VILLAGE_A, tmp_path / "none.json", reason=REASON, by="王")
    with pytest.raises(BadInput, match="reason: required"):
        rewrap_cases(world.hub, VILLAGE_A, usb, reason="  ", by="王")
    with pytest.raises(BadInput, match="by: required"):
        rewrap_cases(world.hub, VILLAGE_A, usb, reason=REASON, by="")
    b_case = world.node(VILLAGE_B).new_case()
    world.sync(VILLAGE_B)
    with pytest.raises(BadInput, match=f"cases: {b_case} is not a case of {VILLAGE_A}"):
        rewrap_cases(world.hub, VILLAGE_A, usb, reason=REASON, by="王",
                     cases=[cases["plain"], b_case])
    with pytest.raises(BadInput, match="cases: nope is neither a case number nor a case id"):
        rewrap_cases(world.hub, VILLAGE_A, usb, reason=REASON, by="王", cases=["nope"])
    admin.put_reference(world.hub, {**admin.institution(world.hub, VILLAGE_B), "active": False})
    with pytest.raises(BadInput, match=f"institution: {VILLAGE_B} is closed"):
        rewrap_cases(world.hub, VILLAGE_B, usb, reason=REASON, by="王")
    assert uses(world.hub) == []
    ring = world.hub.stores.main.get(f"keyring:{cases['plain']}")
    assert len(ring["data_keys"]) == 1  # nothing was re-wrapped by a refused run


def test_cli_asks_the_passphrase_never_writes_the_key_and_logs_each_use(
        hub_dir: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    from ops.cli import main
    from sync.crypto import EncryptionKeyPair, SigningKeyPair, key_entry
    from sync.crypto.keys import change_passphrase

    hub_cmd = ["hub", "--hub-dir", hub_dir]
    for code in (TOWN[:6], TOWN, VILLAGE_A):
        assert main([*hub_cmd, "institution", "add", "--code", code, "--name", "站"]) == 0
    capsys.readouterr()

    def laptop(short: str) -> None:
        assert main([*hub_cmd, "device", "enroll", "--institution", VILLAGE_A, "--short",
                     short, "--json"]) == 0
        dev = json.loads(capsys.readouterr().out)["device_id"]
        keys = tmp_path / f"{short}.json"
        keys.write_text(json.dumps({
            "device_id": dev, "institution": VILLAGE_A,
            "device_key": key_entry(SigningKeyPair.generate()),
            "institution_key": key_entry(EncryptionKeyPair.generate())}), encoding="utf-8")
        assert main([*hub_cmd, "device", "keys", str(keys)]) == 0

    laptop("A1")
    assert main([*hub_cmd, "device", "revoke", f"{VILLAGE_A}-A1"]) == 0
    assert main([*hub_cmd, "institution", "rotate-key", VILLAGE_A]) == 0
    # the escrow key on its offline medium, locked again under a passphrase of its own
    kept = Path(hub_dir) / "keys" / "escrow-OFFLINE.json"
    hub_pass = (Path(hub_dir) / "keys" / "passphrase").read_text("utf-8").strip()
    usb = tmp_path / "escrow.json"
    usb.write_text(json.dumps(change_passphrase(json.loads(kept.read_text("utf-8")), hub_pass,
                                                "offline medium 7", n=1024)), encoding="utf-8")
    kept.unlink()
    before = usb.read_bytes(), sorted(p.name for p in (Path(hub_dir) / "keys").iterdir())
    asked: list[str] = []
    monkeypatch.setattr("getpass.getpass", lambda prompt="": asked.append(prompt)
                        or "offline medium 7")
    rewrap = [*hub_cmd, "escrow", "rewrap", "--institution", VILLAGE_A, "--escrow-file",
              str(usb), "--by", "王主任"]
    capsys.readouterr()
    with pytest.raises(SystemExit):  # a reason is required
        main(rewrap)
    assert "--reason" in capsys.readouterr().err
    assert main([*rewrap, "--reason", REASON]) == 2
    assert "no current key registered yet" in capsys.readouterr().err and not asked
    laptop("A3")
    capsys.readouterr()
    assert main([*rewrap, "--reason", REASON, "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert asked == [f"passphrase of {usb}: "]  # asked, not from argv or the environment
    assert out["ok"] and out["reason"] == REASON and out["cases"] == []
    assert (usb.read_bytes(), sorted(p.name for p in (Path(hub_dir) / "keys").iterdir())
            ) == before  # the escrow key is read, never written anywhere
    assert main([*hub_cmd, "escrow", "log", "--institution", VILLAGE_A]) == 0
    logged = capsys.readouterr().out
    assert f"{VILLAGE_A} by 王主任" in logged and REASON in logged
    assert main([*hub_cmd, "escrow", "log", "--institution", TOWN]) == 0
    assert "has not been used" in capsys.readouterr().out


def test_each_use_is_on_record_before_a_case_is_opened_and_a_case_left_is_named(
        lost: tuple[World, Any, dict[str, str], Path], tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    from hub import admin
    from hub.escrow import rewrap_cases, uses

    world, _a1, cases, usb = lost
    new_laptop(world, tmp_path / "a3")

    def cut(*_a: Any, **_k: Any) -> None:
        raise RuntimeError("power cut")

    with monkeypatch.context() as m:
        m.setattr("hub.escrow._rewrap_one", cut)
        with pytest.raises(RuntimeError):
            rewrap_cases(world.hub, VILLAGE_A, usb, reason=REASON, by="王主任")
    (cut_short,) = uses(world.hub)
    assert cut_short["finished_at"] is None and sorted(cut_short["cases"]) == sorted(
        cases[k] for k in UNFINISHED) and cut_short["reason"] == REASON
    # The town is mid-rotation too: the case it holds a wrap of cannot be wrapped for it.
    admin.begin_key_rotation(world.hub, TOWN)
    time.sleep(1.1)
    report = rewrap_cases(world.hub, VILLAGE_A, usb, reason=REASON, by="王主任")
    assert not report["ok"] and sorted(report["rewrapped"]) == sorted(
        [cases["plain"], cases["consulted"]])
    assert TOWN in report["skipped"][cases["handed"]]
    assert [u["finished_at"] is not None for u in uses(world.hub, VILLAGE_A)] == [False, True]


def test_a_supervisor_reads_who_why_and_when_on_the_case_page(
        lost: tuple[World, Any, dict[str, str], Path], tmp_path: Path) -> None:
    import re

    from hub.app import create_app
    from hub.escrow import rewrap_cases
    from hub.oversight.supervisors import add_supervisor

    world, _a1, cases, usb = lost
    new_laptop(world, tmp_path / "a3")
    rewrap_cases(world.hub, VILLAGE_A, usb, reason=REASON, by="王主任")
    add_supervisor(world.hub, "town", "town-pass-1", institution=TOWN)
    client = create_app(hub=world.hub).test_client()
    token = re.search(r'name="csrf" value="([^"]+)"',
                      client.get("/oversight/login").text).group(1)  # type: ignore[union-attr]
    assert client.post("/oversight/login", data={"login": "town", "password": "town-pass-1",
                                                 "csrf": token}).status_code == 302
    no = world.hub.stores.main.get(f"case:{cases['plain']}")["case_no"]
    page = client.get(f"/oversight/case?no={no}&why=audit").text
    assert 'id="escrow-uses"' in page and "王主任" in page
    assert REASON.split(" / ")[0] in page  # (the English half has an HTML-escaped ')
    assert "re-wrapped" in page and "step-access" in page  # and the access event among the steps
    assert "supervision" in page
