"""Bundle files end to end in process (design.md §4): a village station that never syncs puts
its documents on a stick, the hub imports them exactly as if the laptop had replicated —
opened with the hub's bundle key, with no escrow key anywhere near the hub (design.md §5)."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from hub.bundles import import_bundle, import_file, load_bundle_key
from hub.errors import BadInput, NotInitialized, Unauthorized
from hub.keys import BUNDLE, ESCROW
from ops.cli import main
from sync.bundle import BUNDLE as TO_BUNDLE
from sync.bundle import ESCROW as TO_ESCROW
from sync.bundle import _seal, dumps, seal_bundle
from sync.bundle_stores import collect
from sync.crypto import BadSignature, EncryptionKeyPair, UnknownKey
from sync.crypto.directory import PublicKeyEntry
from tests.hub.conftest import TOWN, VILLAGE_A, VILLAGE_B, World, make_world


@pytest.fixture
def escrow_away(world: World, tmp_path: Path) -> Iterator[Path]:
    """``keys/escrow-OFFLINE.json`` moved off the hub, as the operator should (design.md §5);
    yields where it went, and puts it back for the module's other tests."""
    here = Path(world.hub.settings.hub_dir) / "keys" / ESCROW
    away = tmp_path / "offline" / ESCROW
    away.parent.mkdir()
    shutil.move(here, away)
    try:
        yield away
    finally:
        shutil.move(away, here)


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
        world: World, tmp_path: Path, escrow_away: Path):
    a, town, b = world.node(VILLAGE_A), world.node(TOWN), world.node(VILLAGE_B)
    case_id = a.new_case()  # never synced
    assert not _at_hub(world, f"case:{case_id}")
    report = import_file(world.hub, _export(a, tmp_path / "one.bundle"))
    assert not (Path(world.hub.settings.hub_dir) / "keys" / ESCROW).exists()
    assert report["sealed_for"] == "bundle"
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
                                                                     tmp_path: Path,
                                                                     escrow_away: Path):
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
    capsys.readouterr()
    status = main(["hub", "--hub-dir", str(world.hub.settings.hub_dir), "bundle", "import",
                   str(path), "--json"])
    assert status != 0 and "bundle sig" in capsys.readouterr().err
    assert not _at_hub(world, f"case:{case_id}")


def test_a_bundle_for_another_hub_is_refused(world: World, tmp_path: Path):
    a = world.node(VILLAGE_A)
    env = json.loads(_export(a, tmp_path / "x.bundle").read_text("utf-8"))
    with pytest.raises(BadInput, match="bundle: the loaded key"):
        import_bundle(world.hub, env, EncryptionKeyPair.generate())
    real = load_bundle_key(world.hub.settings.hub_dir)
    env["payload"]["key_id"] = "x25519-another-hub"
    with pytest.raises((BadSignature, UnknownKey)):
        import_bundle(world.hub, env, real)


def test_a_bundle_sealed_for_another_hubs_bundle_key_names_that_key(world: World,
                                                                     tmp_path: Path):
    a = world.node(VILLAGE_A)
    case_id = a.new_case()
    pair = EncryptionKeyPair.generate()  # another hub's bundle key
    other = PublicKeyEntry(pair.key_id, "x25519", pair.public_b64)
    env = _seal(collect(a.store), signer=a.signer, institution=a.institution,
                recipient=TO_BUNDLE, entry=other, created_at=None)
    path = tmp_path / "other-hub.bundle"
    path.write_bytes(dumps(env))
    with pytest.raises(UnknownKey, match=f"sealed for bundle key {other.key_id}"):
        import_file(world.hub, path)
    assert not _at_hub(world, f"case:{case_id}")


def test_an_old_escrow_sealed_bundle_needs_and_imports_with_escrow_file(
        world: World, tmp_path: Path, escrow_away: Path, capsys: pytest.CaptureFixture[str]):
    """A file a node wrote before the hub had a bundle key: sealed for the escrow key, it
    opens only with the escrow key fetched from where it is kept offline."""
    a = world.node(VILLAGE_A)
    case_id = a.new_case()
    env = _seal(collect(a.store), signer=a.signer, institution=a.institution,
                recipient=TO_ESCROW, entry=a.directory().escrow, created_at=None)
    path = tmp_path / "old.bundle"
    path.write_bytes(dumps(env))
    with pytest.raises(NotInitialized, match="sealed for the escrow key.*--escrow-file"):
        import_file(world.hub, path)
    assert not _at_hub(world, f"case:{case_id}")
    hub_dir = str(world.hub.settings.hub_dir)
    capsys.readouterr()
    assert main(["hub", "--hub-dir", hub_dir, "bundle", "import", str(path), "--json",
                 "--escrow-file", str(escrow_away)]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["sealed_for"] == "escrow" and report["refused"] == []
    assert _at_hub(world, f"case:{case_id}")


def test_a_hub_from_before_bundle_keys_gets_one_with_bundle_key(tmp_path: Path,
                                                                 capsys: pytest.CaptureFixture[str]):
    """`bangban hub bundle key`: makes the key, publishes it; the station syncs once, then
    exports and the hub imports with no escrow key on it. Running it again changes nothing."""
    from hub import admin
    from hub.core import IDENTITY_ID

    world = make_world(tmp_path / "w")
    try:
        hub = world.hub
        keys = Path(hub.settings.hub_dir) / "keys"
        (keys / BUNDLE).unlink()  # as `hub init` left a hub before this change
        ident = hub.stores.private.get(IDENTITY_ID)
        del ident["bundle"]
        hub.stores.private.put(ident)
        hub.reset_keys()
        admin.publish_directory(hub)
        a = world.node(VILLAGE_A)
        world.sync(VILLAGE_A)
        assert a.directory().bundle is None
        with pytest.raises(UnknownKey, match="no bundle key"):
            _export(a, tmp_path / "refused.bundle")

        hub_dir = str(hub.settings.hub_dir)
        capsys.readouterr()
        assert main(["hub", "--hub-dir", hub_dir, "bundle", "key", "--json"]) == 0
        first = json.loads(capsys.readouterr().out)
        assert first["created"] and first["published"]
        assert main(["hub", "--hub-dir", hub_dir, "bundle", "key", "--json"]) == 0
        again = json.loads(capsys.readouterr().out)
        assert (again["created"], again["published"]) == (False, False)
        assert again["key_id"] == first["key_id"]

        (keys / ESCROW).unlink()  # nothing below may need it
        hub.reset_keys()
        world.sync(VILLAGE_A)
        assert a.directory().bundle.key_id == first["key_id"]
        case_id = a.new_case()
        report = import_file(hub, _export(a, tmp_path / "new.bundle"))
        assert report["refused"] == [] and _at_hub(world, f"case:{case_id}")
        # A later directory (any publish) keeps carrying the key.
        assert admin.publish_directory(hub)["bundle"]["kid"] == first["key_id"]
    finally:
        for node in world.nodes.values():
            node.store.close()
        world.hub.close()


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
