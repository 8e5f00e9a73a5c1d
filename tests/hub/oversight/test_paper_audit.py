"""The 补录 audit (hub/oversight/paper.py, paper_views.py): a supervisor lists the cases a
station brought in from its paper ledger, with the paper dates, when each step was typed and
received, by which device and staff, and whether the case went on live; a step typed more
than ``paper_entry_days`` after its device's first sync is flagged; the case page marks each
补录 step with both dates. Before, the checks page only counted 补录 steps per laptop."""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Iterator
from typing import Any

import pytest

from hub.receipts import receipt_doc
from schemas.build import make_event
from schemas.hlc import HLC, tick
from schemas.paper import paper_at
from tests.a11y import markup_problems
from tests.hub.oversight.cases import TZ, CaseBuilder
from tests.hub.oversight.conftest import make_hub, stored
from tests.hub.oversight.scenario import V1, W
from tests.hub.oversight.test_web import login

Q = "from=2026-03&to=2026-03&as_of=2026-03-31"


def _when(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text).replace(tzinfo=TZ)


def _ms(text: str) -> int:
    return int(_when(text).timestamp() * 1000)


def _paper(b: CaseBuilder, event_type: str, day: str, typed: str,
           private: dict[str, Any] | None = None, **fields: Any) -> dict[str, Any]:
    """A step typed at ``typed`` (its hlc) stating the paper's ``day`` (node/paper.py)."""
    base = b.clock
    assert base is not None
    b.clock = tick(max(_ms(typed), base.wall_ms), HLC(base.wall_ms, base.counter, b.device),
                   b.device)
    doc = make_event(event_type, case_id=b.case_id, clock=b.clock,
                     at=paper_at(dt.date.fromisoformat(day)), institution=b.institution,
                     staff=b.staff, base_hlc=b.last, private=private or {}, **fields)
    b.last = doc["hlc"]
    b.events.append(doc)
    return doc


def _brought_in(institution: str, staff: str, typed: str, accepted: str) -> CaseBuilder:
    """A case of the paper ledger accepted on ``accepted``, typed in at ``typed``."""
    b = CaseBuilder(institution, staff, typed[:10])
    b.header["opened_at"] = paper_at(dt.date.fromisoformat(accepted))
    _paper(b, "application", accepted, typed, channel="offline", service_item="MS-001",
           mode="nearby")
    _paper(b, "acceptance", accepted, typed, zone="assisted_zone", time_limit_days=20)
    return b


@pytest.fixture(scope="module")
def world(tmp_path_factory: Any) -> Iterator[tuple[Any, dict[str, CaseBuilder]]]:
    hub = make_hub(tmp_path_factory.mktemp("paper"))
    # P1: brought in on V1's first day (typed 2 Mar, synced an hour later: its first sync),
    # suspended on paper on 20 Feb; a live work-log entry on 5 Mar, a read on 6 Mar
    p1 = _brought_in(V1, "s1", "2026-03-02T10:00:00", "2026-02-10")
    _paper(p1, "suspension", "2026-02-20", "2026-03-02T10:05:00", reason="c",
           resumption_deadline="2026-04-20", private={"details": "申请人要求暂停"})
    first = len(p1.events)
    p1.ev("work_log", "2026-03-05", kind="tracking", private={"text": "跟踪"})
    p1.ev("access", "2026-03-06", purpose="printing")
    # P2: "brought in" 23 days after the station went live, nothing live after
    p2 = _brought_in(V1, "s2", "2026-03-25T14:00:00", "2026-03-01")
    # P3: another county's station
    p3 = _brought_in(W, "w1", "2026-03-03T09:30:00", "2026-02-15")
    cases = {"p1": p1, "p2": p2, "p3": p3}
    hub.stores.main.bulk_docs([stored(d) for b in cases.values() for d in (b.header, *b.events)])
    receipts = [receipt_doc(p1.device, V1, [p1.header, *p1.events[:first]],
                            _ms("2026-03-02T11:00:00")),
                receipt_doc(p1.device, V1, p1.events[first:], _ms("2026-03-06T09:30:00")),
                receipt_doc(p2.device, V1, [p2.header, *p2.events], _ms("2026-03-25T15:00:00")),
                receipt_doc(p3.device, W, [p3.header, *p3.events], _ms("2026-03-03T12:00:00"))]
    hub.stores.receipts.bulk_docs([r for r in receipts if r])
    from hub.app import create_app
    from hub.oversight.supervisors import add_supervisor

    add_supervisor(hub, "city", "city-pass-1", institution="410600", name="市中心监督员")
    add_supervisor(hub, "town", "town-pass-1", institution="410602101", name="鹤壁集镇监督员")
    yield create_app(hub=hub), cases
    hub.close()


