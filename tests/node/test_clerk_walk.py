"""What a walk through the UI in a real browser found (Flask test client): a clerk, a town
coordinator. Each test failed before its fix."""

from __future__ import annotations

import re
from typing import Any

from tests.node.conftest import TOWN, VILLAGE
from tests.node.test_clerk_day import _case_id, _consult, _step


def _institutions(client: Any, *docs: tuple[str, str, str]) -> None:
    """Reference data as a pull brings it: code, name, parent."""
    node = client.application.extensions["bangban_node"]
    for code, name, parent in docs:
        node.store.put({"_id": f"institution:{code}", "type": "institution", "code": code,
                        "name": name, "parent": parent, "schema_version": 1})


def test_a_hand_up_offers_the_town_by_its_name(unlocked: Any) -> None:
    """4.3: a village hands a case up to its town. The form showed a text box holding the
    town's bare code (its list offered the villages below the village: none)."""
    _institutions(unlocked, (TOWN, "测试镇便民服务中心", "410621"),
                  (VILLAGE, "测试村便民服务站", TOWN))
    case_id = _case_id(_consult(unlocked))
    html = unlocked.get(f"/cases/{case_id}/steps/hand_up").data.decode()
    select = re.search(r'<select id="to_institution".*?</select>', html, re.S)
    assert select, "the receiving institution is typed, not chosen"
    assert re.search(rf'<option value="{TOWN}" selected>测试镇便民服务中心</option>',
                     select.group(0))
    # a refused hand-up keeps the choice
    r = _step(unlocked, case_id, "hand_up", to_institution=TOWN, reason_code="")
    assert r.status_code == 400
    assert re.search(rf'<option value="{TOWN}" selected>', r.data.decode())
