"""design.md §3: the case header merges field by field (HLC per field); the merge is
commutative, associative and idempotent; losing values are kept in the history."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from schemas import ValidationFailed, validate_sealed
from schemas.build import set_fields
from schemas.hlc import HLC
from schemas.merge import canonical, merge, resolve
from schemas.registry import split
from schemas.sample_cases import case_histories

BASE_OPEN = next(iter(case_histories(seed=5, n=1)))[0]
_clear, _ = split(BASE_OPEN)
BASE = dict(_clear, sealed={"alg": "A256GCM", "ct": "base"})  # stored form, as the hub sees it
DEVICES = ["410621101201-A1", "410621101201-A2", "410621101-A1"]

edit = st.tuples(
    st.sampled_from(["staff", "mode", "labels", "special_groups", "sealed", "opened_at"]),
    st.integers(0, 3),  # value choice
    st.integers(0, 5),  # wall ms offset (small: ties across devices are likely)
    st.integers(0, 2),  # device
)
VALUES: dict[str, list[Any]] = {
    "staff": ["s-1", "s-2", "s-3", None],
    "mode": ["door", "online", "nearby", "door"],
    "labels": [[], ["急"], ["急", "老年"], ["复核"]],
    "special_groups": [[], ["elderly"], ["disabled"], ["elderly", "disabled"]],
    "sealed": [{"ct": "a"}, {"ct": "b"}, {"ct": "c"}, {"ct": "d"}],
    # a fixed field two revisions should never disagree on; if they do, still deterministic
    "opened_at": [f"2026-02-0{d}T09:00:00+08:00" for d in range(2, 6)],
}


def revision(edits: list[tuple[str, int, int, int]]) -> dict[str, Any]:
    doc = dict(BASE)
    wall = 1_800_000_000_000
    for field, choice, offset, dev in edits:
        value = VALUES[field][choice]
        clock = HLC(wall + offset, 0, DEVICES[dev])
        if field == "opened_at":
            doc = dict(doc, opened_at=value)
        elif field == "sealed":
            doc = set_fields(doc, {"private": None}, clock)
            doc.pop("private")
            doc["sealed"] = value
        else:
            doc = set_fields(doc, {field: value}, clock)
    return doc


revisions = st.lists(edit, max_size=6).map(revision)
SETTINGS = settings(max_examples=100, deadline=None)


@SETTINGS
@given(revisions, revisions)
def test_merge_is_commutative(a: dict[str, Any], b: dict[str, Any]) -> None:
    assert merge(a, b) == merge(b, a)


@SETTINGS
@given(revisions, revisions, revisions)
def test_merge_is_associative(a: dict[str, Any], b: dict[str, Any], c: dict[str, Any]) -> None:
    assert merge(merge(a, b), c) == merge(a, merge(b, c))


@SETTINGS
@given(revisions, revisions)
def test_merge_is_idempotent(a: dict[str, Any], b: dict[str, Any]) -> None:
    m = merge(a, b)
    assert merge(m, m) == m
    assert merge(m, a) == m and merge(m, b) == m
    assert merge(a, a) == merge(merge(a, a), a)


@SETTINGS
@given(revisions, revisions)
def test_no_value_is_lost_and_merged_header_validates(a: dict[str, Any],
                                                      b: dict[str, Any]) -> None:
    m = merge(a, b)
    validate_sealed(m)
    kept = {(h["field"], canonical(h["value"])) for h in m["history"]}
    for doc in (a, b):
        for f in ("staff", "mode", "labels", "special_groups"):
            assert (f, canonical(doc[f])) in kept or canonical(m[f]) == canonical(doc[f])
        assert ("private", canonical({"sealed": doc["sealed"]})) in kept or \
            m["sealed"] == doc["sealed"]


@SETTINGS
@given(st.lists(revisions, min_size=1, max_size=4), st.randoms(use_true_random=False))
def test_resolve_is_independent_of_revision_order(revs: list[dict[str, Any]], rnd: Any) -> None:
    shuffled = list(revs)
    rnd.shuffle(shuffled)
    assert resolve(revs) == resolve(shuffled)


def test_later_clock_wins_per_field_and_loser_is_kept() -> None:
    """Village edits staff at t=1, town edits mode at t=2 and staff at t=0: per field."""
    a = set_fields(BASE, {"staff": "s-village"}, HLC(1_800_000_000_001, 0, DEVICES[0]))
    b = set_fields(BASE, {"mode": "door"}, HLC(1_800_000_000_002, 0, DEVICES[2]))
    b = set_fields(b, {"staff": "s-town"}, HLC(1_800_000_000_000, 0, DEVICES[2]))
    m = merge(a, b)
    assert m["staff"] == "s-village" and m["mode"] == "door"
    assert {"field": "staff", "value": "s-town", "hlc": b["clocks"]["staff"]} in m["history"]
    assert "_rev" not in m and json.dumps(m)


def test_merge_refuses_other_types_and_documents() -> None:
    with pytest.raises(ValidationFailed):
        merge(BASE, dict(BASE, _id="case:other"))
    with pytest.raises(ValidationFailed):
        merge(BASE, dict(BASE, type="institution"))
    with pytest.raises(ValidationFailed):
        set_fields(BASE, {"case_no": "x"}, HLC(1, 0, DEVICES[0]))  # fixed at opening


def test_open_form_is_refused_so_history_never_holds_plaintext() -> None:
    a = set_fields(BASE_OPEN, {"private": dict(BASE_OPEN["private"], phone="13900000000")},
                   HLC(1_800_000_000_001, 0, DEVICES[0]))
    with pytest.raises(ValidationFailed) as e:
        merge(a, BASE_OPEN)
    assert e.value.problems[0].rule == "merge_sealed_only"


def test_set_fields_keeps_the_sealed_unit_it_replaces_never_an_open_one():
    """5 d, 11.1 e: what a correction replaced stays in the archive (hub.header_kept)."""
    header = {k: v for k, v in BASE_OPEN.items() if k != "private"}
    stored = {**header, "sealed": {"alg": "A256GCM", "ct": "old"}}
    clock = HLC(1_900_000_000_000, 0, "410621101201-A1")
    edited = set_fields(stored, {"private": {"applicant_name": "新名"}}, clock)
    assert {"field": "private", "value": {"sealed": {"alg": "A256GCM", "ct": "old"}},
            "hlc": header["clocks"]["private"]} in edited["history"]
    assert "sealed" not in edited  # the stale envelope goes; the caller seals the new part
    opened = {**header, "private": {"applicant_name": "旧名"}}
    again = set_fields(opened, {"private": {"applicant_name": "新名"}}, clock)
    assert "旧名" not in str(again["history"])  # never personal data in clear


def test_a_header_opened_with_its_private_clock_alone_merges_valid() -> None:
    """node.casework opens a header clocking only ``private`` (no other field was ever
    edited); merging two corrections of it clocked every other field with "", no clock,
    which validate_sealed refuses: the hub stored the resolution, and the laptops could
    validate no later edit of it."""
    base = dict(BASE, clocks={"private": BASE["clocks"]["private"]}, history=[])
    a = dict(set_fields(base, {"private": None}, HLC(1_800_000_000_000, 0, DEVICES[0])),
             sealed={"ct": "a"})
    b = dict(set_fields(base, {"private": None}, HLC(1_800_000_000_001, 0, DEVICES[1])),
             sealed={"ct": "b"})
    for doc in (a, b):
        doc.pop("private")
    merged = resolve([a, b])
    validate_sealed(merged)
    assert set(merged["clocks"]) == {"private"}
