"""The schemas accept what sync.crypto makes: a real keyring, and sealed + signed documents of
a sample case pass :func:`schemas.validate_sealed` (the hub's check); opening the envelope and
:func:`schemas.join` give back the open form (split/join mirror sealing)."""

from __future__ import annotations

from schemas import join, split, validate_sealed
from schemas.sample_cases import case_histories
from sync.crypto import new_keyring, sign_document
from tests.sync.crypto.world import VILLAGE_A, make_world


def test_real_keyring_and_sealed_signed_documents_validate() -> None:
    world = make_world()
    history = next(iter(case_histories(seed=8, n=3)))
    case_id = history[0]["case_id"]
    ring, key = new_keyring(case_id, VILLAGE_A, world.directory(), world[VILLAGE_A].signer)
    assert validate_sealed(ring) == ring
    for doc in history:
        sealed = key.seal(doc)
        if doc["type"] == "event":
            sealed = sign_document(sealed, world[VILLAGE_A].signer)
            assert sealed["sig"]
        assert "private" not in sealed
        assert validate_sealed(sealed) == sealed  # stored exactly as signed
        clear, private = split(doc)
        # the envelope holds exactly the private part (sync.crypto's internal primitive)
        assert key._open(sealed) == private
        assert join({k: v for k, v in sealed.items() if k != "sig"}, private) == doc
