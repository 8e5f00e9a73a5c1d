"""Complaint intake at the hub: a hub-signed, sealed complaint event the station can read
and the hub cannot; tracked against its deadline (5 c)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from hub.errors import BadInput
from hub.oversight import Oversight
from hub.oversight import complaints as cmp
from hub.oversight import indicators as ind
from sync.crypto import verify_document
from tests.hub.conftest import TOWN, VILLAGE_A


def _completed_case(world: Any) -> str:
    node = world.node(VILLAGE_A)
    case_id = node.sample_cases(1, town=TOWN, scenarios=("assist_completed",))[0]
    world.round()
    return str(case_id)


def test_hub_complaint_is_sealed_for_the_station_and_tracked(world: Any) -> None:
    hub = world.hub
    case_id = _completed_case(world)
    ov = Oversight(hub)
    ov.catch_up(force=True)
    fact = ov.facts.get(case_id)
    assert fact is not None and fact.institution == VILLAGE_A
    received = dt.datetime(2026, 3, 20, 10, 0, tzinfo=dt.timezone(dt.timedelta(hours=8)))
    ev = cmp.take_complaint(hub, cmp.find_case(hub, fact.case_no, ov.facts.reader()),
                            intake="written", category="attitude", text="窗口人员态度生硬",
                            complainant="李四", contact="13800000000", received_by="city",
                            now=received)
    stored = hub.stores.main.get(ev["_id"])
    assert "private" not in stored and "sealed" in stored
    assert "窗口人员态度生硬" not in str(stored) and "李四" not in str(stored)
    assert stored["device"] == hub.identity["device_id"] and stored["channel"] == "written"
    from hub.signatures import DirectoryCache

    signer = verify_document(stored, DirectoryCache(hub.stores).get())
    assert signer.device_id == hub.identity["device_id"]
    ov.catch_up(force=True)
    rows = ind.complaints(ov.facts.reader(), "", "2026-03", "2026-03")
    assert [(r["received_on"], r["due"], r["handled_on"], r["by_hub"]) for r in rows] == [
        ("2026-03-20", "2026-03-27", None, 1)]
    assert cmp.intake_forms(hub) == {ev["hlc"]: "written"}
    # the station receives it and can open it with its own institution key
    world.round()
    node = world.node(VILLAGE_A)
    local = node.store.get(ev["_id"])
    private = node.case_key(case_id)._open(local)
    assert private == {"text": "窗口人员态度生硬", "complainant": "李四", "contact": "13800000000"}
    # handled at the hub 3 working days later: in time
    cmp.handle_complaint(hub, case_id, ev["hlc"], result="upheld", text="已约谈整改",
                         now=received + dt.timedelta(days=3))
    ov.catch_up(force=True)
    rows = ind.complaints(ov.facts.reader(), "", "2026-03", "2026-03")
    assert [(r["handled_on"], r["result"]) for r in rows] == [("2026-03-23", "upheld")]
    _r, total = ind.rollup(ov.facts.reader(), "", "2026-03", "2026-03",
                           today=dt.date(2026, 3, 30))
    assert (total.c["complaints"], total.c["complaints_in_time"]) == (1, 1)
    assert ov.facts.get(case_id).needs_review is False  # type: ignore[union-attr]
    # the form sent twice: refused, or the station's case would need review everywhere
    with pytest.raises(BadInput, match="^400 bad_request: complaint: .* not an open"):
        cmp.handle_complaint(hub, case_id, ev["hlc"], result="upheld", text="again")
    ov.catch_up(force=True)
    assert ov.facts.get(case_id).needs_review is False  # type: ignore[union-attr]


@pytest.mark.parametrize(("field", "kw"), [
    ("intake", {"intake": "fax"}), ("category", {"category": "rude"}), ("text", {"text": " "})])
def test_bad_complaint_input_names_the_field(field: str, kw: dict[str, str]) -> None:
    args = {"intake": "phone", "category": "other", "text": "x", **kw}
    with pytest.raises(BadInput, match=f"^400 bad_request: {field}:"):
        cmp.take_complaint(None, "no-such-case", **args)  # type: ignore[arg-type]


@pytest.mark.parametrize(("field", "label", "kw"), [
    ("contact", "联系方式", {"contact": "1" * 101}),
    ("complainant", "投诉人", {"complainant": "张" * 101}),
    ("text", "投诉内容", {"text": "长" * 8001})])
def test_too_long_complaint_text_is_refused_by_the_forms_field(hub: Any, field: str,
                                                               label: str,
                                                               kw: dict[str, str]) -> None:
    """The schema's limits (schemas.events_oversight) reached the page as "400 bad_request:
    private.contact: Length must be between 1 and 100. (length)", in the middle of the
    supervisor's message."""
    args = {"intake": "phone", "category": "other", "text": "x", **kw}
    with pytest.raises(BadInput) as refused:
        cmp.take_complaint(hub, "019cac0fc2c0-0000-410621101201-A1", **args)
    assert refused.value.reason.startswith(f"{field}: ")
    assert f"/ {label}：" in refused.value.reason and "private" not in refused.value.reason
    assert "bad_request" not in refused.value.reason
