"""The hand-over buttons of a county's and a city's case page (4.3: cases move one tier at a
time along city–county–town–village, schemas.rules ``handover_adjacent_tier``)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.node.conftest import PASSPHRASE, csrf, make_node_dir, opened
from tests.node.test_clerk_day import _case_id, _consult


@pytest.fixture(params=[("410602", ["410600", "410602"]), ("410600", ["410600"])],
                ids=["county", "city"])
def upper(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[str, Any]]:
    code, path = request.param
    with opened(make_node_dir(tmp_path / code, f"{code}-A1", institution_path=path)) as app:
        client = app.test_client()
        resp = client.post("/unlock", data={"passphrase": PASSPHRASE, "csrf": csrf(client)})
        assert resp.status_code == 302, resp.data
        yield code, client


def test_an_upper_tier_is_offered_the_hand_down(upper: tuple[str, Any]) -> None:
    """A county hands down to its towns, the city to its counties. The city's button was
    probed with a town's code (the city's code and 001: nine digits), which the rules refuse
    (not one tier down), so a case a county handed up to the city (its 上报 offers the city)
    could never be handed back down from the case page."""
    code, client = upper
    case_id = _case_id(_consult(client))
    offered = client.get(f"/cases/{case_id}").data.decode().split("其他步骤")[0]
    assert 'id="step-hand_down"' in offered, code
    # and up only from the county, to the city; nothing lies above the city
    assert ('id="step-hand_up"' in offered) == (code != "410600"), code


def test_a_town_is_not_offered_a_closed_village(tmp_path: Path) -> None:
    """A merged village (`hub institution close`, hub/closing.py) stays in the town's
    reference data for its history, but the hand-down form no longer offers it: the clerk
    would pick it, and the step be refused."""
    town = "410621100"
    with opened(make_node_dir(tmp_path / town, f"{town}-A1",
                              institution_path=["410600", "410621", town])) as app:
        for code, active in (("410621100201", True), ("410621100202", False)):
            app.extensions["bangban_node"].store.put({
                "_id": f"institution:{code}", "type": "institution", "schema_version": 1,
                "code": code, "name": f"村{code[-1]}", "tier": "village", "parent": town,
                "active": active})
        client = app.test_client()
        client.post("/unlock", data={"passphrase": PASSPHRASE, "csrf": csrf(client)})
        case_id = _case_id(_consult(client))
        page = client.get(f"/cases/{case_id}/steps/hand_down").data.decode()
        assert 'value="410621100201"' in page and 'value="410621100202"' not in page
