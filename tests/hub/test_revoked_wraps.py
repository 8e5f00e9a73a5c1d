"""A lost laptop does not take its station's cases with it (design.md §5).

The hub checks a keyring's wraps when they arrive. After the laptop that made them is
revoked, the station's other laptop must still open those cases and hand them up (a new
keyring revision that keeps the old wraps), while a wrap the revoked laptop signs now is
refused like any write of a revoked device.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest

from tests.hub.conftest import TOWN, VILLAGE_A, make_world


@pytest.fixture
def station(tmp_path: Path) -> Any:
    """The world, plus a second laptop A2 of village A sharing its institution key."""
    from hub import admin
    from hub.auth import Device
    from ops.demo_node import SimNode

    world = make_world(tmp_path)
    a1 = world.node(VILLAGE_A)
    enr = admin.enroll_device(world.hub, institution_code=VILLAGE_A, short="A2")
    a2 = SimNode(tmp_path / "a2", enr)
    a2.adopt_institution_key(a1.keychain.active("institution").key)
    admin.register_keys(world.hub, enr["device_id"], a2.public_entries())
    a2._remote = world.hub.view(Device(enr["device_id"], VILLAGE_A, {}))
    try:
        yield world, a1, a2
    finally:
        a2.store.close()
        for node in world.nodes.values():
            node.store.close()
        world.hub.close()


def test_the_other_laptop_opens_and_hands_up_a_case_the_revoked_one_wrapped(station: Any
                                                                            ) -> None:
    from hub import admin
    from sync.crypto import CryptoError, unlock_case_key

    world, a1, a2 = station
    case_id = a1.new_case()
    a1.sync()
    a2.sync()
    admin.revoke_device(world.hub, a1.device_id)
    time.sleep(1.1)  # the hub re-reads the directory at most once a second (DirectoryCache)
    a2.sync()
    ring = a2.store.get(f"keyring:{case_id}")
    directory = a2.directory()
    assert a1.device_id in {d for d in directory.devices if directory.devices[d].revoked_at}
    # Checked against today's directory alone, A1's wrap no longer verifies ...
    with pytest.raises(CryptoError, match="revoked"):
        unlock_case_key(ring, a2.keychain, directory)
    # ... but it came through the hub, which checked it when it arrived.
    assert unlock_case_key(ring, a2.keychain, directory, allow_revoked=True).case_id == case_id
    # The hand-up adds A2's wrap for the town and keeps A1's: the hub takes it.
    import ops.demo_node as demo_node

    original = demo_node.unlock_case_key
    demo_node.unlock_case_key = lambda *a, **k: original(*a, **k, allow_revoked=True)  # type: ignore[assignment]
    try:
        a2.hand_up(case_id, TOWN)
    finally:
        demo_node.unlock_case_key = original  # type: ignore[assignment]
    result = a2.sync()
    assert result["refused"] == 0, result
    stored = world.hub.stores.main.get(f"keyring:{case_id}")
    assert any(w["institution"] == TOWN for g in stored["data_keys"] for w in g["wraps"])
    assert world.hub.indexer.case_scopes(case_id) >= {TOWN}


def test_a_wrap_the_revoked_laptop_signs_now_is_refused(station: Any) -> None:
    from hub import admin
    from hub.auth import Device
    from sync.crypto import add_recipient, unlock_case_key

    world, a1, a2 = station
    case_id = a1.new_case()
    a1.sync()
    directory = a1.directory()
    ring = a1.store.get(f"keyring:{case_id}")
    key = unlock_case_key(ring, a1.keychain, directory)
    admin.revoke_device(world.hub, a1.device_id)
    time.sleep(1.1)  # the hub re-reads the directory at most once a second (DirectoryCache)
    # The thief's laptop wraps the case for the town, signed by the revoked key, and
    # pushes it through A2's view (A1's own credentials are refused outright).
    forged = add_recipient(ring, key, TOWN, directory, a1.signer)
    forged["_rev"] = ring["_rev"]
    view = world.hub.view(Device(a2.device_id, VILLAGE_A, {}))
    (row,) = view.bulk_docs([forged])
    assert row["error"] == "forbidden" and "signature" in row["reason"]
    assert world.hub.stores.main.get(f"keyring:{case_id}")["_rev"] == ring["_rev"]


def test_a_directory_written_during_a_slow_read_is_seen_within_max_age(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """DirectoryCache aged its copy from the end of the read: a revocation written while
    another request thread was reading the directory (here, half a second) was unseen a
    whole max_age after the write, which the docstring promises, and `time.sleep(1.1)`
    after a revocation (above) assumes."""
    from types import SimpleNamespace

    from hub import signatures
    from hub.signatures import DirectoryCache

    clock = [100.0]
    stored = {"rev": "1-a"}

    class Main:
        def all_docs(self, keys: list[str]) -> dict[str, Any]:
            return {"rows": [{"id": keys[0], "value": {"rev": stored["rev"]}}]}

        def get(self, docid: str) -> dict[str, Any]:
            answer = {"_id": docid, "_rev": stored["rev"]}
            clock[0] += 0.5  # a slow answer; meanwhile the device is revoked
            stored["rev"] = "2-b"
            return answer

    stores = SimpleNamespace(main=Main(), private=SimpleNamespace(
        get=lambda docid: {"root_keys": []}))
    monkeypatch.setattr(signatures, "time", SimpleNamespace(monotonic=lambda: clock[0]))
    monkeypatch.setattr(signatures, "verify_directory", lambda doc, keys: doc["_rev"])
    cache = DirectoryCache(stores, max_age=1.0)  # type: ignore[arg-type]
    assert cache.get() == "1-a"
    clock[0] = 100.0 + 1.0  # max_age after the read began, and so after the write
    assert cache.get() == "2-b"
