"""What the browser keeps on the laptop's disk, in clear, outside the sealed store
(7.2.2.2; design.md: personal data is sealed before it touches a disk): no cached pages,
and no searched names or ID numbers in its history."""

from __future__ import annotations

import re
from typing import Any

from tests.node.conftest import csrf
from tests.node.test_clerk_day import _case_id, _consult


def test_pages_are_not_kept_in_the_browser_cache(unlocked: Any) -> None:
    case_id = _case_id(_consult(unlocked, applicant_name="赵秀英"))
    for path in ("/", "/cases/", f"/cases/{case_id}", "/api/sync"):
        resp = unlocked.get(path)
        assert resp.headers.get("Cache-Control") == "no-store", path
    static = unlocked.get("/static/bangban.js")  # the script holds nobody's data
    assert static.status_code == 200 and static.headers.get("Cache-Control") != "no-store"


def test_a_search_never_puts_what_was_searched_in_an_address(unlocked: Any) -> None:
    # awaiting its reply (10.1.1.3): an open case, on the open list searched below
    case_id = _case_id(_consult(unlocked, applicant_name="赵秀英", phone="13912345678",
                                answered=None))
    form = unlocked.get("/cases/").data.decode()
    assert re.search(r'<form method="post" action="/cases/" class="card" role="search"', form)
    for q in ("赵秀英", "13912345678"):
        resp = unlocked.post("/cases/", data={"csrf": csrf(unlocked), "q": q, "view": "open"})
        assert resp.status_code == 302
        where = resp.headers["Location"]
        assert q not in where and "%" not in where.split("?", 1)[1], where
        assert "view=open" in where
        page = unlocked.get(where).data.decode()
        assert case_id in page and f'value="{q}"' in page  # found, and the box keeps it
    node = unlocked.application.extensions["bangban_node"]
    assert node.searches
    node.lock()  # locking forgets the searches with the keys
    assert node.searches == {}


def test_a_forgotten_search_says_so(unlocked: Any) -> None:
    _case_id(_consult(unlocked))
    page = unlocked.get("/cases/?s=gone").data.decode()
    assert 'id="search-forgotten"' in page


def test_the_next_page_of_a_search_keeps_the_search_not_its_words(unlocked: Any) -> None:
    node = unlocked.application.extensions["bangban_node"]
    node.settings.page_size = 2
    for _ in range(3):
        _case_id(_consult(unlocked, applicant_name="钱多多"))
    where = unlocked.post("/cases/", data={"csrf": csrf(unlocked), "q": "钱多多"}
                          ).headers["Location"]
    page = unlocked.get(where).data.decode()
    nxt = re.search(r'href="(/cases/\?[^"]*after=[^"]+)"', page)
    assert nxt is not None and "钱" not in nxt.group(1) and "s=" in nxt.group(1)
    rows = re.compile(r'<td><a href="/cases/[^"?]+">')
    assert len(rows.findall(page)) == 2
    rest = unlocked.get(nxt.group(1).replace("&amp;", "&")).data.decode()
    assert len(rows.findall(rest)) == 1
