"""Who signed a form (schemas.event_signed): the newest versions of the signed forms' events
record the signer's capacity and a thumbprint in clear and the signer's name sealed; the
versions before stay valid as received and refuse the new members (their shape is fixed)."""

from __future__ import annotations

from typing import Any

import pytest

from schemas.build import make_event
from schemas.errors import ValidationFailed
from schemas.event_signed import check_signer
from schemas.hlc import HLC
from schemas.registry import validate_open, validate_sealed, writing_version

CASE = "019c1c76e600-0000-410621100201-A1"
DEVICE = "410621100201-A1"
SIG = {"applicant_signature": "sig.png"}
CLEAR: dict[str, dict[str, Any]] = {
    "entrustment": {"channel": "offline", "service_item": "MS-001", "mode": "door",
                    "ledger_no": "DB-1", "period_end": "2026-06-30"},
    "conversion": {"ledger_no": "DB-1", "period_end": "2026-06-30"},
    "suspension": {"reason": "b", "resumption_deadline": "2026-06-30"},
    "resumption": {"cause_removed_on": "2026-03-03"},
    "completion": {},
    "termination": {"reason": "applicant_withdrew"},
}
PRIVATE: dict[str, dict[str, Any]] = {"entrustment": {"scope": "代为申请", **SIG},
                                      "conversion": SIG, "completion": SIG}


def _event(event_type: str, **clear: Any) -> dict[str, Any]:
    private = {**PRIVATE.get(event_type, {}), **clear.pop("private", {})}
    return make_event(event_type, case_id=CASE, clock=HLC(0x19C1C76E600, 1, DEVICE),
                      at="2026-03-03T10:48:00+08:00", institution="410621100201",
                      staff="staff-1", private=private, **CLEAR[event_type], **clear)


@pytest.mark.parametrize("event_type", sorted(CLEAR))
def test_the_signer_is_recorded_in_the_newest_version(event_type: str) -> None:
    doc = _event(event_type, signer="guardian", thumbprint=True,
                 private={"signer_name": "王小明"})
    assert validate_open(doc) == doc
    sealed = {k: v for k, v in doc.items() if k != "private"} | {"sealed": {"v": 1}}
    assert validate_sealed(sealed) == sealed  # the hub takes the capacity, never the name
    with pytest.raises(ValidationFailed) as exc:
        validate_open({**doc, "signer": "neighbour"})
    assert {(p.field, p.rule) for p in exc.value.problems} == {("signer", "one_of")}


@pytest.mark.parametrize("event_type", sorted(CLEAR))
def test_the_version_before_is_valid_as_received_and_has_no_signer(event_type: str) -> None:
    before = writing_version("event", event_type) - 1
    old = {**_event(event_type), "schema_version": before}
    assert validate_open(old) == old
    with pytest.raises(ValidationFailed) as exc:
        validate_open({**old, "signer": "self", "thumbprint": True})
    assert {(p.field, p.rule) for p in exc.value.problems} == {
        ("signer", "unknown_field"), ("thumbprint", "unknown_field")}
    with pytest.raises(ValidationFailed) as exc:
        validate_open({**old, "private": {**old["private"], "signer_name": "王小明"}})
    assert {(p.field, p.rule) for p in exc.value.problems} == {
        ("private.signer_name", "unknown_field")}


def test_someone_signing_for_another_is_named() -> None:
    for capacity in ("guardian", "agent", "legal_rep"):
        problems = check_signer({"signer": capacity}, {})
        assert list(problems) == ["signer_name"] and "签字人姓名" in problems["signer_name"]
        assert check_signer({"signer": capacity}, {"signer_name": "王小明"}) == {}
    assert check_signer({"signer": "self"}, {}) == {}
    assert check_signer({}, {}) == {}  # not recorded (a force-majeure suspension)
