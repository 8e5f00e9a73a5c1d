"""A busy town (design.md §7: 20–40 villages, thousands of open cases on their boards):
every board row reachable from the page, the rows the hub left off said, and the page's
cost not growing with the town's notices."""

from __future__ import annotations

import datetime as dt
import html
import re
from typing import Any

import pytest

from node.views.town import BOARD_PAGE_ROWS
from schemas.state import local_today
from tests.node.conftest import TOWN, csrf
from tests.node.test_town_boards import VILLAGE_1, VILLAGE_2, _board, _client, town

__all__ = ["town"]  # the fixture, shared with test_town_boards


def _rows(n: int, code: str = VILLAGE_1) -> list[dict[str, Any]]:
    ahead = local_today() + dt.timedelta(days=5)
    return [{"case": f"01a217786f36-{k:04x}-{code}-A1", "no": f"DC-2026-{k:05d}",
             "status": "handling", "due": (ahead + dt.timedelta(days=k % 30)).isoformat()}
            for k in range(n)]


def _listed(page: str) -> list[str]:
    return re.findall(r'<tr data-case="([^"]+)"', page)


def _next(page: str) -> str | None:
    m = re.search(r'href="([^"]+)" rel="next"', page)
    return html.unescape(m.group(1)) if m else None


def test_every_board_row_is_reachable_page_by_page(town: Any) -> None:
    """The page listed the first 300 rows and said "N more (see /api/town)": a coordinator
    of 40 villages never saw the rest on the page."""
    rows = _rows(2 * BOARD_PAGE_ROWS + 101)
    town.extensions["bangban_node"].store.bulk_docs([_board(VILLAGE_1, rows)])
    client = _client(town)
    seen: list[str] = []
    url: str | None = "/town/"
    while url:
        page = client.get(url).get_data(as_text=True)
        assert len(_listed(page)) <= BOARD_PAGE_ROWS
        seen += _listed(page)
        url = _next(page)
    assert sorted(seen) == sorted(r["case"] for r in rows) and len(seen) == len(set(seen))
    assert "第 3 / 4 页" in client.get("/town/?page=3").get_data(as_text=True)
    for bad in ("0", "5", "x"):
        resp = client.get(f"/town/?page={bad}")
        assert resp.status_code == 400 and "page" in resp.get_data(as_text=True)


def test_the_pages_keep_the_station_and_overdue_filters(town: Any) -> None:
    past = (local_today() - dt.timedelta(days=1)).isoformat()
    late = [dict(r, due=past) for r in _rows(BOARD_PAGE_ROWS + 1)]
    town.extensions["bangban_node"].store.bulk_docs([
        _board(VILLAGE_1, late), _board(VILLAGE_2, _rows(5, VILLAGE_2))])
    client = _client(town)
    first = client.get(f"/town/?institution={VILLAGE_1}&overdue=1").get_data(as_text=True)
    url = _next(first)
    assert url and f"institution={VILLAGE_1}" in url and "overdue=1" in url
    rest = _listed(client.get(url).get_data(as_text=True))
    assert sorted(_listed(first) + rest) == sorted(r["case"] for r in late)


def test_a_case_number_is_found_on_the_boards(town: Any) -> None:
    rows = _rows(BOARD_PAGE_ROWS * 2)
    town.extensions["bangban_node"].store.bulk_docs([_board(VILLAGE_1, rows)])
    client = _client(town)
    wanted = rows[-1]
    assert wanted["case"] not in _listed(client.get("/town/").get_data(as_text=True))
    found = _listed(client.get("/town/?q=dc-2026-00199").get_data(as_text=True))
    assert found == [wanted["case"]]
    assert _listed(client.get("/town/?q=NO-SUCH").get_data(as_text=True)) == []


def test_the_rows_the_hub_left_off_are_said_per_station(town: Any) -> None:
    """A board carries at most MAX_ROWS rows and counts the rest in ``more``; the page said
    nothing of them: a station's 1,200 open cases listed 1,000 rows without a word."""
    board = _board(VILLAGE_1, _rows(3), open=203)
    board["more"] = 200
    town.extensions["bangban_node"].store.bulk_docs([board, _board(VILLAGE_2, _rows(2, VILLAGE_2))])
    page = _client(town).get("/town/").get_data(as_text=True)
    note = re.search(r'<p class="bad" id="board-left-off">(.*?)</p>', page, re.S)
    assert note and "东村 200" in note.group(1) and "西村" not in note.group(1)
    assert "（看板列出 3）" in page


