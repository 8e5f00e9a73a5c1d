"""The dashboard's query arguments as a supervisor uses them: bad values answer 400 naming
the argument and its rule (never a 500), and a drilled-down scope survives the filter form."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from hub.oversight.supervisors import add_supervisor
from tests.hub.oversight.conftest import make_hub
from tests.hub.oversight.scenario import AS_OF, V1, scenario, stored_histories
from tests.hub.oversight.test_web import Q, app, login

__all__ = ["app"]  # the module's app fixture, shared with test_web


@pytest.mark.parametrize(("query", "named"), [
    ("as_of=9999-12-31", "as_of"),  # was a 500: as_of + 5 days overflowed
    ("as_of=0001-01-01", "as_of"),  # was refused naming "from"
    ("from=0000-01", "from"),
    ("from=2026-01&to=2999-12", "to"),
])
def test_dates_out_of_range_are_refused_by_name(app: Any, query: str, named: str) -> None:
    client, _ = login(app, "city", "city-pass-1")
    for page in ("/oversight/", "/oversight/staff", "/oversight/report.pdf"):
        resp = client.get(f"{page}?{query}")
        assert resp.status_code == 400, (page, resp.status_code)
        assert resp.get_json()["reason"].startswith(f"{named}:")


def test_export_grouping_must_be_known(app: Any) -> None:
    client, _ = login(app, "city", "city-pass-1")
    resp = client.get(f"/oversight/export.csv?{Q}&by=institution")
    assert resp.status_code == 400 and resp.get_json()["reason"].startswith("by:")
    assert client.get(f"/oversight/export.csv?{Q}&by=staff").status_code == 200


def _selected_scope(page: str) -> str:
    menu = re.search(r'<select name="scope"[^>]*>(.*?)</select>', page, re.S)
    assert menu is not None
    chosen = re.findall(r'<option value="(\d+)" selected', menu.group(1))
    return chosen[0] if chosen else ""


def test_a_drilled_down_scope_stays_selected(app: Any) -> None:
    """The menu offered the supervisor's own unit and the current scope's children only: on
    a town's page nothing was selected, so changing the months went back to the whole city."""
    client, _ = login(app, "city", "city-pass-1")
    town = V1[:9]
    page = client.get(f"/oversight/?{Q}&scope={town}").text
    assert _selected_scope(page) == town
    assert '<option value="410602"' in page  # the way back up to the county
    assert _selected_scope(client.get(f"/oversight/?{Q}&scope={V1}").text) == V1
    assert _selected_scope(client.get(f"/oversight/?{Q}").text) == ""  # the city: first option
    for page in ("staff", "checks", "complaints"):  # these had no scope menu at all
        assert _selected_scope(client.get(f"/oversight/{page}?{Q}&scope={town}").text) == town
    # a town supervisor is never offered a unit above its own
    client, _ = login(app, "town", "town-pass-1")
    page = client.get(f"/oversight/?from=2026-03&as_of={AS_OF}&scope={V1}").text
    assert _selected_scope(page) == V1 and '<option value="410602"' not in page


@pytest.fixture
def fresh_app(tmp_path: Path) -> Iterator[Any]:
    """A hub whose facts nothing has folded yet."""
    from hub.app import create_app

    hub = make_hub(tmp_path)
    hub.stores.main.bulk_docs([d for h in stored_histories(scenario()) for d in h])
    add_supervisor(hub, "city", "city-pass-1", institution="410600")
    yield create_app(hub=hub)
    hub.close()


def test_complaints_are_listed_by_case_number(fresh_app: Any) -> None:
    """The supervisor types a case number to take a complaint; the tracking table showed
    the case's internal id instead, matching nothing on the other pages. The page is the
    first one read here: it must fold the feed itself, as every other page does."""
    client, _ = login(fresh_app, "city", "city-pass-1")
    page = client.get(f"/oversight/complaints?{Q}").text
    table = page.split('id="complaints"', 1)[1]
    cells = re.findall(r'<tr>\s*<td class="l">[\d-]{10}</td><td class="l">([^<]*)</td>', table)
    assert len(cells) == 2 and all(re.fullmatch(r"4106\d{8}-2026-A1-\d{5}", c) for c in cells)


