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
            case.ev("consultation", day, answered=False, **ASK)  # open: 近30天经办
        put_cases(hub, [c.history() for c in cases])
        page = create_app(hub=hub).test_client().get(f"/oversight/public/{V1}").text
    finally:
        hub.close()
    staff = page.split('id="staff"', 1)[1].split("</ul>", 1)[0]
    for personal in ("13812345678", "41062119800101123X", "2345678", "1234-5678", "1234 5678"):
        assert personal not in page
    assert "staff-7（近30天经办 1 件）" in staff
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
