"""The hub stores what clerks type into form B and the approval steps sealed (schema_version 2,
7.2.2.2, design.md §2), and still accepts version 1, written with that text in clear by nodes
already deployed. The version-1 case is also the control of the byte scan: text stored in
clear at the hub is found, so finding none of the version-2 text proves something."""

from __future__ import annotations

import datetime as dt
import json
import random
from typing import Any

from schemas import sample
from schemas.registry import validate_open
from schemas.sample_cases import case_history
from schemas.workdays import Workdays
from tests.leakscan import assert_no_leak, assert_scan_finds

from .conftest import TOWN, VILLAGE_A, World

TZ = dt.timezone(dt.timedelta(hours=8))
#: typed by a clerk, the applicant's name in each (version 2: sealed)
TYPED: dict[str, dict[str, Any]] = {"submitted": {"reference": "赵铁柱收件0001"},
         "decision": {"document_no": "赵铁柱不动产权第0012345号"},
         "completion": {"materials_returned": ["赵铁柱身份证原件"], "documents": ["赵铁柱营业执照"]}}
#: a version-1 completion's text (in clear, as an older node wrote it)
OLD_TEXT = "钱小花身份证原件"


def _histories() -> list[list[dict[str, Any]]]:
    insts = {i["code"]: i for i in sample.institutions()}
    item = next(c for c in sample.catalog()[:5] if c["assist"] and "village" in c["tiers"])
    wd = Workdays(sample.calendars())
    return [case_history(random.Random(seed), "assist_completed", village=insts[VILLAGE_A],
                         town=insts[TOWN], item=item, serial=900 + seed,
                         start=dt.datetime(2026, 3, 2, 9, seed, tzinfo=TZ), workdays=wd)
            for seed in (1, 2)]


def _typed(history: list[dict[str, Any]]) -> None:
    for ev in history[1:]:
        if ev["event_type"] in TYPED:
            ev["private"].update(TYPED[ev["event_type"]])
            validate_open(ev)


def _as_version_1(history: list[dict[str, Any]]) -> None:
    done = next(ev for ev in history if ev.get("event_type") == "completion")
    private = done["private"]
    private.pop("documents", None)
    private.pop("materials_returned", None)
    done.update(schema_version=1, materials_returned=[OLD_TEXT], documents=[])
    validate_open(done)


def _stored(world: World, case_id: str, event_type: str) -> dict[str, Any]:
    rows = world.hub.stores.main.all_docs(startkey=f"event:{case_id}:",
                                          endkey=f"event:{case_id}:\uffff",
                                          include_docs=True, offset=False)["rows"]
    found = [r["doc"] for r in rows if r["doc"]["event_type"] == event_type]
    assert len(found) == 1, (event_type, [r["doc"]["event_type"] for r in rows])
    return dict(found[0])


def test_new_version_text_reaches_the_hub_sealed_old_version_still_accepted(world: World):
    new, old = _histories()
    _typed(new)
    _as_version_1(old)
    node = world.node(VILLAGE_A)
    new_id, old_id = node.load_histories([new, old])
    result = node.sync()
    assert result["refused"] == 0, result
    for event_type, members in TYPED.items():
        doc = _stored(world, new_id, event_type)
        assert doc["schema_version"] >= 2 and "sealed" in doc  # form B: 3 (event_signed)
        assert not set(members) & set(doc), doc
        text = json.dumps(doc, ensure_ascii=False)
        assert not any(v in text for v in _values(members)), text
    old_done = _stored(world, old_id, "completion")
    assert old_done["schema_version"] == 1 and old_done["materials_returned"] == [OLD_TEXT]
    # every byte the hub wrote: the control first (version 1's clear text is found) ...
    hub_dir = world.folder / "hub"
    assert_scan_finds([hub_dir], [OLD_TEXT])
    # ... then none of what version 2 sealed
    assert_no_leak([hub_dir], [v for m in TYPED.values() for v in _values(m)])


def _values(members: dict[str, Any]) -> list[str]:
    return [x for v in members.values() for x in (v if isinstance(v, list) else [v])]