@pytest.mark.parametrize("query", ["by=staff", "fmt=csv", "fmt=csv&by=staff&_external=1"])
def test_stray_arguments_do_not_break_the_export_links(app: Any, query: str) -> None:
    """The export links were built from request.args, whose "fmt" or "by" clashed with the
    link's own: a 500 on /oversight/staff?by=staff."""
    client, _ = login(app, "city", "city-pass-1")
    for page in ("/oversight/", "/oversight/staff"):
        resp = client.get(f"{page}?{Q}&{query}")
        assert resp.status_code == 200, (page, resp.status_code)
        links = re.findall(r'href="(/oversight/export\.[^"]+)"', resp.text)
        assert links and all("from=2026-02" in u and "http" not in u for u in links)


def test_every_case_behind_a_count_is_one_click_away(app: Any, monkeypatch: Any) -> None:
    """The dashboard listed the first 20 cases of each list ("20+") and nothing led to the
    rest; the overdue and complaint counts linked nowhere."""
    from hub.oversight import views

    client, _ = login(app, "city", "city-pass-1")
    monkeypatch.setattr(views, "DASHBOARD_LIST_ROWS", 0)  # as if the list were longer
    page = client.get(f"/oversight/?{Q}").text
    assert '<a href="#list-overdue">1</a>' in page
    assert re.search(r'<h3 id="list-overdue">[^<]*（1）</h3>', page)
    full = re.search(r'href="(/oversight/cases/overdue\?[^"]+)">共 1 件', page)
    assert full is not None and "/oversight/complaints?" in page
    listed = client.get(full.group(1).replace("&amp;", "&"))
    assert listed.status_code == 200 and "410621101201-2026-A1" in listed.text  # c9
    # a unit's overdue count opens that unit's list
    unit = client.get(f"/oversight/cases/overdue?{Q}&scope=410621").text
    assert "410621101201-2026-A1" in unit
    assert "410621101201-2026-A1" not in client.get(
        f"/oversight/cases/overdue?{Q}&scope=410602").text


@pytest.mark.parametrize("page", ["0", "2", "-1", "x", "99999999999999999999"])
def test_a_case_list_page_out_of_range_is_refused_by_name(app: Any, page: str) -> None:
    client, _ = login(app, "city", "city-pass-1")
    resp = client.get(f"/oversight/cases/overdue?{Q}&page={page}")
    assert resp.status_code == 400 and resp.get_json()["reason"].startswith("page: ")
    assert client.get(f"/oversight/cases/nonsense?{Q}").status_code == 404


def test_the_login_cookie_is_not_the_node_uis(app: Any) -> None:
    """Cookies ignore ports: the hub and a node UI on one host both set "session", so
    opening the node logged the supervisor out (seen with the demo's URLs)."""
    _client, resp = login(app, "city", "city-pass-1")
    cookie = resp.headers["Set-Cookie"]
    assert cookie.startswith("bangban_oversight=") and "HttpOnly" in cookie
    assert "SameSite=Lax" in cookie  # meant all along; Flask's default (None) won


def test_the_public_page_says_which_items_carry_fees_in_words(app: Any) -> None:
    """8.1.2: the disclosure page printed the catalog's boolean ("True") for items with
    administrative fees (10.2.5.1 b) and "免费" for the others."""
    page = app.test_client().get(f"/oversight/public/{V1}").text
    rows = {r.split("<", 1)[0]: r for r in page.split('<tr><td class="l">')[1:]}
    assert "True" not in page and "False" not in page
    assert "依法缴纳行政收费" in rows["MS-001"] and "依法缴纳行政收费" not in rows["MS-002"]


BROWSERS = [  # Firefox's and Chromium's Accept headers
    {"Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"},
    {"Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,"
               "image/apng,*/*;q=0.8,application/signed-exchange;v=b3;q=0.7"}]


