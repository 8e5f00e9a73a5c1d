"""Event signatures: one verification function for hub and nodes."""

from __future__ import annotations

import base64
import copy
import hashlib
import json

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from hypothesis import given, settings
from hypothesis import strategies as st
from nacl.exceptions import BadSignatureError

from sync.crypto import (
    BadSignature,
    DeviceSigner,
    SigningKeyPair,
    UnknownKey,
    new_keyring,
    sign_document,
    signing_payload,
    verify_document,
)
from sync.crypto.encoding import canonical_json
from tests.sync.crypto.world import TOWN, VILLAGE_A, VILLAGE_B, World

CASE = "019ac1f2e3a0-0000-410621100201-A1"


def _event(world: World) -> dict:
    directory = world.directory()
    _ring, key = new_keyring(CASE, VILLAGE_A, directory, world[VILLAGE_A].signer)
    doc = {"_id": f"event:{CASE}:019ac1f2e3a1-0000-410621100201-A1", "type": "event",
           "event_type": "acceptance", "schema_version": 1, "case_id": CASE, "count": 2.0,
           "private": {"name": "王五"}}
    return sign_document(key.seal(doc), world[VILLAGE_A].signer)


def test_sign_and_verify(world: World) -> None:
    doc = _event(world)
    assert set(doc["sig"]) == {"device", "key_id", "alg", "value"}
    assert doc["sig"]["device"] == world[VILLAGE_A].device_id and doc["sig"]["alg"] == "Ed25519"
    signer = verify_document(doc, world.directory())
    assert (signer.device_id, signer.institution) == (world[VILLAGE_A].device_id, VILLAGE_A)


def test_storage_fields_do_not_matter(world: World) -> None:
    doc = _event(world)
    stored = {**doc, "_rev": "3-abc", "_revisions": {"start": 3, "ids": ["abc", "def", "0"]},
              "_conflicts": ["2-x"], "count": 2}  # PouchDB may turn 2.0 into 2
    verify_document(stored, world.directory())
    reordered = dict(reversed(list(stored.items())))
    verify_document(reordered, world.directory())


def test_attachment_inline_and_stub_forms_verify(world: World) -> None:
    doc = _event(world)
    del doc["sig"]
    data = b"sealed-bytes"
    doc["_attachments"] = {"scan": {"content_type": "application/octet-stream",
                                    "data": base64.b64encode(data).decode()}}
    signed = sign_document(doc, world[VILLAGE_A].signer)
    stub = copy.deepcopy(signed)
    stub["_attachments"]["scan"] = {
        "content_type": "application/octet-stream", "stub": True, "length": len(data), "revpos": 2,
        "digest": "md5-" + base64.b64encode(hashlib.md5(data).digest()).decode()}
    verify_document(stub, world.directory())
    swapped = copy.deepcopy(stub)
    swapped["_attachments"]["scan"]["digest"] = "md5-" + base64.b64encode(hashlib.md5(b"x").digest()).decode()
    with pytest.raises(BadSignature):
        verify_document(swapped, world.directory())


@pytest.mark.parametrize("mutate", [
    lambda d: d.update(event_type="completion"),
    lambda d: d.update(case_id="another"),
    lambda d: d.update(count=3),
    lambda d: d.update(extra=True),
    lambda d: d.pop("case_id"),
    lambda d: d["sealed"].update(ct=d["sealed"]["ct"][:-2] + "AA"),
    lambda d: d.update(_id=d["_id"] + "x"),
    lambda d: d.update(_deleted=True),
])
def test_tampered_event_fails(world: World, mutate) -> None:
    doc = _event(world)
    mutate(doc)
    with pytest.raises(BadSignature) as info:
        verify_document(doc, world.directory())
    # translated at the boundary: libsodium's error is the cause, not the message
    assert isinstance(info.value.__cause__, BadSignatureError)


