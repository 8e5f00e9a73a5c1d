"""Case keyrings: who can open a case, hand-up, escrow, rotation, tampered wraps."""

from __future__ import annotations

import copy

import pytest

from sync.crypto import (
    ESCROW,
    BadSignature,
    DecryptionFailed,
    MalformedEnvelope,
    UnknownKey,
    add_recipient,
    keyring_id,
    needs_rewrap,
    new_keyring,
    rewrap,
    rotate_keyrings,
    unlock_case_key,
)
from sync.crypto.encoding import b64u_decode, b64u_encode
from tests.sync.crypto.world import TOWN, VILLAGE_A, VILLAGE_B, World

CASE = "019ac1f2e3a0-0000-410621100201-A1"
DOC: dict = {"_id": f"event:{CASE}:019ac1f2e3a1-0000-410621100201-A1", "type": "event",
       "event_type": "application", "schema_version": 1, "private": {"name": "李四"}}


def _village_case(world: World):
    directory = world.directory()
    ring, key = new_keyring(CASE, VILLAGE_A, directory, world[VILLAGE_A].signer)
    return directory, ring, key, key.seal(DOC)


def test_keyring_is_cleartext_metadata(world: World) -> None:
    _d, ring, key, _sealed = _village_case(world)
    assert ring["_id"] == keyring_id(CASE) and ring["type"] == "keyring" and ring["case_id"] == CASE
    assert {(r["institution"], r["role"]) for r in ring["recipients"]} == {(VILLAGE_A, "owner"), (ESCROW, "escrow")}
    assert {r["key_id"] for r in ring["recipients"]} == {world[VILLAGE_A].inst_key.key_id, world.escrow.key_id}
    assert ring["current"] == key.current
    assert len(ring["data_keys"]) == 1 and len(ring["data_keys"][0]["wraps"]) == 2


def test_owner_and_escrow_open(world: World) -> None:
    directory, ring, key, sealed = _village_case(world)
    for chain in (world[VILLAGE_A].keychain, world.escrow_keychain()):
        assert unlock_case_key(ring, chain, directory)._open(sealed) == DOC["private"]


def test_village_b_cannot_open_village_a_case(world: World) -> None:
    directory, ring, _key, sealed = _village_case(world)
    with pytest.raises(UnknownKey):
        unlock_case_key(ring, world[VILLAGE_B].keychain, directory)
    with pytest.raises(UnknownKey):
        unlock_case_key(ring, world[TOWN].keychain, directory)  # not before hand-up
    # B relabelling A's wrap as its own does not help: the wrap is bound to A's key.
    forged = copy.deepcopy(ring)
    wrap = forged["data_keys"][0]["wraps"][0]
    wrap["key_id"] = world[VILLAGE_B].inst_key.key_id
    with pytest.raises((BadSignature, DecryptionFailed)):
        unlock_case_key(forged, world[VILLAGE_B].keychain, directory)


def test_hand_up_town_opens(world: World) -> None:
    directory, ring, key, sealed = _village_case(world)
    handed = add_recipient(ring, key, TOWN, directory, world[VILLAGE_A].signer)
    assert ring["recipients"] != handed["recipients"]  # the input is not mutated
    assert (TOWN, "handed") in {(r["institution"], r["role"]) for r in handed["recipients"]}
    town_key = unlock_case_key(handed, world[TOWN].keychain, directory)
    assert town_key._open(sealed) == DOC["private"]
    # the town can seal new documents that the village still opens
    later = town_key.seal({**DOC, "_id": DOC["_id"] + "x", "private": {"reply": "ok"}})
    assert unlock_case_key(handed, world[VILLAGE_A].keychain, directory)._open(later) == {"reply": "ok"}
    # adding twice adds nothing
    assert add_recipient(handed, key, TOWN, directory, world[VILLAGE_A].signer) == handed
    with pytest.raises(UnknownKey):
        unlock_case_key(handed, world[VILLAGE_B].keychain, directory)