@pytest.mark.parametrize("browser", BROWSERS)
def test_a_refusal_reads_as_a_page_in_a_browser(app: Any, browser: dict[str, str]) -> None:
    """A browser got the hub's JSON for a bad month, and Werkzeug's English "Forbidden"
    page, naming nothing, for a scope outside the supervisor's area."""
    client, _ = login(app, "town", "town-pass-1")
    resp = client.get("/oversight/?from=2026-13", headers=browser)
    assert resp.status_code == 400 and resp.mimetype == "text/html"
    # the Chinese half first, naming the box as the filter labels it; the English one below
    assert ('id="refusal">统计月份格式应为 YYYY-MM，如 2026-03<br><small lang="en">from: a '
            'month YYYY-MM</small>') in resp.text and "返回总览" in resp.text
    assert "cannot show" not in resp.text and "back to the overview" not in resp.text
    resp = client.get(f"/oversight/staff?{Q}&scope=410621", headers=browser)
    assert resp.status_code == 403 and "scope: 410621 is outside your area" in resp.text
    assert 'id="refusal">范围：410621 超出您的监督范围' in resp.text
    resp = client.get(f"/oversight/cases/overdue?{Q}&scope=410621")  # other clients: JSON
    assert resp.status_code == 403 and resp.get_json() == {
        "error": "forbidden",
        "reason": "scope: 410621 is outside your area (410602101) / 范围：410621 超出您的监督范围，"
                  "请在“范围”中选择"}


def test_a_stale_form_says_what_to_do(app: Any) -> None:
    """A form from before a logout (its token gone with the session) met Werkzeug's English
    "Bad Request", naming nothing."""
    client = app.test_client()
    resp = client.post("/oversight/login", data={"login": "city", "password": "x",
                                                 "csrf": "old"}, headers=BROWSERS[1])
    assert resp.status_code == 400 and "表单已失效，请重新输入密码登录" in resp.text
    assert resp.mimetype == "text/html" and 'id="password"' in resp.text  # to log in again


def test_a_live_login_is_not_ended_by_a_logout_without_its_token(app: Any) -> None:
    """退出 with no live login just goes to the login page; with one, the token is still
    checked (another site's form must not log a supervisor out)."""
    client, _ = login(app, "city", "city-pass-1")
    resp = client.post("/oversight/logout", data={"csrf": "forged"}, headers=BROWSERS[1])
    assert resp.status_code == 400 and client.get("/oversight/").status_code == 200
    # not "reload the page": reloading the refusal sent the same stale form again
    assert "请返回上一页，刷新后重新提交" in resp.text and "请刷新页面" not in resp.text
    fresh = app.test_client().post("/oversight/logout", data={"csrf": "old"})
    assert fresh.status_code == 302 and fresh.headers["Location"].endswith("/oversight/login")


def test_an_unknown_public_page_says_so(app: Any) -> None:
    resp = app.test_client().get("/oversight/public/4106021019", headers=BROWSERS[1])
    assert resp.status_code == 404 and "没有代码为 4106021019 的机构" in resp.text
    # a citizen's typo: no way to the supervisors' overview (a login page to them)
    assert 'href="/oversight/"' not in resp.text and "返回总览" not in resp.text


def test_a_case_outside_the_area_is_refused_as_an_unknown_number_is(app: Any) -> None:
    """Taking a complaint: "outside your area" told a town supervisor which case numbers
    exist in other towns; both answers are now the same."""
    ov = app.extensions["bangban_oversight"]
    (elsewhere,) = ov.facts.reader().execute(
        "SELECT case_no FROM facts WHERE case_no LIKE '410621101201-%' LIMIT 1").fetchone()
    client, _ = login(app, "town", "town-pass-1")
    page = client.get(f"/oversight/complaints?{Q}").text
    token = re.search(r'name="csrf" value="([^"]+)"', page).group(1)  # type: ignore[union-attr]
    answers = []
    for ref in (elsewhere, "410621101201-2026-A1-99999"):
        resp = client.post(f"/oversight/complaints?{Q}", data={
            "csrf": token, "case": ref, "intake": "phone", "category": "attitude",
            "text": "窗口无人"})
        # but for the nonce of the box's count (static/count.js), new in every answer
        answers.append(re.sub(r'nonce="[^"]+"', "", resp.text.replace(ref, "REF")))
        assert f"您的监督范围内不存在办件编号 {ref}" in resp.text
    assert answers[0] == answers[1]


