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


def _recorded(c: Any, case_id: str, step: str, material: dict[str, Any], label: str) -> str:
    """Record ``step`` ticking ``material``; the text of its entry (``label``) in the record."""
    r = c.post(f"/cases/{case_id}/steps/{step}",
               data={"csrf": csrf(c), "materials": [material["code"]]})
    assert r.status_code == 302, r.data.decode()[:2000]
    page = c.get(f"/cases/{case_id}").data.decode()
    entry = next(li for li in re.findall(r"<li>.*?</li>", page, re.S) if label in li)
    return re.sub(r"<[^>]+>", "", entry)


def test_received_materials_are_named_in_the_record(unlocked: Any) -> None:
    from schemas.sample import catalog

    c = unlocked
    item = catalog()[0]
    material = item["materials"][1]
    words = _recorded(c, _accepted(c, item), "material_received", material, "材料接收")
    assert f"材料：{material['name']}；" in words, words  # it read "材料: M02"


def test_notified_materials_are_named_with_how_to_obtain_them(unlocked: Any) -> None:
    """A one-time notification (10.1.4) stores each missing material as its code, name and
    how to obtain it: the record printed that as a Python dict."""
    from schemas.sample import catalog

    c = unlocked
    item = catalog()[0]
    material = next(m for m in item["materials"] if m.get("how_to_obtain"))
    words = _recorded(c, _accepted(c, item), "notification", material, "一次性告知")
    assert f"{material['name']}（{material['how_to_obtain']}）" in words, words
    assert "{" not in words and "how_to_obtain" not in words, words