def test_add_recipient_needs_the_same_case(world: World) -> None:
    directory, ring, _key, _ = _village_case(world)
    _r2, other = new_keyring("other", VILLAGE_A, directory, world[VILLAGE_A].signer)
    with pytest.raises(MalformedEnvelope):
        add_recipient(ring, other, TOWN, directory, world[VILLAGE_A].signer)


def test_unknown_institution(world: World) -> None:
    directory, ring, key, _ = _village_case(world)
    with pytest.raises(UnknownKey):
        add_recipient(ring, key, "410621100299", directory, world[VILLAGE_A].signer)


def test_rotation_old_key_opens_nothing_new(world: World) -> None:
    directory, ring, key, sealed = _village_case(world)
    ring = add_recipient(ring, key, TOWN, directory, world[VILLAGE_A].signer)
    old = world.rotate(VILLAGE_A)
    new_directory = world.directory()  # v2: the old key retired
    assert not new_directory.is_active_key(VILLAGE_A, old.key_id)
    [rotated] = rotate_keyrings([ring], world[VILLAGE_A].keychain, new_directory, world[VILLAGE_A].signer)
    assert all(w["key_id"] != old.key_id for g in rotated["data_keys"] for w in g["wraps"])
    assert rotated["current"] != ring["current"] and len(rotated["data_keys"]) == 2

    # The village with its new key opens old and new documents.
    world[VILLAGE_A].keychain.forget(old.key_id)
    new_key = unlock_case_key(rotated, world[VILLAGE_A].keychain, new_directory)
    assert new_key._open(sealed) == DOC["private"]
    fresh = new_key.seal({**DOC, "_id": DOC["_id"] + "n", "private": {"name": "新"}})
    assert fresh["sealed"]["kid"] == rotated["current"]
    # Town and escrow open the new generation too.
    for chain in (world[TOWN].keychain, world.escrow_keychain()):
        assert unlock_case_key(rotated, chain, new_directory)._open(fresh) == {"name": "新"}

    # A thief holding only the old key: nothing in the rotated keyring opens for it ...
    from sync.crypto import Keychain

    thief = Keychain()
    thief.add("institution", VILLAGE_A, old)
    with pytest.raises(UnknownKey):
        unlock_case_key(rotated, thief, new_directory)
    # ... even when it kept the pre-rotation keyring: the new generation was never wrapped for it.
    stale = unlock_case_key(ring, thief, directory)
    with pytest.raises(UnknownKey):
        stale._open(fresh)
    # and new cases are wrapped to the new key only
    ring2, _k2 = new_keyring("case-2", VILLAGE_A, new_directory, world[VILLAGE_A].signer)
    with pytest.raises(UnknownKey):
        unlock_case_key(ring2, thief, new_directory)


def test_rewrap_without_new_generation(world: World) -> None:
    directory, ring, key, sealed = _village_case(world)
    same, same_key = rewrap(ring, key, directory, world[VILLAGE_A].signer, new_generation=False)
    assert same == ring and same_key.current == key.current


@pytest.mark.parametrize("field", ["wrapped", "epk", "nonce"])
def test_tampered_wrap(world: World, field: str) -> None:
    directory, ring, _key, _ = _village_case(world)
    bad = copy.deepcopy(ring)
    wrap = next(w for w in bad["data_keys"][0]["wraps"] if w["institution"] == VILLAGE_A)
    raw = bytearray(b64u_decode(wrap[field]))
    raw[0] ^= 1
    wrap[field] = b64u_encode(bytes(raw))
    with pytest.raises(BadSignature):  # the adding device's signature covers every field
        unlock_case_key(bad, world[VILLAGE_A].keychain, directory)


def test_wrap_made_by_unknown_device(world: World) -> None:
    directory, ring, key, _ = _village_case(world)
    from sync.crypto import DeviceSigner, SigningKeyPair

    intruder = DeviceSigner("410621100201-ZZ", SigningKeyPair.generate())
    ring2 = add_recipient(ring, key, TOWN, directory, intruder)
    with pytest.raises(UnknownKey):
        unlock_case_key(ring2, world[TOWN].keychain, directory)


