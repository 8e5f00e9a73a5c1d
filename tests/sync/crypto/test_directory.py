"""The root-signed directory of institutions, devices and public keys."""

from __future__ import annotations

import copy

import pytest

from sync.crypto import (
    BadSignature,
    EncryptionKeyPair,
    MalformedEnvelope,
    SigningKeyPair,
    UnknownKey,
    key_entry,
    sign_directory,
    verify_directory,
)
from tests.sync.crypto.world import CITY, TOWN, VILLAGE_A, World, add_hub


def test_verify_and_lookup(world: World) -> None:
    doc = world.directory_doc()
    d = verify_directory(doc, world.root.public_b64)
    assert d.version == 1 and d.root_key_id == world.root.key_id
    assert d.encryption_key(VILLAGE_A).key_id == world[VILLAGE_A].inst_key.key_id
    assert d.institution(VILLAGE_A).parent == TOWN
    dev, key = d.device_key(world[VILLAGE_A].device_id, world[VILLAGE_A].device_key.key_id)
    assert dev.institution == VILLAGE_A and key.public == world[VILLAGE_A].device_key.public_b64
    assert d.escrow.key_id == world.escrow.key_id
    assert d.bundle is not None and d.bundle.key_id == world.bundle.key_id
    with pytest.raises(UnknownKey):
        d.encryption_key("999999")
    # several trusted roots (root rotation) and raw bytes accepted
    verify_directory(doc, [SigningKeyPair.generate().public_b64, world.root.public_bytes])


@pytest.mark.parametrize("mutate", [
    lambda d: d["institutions"][0]["public_keys"][0].update(key=EncryptionKeyPair.generate().public_b64),
    lambda d: d["devices"].append({"device_id": "410621100201-X9", "institution": "410621100201",
                                   "public_keys": []}),
    lambda d: d.update(version=99),
    lambda d: d["escrow"].update(revoked_at="2026-11-20T09:00:00+08:00"),
    lambda d: d["devices"][0].update(revoked_at=None),
    # The bundle member is signed like every other (bundle files are sealed for it).
    lambda d: d.update(bundle=key_entry(EncryptionKeyPair.generate())),
    lambda d: d.pop("bundle"),
])
def test_tampered_directory(world: World, mutate) -> None:
    doc = world.directory_doc()
    mutate(doc)
    with pytest.raises(BadSignature):
        verify_directory(doc, world.root.public_b64)


def test_untrusted_root(world: World) -> None:
    doc = world.directory_doc()
    with pytest.raises(BadSignature):
        verify_directory(doc, SigningKeyPair.generate().public_b64)
    other_root = SigningKeyPair.generate()
    with pytest.raises(BadSignature):  # re-signed by a root nobody pinned
        verify_directory(sign_directory(doc, other_root), world.root.public_b64)


def test_unsigned(world: World) -> None:
    doc = world.directory_doc()
    del doc["sig"]
    with pytest.raises(BadSignature):
        verify_directory(doc, world.root.public_b64)


def test_rollback_refused(world: World) -> None:
    old = world.directory_doc()
    new = world.directory_doc()
    assert verify_directory(new, world.root.public_b64, min_version=1).version == 2
    with pytest.raises(BadSignature):
        verify_directory(old, world.root.public_b64, min_version=2)


def test_key_id_must_be_fingerprint(world: World) -> None:
    doc = world.directory_doc()
    bogus = copy.deepcopy(doc)
    bogus["institutions"][0]["public_keys"][0]["kid"] = key_entry(EncryptionKeyPair.generate())["kid"]
    with pytest.raises(MalformedEnvelope):
        verify_directory(sign_directory(bogus, world.root), world.root.public_b64)
    wrong_alg = copy.deepcopy(doc)
    wrong_alg["devices"][0]["public_keys"][0] = key_entry(EncryptionKeyPair.generate())
    with pytest.raises(MalformedEnvelope):
        verify_directory(sign_directory(wrong_alg, world.root), world.root.public_b64)
    missing = {k: v for k, v in doc.items() if k != "escrow"}
    with pytest.raises(MalformedEnvelope):
        verify_directory(sign_directory(missing, world.root), world.root.public_b64)


def test_the_bundle_key_member(world: World) -> None:
    """Optional (directories from before it verify and have none), checked like every key,
    and never the escrow key itself (design.md §5: the escrow key stays offline)."""
    world.with_bundle = False
    old = world.directory_doc()
    assert "bundle" not in old
    assert verify_directory(old, world.root.public_b64).bundle is None
    world.with_bundle = True
    doc = world.directory_doc()
    assert doc["bundle"]["kid"] == world.bundle.key_id
    bogus = copy.deepcopy(doc)
    bogus["bundle"]["kid"] = world.escrow.key_id
    with pytest.raises(MalformedEnvelope, match="bundle"):
        verify_directory(sign_directory(bogus, world.root), world.root.public_b64)
    as_escrow = {**doc, "bundle": key_entry(world.escrow)}
    with pytest.raises(MalformedEnvelope, match="bundle: .* is the escrow key"):
        verify_directory(sign_directory(as_escrow, world.root), world.root.public_b64)


def test_the_hub_member(world: World) -> None:
    """Names the hub's own device, the one signer stations accept hub-made bundle files from
    (design.md §4, §5): optional, signed like every member, and only a listed device of a
    city-tier institution."""
    root = world.root.public_b64
    hub = add_hub(world)
    doc = world.directory_doc()
    assert doc["hub"] == hub.device_id and verify_directory(doc, root).hub == hub.device_id
    # Signed: altered or removed, the signature no longer verifies.
    for bad in ({**doc, "hub": world[TOWN].device_id}, {k: v for k, v in doc.items() if k != "hub"}):
        with pytest.raises(BadSignature):
            verify_directory(bad, root)
    # Re-signed by the root itself, a hub that is not a city device is still refused, with why.
    orphan = copy.deepcopy(doc)
    orphan["devices"].append({"device_id": "410700-HB", "institution": "410700", "public_keys": []})
    for d, name, reason in ((doc, world[VILLAGE_A].device_id, r"\(village\), not to the city"),
                            (doc, f"{CITY}-ZZ", "is not listed"),
                            (orphan, "410700-HB", r"\(unlisted\), not to the city"),
                            (doc, "", "must be a device id"), (doc, 7, "must be a device id")):
        with pytest.raises(MalformedEnvelope, match=f"hub: .*{reason}"):
            verify_directory(sign_directory({**d, "hub": name}, world.root), root)
    # Directories published before the member existed verify unchanged.
    world.hub = None
    old = world.directory_doc()
    assert "hub" not in old and verify_directory(old, root).hub is None
