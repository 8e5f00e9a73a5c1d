"""The town page shows its villages' open cases from the hub's coordination boards
(design.md §5), late ones first, overdue computed from today's date (so right offline)."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from node.app import create_app
from schemas.state import local_today
from tests.node.conftest import PASSPHRASE, TOWN, csrf, make_node_dir

VILLAGE_1, VILLAGE_2, ELSEWHERE = f"{TOWN}201", f"{TOWN}202", "410621999201"


def _board(code: str, rows: list[dict[str, Any]], *, audience: list[str] | None = None,
           **counts: int) -> dict[str, Any]:
    return {"_id": f"board:{code}", "type": "board", "schema_version": 1, "institution": code,
            "audience": audience if audience is not None else [TOWN, "410621"],
            "as_of": "2026-11-26T10:00:00+08:00",
            "counts": {"open": len(rows), "suspended": 0, "review": 0, "finished_30d": 0,
                       "completed_30d": 0, "on_time_30d": 0, **counts}, "cases": rows}


@pytest.fixture
def town(tmp_path: Path) -> Iterator[Any]:
    folder = make_node_dir(tmp_path / "town", f"{TOWN}-A1",
                           institution_path=["410600", "410621", TOWN])
    app = create_app({"node_dir": str(folder), "sync_interval": 0, "secret_key": "test",
                      "TESTING": True})
    n = app.extensions["bangban_node"]
    n.store.bulk_docs([{"_id": f"institution:{c}", "type": "institution", "code": c,
                        "name": name, "tier": "village", "parent": TOWN}
                       for c, name in ((VILLAGE_1, "东村"), (VILLAGE_2, "西村"))])
    yield app
    n.close()


def _client(app: Any) -> Any:
    client = app.test_client()
    token = csrf(client)
    assert client.post("/unlock", data={"passphrase": PASSPHRASE, "csrf": token}).status_code == 302
    return client


def test_villages_open_cases_late_first_with_counts(town: Any) -> None:
    today = local_today()
    past, ahead = (today - dt.timedelta(days=2)).isoformat(), (today + dt.timedelta(days=20)).isoformat()
    n = town.extensions["bangban_node"]
    n.store.bulk_docs([
        _board(VILLAGE_1, [{"case": "c-ahead", "no": "DC-2026-0001", "status": "handling",
                            "due": ahead},
                           {"case": "c-late", "no": "DC-2026-0002", "status": "handling",
                            "due": past}], suspended=1),
        _board(VILLAGE_2, [{"case": "c-reply", "no": "XC-2026-0001", "status": "consulting",
                            "reply_due": past}]),
        # a board for somebody else (never sent here by the hub, but never shown either)
        _board(ELSEWHERE, [{"case": "c-else", "no": "QT-1", "status": "handling"}],
               audience=["410621999"]),
    ])
    client = _client(town)
    page = client.get("/town/").get_data(as_text=True)
    assert "东村" in page and "西村" in page
    late, later = page.index("DC-2026-0002"), page.index("DC-2026-0001")
    assert page.index("XC-2026-0001") < later and late < later  # late ones first
    assert "QT-1" not in page
    body = client.get("/api/town").get_json()
    per = {r["institution"]: r for r in body["boards"]}
    assert per[VILLAGE_1]["board"]["open"] == 2 and per[VILLAGE_1]["board"]["overdue"] == 1
    assert per[VILLAGE_1]["board"]["suspended"] == 1
    # a late reply (10.1.1.3, 5 c) is marked and listed first, but is not 超期 (11.1 b):
    # the oversight counts it apart, and so does the board (schemas/overdue.py)
    assert per[VILLAGE_2]["board"]["overdue"] == 0
    assert per[VILLAGE_2]["board"]["reply_overdue"] == 1
    assert ELSEWHERE not in per
    rows = body["board_rows"]
    assert [r["case"] for r in rows][-1] == "c-ahead"
    assert {r["case"]: r["late"] for r in rows}["c-reply"] == ["reply_due"]


def test_without_boards_the_page_says_so(town: Any) -> None:
    page = _client(town).get("/town/").get_data(as_text=True)
    assert "暂无看板" in page and "东村" in page


def test_the_town_urges_a_late_case_from_its_board(town: Any) -> None:
    past = (local_today() - dt.timedelta(days=2)).isoformat()
    n = town.extensions["bangban_node"]
    n.store.bulk_docs([_board(VILLAGE_1, [{"case": "01a217786f36-0000-410621100201-A1",
                                           "no": "DC-2026-0002", "status": "handling",
                                           "due": past}])])
    client = _client(town)
    token = csrf(client)
    page = client.get("/town/").get_data(as_text=True)
    assert 'value="due" selected' in page  # the late deadline is the default reason
    resp = client.post("/town/notice", data={"csrf": token, "to": VILLAGE_1, "reason": "due",
                                             "case": "01a217786f36-0000-410621100201-A1"})
    assert resp.status_code == 302
    sent = [r["doc"] for r in n.store.all_docs(startkey="notice:", endkey="notice:\uffff",
                                               include_docs=True)["rows"]]
    assert len(sent) == 1 and sent[0]["to_institution"] == VILLAGE_1 and sent[0]["sig"]
    assert sent[0]["institution"] == TOWN and sent[0]["case_no"] == "DC-2026-0002"
    assert "已催办" in client.get("/town/").get_data(as_text=True)
    # only what the board shows: another case, or another station's, is refused
    resp = client.post("/town/notice", data={"csrf": token, "to": VILLAGE_2, "reason": "due",
                                             "case": "01a217786f36-0000-410621100201-A1"})
    assert resp.status_code == 400


def test_a_station_sees_the_notices_addressed_to_it(app: Any) -> None:
    from tests.node.conftest import VILLAGE

    app.extensions["bangban_node"].store.bulk_docs([
        {"_id": f"notice:{VILLAGE}:01a217786f36-0001-{TOWN}-A1", "type": "notice",
         "institution": TOWN, "to_institution": VILLAGE, "reason": "reply_due",
         "case_id": "01a217786f36-0000-410621100201-A1", "case_no": "DC-2026-0009",
         "at": "2026-11-26T10:00:00+08:00", "hlc": f"01a217786f36-0001-{TOWN}-A1"}])
    page = _client(app).get("/").get_data(as_text=True)
    assert "上级催办" in page and "DC-2026-0009" in page and "咨询答复超期" in page


def test_the_api_urges_too(town: Any) -> None:
    n = town.extensions["bangban_node"]
    case = "01a217786f36-0000-410621100201-A1"
    n.store.bulk_docs([_board(VILLAGE_1, [{"case": case, "no": "DC-1", "status": "handling"}])])
    client = _client(town)
    r = client.post("/api/town/notice", json={"to": VILLAGE_1, "case": case, "reason": "follow_up"})
    assert r.status_code == 201 and r.json["id"].startswith(f"notice:{VILLAGE_1}:")
    r = client.post("/api/town/notice", json={"to": VILLAGE_1, "case": case, "reason": "shout"})
    assert r.status_code == 400 and "reason" in r.json["fields"]
    r = client.post("/api/town/notice", json={"to": VILLAGE_1, "case": 5, "reason": "due"})
    assert r.status_code == 400 and "case" in r.json["fields"]


def test_completions_of_30_days_exclude_terminations(town: Any) -> None:
    """"近 30 日办结 / 其中按时" showed every finished case (terminations by the hub after the
    resumption deadline, 10.2.5.2, and refusals too) beside the on-time completions, so a
    village with one termination read "1 completed, 0 on time"."""
    n = town.extensions["bangban_node"]
    n.store.bulk_docs([_board(VILLAGE_1, [], finished_30d=3, completed_30d=2, on_time_30d=1)])
    page = _client(town).get("/town/").get_data(as_text=True)
    row = page.split(f'data-institution="{VILLAGE_1}"', 1)[1].split("</tr>", 1)[0]
    cells = [c for c in row.replace("<td", "\n<td").splitlines() if c.startswith("<td")]
    assert [c.split(">", 1)[1].split("<", 1)[0] for c in cells[6:8]] == ["2", "1"]


def test_an_open_complaint_shows_on_the_board_row(town: Any) -> None:
    """The hub puts each case's open complaints on the board (5 c); the page dropped them,
    so the town never saw that a station's case had a complaint waiting."""
    n = town.extensions["bangban_node"]
    n.store.bulk_docs([_board(VILLAGE_1, [
        {"case": "c-1", "no": "DC-2026-0009", "status": "handling", "complaints_open": 2},
        {"case": "c-2", "no": "DC-2026-0010", "status": "handling"}])])
    page = _client(town).get("/town/").get_data(as_text=True)
    rows = {r.split('"', 1)[0]: r.split("</tr>", 1)[0] for r in page.split('data-case="')[1:]}
    assert "投诉 2" in rows["c-1"] and "投诉" not in rows["c-2"].split("<form", 1)[0]


