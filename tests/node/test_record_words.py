"""The case's record (办理记录) in words: a material_received step names the materials the
clerk ticked, not their codes in the service item's list (7.3.2: the work log a proxy
agent keeps, read by the next clerk and by the town the case is handed up to)."""

from __future__ import annotations

import re
from typing import Any

from tests.node.conftest import csrf
from tests.node.test_casework_flow import _consult, _step


def _accepted(c: Any, item: dict[str, Any]) -> str:
    """A case of ``item`` applied for and accepted at the window."""
    case_id = _consult(c)
    assert _step(c, case_id, "application", channel="offline", mode="nearby",
                 service_item=item["code"]).status_code == 302
    assert _step(c, case_id, "acceptance", zone="assisted_zone",
                 time_limit_days="5").status_code == 302
    return case_id


def test_received_materials_are_named_in_the_record(unlocked: Any) -> None:
    from schemas.sample import catalog

    c = unlocked
    item = catalog()[0]
    material = item["materials"][1]
    case_id = _accepted(c, item)
    r = c.post(f"/cases/{case_id}/steps/material_received",
               data={"csrf": csrf(c), "materials": [material["code"]]})
    assert r.status_code == 302, r.data.decode()[:2000]
    page = c.get(f"/cases/{case_id}").data.decode()
    entry = next(li for li in re.findall(r"<li>.*?</li>", page, re.S) if "材料接收" in li)
    words = re.sub(r"<[^>]+>", "", entry)
    assert f"材料: {material['name']};" in words, words  # it read "材料: M02"


def test_notified_materials_are_named_with_how_to_obtain_them(unlocked: Any) -> None:
    """A one-time notification (10.1.4) stores each missing material as its code, name and
    how to obtain it: the record printed that as a Python dict."""
    from schemas.sample import catalog

    c = unlocked
    item = catalog()[0]
    material = next(m for m in item["materials"] if m.get("how_to_obtain"))
    case_id = _accepted(c, item)
    r = c.post(f"/cases/{case_id}/steps/notification",
               data={"csrf": csrf(c), "materials": [material["code"]]})
    assert r.status_code == 302, r.data.decode()[:2000]
    page = c.get(f"/cases/{case_id}").data.decode()
    entry = next(li for li in re.findall(r"<li>.*?</li>", page, re.S) if "一次性告知" in li)
    words = re.sub(r"<[^>]+>", "", entry)
    assert f"{material['name']}（{material['how_to_obtain']}）" in words, words
    assert "{" not in words and "how_to_obtain" not in words, words
