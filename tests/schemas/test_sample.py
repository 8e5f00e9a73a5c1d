"""The sample generator: case histories covering the brief, and Hebi's places."""

from __future__ import annotations

from collections import Counter

from schemas import sample, validate
from schemas.fold import fold
from schemas.sample_cases import SCENARIOS, case_histories
from schemas.vocab import MODES

HISTORIES = list(case_histories(seed=4, n=3 * len(SCENARIOS)))
ITEMS = {i["code"]: i for i in sample.catalog()}


def test_sample_generator_is_deterministic_and_covers_the_brief() -> None:
    again = list(case_histories(seed=4, n=3 * len(SCENARIOS)))
    assert again == HISTORIES
    headers = [h[0] for h in HISTORIES]
    assert {h["focus_area"] for h in headers} == {"enterprise", "livelihood"}
    assert {"elderly", "disabled"} <= {g for h in headers for g in h["special_groups"]}
    assert {h["mode"] for h in headers} == set(MODES)
    states = Counter(fold(h[1:]).status for h in HISTORIES)
    assert {"consulted", "handling", "terminated", "archived"} <= set(states)
    for h in HISTORIES:
        for doc in h:
            validate(doc)
        assert not fold(h[1:]).needs_review


def test_hebi_places() -> None:
    insts = sample.institutions()
    names = {i["name"] for i in insts}
    for county in ("淇滨区", "山城区", "鹤山区", "浚县", "淇县"):
        assert f"{county}政务服务中心" in names
    regions = " ".join(i["region"] for i in insts)
    assert "浚县善堂镇" in regions and "淇县北阳镇" in regions
    tiers = Counter(i["tier"] for i in insts)
    assert tiers["city"] == 1 and tiers["county"] == 5 and tiers["village"] >= 36
    parents = {i["code"] for i in insts}
    assert all(i.get("parent") in parents for i in insts if i["tier"] != "city")
