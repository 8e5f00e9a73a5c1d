"""The 清单 (6.2.4) at the window: what the node refuses from the service item it pulled
(schemas.eligibility), each refusal shown on its field."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from schemas.state import local_today
from tests.node.test_clerk_day import SIG, _case_id, _consult, _step


def _with_items(client: Any, *items: dict[str, Any]) -> None:
    node = client.application.extensions["bangban_node"]
    node.store.bulk_docs([{"_id": f"service_item:{i['code']}", **i} for i in items])


def _entrust(client: Any, case_id: str, item: str) -> Any:
    later = (local_today() + dt.timedelta(days=366)).isoformat()
    return _step(client, case_id, "entrustment", channel="offline", mode="nearby",
                 service_item=item, ledger_no="DB-1", period_end=later, scope="代为提交",
                 signature_data=SIG)


def test_form_c_for_an_item_not_listed_for_proxy_handling_is_refused(unlocked: Any) -> None:
    """6.2.4 / 10.2.2: before, the node signed form C for an assist-only item."""
    from schemas.sample import catalog

    assist_only = next(i for i in catalog() if not i["proxy"])
    _with_items(unlocked, assist_only)
    case_id = _case_id(_consult(unlocked, service_item=assist_only["code"]))
    r = _entrust(unlocked, case_id, assist_only["code"])
    assert r.status_code == 409 and "代办事项清单" in r.text, r.text[:2000]
    assert 'id="service_item-err"' in r.text


def test_the_resumption_deadline_offered_is_the_items_period_in_working_days(
        unlocked: Any) -> None:
    """10.2.5.2: the 清单's resumption period is working days (schemas.reference); the form
    offered that many calendar days (fewer), and a deadline past it was taken."""
    from schemas.sample import catalog
    from schemas.workdays import Workdays

    item = dict(next(i for i in catalog() if i["proxy"] and i["assist"]
                     and "village" in i["tiers"]), resumption_period_days=20)
    _with_items(unlocked, item)
    case_id = _case_id(_consult(unlocked, service_item=item["code"]))
    assert _entrust(unlocked, case_id, item["code"]).status_code == 302
    assert _step(unlocked, case_id, "acceptance", zone="assisted_zone",
                 time_limit_days=str(item["time_limit_days"])).status_code == 302
    form = unlocked.get(f"/cases/{case_id}/steps/suspension").data.decode()
    offered = re.search(r'name="resumption_deadline"[^>]*value="([^"]*)"', form)
    latest = Workdays().add_working_days(local_today(), 20).isoformat()
    assert offered and offered.group(1) == latest, form[:3000]
    too_late = (local_today() + dt.timedelta(days=366)).isoformat()
    r = _step(unlocked, case_id, "suspension", reason="c", resumption_deadline=too_late,
              signature_data=SIG)
    assert r.status_code == 409 and 'id="resumption_deadline-err"' in r.text, r.text[:2000]
    assert _step(unlocked, case_id, "suspension", reason="c", resumption_deadline=latest,
                 signature_data=SIG).status_code == 302


def test_form_a_for_an_item_the_village_does_not_handle_says_to_hand_it_up(
        unlocked: Any) -> None:
    """6.2.4 / 4.3: 企业设立登记 is on the county's and the city's list; the village is
    entrusted and hands the case up; form A for it was issued at the village."""
    from schemas.sample import catalog

    item = next(i for i in catalog() if i["tiers"] == ["county", "city"] and i["proxy"])
    _with_items(unlocked, item)
    case_id = _case_id(_consult(unlocked, service_item=item["code"]))
    assert _entrust(unlocked, case_id, item["code"]).status_code == 302
    r = _step(unlocked, case_id, "acceptance", zone="assisted_zone",
              time_limit_days=str(item["time_limit_days"]))
    assert r.status_code == 409 and "不在本级" in r.text and "请上报" in r.text, r.text[:2000]
    page = unlocked.get(f"/cases/{case_id}").data.decode()
    assert 'id="step-hand_up"' in page.split("其他步骤")[0]


def test_the_acceptance_is_judged_by_the_item_the_application_chose(unlocked: Any) -> None:
    """10.1.3: asked about MS-001 (1 working day) at the consultation, the applicant applied
    for MS-005 (30); form A's time limit was judged against the item asked about, not the
    one chosen: its 30 days were refused as over MS-001's 1."""
    from schemas.sample import catalog

    items = {i["code"]: i for i in catalog()}
    _with_items(unlocked, items["MS-001"], items["MS-005"])
    case_id = _case_id(_consult(unlocked, service_type="assist", service_item="MS-001"))
    assert _step(unlocked, case_id, "application", channel="offline", mode="nearby",
                 service_item="MS-005").status_code == 302
    over = _step(unlocked, case_id, "acceptance", zone="assisted_zone", time_limit_days="31")
    assert over.status_code == 409, over.status_code
    resp = _step(unlocked, case_id, "acceptance", zone="assisted_zone", time_limit_days="30")
    assert resp.status_code == 302, resp.data.decode()[:600]


