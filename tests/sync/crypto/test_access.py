"""Every decryption of personal data goes with a signed access event."""

from __future__ import annotations

import datetime as dt

import pytest

from schemas import validate_sealed
from sync.crypto import (
    AccessNotLogged,
    CryptoError,
    DecryptionFailed,
    new_keyring,
    open_attachment,
    open_case,
    open_private,
    unlock_case_key,
    verify_document,
    with_private,
)
from tests.sync.crypto.world import TOWN, VILLAGE_A, World

CASE = "019ac1f2e3a0-0000-410621100201-A1"


def _docs(world: World):
    directory = world.directory()
    ring, key = new_keyring(CASE, VILLAGE_A, directory, world[VILLAGE_A].signer)
    docs = [key.seal({"_id": f"event:{CASE}:{i}", "type": "event", "event_type": "consultation",
                      "schema_version": 1, "private": {"question": f"问题{i}"}}) for i in range(3)]
    return directory, ring, key, docs


def test_open_private_logs_then_releases(world: World) -> None:
    directory, _ring, key, docs = _docs(world)
    log: list[dict] = []
    actor = world[VILLAGE_A].actor("staff-7")
    private = open_private(docs[0], key, purpose="handling", on_access=log.append, actor=actor)
    assert private == {"question": "问题0"}
    [event] = log
    assert event["type"] == "event" and event["event_type"] == "access"
    assert event["case_id"] == CASE and event["fields_read"] == ["question"]
    assert event["staff"] == "staff-7" and event["institution"] == VILLAGE_A
    assert event["device"] == world[VILLAGE_A].device_id
    assert event["purpose"] == "handling" and dt.datetime.fromisoformat(event["at"]).tzinfo
    assert event["_id"] == f"event:{CASE}:{event['hlc']}"
    assert "sealed" in event and "private" not in event
    assert validate_sealed(event) == event  # the hub's check accepts it unchanged
    assert verify_document(event, directory).device_id == world[VILLAGE_A].device_id
    open_private(docs[1], key, purpose="printing", on_access=log.append, actor=actor)
    assert log[1]["hlc"] > log[0]["hlc"]  # unique, ordered ids


def test_open_case_one_event(world: World) -> None:
    _d, _ring, key, docs = _docs(world)
    log: list[dict] = []
    opened = open_case(docs + [{"_id": "case:x", "type": "case"}], key, purpose="supervision",
                       on_access=log.append, actor=world[VILLAGE_A].actor())
    assert opened == {d["_id"]: {"question": f"问题{i}"} for i, d in enumerate(docs)}
    assert len(log) == 1 and log[0]["fields_read"] == ["question"]
    assert open_case([{"_id": "case:x", "type": "case"}], key, purpose="supervision",
                     on_access=log.append, actor=world[VILLAGE_A].actor()) == {}
    assert len(log) == 1


def test_failed_log_releases_nothing(world: World) -> None:
    _d, _ring, key, docs = _docs(world)

    def broken_store(_event: dict) -> None:
        raise OSError("disk full")

    with pytest.raises(AccessNotLogged) as info:
        open_private(docs[0], key, purpose="handling", on_access=broken_store, actor=world[VILLAGE_A].actor())
    assert "问题" not in str(info.value)


@pytest.mark.parametrize("purpose", ["", " ", "查看", "x", None, "Handling", "casework"])
def test_purpose_required(world: World, purpose) -> None:
    _d, _ring, key, docs = _docs(world)
    log: list[dict] = []
    with pytest.raises(CryptoError) as info:
        open_private(docs[0], key, purpose=purpose, on_access=log.append, actor=world[VILLAGE_A].actor())
    assert "purpose" in info.value.reason and log == []


def test_on_access_required(world: World) -> None:
    _d, _ring, key, docs = _docs(world)
    with pytest.raises(CryptoError):
        open_private(docs[0], key, purpose="handling", on_access=None, actor=world[VILLAGE_A].actor())  # type: ignore[arg-type]


def test_failed_decryption_logs_nothing(world: World) -> None:
    _d, _ring, key, docs = _docs(world)
    docs[0]["event_type"] = "tampered"
    log: list[dict] = []
    with pytest.raises(DecryptionFailed):
        open_private(docs[0], key, purpose="handling", on_access=log.append, actor=world[VILLAGE_A].actor())
    assert log == []


def test_note_is_sealed(world: World) -> None:
    directory, ring, key, docs = _docs(world)
    log: list[dict] = []
    open_private(docs[0], key, purpose="audit", note="申请人张三来电投诉", on_access=log.append,
                 actor=world[VILLAGE_A].actor())
    event = log[0]
    assert "private" not in event and "张三" not in str(event)
    verify_document(event, directory)
    assert key._open(event) == {"note": "申请人张三来电投诉"}


def test_attachment_access(world: World) -> None:
    directory, ring, key, docs = _docs(world)
    blob = key.seal_attachment(b"%PDF scan", docs[0]["_id"], "form-c.pdf")
    log: list[dict] = []
    from sync.crypto import add_recipient

    town_key = unlock_case_key(add_recipient(ring, key, TOWN, directory, world[VILLAGE_A].signer),
                               world[TOWN].keychain, directory)
    data = open_attachment(blob, docs[0]["_id"], "form-c.pdf", town_key, purpose="supervision",
                           on_access=log.append, actor=world[TOWN].actor())
    assert data == b"%PDF scan"
    assert log[0]["fields_read"] == ["form-c.pdf"] and log[0]["institution"] == TOWN
    assert log[0]["device"] == world[TOWN].device_id


def test_with_private() -> None:
    doc = {"_id": "a", "sealed": {"v": 1}}
    assert with_private(doc, {"x": 1}) == {"_id": "a", "private": {"x": 1}}
