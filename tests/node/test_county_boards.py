"""The county's coordination page (4.3, design.md §5): the same page as the town's, one tier
up. Its boards come from every institution below it, towns and their villages alike, and
from cases handed up from a village to a town."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from node.app import create_app
from tests.node.conftest import TOWN, VILLAGE, make_node_dir
from tests.node.test_town_boards import _board, _client

COUNTY = "410621"
#: a case opened by the village's device (its id is that device's clock, schemas/ids.py)
HANDED_UP = f"01a1e204ae40-0000-{VILLAGE}-A1"


@pytest.fixture
def county(tmp_path: Path) -> Iterator[Any]:
    folder = make_node_dir(tmp_path / "county", f"{COUNTY}-A1",
                           institution_path=["410600", COUNTY])
    app = create_app({"node_dir": str(folder), "sync_interval": 0, "secret_key": "test",
                      "TESTING": True})
    n = app.extensions["bangban_node"]
    n.store.bulk_docs([
        {"_id": f"institution:{TOWN}", "type": "institution", "code": TOWN, "name": "东镇",
         "tier": "town", "parent": COUNTY,
         "staff": [{"id": "t-1", "name": "韩镇远", "role": "proxy", "on_duty": True}]},
        {"_id": f"institution:{VILLAGE}", "type": "institution", "code": VILLAGE,
         "name": "东村", "tier": "village", "parent": TOWN,
         "staff": [{"id": "v-1", "name": "蒋一鸣", "role": "proxy", "on_duty": True},
                   {"id": "v-2", "name": "乔二妹", "role": "assist", "on_duty": True}]}])
    yield app
    n.close()


def test_the_county_names_the_staff_of_its_villages_and_of_handed_up_cases(county: Any) -> None:
    """8.1.2: a board row's staff id is named from a roster. The county's page read only its
    direct children's rosters (the towns'), so a village's row showed a bare id; and a
    case a village handed up to the town, whose row still carries the village clerk who
    opened it, was bare on the town's board too."""
    n = county.extensions["bangban_node"]
    n.store.bulk_docs([
        _board(VILLAGE, [{"case": "c-v", "no": "DC-2026-0001", "status": "handling",
                          "staff": "v-1"}], audience=[TOWN, COUNTY]),
        _board(TOWN, [{"case": HANDED_UP, "no": "DC-2026-0002", "status": "handling",
                       "staff": "v-2"},
                      {"case": "c-t", "no": "DZ-2026-0001", "status": "handling",
                       "staff": "t-1"},
                      {"case": "c-x", "no": "DZ-2026-0002", "status": "handling",
                       "staff": "x-9"}], audience=[COUNTY])])
    page = _client(county).get("/town/").get_data(as_text=True)
    row = lambda no: page[page.index(no):page.index("</tr>", page.index(no))]  # noqa: E731
    assert "蒋一鸣" in row("DC-2026-0001") and "v-1" not in row("DC-2026-0001")
    assert "乔二妹" in row("DC-2026-0002") and "v-2" not in row("DC-2026-0002")
    assert "韩镇远" in row("DZ-2026-0001")
    assert "x-9" in row("DZ-2026-0002")  # on no roster: shown as it is


def test_a_notice_to_the_village_does_not_mark_the_town_holding_the_case_now(
        county: Any) -> None:
    """4.2 / 4.3: the county urged the village about a case, which the village then handed
    up; the town's board row said 已催办 though the town, holding it now, was never urged,
    and the county took it for done. Urging the town marks it."""
    from tests.node.conftest import csrf

    n = county.extensions["bangban_node"]
    row = {"case": HANDED_UP, "no": "DC-2026-0003", "status": "handling"}
    n.store.bulk_docs([_board(VILLAGE, [row], audience=[TOWN, COUNTY])])
    client = _client(county)
    urge = {"csrf": csrf(client), "case": HANDED_UP, "reason": "follow_up"}
    assert client.post("/town/notice", data={**urge, "to": VILLAGE}).status_code == 302
    board = n.store.get(f"board:{VILLAGE}")
    n.store.put({**board, "cases": []})  # handed up: off the village's board, onto the town's
    n.store.bulk_docs([_board(TOWN, [row], audience=[COUNTY])])

    def marked() -> bool:  # the board row's cell, not the flash saying it was sent
        page = client.get("/town/").get_data(as_text=True)
        start = page.index(f'<tr data-case="{HANDED_UP}"')
        return "已催办" in page[start:page.index("</tr>", start)]

    assert not marked()
    assert client.post("/town/notice", data={**urge, "to": TOWN}).status_code == 302
    assert marked()


def test_the_county_s_list_of_institutions_below_is_not_called_villages(county: Any) -> None:
    """4.3: a county's per-institution table lists its towns and their villages; its
    heading said 各村（社区） (villages), as on a town's page."""
    page = _client(county).get("/town/").get_data(as_text=True)
    title = page[page.index('id="per-title"'):page.index("</h2>", page.index('id="per-title"'))]
    assert "下辖乡镇（街道）及村（社区）" in title and "各村（社区）" not in title
