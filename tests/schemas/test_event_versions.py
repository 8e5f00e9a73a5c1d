"""Free text sealed from schema_version 2 (7.2.2.2, design.md §2), version 1 valid as received.

Version 2 of submitted, decision, completion and termination keeps their free text
(receipt and document numbers, materials handed back) in ``private``; version 1, written by
nodes already deployed, kept it in clear and must still be accepted exactly as signed.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from schemas.build import make_event
from schemas.errors import ValidationFailed
from schemas.hlc import HLC, pack
from schemas.registry import member, validate, validate_open, validate_sealed, writing_version
from schemas.sample_cases import case_histories
from sync.crypto import BadSignature, DecryptionFailed, new_keyring, sign_document, verify_document
from tests.schemas.helpers import CaseBuilder
from tests.sync.crypto.world import VILLAGE_A, make_world

DEVICE = f"{VILLAGE_A}-A1"
CASE = pack(HLC(0x19C1C76E580, 0, DEVICE))
#: what moved, with a value a clerk might type: a person's name and ID number
MOVED: dict[str, dict[str, Any]] = {
    "submitted": {"reference": "张三 410621199001011234"},
    "decision": {"document_no": "张三 不动产权第0012345号"},
    "completion": {"materials_returned": ["张三身份证原件"], "documents": ["张三营业执照"]},
    "termination": {"materials_returned": ["张三户口簿"]},
}
CLEAR: dict[str, dict[str, Any]] = {
    "submitted": {"department": "民政局", "channel": "online"},
    "decision": {"department": "民政局", "outcome": "approved"},
    "completion": {},
    "termination": {"reason": "applicant_withdrew"},
}
SIGNATURE = {"applicant_signature": "sig-form-b.png"}
#: form B is signed by the applicant (10.1.5)
SIGNED = {"completion": SIGNATURE, "termination": SIGNATURE}


def _new(event_type: str, **private: Any) -> dict[str, Any]:
    """The version this software writes, the moved members in ``private``."""
    return make_event(event_type, case_id=CASE, clock=HLC(0x19C1C76E600, 0, DEVICE),
                      at="2026-03-03T10:48:00+08:00", institution=VILLAGE_A, staff="staff-1",
                      private={**SIGNED.get(event_type, {}), **private}, **CLEAR[event_type])


def _old(event_type: str) -> dict[str, Any]:
    """Version 1 as an older node wrote it: the same members in clear."""
    doc = _new(event_type)
    return {**doc, "schema_version": 1, **MOVED[event_type]}


def _problems(exc: pytest.ExceptionInfo[ValidationFailed]) -> set[tuple[str, str]]:
    return {(p.field, p.rule) for p in exc.value.problems}


@pytest.mark.parametrize("event_type", sorted(MOVED))
def test_new_events_are_written_in_version_2_with_the_text_in_private(event_type: str) -> None:
    doc = _new(event_type, **MOVED[event_type])
    # 2, or 3 for form B's events, which record their signer since (schemas.event_signed)
    assert doc["schema_version"] == writing_version("event", event_type) >= 2
    for name, value in MOVED[event_type].items():
        assert name not in doc and doc["private"][name] == value
        assert member(doc, name) == value


@pytest.mark.parametrize("event_type", sorted(MOVED))
@pytest.mark.parametrize("check", [validate_open, validate_sealed])
def test_version_2_refuses_the_text_in_clear(event_type: str, check: Any) -> None:
    """The node's check (open form) and the hub's (sealed form) name the field and the rule."""
    doc = _new(event_type)
    if check is validate_sealed:
        doc = {k: v for k, v in doc.items() if k != "private"} | {"sealed": {"v": 1}}
    for name, value in MOVED[event_type].items():
        with pytest.raises(ValidationFailed) as exc:
            check({**doc, name: value})
        assert _problems(exc) == {(name, "must_be_sealed")}
        problem = exc.value.problems[0]
        assert "must be sealed" in problem.message_en and "加密" in problem.message_zh
    # every member named at once, with another fault beside them
    with pytest.raises(ValidationFailed) as exc:
        check({**doc, **MOVED[event_type], "at": "yesterday"})
    assert _problems(exc) == {*((n, "must_be_sealed") for n in MOVED[event_type]),
                              ("at", "datetime")}


@pytest.mark.parametrize("event_type", sorted(MOVED))
def test_version_1_is_accepted_as_received(event_type: str) -> None:
    old = _old(event_type)
    assert validate_open(old) == old  # stored exactly as signed
    sealed = {k: v for k, v in old.items() if k != "private"} | {"sealed": {"v": 1}}
    assert validate_sealed(sealed) == sealed
    for name, value in MOVED[event_type].items():
        assert member(old, name) == value
    # ...but in version 1 the private part has no such member
    moved_in = {**old, "private": {**old["private"], **MOVED[event_type]}}
    for name in MOVED[event_type]:
        moved_in.pop(name)
    with pytest.raises(ValidationFailed) as exc:
        validate_open(moved_in)
    assert _problems(exc) == {(f"private.{n}", "unknown_field") for n in MOVED[event_type]}


def test_unknown_versions_are_refused_naming_the_accepted_ones() -> None:
    with pytest.raises(ValidationFailed) as exc:
        validate({**_new("completion"), "schema_version": 4})
    assert _problems(exc) == {("schema_version", "schema_version")}
    assert "1 or 2 or 3" in exc.value.problems[0].message_en
    # a type that did not change has one version only
    c = CaseBuilder()
    consult = c.consult("2026-02-02T09:00")
    with pytest.raises(ValidationFailed) as exc:
        validate({**consult, "schema_version": 2})
    assert _problems(exc) == {("schema_version", "schema_version")}
    assert writing_version("event", "consultation") == 1 == consult["schema_version"]


def test_sample_cases_hold_no_free_text_in_clear() -> None:
    for history in case_histories(seed=3, n=10):
        for doc in history[1:]:
            for name in MOVED.get(doc["event_type"], {}):
                assert name not in doc, (doc["event_type"], name)


@pytest.mark.parametrize("version", [1, 2])
def test_sealed_and_signed_with_no_special_case(version: int) -> None:
    """sync.crypto seals then signs either version; the signature verifies, the envelope
    opens, and relabelling the version breaks both (the AEAD binds schema_version)."""
    world = make_world()
    station = world[VILLAGE_A]
    _, key = new_keyring(CASE, VILLAGE_A, world.directory(), station.signer)
    doc = _old("completion") if version == 1 else _new("completion", **MOVED["completion"])
    doc = {**doc, "device": station.device_id, "hlc": pack(HLC(0x19C1C76E600, 0, station.device_id))}
    doc["_id"] = f"event:{CASE}:{doc['hlc']}"
    stored = sign_document(key.seal(validate_open(doc)), station.signer)
    assert validate_sealed(stored) == stored
    verify_document(stored, world.directory())
    opened = key._open(stored)
    assert opened == doc["private"]
    text = json.dumps(stored, ensure_ascii=False)
    assert ("张三身份证原件" in text) == (version == 1)  # in clear only in version 1
    relabelled = {**stored, "schema_version": 3 - version}
    with pytest.raises(BadSignature):
        verify_document(relabelled, world.directory())
    with pytest.raises(DecryptionFailed):
        key._open(relabelled)