def test_an_open_case_keeps_its_item_after_the_city_withdraws_it(unlocked: Any) -> None:
    """6.2.4: the city splits an item in two, withdrawing the old code. The cases taken
    while it was listed lost it at the node: no checklist to tick what the applicant
    brought (the one-time notification's material could never be recorded), no
    department, no name in the case list."""
    from schemas.sample import catalog

    item = next(i for i in catalog() if i["proxy"] and "village" in i["tiers"]
                and len(i["materials"]) > 1)
    other = next(i for i in catalog() if i["code"] != item["code"])
    _with_items(unlocked, item, other)
    case_id = _case_id(_consult(unlocked, service_item=item["code"]))
    assert _entrust(unlocked, case_id, item["code"]).status_code == 302
    missing = item["materials"][0]
    assert _step(unlocked, case_id, "notification",
                 materials=[missing["code"]]).status_code == 302
    assert _step(unlocked, case_id, "acceptance", zone="assisted_zone",
                 time_limit_days=str(item["time_limit_days"])).status_code == 302
    node = unlocked.application.extensions["bangban_node"]
    doc = node.store.get(f"service_item:{item['code']}")
    node.store.put({**doc, "active": False})  # as a pull brings the hub's withdrawal
    node.cache.clear()
    page = unlocked.get(f"/cases/{case_id}/steps/material_received").data.decode()
    assert f'value="{missing["code"]}"' in page and missing["name"] in page, page[:3000]
    assert item["name"] in unlocked.get("/cases/").data.decode()
    assert _step(unlocked, case_id, "material_received",
                 materials=[missing["code"]]).status_code == 302
    # the list offers the withdrawn item for no new case
    form = unlocked.get("/consultations/new").data.decode()
    assert other["code"] in form and f'value="{item["code"]}"' not in form
    r = _consult(unlocked, service_item=item["code"])
    assert r.status_code == 400 and 'id="service_item-err"' in r.text, r.text[:2000]


def test_form_a_offers_a_same_day_item_its_promise_of_0_days(unlocked: Any) -> None:
    """10.1.3: the city made an item 即办 (statutory 0 days, promised 0); form A offered the
    5 days of an item with no limit, and the station refused its own offer as over the
    statutory limit. An item promising 0 of its 1 day was offered 1."""
    from schemas.sample import catalog

    base = next(i for i in catalog() if i["proxy"] and "village" in i["tiers"])
    same_day = dict(base, time_limit_days=0, promised_days=0)
    promised_0 = dict(base, _id="service_item:MS-099", code="MS-099", time_limit_days=1,
                      promised_days=0)
    _with_items(unlocked, same_day, promised_0)
    for item in (same_day, promised_0):
        case_id = _case_id(_consult(unlocked, service_item=item["code"]))
        assert _entrust(unlocked, case_id, item["code"]).status_code == 302
        form = unlocked.get(f"/cases/{case_id}/steps/acceptance").data.decode()
        offered = re.search(r'name="time_limit_days"[^>]*value="([^"]*)"', form)
        assert offered and offered.group(1) == "0", form[:3000]
        assert _step(unlocked, case_id, "acceptance", zone="assisted_zone",
                     time_limit_days=offered.group(1)).status_code == 302


def test_a_notified_material_the_city_took_off_the_list_can_still_be_received(
        unlocked: Any) -> None:
    """10.1.4, 10.2.5.1 a): the one-time notification asked for a material; the city then
    took it off the item's checklist. The case still waits for it, but the clerk's
    receipt offered the list's materials only: never recorded as brought, the case
    stayed 'materials missing' for good."""
    from schemas.sample import catalog

    item = next(i for i in catalog() if i["proxy"] and "village" in i["tiers"]
                and len(i["materials"]) > 1)
    _with_items(unlocked, item)
    case_id = _case_id(_consult(unlocked, service_item=item["code"]))
    assert _entrust(unlocked, case_id, item["code"]).status_code == 302
    dropped = item["materials"][0]
    assert _step(unlocked, case_id, "notification",
                 materials=[dropped["code"]]).status_code == 302
    node = unlocked.application.extensions["bangban_node"]
    doc = node.store.get(f"service_item:{item['code']}")
    node.store.put({**doc, "materials": item["materials"][1:]})  # a pull of the new list
    node.cache.clear()
    page = unlocked.get(f"/cases/{case_id}/steps/material_received").data.decode()
    assert f'value="{dropped["code"]}"' in page and dropped["name"] in page, page[:3000]
    assert _step(unlocked, case_id, "material_received",
                 materials=[dropped["code"]]).status_code == 302
    with unlocked.application.test_request_context():
        from node.views.common import load_case

        case = load_case(case_id)
    assert case["state"]["materials_missing"] == []
    assert [m["code"] for m in case["item"]["materials"]] == \
        [m["code"] for m in item["materials"][1:]]  # received: the list's own again
