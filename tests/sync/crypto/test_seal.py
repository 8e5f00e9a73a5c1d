"""Sealing a document's private part and its attachments: round trips and every way to break it."""

from __future__ import annotations

import copy
import json

import pytest
from cryptography.exceptions import InvalidTag
from hypothesis import given, settings
from hypothesis import strategies as st

from sync.crypto import (
    CaseKey,
    DecryptionFailed,
    MalformedEnvelope,
    UnknownKey,
    is_sealed,
    new_keyring,
)
from sync.crypto.encoding import b64u_decode, b64u_encode
from sync.errors import SyncError
from tests.sync.crypto.world import VILLAGE_A, World

CASE = "019ac1f2e3a0-0000-410621100201-A1"


def _event(n: int = 1, **private: object) -> dict:
    return {"_id": f"event:{CASE}:019ac1f2e3a{n}-0000-410621100201-A1", "type": "event",
            "event_type": "application", "schema_version": 1, "case_id": CASE,
            "private": private or {"applicant": {"name": "张三", "id_number": "410621199001011234",
                                                 "phone": "13800138000"}}}


@pytest.fixture
def case_key(world: World) -> CaseKey:
    _ring, key = new_keyring(CASE, VILLAGE_A, world.directory(), world[VILLAGE_A].signer)
    return key


def _flip(text: str, index: int) -> str:
    raw = bytearray(b64u_decode(text))
    raw[index] ^= 0x01
    return b64u_encode(bytes(raw))


def test_round_trip(case_key: CaseKey) -> None:
    doc = _event()
    sealed = case_key.seal(doc)
    assert is_sealed(sealed) and "private" not in sealed
    assert set(sealed["sealed"]) == {"v", "alg", "kid", "nonce", "ct"}
    assert "张三" not in json.dumps(sealed, ensure_ascii=False)
    json.loads(json.dumps(sealed))  # JSON-friendly
    assert case_key._open(sealed) == doc["private"]
    assert {k: v for k, v in sealed.items() if k != "sealed"} == {k: v for k, v in doc.items() if k != "private"}


def test_seal_without_private_is_unchanged(case_key: CaseKey) -> None:
    doc = {"_id": "case:x", "type": "case", "schema_version": 1, "status": "open"}
    assert case_key.seal(doc) == doc


def test_each_seal_uses_a_fresh_nonce(case_key: CaseKey) -> None:
    a, b = case_key.seal(_event()), case_key.seal(_event())
    assert a["sealed"]["nonce"] != b["sealed"]["nonce"] and a["sealed"]["ct"] != b["sealed"]["ct"]


@settings(max_examples=40, deadline=None)
@given(st.dictionaries(st.text(min_size=1, max_size=8),
                       st.recursive(st.none() | st.booleans() | st.integers() | st.text(),
                                    lambda c: st.lists(c, max_size=3) | st.dictionaries(st.text(max_size=5), c, max_size=3),
                                    max_leaves=8), max_size=5))
def test_round_trip_any_json(private: dict) -> None:
    key = CaseKey(CASE, {"dk-x": bytes(32)}, "dk-x")
    doc = {"_id": "event:a:b", "type": "event", "event_type": "x", "schema_version": 1, "private": private}
    assert key._open(key.seal(doc)) == private


def _expect_one_error(case_key: CaseKey, doc: dict, cls: type[SyncError] = DecryptionFailed) -> SyncError:
    with pytest.raises(cls) as info:
        case_key._open(doc)
    assert isinstance(info.value, SyncError)
    return info.value


def test_wrong_key(case_key: CaseKey, world: World) -> None:
    sealed = case_key.seal(_event())
    other = CaseKey(CASE, {case_key.current: bytes(32)}, case_key.current)
    err = _expect_one_error(other, sealed)
    assert isinstance(err.__cause__, InvalidTag)  # translated at the boundary
    assert "does not open" in err.reason


def test_key_of_another_case(case_key: CaseKey, world: World) -> None:
    sealed = case_key.seal(_event())
    _ring, other = new_keyring("other-case", VILLAGE_A, world.directory(), world[VILLAGE_A].signer)
    _expect_one_error(other, sealed, UnknownKey)  # another case's data key has another id
    relabelled = CaseKey(CASE, {case_key.current: other._raw(other.current)}, case_key.current)
    _expect_one_error(relabelled, sealed)


@pytest.mark.parametrize("field", ["ct", "nonce"])
@pytest.mark.parametrize("index", [0, 5, -1])
def test_flipped_bit(case_key: CaseKey, field: str, index: int) -> None:
    sealed = case_key.seal(_event())
    sealed["sealed"][field] = _flip(sealed["sealed"][field], index)
    _expect_one_error(case_key, sealed)