def test_a_post_without_a_session_token_is_refused(town: Any) -> None:
    """A cross-site form post reaches the unlocked node without its cookie (SameSite=Lax),
    so neither the session nor the form had a token, and None == None let it urge a
    station in the town's name."""
    today = local_today().isoformat()
    n = town.extensions["bangban_node"]
    n.store.bulk_docs([_board(VILLAGE_1, [{"case": "c-1", "no": "DC-1", "status": "handling",
                                           "due": today}])])
    _client(town)  # unlocked, by somebody else's session
    stranger = town.test_client()
    resp = stranger.post("/town/notice", data={"to": VILLAGE_1, "case": "c-1", "reason": "due"})
    assert resp.status_code == 400 and "页面已过期" in resp.text
    resp = stranger.post("/town/notice", data={"to": VILLAGE_1, "case": "c-1", "reason": "due",
                                               "csrf": ""})
    assert resp.status_code == 400
    from node.notices import sent_by_case

    assert sent_by_case(n) == {}


def test_a_stations_counts_open_its_cases(town: Any) -> None:
    """The per-station counts (open, overdue) led nowhere: the coordinator searched a mixed
    list of every station's cases for the ones behind a number."""
    past = (local_today() - dt.timedelta(days=3)).isoformat()
    n = town.extensions["bangban_node"]
    n.store.bulk_docs([
        _board(VILLAGE_1, [{"case": "c-1", "no": "DC-1", "status": "handling", "due": past}]),
        _board(VILLAGE_2, [{"case": "c-2", "no": "XC-1", "status": "handling", "due": past}])])
    client = _client(town)
    page = client.get("/town/").get_data(as_text=True)
    row = page.split(f'data-institution="{VILLAGE_1}"', 1)[1].split("</tr>", 1)[0]
    assert f'href="/town/?institution={VILLAGE_1}#board-rows"' in row
    only = client.get(f"/town/?institution={VILLAGE_1}").get_data(as_text=True)
    assert 'data-case="c-1"' in only and 'data-case="c-2"' not in only
    for bad in ("410621999201", "x"):
        resp = client.get(f"/town/?institution={bad}")
        assert resp.status_code == 400 and "institution" in resp.get_data(as_text=True)


