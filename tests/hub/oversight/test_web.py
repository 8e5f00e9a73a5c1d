"""The dashboard through Flask's test client: logins per level, subtrees, exports, PDF,
the public disclosure page (8.1.2)."""

from __future__ import annotations

import csv
import io
import re
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from hub.oversight.supervisors import (
    SupervisorError,
    add_supervisor,
    check_password,
    hash_password,
)
from tests.hub.oversight.conftest import make_hub
from tests.hub.oversight.scenario import AS_OF, V1, scenario, stored_histories

Q = f"from=2026-02&to=2026-03&as_of={AS_OF}"


@pytest.fixture(scope="module")
def app(tmp_path_factory: Any) -> Iterator[Any]:
    from hub.app import create_app

    hub = make_hub(tmp_path_factory.mktemp("web"))
    hub.stores.main.bulk_docs([d for h in stored_histories(scenario()) for d in h])
    add_supervisor(hub, "city", "city-pass-1", institution="410600", name="市中心监督员")
    add_supervisor(hub, "town", "town-pass-1", institution="410602101", name="鹤壁集镇监督员")
    yield create_app(hub=hub)
    hub.close()


def login(app: Any, user: str, password: str, address: str = "127.0.0.1") -> Any:
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = address
    page = client.get("/oversight/login")
    token = re.search(r'name="csrf" value="([^"]+)"', page.text).group(1)  # type: ignore[union-attr]
    resp = client.post("/oversight/login", data={"login": user, "password": password,
                                                 "csrf": token})
    return client, resp


def test_login_is_required_and_checked(app: Any) -> None:
    client = app.test_client()
    assert client.get("/oversight/").status_code == 302
    _c, resp = login(app, "city", "wrong-password")
    assert resp.status_code == 401 and "密码错误" in resp.text
    _c, resp = login(app, "city", "city-pass-1")
    assert resp.status_code == 302
    assert client.post("/oversight/login", data={"login": "city"}).status_code == 400  # csrf


def test_password_guessing_is_stopped_after_five_failures(app: Any) -> None:
    """A person's password and one guess per request: the sixth try from the same address
    within 15 minutes is refused unchecked, even with the right password; another address
    (the supervisor at their own desk) still logs in."""
    for i in range(5):
        assert login(app, "town", f"guess-{i}", address="10.9.9.9")[1].status_code == 401
    client, blocked = login(app, "town", "town-pass-1", address="10.9.9.9")
    assert blocked.status_code == 429 and "分钟后再试" in blocked.text
    assert client.get("/oversight/").status_code == 302  # not logged in
    client, ok = login(app, "town", "town-pass-1", address="10.8.8.8")
    assert ok.status_code == 302 and client.get("/oversight/").status_code == 200


def test_login_throttle_window(tmp_path: Path) -> None:
    from hub.oversight.throttle import LoginThrottle

    now = [1000.0]
    t = LoginThrottle(tmp_path / "logins.sqlite", max_failures=3, window=60, clock=lambda: now[0])
    for _ in range(3):
        assert t.wait_seconds("a", "ip") == 0
        t.failed("a", "ip")
    assert t.wait_seconds("a", "ip") == 60 and t.wait_seconds("b", "ip") == 0
    now[0] += 59.5
    assert t.wait_seconds("a", "ip") == 1
    now[0] += 1
    assert t.wait_seconds("a", "ip") == 0  # the oldest failure left the window
    t.failed("a", "ip")
    t.succeeded("a", "ip")
    assert t.wait_seconds("a", "ip") == 0


def test_login_throttle_is_shared_by_gateways_and_kept_over_a_restart(tmp_path: Path) -> None:
    """`hub serve --processes 2`: the guesses made through either gateway add up, and a
    restarted gateway still refuses (an in-memory count gave 2x the guesses, and a fresh
    start at every restart)."""
    from hub.oversight.throttle import LoginThrottle

    now = [5000.0]
    path = tmp_path / "logins.sqlite"
    one, two = (LoginThrottle(path, max_failures=4, window=900, clock=lambda: now[0])
                for _ in range(2))
    for gateway in (one, two, one, two):
        gateway.failed("town", "10.9.9.9")
    assert one.wait_seconds("town", "10.9.9.9") == two.wait_seconds("town", "10.9.9.9") == 900
    restarted = LoginThrottle(path, max_failures=4, window=900, clock=lambda: now[0])
    assert restarted.wait_seconds("town", "10.9.9.9") == 900
    assert restarted.wait_seconds("town", "10.8.8.8") == 0
    two.succeeded("town", "10.9.9.9")
    assert one.wait_seconds("town", "10.9.9.9") == 0


