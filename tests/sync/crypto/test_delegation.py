"""Directories signed by an online key the offline municipal root delegated (design §5)."""

from __future__ import annotations

import copy
import datetime as dt

import pytest

from sync.crypto import (
    DELEGATION_DOMAIN,
    BadSignature,
    MalformedEnvelope,
    SigningKeyPair,
    sign_delegation,
    sign_directory,
    verify_delegation,
    verify_directory,
)
from sync.crypto.encoding import b64u_encode
from sync.crypto.sign import signing_payload
from tests.sync.crypto.world import VILLAGE_A, World, add_hub

NOW = dt.datetime(2026, 11, 26, 7, 0, tzinfo=dt.UTC)


def _delegated(world: World, *, days: int = 30, issued_at: dt.datetime = NOW,
               root: SigningKeyPair | None = None) -> tuple[dict, SigningKeyPair]:
    signer = SigningKeyPair.generate()
    deleg = sign_delegation(signer.public_b64, root or world.root, days=days, serial=7,
                            issued_at=issued_at)
    unsigned = world.directory_doc()
    unsigned["issued_at"] = (NOW + dt.timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    return sign_directory(unsigned, signer, deleg), signer


def test_delegation_shape_and_verify(world: World) -> None:
    signer = SigningKeyPair.generate()
    deleg = sign_delegation(signer, world.root, days=365, serial=3, issued_at=NOW)
    assert deleg["type"] == "directory_signer" and deleg["key_id"] == signer.key_id
    assert deleg["key"] == signer.public_b64 and deleg["serial"] == 3
    assert deleg["not_after"] == "2027-11-26T07:00:00Z"
    assert deleg["sig"]["key_id"] == world.root.key_id
    d = verify_delegation(deleg, world.root.public_b64, at=NOW + dt.timedelta(days=364))
    assert d.key_id == signer.key_id and d.root_key_id == world.root.key_id
    assert d.days_left(NOW) == 365 and not d.expired(NOW)
    with pytest.raises(BadSignature, match="not_after"):
        verify_delegation(deleg, world.root.public_b64, at=NOW + dt.timedelta(days=366))
    # its own domain: a delegation signature is no directory signature
    assert signing_payload(deleg, DELEGATION_DOMAIN).startswith(DELEGATION_DOMAIN)
    with pytest.raises(MalformedEnvelope, match="days"):
        sign_delegation(signer, world.root, days=0, serial=1)


def test_delegated_directory_verifies(world: World) -> None:
    doc, signer = _delegated(world)
    assert doc["sig"]["key_id"] == signer.key_id and doc["delegation"]["key_id"] == signer.key_id
    d = verify_directory(doc, [world.root.public_b64])
    assert d.root_key_id == world.root.key_id
    assert d.delegation is not None and d.delegation.key_id == signer.key_id
    assert d.encryption_key(VILLAGE_A).key_id == world[VILLAGE_A].inst_key.key_id
    with pytest.raises(BadSignature, match="rollback"):
        verify_directory(doc, world.root.public_b64, min_version=doc["version"] + 1)


def test_delegated_directory_covers_the_hub_member(world: World) -> None:
    """Signed by the delegated key, ``hub`` is covered like every member (design.md §5)."""
    hub = add_hub(world)
    doc, _ = _delegated(world)
    assert verify_directory(doc, world.root.public_b64).hub == hub.device_id
    with pytest.raises(BadSignature):
        verify_directory({**doc, "hub": world[VILLAGE_A].device_id}, world.root.public_b64)


def test_root_signed_directory_still_verifies(world: World) -> None:
    d = verify_directory(world.directory_doc(), world.root.public_b64)
    assert d.delegation is None and d.root_key_id == world.root.key_id


def test_tampered_delegation_refused(world: World) -> None:
    doc, _ = _delegated(world)
    # re-sign the directory over a delegation whose not_after was pushed out: the root's
    # signature of the delegation no longer verifies
    forged = copy.deepcopy(doc)
    forged["delegation"]["not_after"] = "2099-01-01T00:00:00Z"
    with pytest.raises(BadSignature, match=r"directory\.delegation: signature does not verify"):
        verify_directory(forged, world.root.public_b64)


def test_tampered_delegation_inside_signed_directory_refused(world: World) -> None:
    doc, signer = _delegated(world)
    other = SigningKeyPair.generate()
    # the attacker holding `signer` swaps the delegation's serial: the root's sig breaks
    deleg = dict(doc["delegation"], serial=99)
    resigned = sign_directory(doc, signer, deleg)
    with pytest.raises(BadSignature, match=r"directory\.delegation: signature does not verify"):
        verify_directory(resigned, world.root.public_b64)
    # the directory body altered after signing: the directory signature breaks
    altered = copy.deepcopy(doc)
    altered["escrow"]["key"] = other.public_b64
    with pytest.raises(BadSignature, match="bad_signature: directory: signature does not verify"):
        verify_directory(altered, world.root.public_b64)


def test_delegation_by_untrusted_root_refused(world: World) -> None:
    doc, _ = _delegated(world, root=SigningKeyPair.generate())
    with pytest.raises(BadSignature, match=r"directory\.delegation\.sig\.key_id: .* not a trusted root"):
        verify_directory(doc, world.root.public_b64)


def test_signer_key_id_mismatch_refused(world: World) -> None:
    doc, _ = _delegated(world)
    intruder = SigningKeyPair.generate()
    body = {k: v for k, v in doc.items() if k != "sig"}
    body["sig"] = {"key_id": intruder.key_id, "alg": "Ed25519",
                   "value": b64u_encode(intruder.sign(signing_payload(body, b"bangban/v1/directory\n")))}
    with pytest.raises(BadSignature, match=r"directory\.sig\.key_id: .* is not the key the delegation names"):
        verify_directory(body, world.root.public_b64)
    with pytest.raises(MalformedEnvelope, match=r"delegation\.key_id"):
        sign_directory(doc, intruder, doc["delegation"])


def test_directory_issued_after_not_after_refused(world: World) -> None:
    # delegation valid for 1 day from NOW - 10 days; the directory is issued NOW + 1 day
    doc, _ = _delegated(world, days=1, issued_at=NOW - dt.timedelta(days=10))
    with pytest.raises(BadSignature, match=r"directory\.delegation\.not_after: .* before the "
                                           r"directory's issued_at .* issued after its delegation expired"):
        verify_directory(doc, world.root.public_b64)


def test_stripped_delegation_refused(world: World) -> None:
    doc, _ = _delegated(world)
    stripped = {k: v for k, v in doc.items() if k != "delegation"}
    with pytest.raises(BadSignature, match="not a trusted root key, and it carries no delegation"):
        verify_directory(stripped, world.root.public_b64)


def test_malformed_delegation_fields_named(world: World) -> None:
    doc, _ = _delegated(world)
    for field, value, pattern in (("key_id", "ed25519-AAAA", r"delegation\.key_id"),
                                  ("type", "root", r"delegation\.type"),
                                  ("not_after", "2027-01-01T00:00:00", r"delegation\.not_after"),
                                  ("serial", "1", r"delegation\.serial")):
        bad = copy.deepcopy(doc)
        bad["delegation"][field] = value
        with pytest.raises(MalformedEnvelope, match=pattern):
            verify_directory(bad, world.root.public_b64)


def test_arriving_directory_needs_a_delegation_still_valid_now(world: World) -> None:
    """``issued_at`` is the delegated key's own word: ``now`` (a directory arriving at a
    node) is checked against the delegation's end too; a directory already held is not."""
    doc, _signer = _delegated(world, days=30)  # delegated NOW .. NOW+30d, issued NOW+1d
    assert verify_directory(doc, [world.root.public_b64]).version == doc["version"]
    verify_directory(doc, [world.root.public_b64], now=NOW + dt.timedelta(days=29))
    with pytest.raises(BadSignature, match="delegation.not_after"):
        verify_directory(doc, [world.root.public_b64], now=NOW + dt.timedelta(days=31))
    root_signed = sign_directory(world.directory_doc(), world.root)  # no delegation to end
    verify_directory(root_signed, [world.root.public_b64], now=NOW + dt.timedelta(days=999))