def _handed_up_and_down_again(town: Any) -> str:
    """Two late cases handed up from VILLAGE_1: DC-1 held by the town, DC-2 handed down
    again to VILLAGE_2; returns their (past) due date."""
    past = (local_today() - dt.timedelta(days=3)).isoformat()
    n = town.extensions["bangban_node"]
    base = {"institution": VILLAGE_1, "handed_from": VILLAGE_1, "status": "handling",
            "due": past, "limit_due": past, "updated": "2026-11-26T00:00:00|a"}
    n.index.upsert({**base, "case_id": "c-here", "case_no": "DC-1", "holder": TOWN})
    n.index.upsert({**base, "case_id": "c-down", "case_no": "DC-2", "holder": VILLAGE_2})
    return past


def test_a_case_sent_down_again_is_counted_once(town: Any) -> None:
    """Handed up, then handed down to a station, a case is on that station's board; the
    town's "handed up, open / overdue" boxes counted it as well (the same late case twice)."""
    past = _handed_up_and_down_again(town)
    town.extensions["bangban_node"].store.bulk_docs([_board(VILLAGE_2, [
        {"case": "c-down", "no": "DC-2", "status": "handling", "due": past}])])
    page = _client(town).get("/town/").get_data(as_text=True)
    boxes = page.split('class="grid"', 1)[1].split("</div>\n<h2>", 1)[0]
    numbers = [int(x) for x in re.findall(r'<div class="n">(\d+)</div>', boxes)]
    assert numbers == [1, 1, 1, 1]  # below: open, overdue; here: open, overdue