def test_a_complaint_taken_is_confirmed_by_its_case_number(
        app: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """The confirmation read "投诉已登记（01a2192cef23-0000-410600-HB）": the complaint
    event's clock, which names nothing a supervisor knows. (The sealing itself is
    tests/hub/oversight/test_complaints.py; these cases have no keyring.)"""
    from hub.oversight import complaints as cmp

    taken: list[str] = []

    def take(hub: Any, case_id: str, **kw: Any) -> dict[str, Any]:
        taken.append(case_id)
        return {"case_id": case_id, "hlc": "01a2192cef23-0000-410600-HB"}

    monkeypatch.setattr(cmp, "take_complaint", take)
    client, _ = login(app, "city", "city-pass-1")
    page = client.get(f"/oversight/complaints?{Q}").text  # a page read folds what arrived
    token = re.search(r'name="csrf" value="([^"]+)"', page).group(1)  # type: ignore[union-attr]
    (case_no,) = app.extensions["bangban_oversight"].facts.reader().execute(
        "SELECT case_no FROM facts WHERE case_no LIKE '410621101201-%' LIMIT 1").fetchone()
    resp = client.post(f"/oversight/complaints?{Q}", data={
        "csrf": token, "case": case_no, "intake": "phone", "category": "attitude",
        "text": "窗口无人"}, follow_redirects=True)
    assert resp.status_code == 200, re.findall(r"alert[^>]*>([^<]*)", resp.text)
    assert f"投诉已登记：办件 {case_no}" in resp.text
    assert not re.search(r"投诉已登记（[0-9a-f]{12}-", resp.text) and len(taken) == 1


def test_the_checks_report_says_when_its_overdue_table_is_cut(app: Any, monkeypatch: Any) -> None:
    """The 11.1 b) report said "超期未办结 N 件" above a table cut at 100 rows, and
    nothing said the table held fewer, nor led to the rest (the monthly report and the
    dashboard both say so)."""
    from hub.oversight import views

    client, _ = login(app, "city", "city-pass-1")
    whole = client.get(f"/oversight/checks?{Q}").text
    assert 'id="overdue-shown"' not in whole and "410621101201-2026-A1" in whole  # c9
    monkeypatch.setattr(views, "CHECKS_LIST_ROWS", 0)  # as if there were more than shown
    page = client.get(f"/oversight/checks?{Q}").text
    shown = re.search(r'<p id="overdue-shown">(.*?)</p>', page, re.S)
    assert shown is not None and "最早的 0 件（共 1 件）" in shown.group(1)
    link = re.search(r'href="(/oversight/cases/overdue\?[^"]+)"', shown.group(1))
    assert link is not None
    assert "410621101201-2026-A1" in client.get(link.group(1).replace("&amp;", "&")).text


@pytest.mark.parametrize("action", ["take", "handle"])
def test_a_recorded_complaint_is_not_sent_again_by_a_reload(
        app: Any, monkeypatch: pytest.MonkeyPatch, action: str) -> None:
    """The answer to the complaint form was the page itself: reloading it (or Back, then
    Forward), the browser sent the form again and the same call was recorded twice."""
    from hub.oversight import complaints as cmp

    taken: list[str] = []
    monkeypatch.setattr(cmp, f"{action}_complaint",
                        lambda hub, case_id, *a, **kw: taken.append(case_id) or {})
    client, _ = login(app, "city", "city-pass-1")
    page = client.get(f"/oversight/complaints?{Q}").text
    token = re.search(r'name="csrf" value="([^"]+)"', page).group(1)  # type: ignore[union-attr]
    (case_no,) = app.extensions["bangban_oversight"].facts.reader().execute(
        "SELECT case_no FROM facts WHERE case_no LIKE '410621101201-%' LIMIT 1").fetchone()
    resp = client.post(f"/oversight/complaints?{Q}&scope=410621", data={
        "csrf": token, "action": action, "case": case_no, "intake": "phone",
        "category": "attitude", "text": "窗口无人", "complaint": "c", "result": "upheld"})
    assert resp.status_code == 303 and len(taken) == 1
    assert resp.headers["Location"].endswith(f"/oversight/complaints?{Q}&scope=410621")
    shown = client.get(resp.headers["Location"]).text  # what a reload sends again
    assert ("投诉已登记" if action == "take" else "已登记处理结果") in shown
    assert "已登记" not in client.get(resp.headers["Location"]).text.split("<h3")[0]  # once
    assert len(taken) == 1
