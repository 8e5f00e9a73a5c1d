"""Document schemas: every type validates its sample data; bad input names the field and rule."""

from __future__ import annotations

import random
from typing import Any

import pytest

from schemas import (
    UnknownType,
    ValidationFailed,
    join,
    private_schema_for,
    sample,
    split,
    validate,
    validate_open,
    validate_sealed,
)
from schemas.build import make_case, make_event
from schemas.hlc import HLC

DEV = "410621101201-A1"
INST = "410621101201"


def _case() -> dict:
    rng = random.Random(7)
    return make_case(clock=HLC(1_770_000_000_000, 0, DEV), case_no=f"{INST}-2026-A1-00001",
                     institution=INST, path=["410600", "410621", "410621101", INST], device=DEV,
                     opened_at="2026-02-10T09:00:00+08:00", service_type="assist", mode="nearby",
                     focus_area="livelihood", applicant_kind="person",
                     private=sample.person(rng, elderly=True), special_groups=["elderly"])


def _consultation(**over: Any) -> dict:
    case = _case()
    return make_event("consultation", case_id=case["case_id"],
                      clock=HLC(1_770_000_000_500, 0, DEV), at="2026-02-10T09:05:00+08:00",
                      institution=INST, channel="window", answered=False,
                      private={"question": "高龄津贴怎么申请？"}, **over)


def _problems(exc: ValidationFailed) -> set[tuple[str, str]]:
    return {(p.field, p.rule) for p in exc.problems}


def test_reference_samples_validate() -> None:
    insts = sample.institutions()
    docs = insts + sample.devices(insts) + sample.catalog() + sample.calendars()
    for doc in docs:
        assert validate(doc) == doc  # no defaults inserted: stored exactly as signed
    assert {d["tier"] for d in insts} == {"city", "county", "town", "village"}
    assert len(sample.catalog()) >= 30
    assert {d["focus_area"] for d in sample.catalog()} == {"enterprise", "livelihood"}


def test_split_join_roundtrip_and_sealed_form() -> None:
    ev = _consultation()
    clear, private = split(ev)
    assert "private" not in clear and private == {"question": "高龄津贴怎么申请？"}
    assert join(clear, private) == ev
    stored = dict(clear, sealed={"alg": "A256GCM", "ct": "…"})
    assert validate_sealed(stored) == stored
    with pytest.raises(ValidationFailed) as e:
        validate_sealed(clear)  # no envelope
    assert ("sealed", "required") in _problems(e.value)
    with pytest.raises(ValidationFailed) as e:
        validate_sealed(dict(ev))  # plaintext must never be stored
    assert ("private", "not_sealed") in _problems(e.value)


def test_private_schema_declared_per_type() -> None:
    assert private_schema_for("institution") is None
    assert private_schema_for("case") is not None
    assert "question" in private_schema_for("event", "consultation")().fields  # type: ignore[misc]


def test_wrong_types_missing_fields_unknown_fields_named() -> None:
    ev = _consultation()
    bad = dict(ev, channel=3, answered="yes", surprise=1)
    del bad["at"]
    with pytest.raises(ValidationFailed) as e:
        validate(bad)
    got = _problems(e.value)
    assert {("channel", "type"), ("answered", "type"), ("at", "required"),
            ("surprise", "unknown_field")} <= got
    for p in e.value.problems:
        assert p.message_zh and p.message_en
    assert e.value.status == 400 and e.value.as_json()["error"] == "bad_request"


def test_private_part_is_validated_with_path() -> None:
    ev = _consultation()
    ev["private"] = {"question": 5}
    with pytest.raises(ValidationFailed) as e:
        validate_open(ev)
    assert ("private.question", "type") in _problems(e.value)


def test_unknown_types_refused() -> None:
    with pytest.raises(UnknownType) as e:
        validate({"type": "kase", "_id": "x", "schema_version": 1})
    assert e.value.problems[0].field == "type"
    with pytest.raises(UnknownType) as e:
        validate(dict(_consultation(), event_type="teleport"))
    assert e.value.problems[0].rule == "unknown_event_type"


def test_event_id_must_match_case_and_clock() -> None:
    ev = dict(_consultation(), _id="event:whatever")
    with pytest.raises(ValidationFailed) as e:
        validate(ev)
    assert ("_id", "doc_id") in _problems(e.value)


def test_nested_list_paths_are_named() -> None:
    item = sample.catalog()[0]
    bad = dict(item, materials=[dict(item["materials"][0], how_to_obtain=7)])
    with pytest.raises(ValidationFailed) as e:
        validate(bad)
    assert ("materials.0.how_to_obtain", "type") in _problems(e.value)