def test_wrap_resigned_swapped_context_fails(world: World) -> None:
    """A wrap re-signed by a legitimate device but moved to another case does not open."""
    directory, ring, key, _ = _village_case(world)
    ring_b, _kb = new_keyring("case-b", VILLAGE_A, directory, world[VILLAGE_A].signer)
    from sync.crypto.keyring import _wrap_payload

    moved = copy.deepcopy(ring_b)
    wrap = copy.deepcopy(ring["data_keys"][0]["wraps"][0])
    moved["data_keys"][0]["wraps"] = [wrap]
    moved["current"] = moved["data_keys"][0]["kid"]
    wrap["sig"] = world[VILLAGE_A].signer.signature(_wrap_payload("case-b", moved["current"], wrap))
    with pytest.raises(DecryptionFailed):
        unlock_case_key(moved, world[VILLAGE_A].keychain, directory)


def test_malformed_keyring(world: World) -> None:
    directory, ring, _key, _ = _village_case(world)
    bad = {k: v for k, v in ring.items() if k != "data_keys"}
    with pytest.raises(MalformedEnvelope):
        unlock_case_key(bad, world[VILLAGE_A].keychain, directory)


def _union(a: dict, b: dict) -> dict:
    """What a conflict resolver does with two keyring leaves: union of signed wraps."""
    out = copy.deepcopy(a)
    recipients = {r["institution"]: r for r in out["recipients"]}
    for r in b["recipients"]:
        recipients.setdefault(r["institution"], r)
    gens = {g["kid"]: g for g in out["data_keys"]}
    for gen in b["data_keys"]:
        mine = gens.setdefault(gen["kid"], {"kid": gen["kid"], "wraps": []})
        have = {(w["institution"], w["key_id"]) for w in mine["wraps"]}
        mine["wraps"] += [w for w in gen["wraps"] if (w["institution"], w["key_id"]) not in have]
    out["recipients"], out["data_keys"] = list(recipients.values()), list(gens.values())
    out["current"] = max(a["current"], b["current"])  # kids sort by creation time
    return out


def test_needs_rewrap_after_rotation(world: World) -> None:
    directory, ring, key, _ = _village_case(world)
    assert needs_rewrap(ring, directory) == []
    world.rotate(VILLAGE_A)
    v2 = world.directory()
    reasons = needs_rewrap(ring, v2)
    assert any("inactive key" in r for r in reasons) and any("no wrap for" in r for r in reasons)
    [rotated] = rotate_keyrings([ring], world[VILLAGE_A].keychain, v2, world[VILLAGE_A].signer)
    assert needs_rewrap(rotated, v2) == []


def test_hand_up_racing_rotation_is_repaired(world: World) -> None:
    directory, ring, key, sealed = _village_case(world)
    handed = add_recipient(ring, key, TOWN, directory, world[TOWN].signer)  # branch A
    world.rotate(VILLAGE_A)
    v2 = world.directory()
    [rotated] = rotate_keyrings([ring], world[VILLAGE_A].keychain, v2, world[VILLAGE_A].signer)  # B
    assert rotated["current"] > ring["current"]
    merged = _union(handed, rotated)
    with pytest.raises(UnknownKey):  # the town has no wrap of the newest generation yet
        unlock_case_key(merged, world[TOWN].keychain, v2)
    assert any(TOWN in r for r in needs_rewrap(merged, v2))
    village_key = unlock_case_key(merged, world[VILLAGE_A].keychain, v2)
    repaired, _ = rewrap(merged, village_key, v2, world[VILLAGE_A].signer, new_generation=False)
    assert needs_rewrap(repaired, v2) == []
    assert unlock_case_key(repaired, world[TOWN].keychain, v2)._open(sealed) == DOC["private"]


def test_bogus_wrap_does_not_hide_a_good_one(world: World) -> None:
    directory, ring, key, sealed = _village_case(world)
    bad = copy.deepcopy(ring)
    wraps = bad["data_keys"][0]["wraps"]
    good = next(w for w in wraps if w["institution"] == VILLAGE_A)
    bogus = copy.deepcopy(good)
    bogus["wrapped"] = b64u_encode(bytes(48))
    wraps.insert(0, bogus)
    assert unlock_case_key(bad, world[VILLAGE_A].keychain, directory)._open(sealed) == DOC["private"]
