"""Forms A–E and the one-time notification (Appendices A–E, 3, 10.1.4); the sample generator."""

from __future__ import annotations

from collections import Counter

from schemas import sample, validate
from schemas.fold import fold
from schemas.forms import FORMS, form_b, form_d
from schemas.sample_cases import SCENARIOS, case_histories
from schemas.vocab import MODES

HISTORIES = list(case_histories(seed=4, n=3 * len(SCENARIOS)))
ITEMS = {i["code"]: i for i in sample.catalog()}


def _forms() -> list[dict]:
    out = []
    for history in HISTORIES:
        header, events = history[0], history[1:]
        for ev in events:
            if ev["event_type"] in FORMS:
                state = fold([e for e in events if e["hlc"] <= ev["hlc"]])
                out.append(FORMS[ev["event_type"]](state, header, ev,
                                                   item=ITEMS[header["service_item"]]))
    return out


def test_every_form_is_produced_with_labels_and_values() -> None:
    forms = _forms()
    assert {f["form"] for f in forms} == {"A", "B", "C", "D", "E", "N"}
    for f in forms:
        assert f["title_zh"] and f["clause"] and f["number"]
        keys = [x["key"] for x in f["fields"]]
        assert len(keys) == len(set(keys))
        for x in f["fields"]:
            assert x["label_zh"] and x["label_en"] and isinstance(x["value"], str)
        common = {x["key"]: x["value"] for x in f["fields"]}
        assert common["case_no"] == f["number"] and common["applicant"]
        assert common["department"] and common["service_type"] in ("帮办", "代办")
        assert f["signatures"][0]["key"] == "applicant"


def test_form_d_names_the_reason_and_resumption_deadline() -> None:
    """10.2.5.1 a–d and 10.2.5.2 on the suspension slip."""
    for history in HISTORIES:
        events = history[1:]
        for ev in events:
            if ev["event_type"] == "suspension":
                f = form_d(fold(events[: events.index(ev) + 1]), history[0], ev)
                values = {x["key"]: x["value"] for x in f["fields"]}
                assert values["reason"].startswith(ev["reason"] + "）")
                assert values["resumption_deadline"].endswith("日")
                assert "10.2.5.2" in values["notice"]
                return
    raise AssertionError("no suspension in the samples")


def test_form_b_records_hub_termination_without_signature() -> None:
    for history in HISTORIES:
        ev = history[-1]
        if ev["event_type"] == "termination":
            f = form_b(fold(history[1:]), history[0], ev)
            values = {x["key"]: x["value"] for x in f["fields"]}
            assert values["outcome"] == "终止" and "10.2.5.2" in values["reason"]
            assert f["signatures"][0]["ref"] is None
            return
    raise AssertionError("no termination in the samples")


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


def test_forms_a_and_e_say_when_their_date_is_an_estimate() -> None:
    """design.md §6: a due date counted over a year whose holidays are not published is an
    estimate; the case page said so, forms A and E printed it as certain."""
    from schemas.forms import form_a
    from schemas.workdays import Workdays

    history = next(h for h in HISTORIES if any(e["event_type"] == "acceptance" for e in h[1:]))
    header, events = history[0], history[1:]
    ev = next(e for e in events if e["event_type"] == "acceptance")
    upto = [e for e in events if e["hlc"] <= ev["hlc"]]
    item = ITEMS[header["service_item"]]

    def due(workdays: Workdays) -> str:
        f = form_a(fold(upto, workdays=workdays), header, ev, item=item)
        return next(x["value"] for x in f["fields"] if x["key"] == "due")

    known = due(Workdays())  # 2026: chinesecalendar knows it
    assert known.endswith("日") and "估算" not in known
    unknown = due(Workdays(use_chinesecalendar=False))  # as for 2027 before its notice
    assert unknown.endswith("暂按周一至周五估算）")