def test_an_urge_from_page_two_returns_to_page_two(town: Any) -> None:
    rows = _rows(BOARD_PAGE_ROWS + 10)
    town.extensions["bangban_node"].store.bulk_docs([_board(VILLAGE_1, rows)])
    client = _client(town)
    page = client.get("/town/?page=2").get_data(as_text=True)
    case = _listed(page)[0]
    resp = client.post("/town/notice", data={"csrf": csrf(client), "to": VILLAGE_1,
                                             "case": case, "reason": "follow_up", "page": "2"})
    assert resp.status_code == 302 and "page=2" in resp.headers["Location"]


def test_the_town_page_reads_the_enrollment_once_not_per_notice(town: Any,
                                                                monkeypatch: pytest.MonkeyPatch
                                                                ) -> None:
    """``node.institution`` reads the enrollment file; the page asked it once per notice
    the town had ever sent (and per board, per village): a year of urging made the page of
    a busy town take a second (docs/benchmarks.md, town)."""
    from node.core import Node

    n = town.extensions["bangban_node"]
    n.store.bulk_docs([_board(VILLAGE_1, _rows(3)), _board(VILLAGE_2, _rows(3, VILLAGE_2))])
    client = _client(town)
    reads = [0]
    plain = Node.enrollment.fget

    def counted(self: Node) -> Any:
        reads[0] += 1
        return plain(self)

    monkeypatch.setattr(Node, "enrollment", property(counted))

    def page_reads() -> int:
        reads[0] = 0
        assert client.get("/town/").status_code == 200
        return reads[0]

    before = page_reads()
    n.store.bulk_docs([{"_id": f"notice:{VILLAGE_1}:01a217786f36-{k:04x}-{TOWN}-A1",
                        "type": "notice", "institution": TOWN, "to_institution": VILLAGE_1,
                        "reason": "follow_up", "case_id": f"c{k}", "at": "2026-11-26T10:00:00+08:00",
                        "hlc": f"01a217786f36-{k:04x}-{TOWN}-A1"} for k in range(60)])
    assert page_reads() <= before  # (fewer: the boards were not read again)


def _sent(town: Any) -> list[dict[str, Any]]:
    n = town.extensions["bangban_node"]
    return [r["doc"] for r in n.store.all_docs(startkey="notice:", endkey="notice:\uffff",
                                               include_docs=True)["rows"]]


def test_the_town_urges_every_overdue_row_at_once_and_not_twice_a_day(town: Any) -> None:
    """One notice a row, each a press and a page load: a town's 150 late cases of a Monday
    were 150 round trips. The 超期 filter's rows go in one press, each once a day."""
    past = (local_today() - dt.timedelta(days=1)).isoformat()
    late_1 = [dict(r, due=past) for r in _rows(3)]
    late_2 = [dict(r, due=past) for r in _rows(2, VILLAGE_2)]
    town.extensions["bangban_node"].store.bulk_docs([
        _board(VILLAGE_1, [*late_1, *_rows(4)[3:]]), _board(VILLAGE_2, late_2)])
    client = _client(town)
    page = client.get(f"/town/?overdue=1&institution={VILLAGE_1}").get_data(as_text=True)
    assert 'id="urge-late"' in page and "全部 3 件" in page
    # one press sends many notices: the page asks first (node/static/bangban.js)
    assert 'data-confirm="向 3 件超期办件所在站点各发一条催办？"' in page
    assert 'id="urge-late"' not in client.get("/town/").get_data(as_text=True)
    token = csrf(client)
    resp = client.post("/town/notice/late", data={"csrf": token, "institution": VILLAGE_1})
    assert resp.status_code == 302 and "overdue=1" in resp.headers["Location"]
    sent = _sent(town)
    assert sorted(d["case_id"] for d in sent) == sorted(r["case"] for r in late_1)
    assert all(d["reason"] == "due" and d["to_institution"] == VILLAGE_1 and d["sig"]
               for d in sent)
    # all stations now: village 1's rows were urged today already
    client.post("/town/notice/late", data={"csrf": token})
    assert sorted(d["case_id"] for d in _sent(town)) == sorted(
        r["case"] for r in [*late_1, *late_2])
    assert town.extensions["bangban_node"].syncer.state.pending >= 5