def test_the_handed_up_tiles_open_the_cases_they_count(town: Any) -> None:
    """"上报在办 / 上报超期" counted the open (late) cases the town holds, but both opened the
    whole handed-over list: closed cases and the one handed down again to a station too."""
    _handed_up_and_down_again(town)
    client = _client(town)
    page = client.get("/town/").get_data(as_text=True)
    boxes = page.split('class="grid"', 1)[1].split("</div>\n<h2>", 1)[0]
    tiles = re.findall(r'<a class="stat[^"]*" href="(/cases/[^"]+)"[^>]*><div class="n">(\d+)</div>',
                       boxes)
    assert len(tiles) == 2
    for href, count in tiles:
        listed = client.get(href.replace("&amp;", "&")).get_data(as_text=True)
        assert re.findall(r">(DC-\d)</a>", listed) == ["DC-1"] and count == "1", href
        assert 'id="handed-only"' in listed


def test_the_per_station_handed_column_counts_what_the_tile_counts(town: Any) -> None:
    """The per-station 上报 column counted every case the station had ever handed up: the
    one handed down again (held by a station) and the finished one too, so 东村 read 3
    beside a 上报在办 tile of 1. It is 上报在办 now, the tile's count for that station, and
    opens those cases; ``/api/town`` names both numbers."""
    _handed_up_and_down_again(town)
    n = town.extensions["bangban_node"]
    n.index.upsert({"case_id": "c-done", "case_no": "DC-3", "institution": VILLAGE_1,
                    "handed_from": VILLAGE_1, "holder": TOWN, "status": "completed",
                    "updated": "2026-11-26T00:00:00|a"})
    client = _client(town)
    page = client.get("/town/").get_data(as_text=True)
    tile = re.search(r'view=open&amp;handed=1"[^>]*><div class="n">(\d+)</div>', page)
    row = re.search(rf'data-institution="{VILLAGE_1}">.*?<td class="handed-open">(.*?)</td>',
                    page, re.S)
    assert tile is not None and row is not None
    link = re.search(r'href="([^"]+)">(\d+)</a>', row.group(1))
    assert link is not None and link.group(2) == tile.group(1) == "1"
    listed = client.get(link.group(1).replace("&amp;", "&")).get_data(as_text=True)
    assert re.findall(r">(DC-\d)</a>", listed) == ["DC-1"]
    per = {r["institution"]: r for r in client.get("/api/town").get_json()["per_institution"]}
    assert (per[VILLAGE_1]["handed_ever"], per[VILLAGE_1]["held_open"],
            per[VILLAGE_1]["held_overdue"]) == (3, 1, 1)


def test_more_handed_up_cases_than_a_page_lead_on(town: Any) -> None:
    """The handed-up list showed the first page (page_size) and nothing said there were
    more, nor led to them."""
    n = town.extensions["bangban_node"]
    for i in range(3):
        n.index.upsert({"case_id": f"c-{i}", "case_no": f"DC-{i}", "institution": VILLAGE_1,
                        "handed_from": VILLAGE_1, "holder": TOWN, "status": "handling",
                        "due": f"2099-01-0{i + 1}", "updated": "2026-11-26T00:00:00|a"})
    n.settings.page_size = 2
    page = _client(town).get("/town/").get_data(as_text=True)
    more = re.search(r'href="(/cases/\?view=handed_up&amp;after=[^"]+)"', page)
    assert more is not None
    rest = _client(town).get(more.group(1).replace("&amp;", "&")).get_data(as_text=True)
    first = set(re.findall(r">(DC-\d)</a>", page))
    assert len(first) == 2 and first | set(re.findall(r">(DC-\d)</a>", rest)) == {
        "DC-0", "DC-1", "DC-2"}


def _tiles(page: str) -> dict[str, int]:
    return {v: int(n) for v, n in re.findall(r'view=(\w+)"[^>]*><div class="n">(\d+)</div>',
                                             page)}


def _listed(client: Any, view: str) -> list[str]:
    page = client.get(f"/cases/?view={view}").get_data(as_text=True)
    return sorted(re.findall(r">(DC-\d)</a>", page))