def _rows(html: str, table: str) -> list[str]:
    body = html.split(f'id="{table}"', 1)[1].split("</table>", 1)[0]
    return body.split("<tr")[2:]  # past the header row


def test_the_fold_keeps_each_paper_step_and_the_live_steps_after(world: Any) -> None:
    from hub.oversight import oversight_for

    app, cases = world
    ov = oversight_for(app)
    ov.catch_up(force=True)
    p1, p2 = ov.facts.get(cases["p1"].case_id), ov.facts.get(cases["p2"].case_id)
    assert [(s[1], s[2], s[4], s[5]) for s in p1.paper] == [
        ("application", "2026-02-10", p1.paper[0][4], "s1"), ("acceptance", "2026-02-10",
         p1.paper[0][4], "s1"), ("suspension", "2026-02-20", p1.paper[0][4], "s1")]
    assert p1.paper[2][3] == _ms("2026-03-02T10:05:00")  # typed then, by its hlc
    assert (p1.paper_live, p1.paper_live_first) == (1, "2026-03-05")  # the read is no step
    assert (p2.paper_live, p2.paper_live_first) == (0, None)
    first = ov.facts.reader().execute("SELECT first_ms FROM device_first_sync WHERE device=?",
                                      (cases["p1"].device,)).fetchone()
    assert first == (_ms("2026-03-02T11:00:00"),)


def test_the_list_shows_dates_devices_staff_and_flags_late_paper(world: Any) -> None:
    from hub.oversight import oversight_for
    from hub.oversight.readlog import reads_of_case

    app, cases = world
    client, _ = login(app, "town", "town-pass-1")
    page = client.get(f"/oversight/paper?{Q}")
    assert page.status_code == 200, page.text
    assert markup_problems(page.text) == []  # th scope, labels, skip link (tests/a11y.py)
    steps = _rows(page.text, "paper-steps")
    assert len(steps) == 5  # P1's three and P2's two; P3 is outside the town
    no1, no2 = cases["p1"].header["case_no"], cases["p2"].header["case_no"]
    p1 = [r for r in steps if no1 in r]
    assert len(p1) == 3 and "2026-02-20" in p1[2] and "2026-03-02 10:05" in p1[2]
    assert "2026-03-02 11:00" in p1[2] and cases["p1"].device in p1[2] and "s1" in p1[2]
    assert all("1 步，首次 2026-03-05" in r and "paper-late" not in r for r in p1)
    assert "MS-001 城乡居民基本养老保险参保登记" in p1[0]  # the item as the ledger names it
    p2 = [r for r in steps if no2 in r]
    assert len(p2) == 2 and all("paper-late" in r and ">无<" in r for r in p2)
    assert "2026-03-25 14:00" in p2[0] and "2026-03-25 15:00" in p2[0]
    stations = _rows(page.text, "paper-stations")
    assert len(stations) == 1 and ">2<" in stations[0] and ">5<" in stations[0]
    assert '<td class="warn">2</td>' in stations[0]  # the late steps
    assert cases["p3"].header["case_no"] not in page.text
    # the list reads no case's file: nothing on the reading log (hub.oversight.readlog)
    hub = oversight_for(app).hub
    assert reads_of_case(hub, cases["p1"].case_id) == []
    city, _ = login(app, "city", "city-pass-1")
    assert cases["p3"].header["case_no"] in city.get(f"/oversight/paper?{Q}").text
    # the checks page, which only counts 补录 per laptop, leads here
    assert 'id="paper-link" href="/oversight/paper?' in client.get(f"/oversight/checks?{Q}").text
    # the whole period only: nothing was typed in February
    assert "本期无补录" in client.get("/oversight/paper?from=2026-02&to=2026-02").text