def test_the_api_urges_the_overdue_rows_too(town: Any) -> None:
    past = (local_today() - dt.timedelta(days=1)).isoformat()
    late = [dict(r, due=past) for r in _rows(2)]
    town.extensions["bangban_node"].store.bulk_docs([_board(VILLAGE_1, [*late, *_rows(3)[2:]])])
    client = _client(town)
    r = client.post("/api/town/notice/late", json={})
    assert r.status_code == 201 and len(r.json["ids"]) == 2
    assert client.post("/api/town/notice/late", json={}).json["ids"] == []
    r = client.post("/api/town/notice/late", json={"institution": 5})
    assert r.status_code == 400 and "institution" in r.json["fields"]


def test_the_boards_are_ordered_once_for_all_pages_until_something_changes(
        town: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """Every page, filter, search and return from an urge read and ordered every board
    again: a county's 600 boards took seconds a page. Once per change of a board (or of
    an institution, or of the date); an urge or a case written here changes none."""
    import node.views.town as town_view

    built = [0]
    real = town_view.board_view

    def counted(*args: Any, **kw: Any) -> Any:
        built[0] += 1
        return real(*args, **kw)

    monkeypatch.setattr(town_view, "board_view", counted)
    n = town.extensions["bangban_node"]
    rows = _rows(BOARD_PAGE_ROWS + 5)
    n.store.bulk_docs([_board(VILLAGE_1, rows)])
    client = _client(town)
    for url in ("/town/", "/town/?page=2", "/town/?q=DC-2026", "/api/town"):
        assert client.get(url).status_code == 200
    resp = client.post("/town/notice", data={"csrf": csrf(client), "to": VILLAGE_1,
                                             "case": rows[0]["case"], "reason": "follow_up"})
    assert resp.status_code == 302
    assert "已催办" in client.get("/town/").get_data(as_text=True)  # the notices are read again
    assert built[0] == 1
    new = _rows(1, VILLAGE_2)
    n.store.bulk_docs([_board(VILLAGE_2, new)])  # a pull brings another board
    assert new[0]["case"] in _listed(client.get(f"/town/?institution={VILLAGE_2}").get_data(
        as_text=True))
    assert built[0] == 2


def test_the_notices_sent_are_read_once_and_each_new_one_taken_in(
        town: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """The rows' 已催办 marks read every notice the town ever sent, again after each urge:
    a county's page after an urge took a second. The new notices are taken in instead."""
    import node.notices as notices

    reads = [0]
    real = notices.sent_by_case

    def counted(node: Any) -> Any:
        reads[0] += 1
        return real(node)

    monkeypatch.setattr(notices, "sent_by_case", counted)
    rows = _rows(3)
    town.extensions["bangban_node"].store.bulk_docs([_board(VILLAGE_1, rows)])
    client = _client(town)
    assert "已催办" not in client.get("/town/").get_data(as_text=True)
    token = csrf(client)
    for row in rows[:2]:
        client.post("/town/notice", data={"csrf": token, "to": VILLAGE_1, "case": row["case"],
                                          "reason": "follow_up"})
    page = client.get("/town/").get_data(as_text=True)
    marked = [c for c in _listed(page)
              if "已催办" in page.split(f'data-case="{c}"', 1)[1].split("</tr>", 1)[0]]
    assert sorted(marked) == sorted(r["case"] for r in rows[:2])
    assert reads[0] == 1


def test_an_urge_reads_only_a_board_sent_here(town: Any) -> None:
    """The urge reads that station's board alone now (not all of them): one the hub did
    not address to this institution is still no board to urge from."""
    rows = _rows(1, VILLAGE_2)
    town.extensions["bangban_node"].store.bulk_docs([_board(VILLAGE_2, rows,
                                                            audience=["410621999"])])
    client = _client(town)
    r = client.post("/api/town/notice", json={"to": VILLAGE_2, "case": rows[0]["case"],
                                              "reason": "follow_up"})
    assert r.status_code == 400 and "case" in r.json["fields"]
    r = client.post("/api/town/notice", json={"to": "", "case": rows[0]["case"],
                                              "reason": "follow_up"})
    assert r.status_code == 400