def test_the_home_page_counts_the_cases_held_here(town: Any) -> None:
    """The home tiles counted every case in the town's index as its own: one it had handed
    down again to a station (held and answered for there, 4.3) was "open" and "overdue"
    here too, and the lists behind the tiles listed it. Ours = held here; the rest is
    under "已移交他处", naming the holder."""
    _handed_up_and_down_again(town)
    client = _client(town)
    tiles = _tiles(client.get("/").get_data(as_text=True))
    assert (tiles["open"], tiles["overdue"], tiles["elsewhere"]) == (1, 1, 1)
    for view, cases in (("open", ["DC-1"]), ("overdue", ["DC-1"]), ("elsewhere", ["DC-2"])):
        assert _listed(client, view) == cases, view
        assert len(cases) == tiles[view]
    away = client.get("/cases/?view=elsewhere").get_data(as_text=True)
    assert "东村 → 西村" in away  # registered at 东村, handed to 西村
    assert [r["case_no"] for r in client.get("/api/cases?view=overdue").get_json()["rows"]] \
        == ["DC-1"]


def test_a_station_does_not_count_a_case_it_handed_up(app: Any) -> None:
    """A village that handed a late case up to its town still saw it on its home page as
    its own open, overdue case; the town holds it now and counts it (4.3)."""
    from tests.node.conftest import VILLAGE

    n = app.extensions["bangban_node"]
    past = (local_today() - dt.timedelta(days=3)).isoformat()
    base = {"institution": VILLAGE, "status": "handling", "due": past, "limit_due": past,
            "updated": "2026-11-26T00:00:00|a"}
    n.index.upsert({**base, "case_id": "c-own", "case_no": "DC-1", "holder": VILLAGE})
    n.index.upsert({**base, "case_id": "c-up", "case_no": "DC-2", "holder": TOWN,
                    "handed_from": VILLAGE})
    client = _client(app)
    tiles = _tiles(client.get("/").get_data(as_text=True))
    assert (tiles["open"], tiles["overdue"], tiles["elsewhere"]) == (1, 1, 1)
    assert _listed(client, "overdue") == ["DC-1"]
    assert _listed(client, "elsewhere") == ["DC-2"]
    assert _listed(client, "handed_up") == ["DC-2"]


def test_the_board_names_the_staff_from_the_station_s_roster(town: Any) -> None:
    """A board row carries the staff id (cleartext, design.md §2); the town reads the name
    from the station's roster (8.1.2), and an id not on it is shown as it is."""
    n = town.extensions["bangban_node"]
    inst = n.store.get(f"institution:{VILLAGE_1}")
    inst["staff"] = [{"id": "s-1", "name": "蒋一鸣", "role": "proxy", "on_duty": True}]
    n.store.put(inst)
    n.store.bulk_docs([_board(VILLAGE_1, [
        {"case": "c-1", "no": "DC-2026-0001", "status": "handling", "staff": "s-1"},
        {"case": "c-2", "no": "DC-2026-0002", "status": "handling", "staff": "s-9"}])])
    page = _client(town).get("/town/").get_data(as_text=True)
    row = lambda no: page[page.index(no):page.index("</tr>", page.index(no))]  # noqa: E731
    assert "蒋一鸣" in row("DC-2026-0001") and "s-1" not in row("DC-2026-0001")
    assert "s-9" in row("DC-2026-0002")


def test_a_case_handed_down_and_not_yet_taken_up_says_so(town: Any) -> None:
    """A case 东村 registered, handed up and down to 西村, where nobody has recorded a step:
    the hub's row named 东村's clerk (its opener) under 西村 until someone there did. It
    names no one now, and the town reads 待接办 beside 西村; a row of a case 西村 registered
    itself with no staff is not called so (nothing was handed)."""
    from schemas.hlc import HLC, pack
    from schemas.ids import device_id

    handed = pack(HLC(1_780_000_000_000, 0, device_id(VILLAGE_1, "A1")))
    own = pack(HLC(1_780_000_000_000, 0, device_id(VILLAGE_2, "A1")))
    n = town.extensions["bangban_node"]
    n.store.bulk_docs([_board(VILLAGE_2, [
        {"case": handed, "no": "DC-2026-0003", "status": "handling"},
        {"case": own, "no": "XC-2026-0004", "status": "handling"}])])
    page = _client(town).get("/town/").get_data(as_text=True)
    row = lambda no: page[page.index(no):page.index("</tr>", page.index(no))]  # noqa: E731
    assert "待接办" in row("DC-2026-0003") and "西村" in page
    assert "待接办" not in row("XC-2026-0004")