def test_the_late_bound_is_the_setting(world: Any) -> None:
    from hub.oversight import oversight_for
    from hub.oversight.paper import station_rows
    from hub.settings import SETTINGS

    app, _cases = world
    db = oversight_for(app).facts.reader()
    assert next(s for s in SETTINGS if s.name == "paper_entry_days").default == 7
    assert [r["late"] for r in station_rows(db, V1, "2026-03", "2026-03", 7)] == [2]
    assert [r["late"] for r in station_rows(db, V1, "2026-03", "2026-03", 30)] == [0]


def test_the_list_exports_as_csv_and_xlsx(world: Any) -> None:
    from openpyxl import load_workbook

    app, cases = world
    client, _ = login(app, "town", "town-pass-1")
    got = client.get(f"/oversight/paper.csv?{Q}")
    assert got.status_code == 200 and "attachment" in got.headers["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(got.data.decode("utf-8-sig"))))
    assert rows[0][:6] == ["机构代码", "机构", "办件编号", "事项", "环节", "纸质表单日期"]
    late = [r for r in rows[1:] if r[2] == cases["p2"].header["case_no"]]
    assert len(late) == 2 and all(r[-1] == "是" and r[5] == "2026-03-01" for r in late)
    assert len(rows) == 6
    book = load_workbook(io.BytesIO(client.get(f"/oversight/paper.xlsx?{Q}").data))
    sheet = book.worksheets[0]
    assert sheet.title == "补录 2026-03" and sheet.max_row == 6
    # dates and times are date cells (sorted, filtered by month, subtracted), not text
    head = [c.value for c in sheet[1]]
    for column, shown in (("纸质表单日期", "yyyy-mm-dd"), ("设备录入时间", "yyyy-mm-dd hh:mm")):
        cells = [r[head.index(column)] for r in sheet.iter_rows(min_row=2)]
        assert all(c.is_date and c.number_format == shown for c in cells), column
        # wide enough to show it: a narrower date cell is "########" in Excel and WPS
        width = sheet.column_dimensions[cells[0].column_letter].width
        assert width >= len(shown) + 1, (column, width)
    assert {c.value.date().isoformat() for c in sheet["F"][1:]} >= {"2026-03-01"}
    assert client.get(f"/oversight/paper.pdf?{Q}").status_code == 404


def test_the_case_page_marks_each_paper_step_with_both_dates(world: Any) -> None:
    app, cases = world
    client, _ = login(app, "town", "town-pass-1")
    no = cases["p1"].header["case_no"]
    asked = client.get(f"/oversight/case?no={no}")  # still asks the reason first
    assert 'id="ask-why"' in asked.text and "step-paper" not in asked.text
    page = client.get(f"/oversight/case?no={no}&why=check").text
    steps = _rows(page, "steps")
    paper = [r for r in steps if "step-paper" in r]
    assert len(paper) == 3
    assert "纸质表单日期 2026-02-20" in paper[2] and "设备录入于 2026-03-02 10:05" in paper[2]
    live = [r for r in steps if "step-work_log" in r]
    assert len(live) == 1 and "step-paper" not in live[0] and "补录" not in live[0]
    # a supervisor outside the area still learns nothing of the case
    outside = client.get(f"/oversight/case?no={cases['p3'].header['case_no']}&why=check")
    assert outside.status_code == 400 and "step-" not in outside.text


def test_which_steps_are_paper_steps() -> None:
    """A 补录 step states the paper's noon (Beijing) of an earlier day than its hlc, in any
    offset; a live step on a clock set back states an earlier day but not noon; a
    completion is never one (schemas.paper.PAPER_STEPS)."""
    from hub.oversight.paper import paper_steps, typed_at

    b = CaseBuilder(V1, "s1", "2026-03-02")
    utc = _paper(b, "application", "2026-02-10", "2026-03-02T10:00:00", channel="offline",
                 service_item="MS-001", mode="nearby")
    utc["at"] = "2026-02-10T04:00:00+00:00"  # the same noon, stated in UTC
    assert typed_at(utc) == _ms("2026-03-02T10:00:00")
    set_back = dict(utc, at="2026-02-10T09:13:22+08:00")
    assert typed_at(set_back) is None
    done = _paper(b, "completion", "2026-02-11", "2026-03-02T10:01:00",
                  private={"applicant_signature": "b.png", "materials_returned": [],
                           "documents": []})
    assert typed_at(done) is None
    steps, live, first = paper_steps([utc, set_back, done])
    assert [s[1] for s in steps] == ["application"] and (live, first) == (2, "2026-02-10")
