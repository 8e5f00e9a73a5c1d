"""Bad input: every schema rejects missing fields, wrong types and unknown fields, naming the
field and the rule in English and Chinese (docs/CONVENTIONS.md, "Errors")."""

from __future__ import annotations

from typing import Any

import pytest

from schemas import EVENT_TYPES, ValidationFailed, sample, schema_for, validate, validate_sealed
from schemas.registry import private_schema_for, split
from schemas.sample_cases import case_histories
from tests.schemas.helpers import TOWN, VILLAGE, CaseBuilder


def _samples() -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    insts = sample.institutions()
    for doc in insts[:2] + sample.devices(insts[:1]) + sample.catalog()[:1] + \
            sample.calendars(range(2026, 2027)):
        out.setdefault(doc["type"], doc)
    for history in case_histories(seed=1, n=40):  # seed 1 includes a complaint
        out.setdefault("case", history[0])
        for ev in history[1:]:
            out.setdefault(f"event/{ev['event_type']}", ev)
    c = CaseBuilder().proxy_in_handling()
    c.hand("hand_up", "2026-03-03T09:00", VILLAGE, TOWN)
    out["event/hand_down"] = c.hand("hand_down", "2026-03-04T09:00", TOWN, VILLAGE)
    late = c.make("submitted", "2026-03-04T10:00", institution=TOWN, department="民政局",
                  channel="online")  # the town, not yet synced: refused by the fold
    c.events.append(late)
    out["event/review_resolved"] = c.ev("review_resolved", "2026-03-05T09:00",
                                        institution=TOWN, events=[late["hlc"]],
                                        decision="kept_as_record", private={"note": "已核实"})
    w = CaseBuilder().assist_in_handling()  # 撤销办结 (schemas.withdraw)
    done = w.complete("2026-03-05T09:00")
    out["event/completion_withdrawn"] = w.ev(
        "completion_withdrawn", "2026-03-05T10:00", completion=done["hlc"],
        reason="wrong_case", private={"details": "点错了办件"})
    return out


SAMPLES = _samples()
KINDS = sorted(SAMPLES)


def test_every_event_type_has_a_sample() -> None:
    assert {k.split("/")[1] for k in KINDS if k.startswith("event/")} == set(EVENT_TYPES)


def _problems(doc: dict[str, Any]) -> set[tuple[str, str]]:
    with pytest.raises(ValidationFailed) as e:
        validate(doc)
    for p in e.value.problems:
        assert p.message_en and p.message_zh and p.field
    return {(p.field, p.rule) for p in e.value.problems}


def _required(kind: str) -> list[str]:
    doc_type, _, event_type = kind.partition("/")
    cls = schema_for(doc_type, event_type or None)
    return sorted(n if f.data_key is None else f.data_key
                  for n, f in cls().fields.items() if f.required)


@pytest.mark.parametrize("kind", KINDS)
def test_sample_is_valid(kind: str) -> None:
    assert validate(SAMPLES[kind]) == SAMPLES[kind]


@pytest.mark.parametrize("kind", KINDS)
def test_each_missing_required_field_is_named(kind: str) -> None:
    doc = SAMPLES[kind]
    for name in _required(kind):
        if name in ("type", "event_type"):
            continue  # dispatch keys: see test_unknown_type
        bad = {k: v for k, v in doc.items() if k != name}
        assert (name, "required") in _problems(bad), name


@pytest.mark.parametrize("kind", KINDS)
def test_each_wrong_type_is_named(kind: str) -> None:
    doc = SAMPLES[kind]
    for name in _required(kind):
        if name in ("type", "event_type", "schema_version"):
            continue
        wrong: Any = 12345 if isinstance(doc[name], str | list | dict | bool) else "x"
        got = _problems(dict(doc, **{name: wrong}))
        assert any(f == name or f.startswith(name + ".") for f, _ in got), (name, got)


@pytest.mark.parametrize("kind", KINDS)
def test_unknown_field_and_version(kind: str) -> None:
    doc = SAMPLES[kind]
    assert ("colour", "unknown_field") in _problems(dict(doc, colour="red"))
    assert ("schema_version", "schema_version") in _problems(dict(doc, schema_version=99))


@pytest.mark.parametrize("kind", [k for k in KINDS if k.startswith("event/") or k == "case"])
def test_private_part_checked_and_sealed_form(kind: str) -> None:
    doc = SAMPLES[kind]
    doc_type, _, event_type = kind.partition("/")
    assert private_schema_for(doc_type, event_type or None) is not None
    got = _problems(dict(doc, private={"colour": "red"}))
    assert ("private.colour", "unknown_field") in got
    clear, _ = split(doc)
    assert validate_sealed(dict(clear, sealed={"ct": "…"}))["sealed"] == {"ct": "…"}
    got = _problems(dict(clear, sealed={"ct": "…"}, private={}))
    assert ("sealed", "exclusive") in got


def test_reference_types_refuse_private_parts() -> None:
    assert ("private", "no_private_part") in _problems(dict(SAMPLES["institution"], private={}))


def test_unknown_type() -> None:
    assert ("type", "unknown_type") in _problems({"type": "kase"})
    assert ("type", "required") in _problems({"_id": "x"})
    ev = SAMPLES["event/consultation"]
    assert ("event_type", "unknown_event_type") in _problems(dict(ev, event_type="teleport"))
    assert ("(document)", "type") in _problems([])  # type: ignore[arg-type]


def test_rule_specific_messages() -> None:
    ev = SAMPLES["event/suspension"]
    got = _problems(dict(ev, reason="e"))
    assert ("reason", "one_of") in got
    ev = SAMPLES["event/rating"]
    with pytest.raises(ValidationFailed) as e:
        validate(dict(ev, level="good"))
    p = e.value.problems[0]
    assert p.field == "level" and p.rule == "one_of"
    assert "very_satisfied（非常满意）" in p.message_zh and "very_satisfied" in p.message_en
    inst = SAMPLES["institution"]
    assert ("tier", "tier_code") in _problems(dict(inst, tier="village"))
    assert ("at", "datetime") in _problems(dict(SAMPLES["event/acceptance"],
                                                at="2026-03-02T09:00:00"))
