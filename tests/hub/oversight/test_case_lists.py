"""The live case lists (overdue, replies, review, suspended) as a supervisor reads them."""

from __future__ import annotations

import re
from pathlib import Path

from hub.oversight.supervisors import add_supervisor
from tests.hub.oversight.cases import CaseBuilder
from tests.hub.oversight.conftest import make_hub, put_cases
from tests.hub.oversight.test_web import login

V = "410602101201"


def test_the_overdue_list_shows_the_day_the_time_limit_runs_from(tmp_path: Path) -> None:
    """10.1.3: the time limit runs from acceptance. The list's column 受理日 showed the day
    the case was opened (its application, 2 Mar), so a supervisor checking the due day
    counted 3 working days from the wrong day (due 5 Mar, not 9 Mar)."""
    from hub.app import create_app

    hub = make_hub(tmp_path)
    b = CaseBuilder(V, "s1", "2026-03-02")
    b.ev("application", "2026-03-02", channel="offline", service_item="MS-001", mode="nearby")
    b.ev("acceptance", "2026-03-04", zone="assisted_zone", time_limit_days=3)  # due 9 Mar
    put_cases(hub, [b.history()])
    add_supervisor(hub, "city", "city-pass-1", institution="410600")
    client, _ = login(create_app(hub=hub), "city", "city-pass-1")
    page = client.get("/oversight/cases/overdue?from=2026-03&to=2026-03&as_of=2026-03-20").text
    head = re.findall(r"<th[^>]*>([^<]+)</th>", page)
    row = re.search(r"<tr><td class=\"l\">410602101201-2026-A1[^<]*</td>(.*?)</tr>", page)
    assert row is not None, page
    cells = dict(zip(head[1:], re.findall(r"<td[^>]*>([^<]*)</td>", row.group(1)),
                     strict=True))
    assert (cells["登记日"], cells["受理日"], cells["办理时限"]) == (
        "2026-03-02", "2026-03-04", "2026-03-09")
    hub.close()
