"""Bundle files end to end in process (design.md §4): a village station that never syncs puts
its documents on a stick, the hub imports them exactly as if the laptop had replicated."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from hub.bundles import import_bundle, import_file, load_escrow
from hub.errors import BadInput, Unauthorized
from sync.bundle import dumps, seal_bundle
from sync.bundle_stores import collect
from sync.crypto import BadSignature, EncryptionKeyPair, UnknownKey
from tests.hub.conftest import TOWN, VILLAGE_A, VILLAGE_B, World, make_world


def _export(node: Any, path: Path, docs: list[dict[str, Any]] | None = None) -> Path:
    """What ``bangban node bundle export`` does, from a SimNode's store, keys and signer."""
    docs = collect(node.store) if docs is None else docs
    env = seal_bundle(docs, signer=node.signer, institution=node.institution,
                      directory=node.directory())
    path.write_bytes(dumps(env))
    return path


def _at_hub(world: World, docid: str) -> bool:
    return any(r["id"] == docid for r in world.hub.stores.main.all_docs(keys=[docid])["rows"]
               if "error" not in r)


def test_an_unsynced_case_travels_by_bundle_and_reaches_the_town_after_hand_up(
        world: World, tmp_path: Path):
    a, town, b = world.node(VILLAGE_A), world.node(TOWN), world.node(VILLAGE_B)
    case_id = a.new_case()  # never synced
    assert not _at_hub(world, f"case:{case_id}")
    report = import_file(world.hub, _export(a, tmp_path / "one.bundle"))
    assert report["refused"] == [] and report["written"] >= 3
    assert report["skipped"] > 0  # reference data the node pulled: the hub has it
    case_docs = {r["id"] for r in a.store.all_docs()["rows"] if case_id in r["id"]}
    assert all(_at_hub(world, d) for d in case_docs)
    world.sync(TOWN, VILLAGE_B)
    assert case_id not in town.cases() and case_id not in b.cases()

    a.hand_up(case_id, TOWN)  # still without a network
    again = import_file(world.hub, _export(a, tmp_path / "two.bundle"))
    assert again["refused"] == [] and again["written"] == 2  # the keyring and the hand-up
    world.sync(TOWN, VILLAGE_B)
    assert case_id in town.cases() and case_id not in b.cases()
    assert case_docs <= {r["id"] for r in town.store.all_docs()["rows"]}


def test_a_document_altered_inside_a_signed_bundle_is_refused_alone(world: World,
                                                                     tmp_path: Path):
    """The bundle's signature covers the ciphertext, so an altered *file* is refused whole
    (next test). A bundle its own device signed over an altered document (a tampered or
    buggy laptop) passes the file check; the hub's per-document check refuses that document
    alone, with its forbidden reason, and writes the rest."""
    a = world.node(VILLAGE_A)
    case_id = a.new_case()
    last = f"event:{case_id}:{a.last_event(case_id)}"
    docs = collect(a.store)
    for doc in docs:
        if doc["_id"] == last:
            doc["at"] = "2020-01-01T00:00:00+08:00"
    report = import_file(world.hub, _export(a, tmp_path / "altered.bundle", docs))
    refused = {r["id"]: r for r in report["refused"]}
    assert list(refused) == [last] and refused[last]["error"] == "forbidden"
    assert "signature" in refused[last]["reason"]
    assert _at_hub(world, f"case:{case_id}") and not _at_hub(world, last)


def test_an_altered_file_is_refused_whole_and_nothing_written(world: World, tmp_path: Path,
                                                               capsys: pytest.CaptureFixture[str]):
    a = world.node(VILLAGE_A)
    case_id = a.new_case()
    path = _export(a, tmp_path / "tampered.bundle")
    env = json.loads(path.read_text("utf-8"))
    ct = env["payload"]["ct"]
    env["payload"]["ct"] = ct[:100] + ("A" if ct[100] != "A" else "B") + ct[101:]
    path.write_text(json.dumps(env), "utf-8")
    with pytest.raises(BadSignature, match="sig"):
        import_file(world.hub, path)
    from ops.cli import main

    capsys.readouterr()
    status = main(["hub", "--hub-dir", str(world.hub.settings.hub_dir), "bundle", "import",
                   str(path), "--json"])
    assert status != 0 and "bundle sig" in capsys.readouterr().err
    assert not _at_hub(world, f"case:{case_id}")


def test_a_bundle_for_another_hub_is_refused(world: World, tmp_path: Path):
    a = world.node(VILLAGE_A)
    env = json.loads(_export(a, tmp_path / "x.bundle").read_text("utf-8"))
    with pytest.raises(BadInput, match="escrow"):
        import_bundle(world.hub, env, EncryptionKeyPair.generate())
    real = load_escrow(world.hub.settings.hub_dir)
    env["payload"]["key_id"] = "x25519-another-hub"
    with pytest.raises((BadSignature, UnknownKey)):
        import_bundle(world.hub, env, real)


def test_a_revoked_devices_bundle_is_refused(tmp_path: Path):
    from hub import admin

    world = make_world(tmp_path / "w")
    try:
        b = world.node(VILLAGE_B)
        case_id = b.new_case()
        path = _export(b, tmp_path / "b.bundle")
        admin.revoke_device(world.hub, b.device_id)
        with pytest.raises(Unauthorized, match="device: .* revoked"):
            import_file(world.hub, path)
        assert not _at_hub(world, f"case:{case_id}")
    finally:
        for node in world.nodes.values():
            node.store.close()
        world.hub.close()