def test_login_throttle_file_stays_bounded(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A flood of made-up logins must not grow the file without bound."""
    import hub.oversight.throttle as throttle

    monkeypatch.setattr(throttle, "MAX_ROWS", 50)
    t = throttle.LoginThrottle(tmp_path / "logins.sqlite", max_failures=3, window=900)
    for i in range(80):
        t.failed(f"made-up-{i}", "10.9.9.9")
    rows = t._db().execute("SELECT login FROM failures ORDER BY at").fetchall()
    assert len(rows) == 50 and rows[-1][0] == "made-up-79"


def test_city_dashboard_shows_known_indicators(app: Any) -> None:
    client, _ = login(app, "city", "city-pass-1")
    page = client.get(f"/oversight/?{Q}").text
    assert "75.0%" in page  # on-time completion 3/4
    assert "3/4 件" in page and "鹤山区政务服务中心" in page and "浚县政务服务中心" in page
    assert "<svg" in page and "http://" not in page.replace('xmlns="http://www.w3.org/2000/svg"',
                                                            "")
    assert "410621101201-2026-A1" in page  # c9, overdue since 9 Mar, is listed


def test_town_supervisor_sees_only_its_subtree(app: Any) -> None:
    client, _ = login(app, "town", "town-pass-1")
    page = client.get(f"/oversight/?{Q}").text
    assert "鹤壁集村便民服务站" in page and "浚县" not in page
    assert "410621101201-2026-A1" not in page  # the overdue case of another county
    assert "2/3 件" in page  # c1 on time, c2 late, c3 on time thanks to the suspension
    assert client.get(f"/oversight/?{Q}&scope=410621").status_code == 403
    assert client.get(f"/oversight/?{Q}&scope={V1}").status_code == 200
    assert client.get("/oversight/?from=2026-13").status_code == 400


def test_exports_and_report(app: Any) -> None:
    client, _ = login(app, "town", "town-pass-1")
    resp = client.get(f"/oversight/export.csv?{Q}")
    rows = list(csv.reader(io.StringIO(resp.data.decode("utf-8-sig"))))
    head, total = rows[0], rows[-1]
    assert total[head.index("办结")] == "3" and total[head.index("按时办结率")] == "0.6667"
    from openpyxl import load_workbook

    resp = client.get(f"/oversight/export.xlsx?{Q}&by=staff")
    ws = load_workbook(io.BytesIO(resp.data)).active
    values = [[c.value for c in r] for r in ws.iter_rows()]
    staff = {r[2]: r for r in values[1:-1]}
    assert staff["s1"][values[0].index("按时办结率")] == 0.5
    pdf = client.get(f"/oversight/report.pdf?{Q}").data
    assert pdf.startswith(b"%PDF") and b"FontFile2" in pdf  # the CJK TrueType font is embedded
    checks = client.get(f"/oversight/checks?{Q}").text
    for clause in ("check-a", "check-b", "check-c", "check-d", "check-e"):
        assert f'id="{clause}"' in checks
    assert "超过续办期限视为终止 1 件" in checks


def test_public_disclosure_page_needs_no_login(app: Any) -> None:
    page = app.test_client().get(f"/oversight/public/{V1}").text
    assert "鹤壁集村便民服务站" in page and "帮办代办事项清单" in page and "办理流程" in page
    assert "MS-001" in page
    assert app.test_client().get("/oversight/public/999999").status_code == 404


def test_supervisor_accounts(app: Any) -> None:
    hub = app.extensions["bangban_hub"]
    with pytest.raises(SupervisorError, match="institution"):
        add_supervisor(hub, "vil", "long-enough", institution=V1)  # a village station
    with pytest.raises(SupervisorError, match="password"):
        add_supervisor(hub, "x1", "short", institution="410602")
    stored = hash_password("secret-123", n=1024)
    assert "secret-123" not in str(stored) and check_password(stored, "secret-123")
    assert not check_password(stored, "secret-124")


def test_a_password_change_ends_the_sessions_logged_in_with_the_old_one(app: Any) -> None:
    """A signed cookie cannot be recalled; after a lost laptop the operator sets a new
    password (`supervisor add --replace`), and the old sessions must end with it."""
    hub = app.extensions["bangban_hub"]
    add_supervisor(hub, "county2", "county-pass-1", institution="410602101", name="甲")
    client, _ = login(app, "county2", "county-pass-1")
    assert client.get("/oversight/").status_code == 200
    add_supervisor(hub, "county2", "county-pass-2", institution="410602101", replace=True)
    assert client.get("/oversight/").status_code == 302
    client, _ = login(app, "county2", "county-pass-2")
    assert client.get("/oversight/").status_code == 200


def test_a_login_lasts_a_working_day(app: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    import itsdangerous.timed

    client, _ = login(app, "city", "city-pass-1")
    assert client.get("/oversight/").status_code == 200
    later = time.time() + 13 * 3600
    monkeypatch.setattr(itsdangerous.timed.time, "time", lambda: later)
    assert client.get("/oversight/").status_code == 302


def test_without_as_of_the_dashboard_counts_as_of_beijing_today(app: Any,
                                                                  off_beijing_tz: str) -> None:
    """Overdue (5 a, 11.1 b) is judged against today in Beijing, not the server's date: a
    hub in UTC took a case due yesterday (Beijing) as not yet late until 08:00."""
    from schemas.state import local_today

    client, _ = login(app, "city", "city-pass-1")
    page = client.get("/oversight/?from=2026-02&to=2026-03").text
    assert f"当前超期未办结（{local_today().isoformat()}）" in page, off_beijing_tz


def test_monthly_report_has_the_ratings_and_the_complaints(app: Any, tmp_path: Path) -> None:
    """The printed report carries what the dashboard shows for 11.2 and 11.1/5 c: the five
    levels of 好差评 with the bad ones followed up (c2 followed up, c10 not), and the
    complaints tracked: c10's still open past its deadline, c2's handled on 3 March."""
    import subprocess

    client, _ = login(app, "city", "city-pass-1")
    out = tmp_path / "report.pdf"
    out.write_bytes(client.get(f"/oversight/report.pdf?{Q}").data)
    text = subprocess.run(["pdftotext", "-layout", str(out), "-"], capture_output=True,
                          text=True, check=True).stdout
    assert "四、好差评（11.2）" in text and "非常不满意" in text
    assert "差评 2 次，已回访 1 次" in text
    assert "五、投诉（11.1、5 c）：期末未处理 1 件，本期已处理 1 件" in text
    handled = next(x for x in text.splitlines() if "2026-03-03" in x and "部分属实" in x)
    assert "2026-02-25" in handled
    assert any("未处理" in x and "2026-03-06" in x for x in text.splitlines())


def test_a_past_months_report_counts_a_complaint_handled_later_as_open_at_its_end(
        app: Any, tmp_path: Path) -> None:
    """February's report, printed on 20 March: c2's complaint came on 25 February and was
    handled on 3 March, so it was open at February's end. The report listed it (with its
    handling day) but said "期末未处理 0 件，本期已处理 1 件": nothing was handled in February."""
    import subprocess

    client, _ = login(app, "city", "city-pass-1")
    out = tmp_path / "report-feb.pdf"
    out.write_bytes(client.get(f"/oversight/report.pdf?from=2026-02&to=2026-02&as_of={AS_OF}"
                               ).data)
    text = subprocess.run(["pdftotext", "-layout", str(out), "-"], capture_output=True,
                          text=True, check=True).stdout
    assert "五、投诉（11.1、5 c）：期末未处理 1 件，本期已处理 0 件" in text


def test_each_rate_is_printed_with_its_own_counts(app: Any) -> None:
    """The dashboard printed 咨询 "50.0%" over "2/3": the rate counts the consultation still
    waiting past its day (c8) against the station, the fraction beside it left it out; the
    complaint and satisfaction rates had no counts at all, and the export's consultation
    columns could not give the rate back. Each rate now stands beside its own numerator
    and denominator, on the page and in the export, and the legend says what they are."""
    client, _ = login(app, "city", "city-pass-1")
    page = client.get(f"/oversight/?{Q}").text

    def kpi(name: str) -> str:
        found = re.search(rf'id="kpi-{name}">(.*?)</div>', page, re.S)
        assert found is not None, name
        return re.sub(r"<[^>]+>", "", found.group(1))

    assert "50.0%" in kpi("consult") and "2/4，" in kpi("consult")
    assert "50.0%" in kpi("complaints") and "1/2，" in kpi("complaints")
    assert re.search(r"\d+/\d+ 次评价", kpi("satisfaction"))
    assert 'id="rate-legend"' in page and "超时未答复" in page
    rows = list(csv.reader(io.StringIO(
        client.get(f"/oversight/export.csv?{Q}").data.decode("utf-8-sig"))))
    head, total = rows[0], dict(zip(rows[0], rows[-1], strict=True))
    for rate, num, den in (("咨询及时答复率", "咨询及时答复", ("咨询及时答复", "咨询答复超时", "咨询超时未答复")),
                           ("投诉及时处理率", "投诉及时处理", ("投诉及时处理", "投诉处理超时", "投诉超期未处理"))):
        counted = sum(int(total[k]) for k in den)
        assert float(total[rate]) == round(int(total[num]) / counted, 4), (rate, total)
    assert "满意率" in head


def test_the_complaint_counts_say_which_complaints_they_count(app: Any) -> None:
    """April's dashboard read "投诉 0，未处理 0" and its link opened the complaints page
    listing March's complaint, still open (every open one is listed until handled); and
    the page said handled ones are listed by the month they came in, while it lists them
    in the month they were handled (a February complaint handled on 3 March is March's)."""
    client, _ = login(app, "city", "city-pass-1")
    q = f"from=2026-04&to=2026-04&as_of={AS_OF}"
    kpi = re.search(r'id="kpi-complaints">(.*?)</div>', client.get(f"/oversight/?{q}").text,
                    re.S)
    assert kpi is not None and "本期受理投诉 0，其中未处理 0" in kpi.group(1)
    april = client.get(f"/oversight/complaints?{q}").text
    assert april.count("未处理</td>") == 1  # March's, still open
    march = client.get(f"/oversight/complaints?from=2026-03&to=2026-03&as_of={AS_OF}").text
    rows = [row for row in march.split("<tr>") if "2026-02-25" in row]
    assert len(rows) == 1 and "<td>2026-03-03</td>" in rows[0]  # received, handled
    assert "已处理的按处理日期列入当期" in march


def test_the_checks_page_counts_late_consultations_as_the_rate_does(app: Any) -> None:
    """11.1 c) 咨询答复超时 counted only the replies given late, while 咨询及时答复率
    (10.1.1.3) also counts the consultation still waiting past its day (c8) against the
    station: the count said 1 beside a rate of 2 in time of 4. Both now count the same
    consultations; the legend says which."""
    client, _ = login(app, "city", "city-pass-1")
    checks = client.get(f"/oversight/checks?{Q}").text
    late = re.search(r'咨询答复超时 <span id="consult-not-in-time">(\d+)</span> 件', checks)
    assert late is not None
    kpi = re.search(r'id="kpi-consult">.*?</b>(\d+)/(\d+)', client.get(f"/oversight/?{Q}").text,
                    re.S)
    assert kpi is not None
    in_time, counted = int(kpi.group(1)), int(kpi.group(2))
    assert (in_time, counted) == (2, 4)  # scenario.py: c8 waits past its day, one reply late
    assert int(late.group(1)) == counted - in_time == 2
    legend = re.search(r'id="consult-legend">(.*?)</small>', checks, re.S)
    assert legend is not None and "同一口径" in legend.group(1) and "50.0%" in legend.group(1)


def test_the_xlsx_sheet_is_named_by_the_whole_period(app: Any) -> None:
    """An export of February to March had a sheet named "2026-02": copied or opened
    without its file name, it read as February's numbers."""
    from openpyxl import load_workbook

    client, _ = login(app, "town", "town-pass-1")
    for query, title in ((Q, "2026-02 至 2026-03"),
                         (f"from=2026-03&to=2026-03&as_of={AS_OF}", "2026-03")):
        resp = client.get(f"/oversight/export.xlsx?{query}")
        assert load_workbook(io.BytesIO(resp.data)).sheetnames == [title]


def test_the_report_file_is_named_by_the_whole_period(app: Any) -> None:
    """The PDF of February to March was offered as "report-…-2026-02.pdf" and filed as
    February's report."""
    client, _ = login(app, "town", "town-pass-1")
    for query, period in ((Q, "2026-02-2026-03"),
                          (f"from=2026-03&to=2026-03&as_of={AS_OF}", "2026-03")):
        resp = client.get(f"/oversight/report.pdf?{query}")
        name = resp.headers["Content-Disposition"].rpartition("filename=")[2]
        assert re.fullmatch(rf"report-\d+-{period}\.pdf", name), name


def test_the_dashboard_says_when_its_deadlines_are_estimated(app: Any) -> None:
    """design.md §6: beyond the known calendars (chinesecalendar to 2026, the hub's
    calendar documents: here 2026-2027) deadlines count Mon-Fri "with a visible warning".
    The stations' pages said so; the supervisor's dashboard showed 2028's due dates and
    the overdue list and rates built on them as certain."""
    client, _ = login(app, "city", "city-pass-1")
    page = client.get("/oversight/?from=2028-01&to=2028-01&as_of=2028-01-10").text
    assert 'id="calendar-estimated"' in page and "2028 年的节假日尚未公布" in page
    assert 'id="calendar-estimated"' not in client.get(f"/oversight/?{Q}").text