def test_the_town_page_names_needs_review_as_the_other_pages_do(town: Any) -> None:
    """The town page said 待复核 for what the node's home page, its lists and the city's
    dashboard call 需复核 (concurrent offline steps, design §3): one count, two names."""
    n = town.extensions["bangban_node"]
    n.store.bulk_docs([_board(VILLAGE_1, [{"case": "c-r", "no": "DC-2026-0009",
                                           "status": "handling", "review": True}], review=1)])
    page = _client(town).get("/town/").get_data(as_text=True)
    head = page.split('id="per-institution"', 1)[1].split("</thead>", 1)[0]
    assert "需复核" in head and "待复核" not in head
    row = page.split('data-case="c-r"', 1)[1].split("<form", 1)[0]  # before the urge form
    assert "需复核" in row and "待复核" not in row


def test_a_late_reply_on_a_board_row_is_not_called_overdue(town: Any) -> None:
    """The board rows' column headed 超期 listed a consultation's passed reply deadline
    (10.1.1.3) too, while the 下辖超期 tile and the per-station 超期 count only a passed time
    limit (schemas.overdue): the column is 已过期限 and its tooltip says which is 超期."""
    yesterday = (local_today() - dt.timedelta(days=1)).isoformat()
    n = town.extensions["bangban_node"]
    n.store.bulk_docs([_board(VILLAGE_1, [{"case": "c-q", "no": "DC-2026-0010",
                                           "status": "consulting", "reply_due": yesterday}])])
    page = _client(town).get("/town/").get_data(as_text=True)
    tile = re.search(r'<div class="n">(\d+)</div>下辖超期', page)
    assert tile is not None and tile.group(1) == "0"
    head = page.split('id="board-rows"', 1)[1].split("</thead>", 1)[0]
    assert "超期" not in re.sub(r'title="[^"]*"', "", head) and "已过期限" in head
    assert "咨询答复期限" in page.split('data-case="c-q"', 1)[1].split("<form", 1)[0]


def test_the_overdue_tile_opens_exactly_the_rows_it_counts(town: Any) -> None:
    """The 下辖超期 tile linked to the whole board list (#board-rows): the coordinator who
    clicked 1 late case got every open row. Its link, and each station's 超期 count, now
    open only the rows whose time limit passed (schemas.overdue), as many as counted."""
    today = local_today()
    past, ahead = (today - dt.timedelta(days=3)).isoformat(), (today + dt.timedelta(days=9)).isoformat()
    n = town.extensions["bangban_node"]
    n.store.bulk_docs([
        _board(VILLAGE_1, [{"case": "c-late1", "no": "DC-1", "status": "handling", "due": past},
                           {"case": "c-fine", "no": "DC-2", "status": "handling", "due": ahead},
                           {"case": "c-reply", "no": "DC-3", "status": "consulting",
                            "reply_due": past}]),
        _board(VILLAGE_2, [{"case": "c-late2", "no": "XC-1", "status": "handling", "due": past},
                           {"case": "c-fine2", "no": "XC-2", "status": "handling", "due": ahead}]),
    ])
    client = _client(town)
    page = client.get("/town/").get_data(as_text=True)
    tile = re.search(r'<a class="stat bad" href="([^"]+)"><div class="n">(\d+)</div>下辖超期', page)
    assert tile is not None and tile.group(2) == "2"
    listed = client.get(tile.group(1).replace("&amp;", "&").split("#")[0]).get_data(as_text=True)
    rows = re.findall(r'<tr data-case="([^"]+)"', listed.split('id="board-rows"', 1)[1])
    assert sorted(rows) == ["c-late1", "c-late2"]
    # one station's 超期 count opens that station's late rows only
    cells = page.split(f'data-institution="{VILLAGE_1}"', 1)[1].split("</tr>", 1)[0]
    link = re.search(r'<td class="bad"><a href="([^"]+)">(\d+)</a>', cells)
    assert link is not None and link.group(2) == "1"
    one = client.get(link.group(1).replace("&amp;", "&").split("#")[0]).get_data(as_text=True)
    assert re.findall(r'<tr data-case="([^"]+)"', one.split('id="board-rows"', 1)[1]) == ["c-late1"]
