"""The passphrase-locked keychain."""

from __future__ import annotations

import json

import pytest

from sync.crypto import (
    EncryptionKeyPair,
    Keychain,
    MalformedEnvelope,
    SigningKeyPair,
    UnknownKey,
    WrongPassphrase,
    change_passphrase,
)
from sync.crypto.errors import CryptoError
from sync.crypto.keys import SCRYPT_N, SCRYPT_P, SCRYPT_R, HeldKey

FAST = {"n": 2**10, "r": 8, "p": 1}  # unit tests only; the real cost is measured in make bench


def _chain() -> Keychain:
    chain = Keychain()
    chain.add("institution", "410621100201", EncryptionKeyPair.generate())
    chain.add("device", "410621100201-A1", SigningKeyPair.generate())
    return chain


def test_lock_unlock_round_trip() -> None:
    chain = _chain()
    locked = chain.lock("村站口令 2026", **FAST)
    text = json.dumps(locked)
    for held in chain.keys:
        assert held.key._private_bytes().hex() not in text
        assert held.key.public_b64 in text
    again = Keychain.unlock(json.loads(text), "村站口令 2026")
    assert [(k.role, k.owner, k.key_id, k.status) for k in again.keys] == \
           [(k.role, k.owner, k.key_id, k.status) for k in chain.keys]
    inst = again.active("institution").key
    assert isinstance(inst, EncryptionKeyPair)
    assert inst.exchange(EncryptionKeyPair.generate()._private.public_key())  # usable
    sig = again.active("device").key.sign(b"x")  # type: ignore[union-attr]
    chain.active("device").key._private.public_key().verify(sig, b"x")  # type: ignore[union-attr]


def test_default_parameters_are_recorded() -> None:
    assert (SCRYPT_N, SCRYPT_R, SCRYPT_P) == (2**17, 8, 1)
    locked = _chain().lock("pw", **FAST)
    assert locked["kdf"]["name"] == "scrypt" and locked["kdf"]["n"] == 2**10


def test_wrong_passphrase() -> None:
    locked = _chain().lock("right", **FAST)
    with pytest.raises(WrongPassphrase) as info:
        Keychain.unlock(locked, "wrong")
    assert info.value.status == 401


def test_nfkc_normalised_passphrase() -> None:
    locked = _chain().lock("ＡＢＣ１２３", **FAST)  # full-width, as some input methods type it
    Keychain.unlock(locked, "ABC123")


def test_empty_passphrase_refused() -> None:
    with pytest.raises(CryptoError):
        _chain().lock("", **FAST)


def test_change_passphrase() -> None:
    chain = _chain()
    locked = chain.lock("old", **FAST)
    changed = change_passphrase(locked, "old", "new", **FAST)
    assert changed["kdf"]["salt"] != locked["kdf"]["salt"]
    assert [k.key_id for k in Keychain.unlock(changed, "new").keys] == [k.key_id for k in chain.keys]
    with pytest.raises(WrongPassphrase):
        Keychain.unlock(changed, "old")
    with pytest.raises(WrongPassphrase):
        change_passphrase(locked, "nope", "new", **FAST)


@pytest.mark.parametrize("mutate", [
    lambda d: d["keys"][0].update(owner="410621100202"),   # entry moved to another owner
    lambda d: d["keys"][0].update(role="escrow"),
    lambda d: d["keys"][1].update(ct=d["keys"][1]["ct"][:-4]),
    lambda d: d["keys"].reverse() or d["keys"][0].update(nonce=d["keys"][1]["nonce"]),
    lambda d: d.pop("check"),
    lambda d: d.update(v=2),
])
def test_altered_keychain(mutate) -> None:
    locked = _chain().lock("pw", **FAST)
    mutate(locked)
    with pytest.raises(MalformedEnvelope):
        Keychain.unlock(locked, "pw")


def test_retire_and_forget() -> None:
    chain = _chain()
    old = chain.active("institution")
    new = chain.add("institution", "410621100201", EncryptionKeyPair.generate())
    chain.retire(old.key_id)
    assert chain.active("institution", "410621100201") is new
    assert chain.find("institution", active_only=False) == [old, new]
    chain.forget(old.key_id)
    assert chain.by_key_id(old.key_id) is None
    with pytest.raises(UnknownKey):
        chain.retire("x25519-nope")
    with pytest.raises(UnknownKey):
        chain.active("escrow")


def test_reprs_hide_private_keys() -> None:
    chain = _chain()
    assert "_private" not in repr(chain) and chain.keys[0].key_id in repr(chain)


@pytest.mark.parametrize("kdf", [{"n": 2**30}, {"n": 1000}, {"r": 0}, {"p": 99}, {"salt": "AAAA"}])
def test_crafted_kdf_parameters_refused(kdf: dict) -> None:
    locked = _chain().lock("pw", **FAST)
    locked["kdf"].update(kdf)
    with pytest.raises(MalformedEnvelope):
        Keychain.unlock(locked, "pw")


def test_derive_key() -> None:
    pair = EncryptionKeyPair.generate()
    a = pair.derive_key(b"node-index/name-hash")
    assert len(a) == 32 and a == pair.derive_key(b"node-index/name-hash")
    assert a != pair.derive_key(b"other") and a != EncryptionKeyPair.generate().derive_key(b"node-index/name-hash")
    assert a not in (pair._private_bytes(), pair.public_bytes)
    again = Keychain.unlock(Keychain([HeldKey("institution", "x", pair)]).lock("pw", **FAST), "pw")
    assert again.active("institution").key.derive_key(b"node-index/name-hash") == a  # type: ignore[union-attr]
    with pytest.raises(CryptoError):
        pair.derive_key(b"")
