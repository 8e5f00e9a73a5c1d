"""The public disclosure page (8.1.2) is open to anyone: it shows the staff on duty by
the roster's names, and nothing personal beyond them."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from schemas.state import local_today
from tests.hub.oversight.cases import CaseBuilder
from tests.hub.oversight.conftest import make_hub, put_cases
from tests.hub.oversight.scenario import V1

ASK = {"channel": "window", "private": {"question": "需要哪些材料？"}}


def test_a_staff_id_holding_a_phone_or_id_number_is_not_published(tmp_path: Path) -> None:
    """Without a roster the page listed the staff ids that handled cases, as the stations
    wrote them (free text, schemas.case): a station whose staff sign in with their mobile
    or ID number published it to anyone."""
    from hub.admin import institution, put_reference
    from hub.app import create_app

    hub = make_hub(tmp_path)
    try:
        doc = dict(institution(hub, V1))
        doc["staff"] = []  # a hub whose rosters are not filled in yet
        put_reference(hub, doc)
        day = (local_today() - dt.timedelta(days=2)).isoformat()
        ids = ("13812345678", "41062119800101123X", "0392-2345678", "staff-7",
               "138-1234-5678", "138 1234 5678")  # grouped as people write them
        cases = [CaseBuilder(V1, s, day) for s in ids]
        for case in cases:
            case.ev("consultation", day, answered=False, **ASK)  # open: 近 30 日经办
        put_cases(hub, [c.history() for c in cases])
        page = create_app(hub=hub).test_client().get(f"/oversight/public/{V1}").text
    finally:
        hub.close()
    staff = page.split('id="staff"', 1)[1].split("</ul>", 1)[0]
    for personal in ("13812345678", "41062119800101123X", "2345678", "1234-5678", "1234 5678"):
        assert personal not in page
    assert "staff-7（近 30 日经办 1 件）" in staff
    assert staff.count("编号不公开") == 5


def test_the_page_says_how_to_reach_the_institution_above(tmp_path: Path) -> None:
    """11.1: the page invites complaints and names the institution above (上级), the one
    that supervises; the applicant had its name and no way to reach it (its institution
    document has a public phone, 8.1.2)."""
    from hub.admin import institution, put_reference
    from hub.app import create_app

    hub = make_hub(tmp_path)
    try:
        parent = dict(institution(hub, str(institution(hub, V1)["parent"])))
        parent["phone"] = "0392-2610000"
        put_reference(hub, parent)
        page = create_app(hub=hub).test_client().get(f"/oversight/public/{V1}").text
    finally:
        hub.close()
    assert f"上级：{parent['name']}（电话：0392-2610000）" in page


def _item_rows(page: str) -> dict[str, list[str]]:
    import re

    body = page.split('id="items"', 1)[1].split("<tbody>", 1)[1].split("</tbody>", 1)[0]
    return {cells[0]: cells[1:] for cells in
            (re.findall(r"<td[^>]*>(.*?)</td>", row) for row in body.split("<tr>")[1:])}


def test_the_list_as_the_city_changed_it_during_the_year(tmp_path: Path) -> None:
    """5 b), 8.1.2: each institution's page shows the 清单 as it is now, for its tier: an
    item renamed, its department renamed, moved up to the county, split in two, a new one,
    one made 即办 (promised 0 days), which the page showed with its statutory limit."""
    from hub.admin import import_catalog
    from hub.app import create_app
    from schemas.sample import catalog

    items = {i["code"]: i for i in catalog()}
    hub = make_hub(tmp_path)
    try:
        import_catalog(hub, [
            {**items["MS-001"], "name": "城乡居民养老保险参保登记（更名）", "department": "社会保险中心"},
            {**items["MS-013"], "tiers": ["county"]},  # moved up
            {**items["MS-004"], "active": False},  # split in two
            {**items["MS-004"], "code": "MS-004-1", "name": "高龄津贴申领（80-89岁）"},
            {**items["MS-004"], "code": "MS-004-2", "name": "高龄津贴申领（90岁以上）"},
            {**items["MS-011"], "code": "MS-020", "name": "新增事项"},
            {**items["MS-008"], "time_limit_days": 1, "promised_days": 0},  # 即办
        ])
        client = create_app(hub=hub).test_client()
        village = _item_rows(client.get(f"/oversight/public/{V1}").text)
        county = _item_rows(client.get("/oversight/public/410602").text)
    finally:
        hub.close()
    assert village["MS-001"][:2] == ["城乡居民养老保险参保登记（更名）", "社会保险中心"]
    assert "MS-013" not in village and "MS-013" in county
    assert "MS-004" not in village and "MS-004" not in county
    assert {"MS-004-1", "MS-004-2", "MS-020"} <= set(village) & set(county)
    assert "QY-001" in county and "QY-001" not in village  # county and city only
    assert village["MS-008"][4] == "0" and village["MS-005"][4] == "20"