@settings(max_examples=60, deadline=None)
@given(message=st.binary(max_size=2048), flip=st.integers(min_value=0, max_value=8 * 64 - 1))
def test_libsodium_accepts_what_cryptography_signs_and_refuses_a_flipped_bit(
        message: bytes, flip: int) -> None:
    # Signing is cryptography's (OpenSSL), verifying libsodium's: Ed25519 is deterministic
    # (RFC 8032), so every signature one makes the other must accept, bit for bit.
    from sync.crypto.encoding import b64u_encode
    from sync.crypto.sign import check_signature

    key = Ed25519PrivateKey.generate()
    public = b64u_encode(key.public_key().public_bytes_raw())
    sig = key.sign(message)
    check_signature(public, b64u_encode(sig), message, what="m")
    bad = bytearray(sig)
    bad[flip // 8] ^= 1 << (flip % 8)
    with pytest.raises(BadSignature):
        check_signature(public, b64u_encode(bytes(bad)), message, what="m")


def test_a_signature_of_the_wrong_length_is_a_bad_signature_not_a_crash() -> None:
    from sync.crypto.encoding import b64u_encode
    from sync.crypto.sign import check_signature

    key = Ed25519PrivateKey.generate()
    public = b64u_encode(key.public_key().public_bytes_raw())
    with pytest.raises(BadSignature, match="does not verify"):
        check_signature(public, b64u_encode(key.sign(b"x")[:63]), b"x", what="m")


def test_resigned_event_fails(world: World) -> None:
    """Re-signed by another key while still naming the original device: refused."""
    doc = _event(world)
    doc["count"] = 9
    forger = SigningKeyPair.generate()
    doc["sig"]["value"] = DeviceSigner(doc["sig"]["device"], forger).signature(signing_payload(doc))["value"]
    with pytest.raises(BadSignature):
        verify_document(doc, world.directory())
    # naming the forger's key id instead: not a key of that device
    doc2 = sign_document(doc, DeviceSigner(world[VILLAGE_A].device_id, forger))
    with pytest.raises(UnknownKey):
        verify_document(doc2, world.directory())


def test_resigned_by_other_device_names_that_device(world: World) -> None:
    """Village B's device can sign bytes, but then the signer is B: the hub's scope check refuses it."""
    doc = sign_document(_event(world), world[VILLAGE_B].signer)
    signer = verify_document(doc, world.directory())
    assert signer.institution == VILLAGE_B != VILLAGE_A


@pytest.mark.parametrize("mutate,cls", [
    (lambda d: d.pop("sig"), BadSignature),
    (lambda d: d.update(sig="x"), BadSignature),
    (lambda d: d["sig"].update(alg="RS256"), BadSignature),
    (lambda d: d["sig"].update(value="!!"), BadSignature),
    (lambda d: d["sig"].update(value="AAAA"), BadSignature),
    (lambda d: d["sig"].update(device="410621100201-ZZ"), UnknownKey),
    (lambda d: d["sig"].update(key_id="ed25519-nope"), UnknownKey),
])
def test_malformed_signature(world: World, mutate, cls) -> None:
    doc = _event(world)
    mutate(doc)
    with pytest.raises(cls):
        verify_document(doc, world.directory())


def test_revoked_device(world: World) -> None:
    doc = _event(world)
    world.revoked_devices.add(world[VILLAGE_A].device_id)
    directory = world.directory()
    with pytest.raises(UnknownKey):
        verify_document(doc, directory)
    assert verify_document(doc, directory, allow_revoked=True).institution == VILLAGE_A


def test_cannot_sign_open_document(world: World) -> None:
    with pytest.raises(BadSignature):
        sign_document({"_id": "x", "private": {"a": 1}}, world[TOWN].signer)


def test_canonical_json() -> None:
    assert canonical_json({"b": 1, "a": [1.0, 1.5, "é"], "c": None}) == '{"a":[1,1.5,"é"],"b":1,"c":null}'.encode()
    with pytest.raises(ValueError):
        canonical_json({"a": float("nan")})


_json = st.recursive(
    st.none() | st.booleans() | st.integers(-2**53, 2**53) | st.text(max_size=8)
    | st.floats(allow_nan=False, allow_infinity=False),
    lambda c: st.lists(c, max_size=3) | st.dictionaries(st.text(max_size=4), c, max_size=3),
    max_leaves=10)


def _shuffled(value):  # type: ignore[no-untyped-def]
    if isinstance(value, dict):
        return {k: _shuffled(value[k]) for k in reversed(list(value))}
    if isinstance(value, list):
        return [_shuffled(v) for v in value]
    return value


_SIGNER = DeviceSigner("410621100201-A1", SigningKeyPair.generate())


class _OneDevice:
    """A directory stand-in with one device (the property test needs no root)."""

    def device_key(self, device_id: str, key_id: str, *, allow_revoked: bool = False):  # type: ignore[no-untyped-def]
        from sync.crypto.directory import DeviceEntry, PublicKeyEntry

        if (device_id, key_id) != (_SIGNER.device_id, _SIGNER.key.key_id):
            raise UnknownKey(device_id)
        key = PublicKeyEntry(key_id, "ed25519", _SIGNER.key.public_b64)
        return DeviceEntry(device_id, "410621100201", (key,)), key


@settings(max_examples=40, deadline=None)
@given(body=st.dictionaries(st.text(min_size=1, max_size=6).filter(lambda k: not k.startswith("_")),
                            _json, max_size=6))
def test_signature_survives_storage_and_catches_any_change(body: dict) -> None:
    doc = sign_document({"_id": "event:x", "type": "event", **body}, _SIGNER)
    directory = _OneDevice()
    stored = _shuffled(json.loads(json.dumps(doc)))  # a trip through CouchDB's JSON
    stored["_rev"] = "1-abc"
    verify_document(stored, directory)  # type: ignore[arg-type]
    for key in body:
        changed = copy.deepcopy(stored)
        changed[key] = [changed[key]]
        with pytest.raises(BadSignature):
            verify_document(changed, directory)  # type: ignore[arg-type]