@pytest.mark.parametrize("field,value", [("_id", "event:other"), ("type", "case"),
                                         ("event_type", "acceptance"), ("schema_version", 2)])
def test_swapped_associated_data(case_key: CaseKey, field: str, value: object) -> None:
    sealed = case_key.seal(_event())
    sealed[field] = value
    _expect_one_error(case_key, sealed)


def test_cut_and_paste_between_documents(case_key: CaseKey) -> None:
    a, b = case_key.seal(_event(1)), case_key.seal(_event(2, note="other"))
    b["sealed"] = copy.deepcopy(a["sealed"])
    _expect_one_error(case_key, b)


def test_envelope_moved_to_another_case(case_key: CaseKey) -> None:
    sealed = case_key.seal(_event())
    same_key_other_case = CaseKey("other-case", {case_key.current: case_key._raw(case_key.current)},
                                  case_key.current)
    _expect_one_error(same_key_other_case, sealed)


@pytest.mark.parametrize("keep", [0, 10, 16, -1])
def test_truncated_ciphertext(case_key: CaseKey, keep: int) -> None:
    sealed = case_key.seal(_event())
    raw = b64u_decode(sealed["sealed"]["ct"])
    sealed["sealed"]["ct"] = b64u_encode(raw[:keep])
    _expect_one_error(case_key, sealed)


@pytest.mark.parametrize("mutate", [
    lambda e: e.pop("ct"),
    lambda e: e.update(nonce="***"),
    lambda e: e.update(v=9),
    lambda e: e.update(alg="A128CBC"),
    lambda e: e.update(nonce=b64u_encode(b"short")),
])
def test_malformed_envelope(case_key: CaseKey, mutate) -> None:
    sealed = case_key.seal(_event())
    mutate(sealed["sealed"])
    err = _expect_one_error(case_key, sealed, MalformedEnvelope)
    assert isinstance(err, DecryptionFailed)


def test_no_envelope(case_key: CaseKey) -> None:
    _expect_one_error(case_key, {"_id": "x", "type": "case"}, MalformedEnvelope)


# -- attachments ---------------------------------------------------------------

SCAN = bytes(range(256)) * 1000


def test_attachment_round_trip(case_key: CaseKey) -> None:
    blob = case_key.seal_attachment(SCAN, "event:a", "id-card.jpg")
    assert SCAN[:64] not in blob
    assert case_key._open_attachment(blob, "event:a", "id-card.jpg") == SCAN
    assert case_key._open_attachment(case_key.seal_attachment(b"", "d", "n"), "d", "n") == b""


@pytest.mark.parametrize("doc_id,name", [("event:b", "id-card.jpg"), ("event:a", "signature.png")])
def test_attachment_bound_to_doc_and_name(case_key: CaseKey, doc_id: str, name: str) -> None:
    blob = case_key.seal_attachment(SCAN, "event:a", "id-card.jpg")
    with pytest.raises(DecryptionFailed):
        case_key._open_attachment(blob, doc_id, name)


@pytest.mark.parametrize("index", [-1, -20, 40])
def test_attachment_flipped_bit(case_key: CaseKey, index: int) -> None:
    blob = bytearray(case_key.seal_attachment(SCAN, "event:a", "scan"))
    blob[index] ^= 0x80
    with pytest.raises(DecryptionFailed):
        case_key._open_attachment(bytes(blob), "event:a", "scan")


@pytest.mark.parametrize("keep", [0, 3, 5, 20, 40, 1000])
def test_attachment_truncated(case_key: CaseKey, keep: int) -> None:
    blob = case_key.seal_attachment(SCAN, "event:a", "scan")
    with pytest.raises(DecryptionFailed):
        case_key._open_attachment(blob[:keep], "event:a", "scan")


def test_attachment_wrong_key(case_key: CaseKey) -> None:
    blob = case_key.seal_attachment(SCAN, "event:a", "scan")
    other = CaseKey(CASE, {case_key.current: bytes(32)}, case_key.current)
    with pytest.raises(DecryptionFailed) as info:
        other._open_attachment(blob, "event:a", "scan")
    assert isinstance(info.value.__cause__, InvalidTag)


def test_private_must_be_json(case_key: CaseKey) -> None:
    from sync.crypto import CryptoError

    with pytest.raises(CryptoError):
        case_key.seal({**_event(), "private": {"x": float("nan")}})
    with pytest.raises(CryptoError):
        case_key.seal({**_event(), "private": {"x": object()}})
    with pytest.raises(CryptoError):
        case_key.seal({**_event(), "private": ["not", "an", "object"]})
    with pytest.raises(CryptoError):
        case_key.seal({**_event(), "_id": None})
