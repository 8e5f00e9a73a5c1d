"""Clause 9 at the hub: cases opened per focus area (9.1 涉企, 9.2 民生), service mode
(上门办, 网上办, 就近办) and special group served (9.2). Before, the oversight counted none
of it, though the codes are in every case header's cleartext part and the standard asks
the institutions to take the three modes up (9.1, 9.2)."""

from __future__ import annotations

import csv
import io
import subprocess
from pathlib import Path
from typing import Any

from hub.oversight.facts import case_fact, contributions
from schemas import sample
from schemas.workdays import Workdays
from tests.hub.oversight.cases import CaseBuilder
from tests.hub.oversight.conftest import make_hub, put_cases
from tests.hub.oversight.test_web import login

V1, V2 = "410602101201", "410602101202"  # two villages of 鹤壁集镇 (schemas.sample)
WD = Workdays(sample.calendars())


def _cases() -> list[CaseBuilder]:
    home = CaseBuilder(V1, "s1", "2026-03-02", mode="door", special_groups=("elderly", "disabled"))
    _signed_at_home(home)
    return [
        home,
        CaseBuilder(V1, "s1", "2026-03-03", mode="door", special_groups=("elderly",)),
        CaseBuilder(V1, "s1", "2026-03-04", mode="online", focus_area="enterprise"),
        CaseBuilder(V2, "s2", "2026-03-05"),  # nearby, livelihood, no group
        CaseBuilder(V2, "s2", "2026-02-10", mode="door"),  # February: outside March
    ]


def test_each_case_counts_once_per_area_mode_and_group_in_its_opening_month() -> None:
    b = CaseBuilder(V1, "s1", "2026-03-02", mode="door", special_groups=("elderly", "disabled"))
    counted = contributions(case_fact(b.header, b.events, WD, complaint_days=5))[
        (V1, "s1", "2026-03")]
    assert {k: v for k, v in counted.items() if k != "opened"} == {
        "area_livelihood": 1, "mode_door": 1, "group_elderly": 1, "group_disabled": 1}
    assert counted["opened"] == 1


def test_the_mode_counted_is_the_entrustments_not_the_consultations() -> None:
    """9.2: a son asks at the window (the consultation's mode: 就近办), then the clerk goes to
    the old man's home and he signs form C there (the entrustment's mode: 上门办). The
    header keeps the consultation's mode; the oversight counted that one, so the 上门办
    column missed every door-to-door service that began with a visit to the window."""
    b = CaseBuilder(V1, "s1", "2026-03-02", mode="nearby", special_groups=("elderly",))
    b.ev("consultation", "2026-03-02", channel="window", answered=True,
         private={"question": "老人行动不便，能否上门办理？"})
    b.ev("entrustment", "2026-03-03", channel="offline", service_item="MS-001", mode="door",
         ledger_no="DB-1", period_end="2026-12-31",
         private={"scope": "代办", "applicant_signature": "c.png"})
    fact = case_fact(b.header, b.events, WD, complaint_days=5)
    assert fact.mode == "door"
    counted = contributions(fact)[(V1, "s1", "2026-03")]
    assert counted["mode_door"] == 1 and "mode_nearby" not in counted


def _signed_at_home(b: CaseBuilder) -> None:
    """9.2: form C signed by her thumbprint, form B weeks later by her son as guardian."""
    b.ev("entrustment", "2026-03-02", channel="offline", service_item="MS-001", mode="door",
         ledger_no="DB-2", period_end="2026-12-31", signer="self", thumbprint=True,
         private={"scope": "代办", "applicant_signature": "c.png"})
    b.ev("acceptance", "2026-03-02", zone="assisted_zone", time_limit_days=10)
    b.ev("completion", "2026-03-20", signer="guardian",
         private={"applicant_signature": "b.png", "signer_name": "王小明"})


def test_forms_signed_by_another_or_by_thumbprint_are_counted() -> None:
    """10.2.2 asks for a voluntary entrustment; 9.2 serves people who cannot always sign
    themselves. The city sees how many services were signed for the applicant by someone
    else, or with a thumbprint, from the capacities in clear (no name leaves the station)."""
    b = CaseBuilder(V1, "s1", "2026-03-02", mode="door", special_groups=("elderly",))
    plain = CaseBuilder(V1, "s1", "2026-03-03", mode="door", special_groups=("elderly",))
    _signed_at_home(b)
    plain.accepted("2026-03-03", 10, proxy=True).completed("2026-03-10")
    counted = contributions(case_fact(b.header, b.events, WD, complaint_days=5))[
        (V1, "s1", "2026-03")]
    assert counted["signed_other"] == 1 and counted["signed_thumbprint"] == 1
    other = contributions(case_fact(plain.header, plain.events, WD, complaint_days=5))[
        (V1, "s1", "2026-03")]
    assert "signed_other" not in other and "signed_thumbprint" not in other
    # a firm signs through its legal representative or its agent: that is not 9.2's concern
    firm = CaseBuilder(V1, "s1", "2026-03-04", focus_area="enterprise")
    firm.header["applicant_kind"] = "enterprise"
    firm.ev("entrustment", "2026-03-04", channel="offline", service_item="MS-001",
            mode="nearby", ledger_no="DB-3", period_end="2026-12-31", signer="agent",
            private={"scope": "代办", "applicant_signature": "c.png", "signer_name": "张伟"})
    counted = contributions(case_fact(firm.header, firm.events, WD, complaint_days=5))[
        (V1, "s1", "2026-03")]
    assert "signed_other" not in counted


def test_a_code_outside_the_vocabulary_is_not_counted() -> None:
    b = CaseBuilder(V1, "s1", "2026-03-02")
    b.header["mode"], b.header["special_groups"] = "fax", ["aliens"]
    counted = contributions(case_fact(b.header, b.events, WD, complaint_days=5))[
        (V1, "s1", "2026-03")]
    assert "mode_fax" not in counted and "group_aliens" not in counted
    assert counted["area_livelihood"] == 1


def _cells(page: str, table_id: str) -> list[list[str]]:
    import re

    body = page.split(f'id="{table_id}"', 1)[1].split("</table>", 1)[0]
    rows = re.findall(r"<tr[^>]*>(.*?)</tr>", body.split("<tbody>", 1)[1], re.S)
    return [[re.sub(r"<[^>]+>", "", c).strip() for c in re.findall(r"<td[^>]*>(.*?)</td>", r,
                                                                     re.S)] for r in rows]


def test_the_dashboard_and_the_export_show_clause_9(tmp_path: Path) -> None:
    from hub.app import create_app
    from hub.oversight.supervisors import add_supervisor

    hub = make_hub(tmp_path)
    try:
        put_cases(hub, [[b.header, *b.events] for b in _cases()])
        add_supervisor(hub, "town", "town-pass-1", institution="410602101", name="镇监督员")
        client, _ = login(create_app(hub=hub), "town", "town-pass-1")
        q = "from=2026-03&to=2026-03&as_of=2026-03-31"
        page = client.get(f"/oversight/?{q}").text
        rows = {r[0]: r[1:] for r in _cells(page, "units-clause9")}
        # columns: 新立, 涉企, 民生, 上门办, 网上办, 就近办, 老年人, 残疾人, 其他特殊群体,
        # 他人代签, 按指印
        assert rows["鹤壁集村便民服务站"] == ["3", "1", "2", "2", "1", "0", "2", "1", "0", "1", "1"]
        assert rows["合计"] == ["4", "1", "3", "2", "1", "1", "2", "1", "0", "1", "1"]
        export = client.get(f"/oversight/export.csv?{q}")
        table = list(csv.reader(io.StringIO(export.data.decode("utf-8-sig"))))
        head, total = table[0], table[-1]
        got: dict[str, Any] = {h: total[head.index(h)] for h in
                               ("新登记·上门办", "新登记·老年人", "新登记·涉企服务")}
        assert got == {"新登记·上门办": "2", "新登记·老年人": "2", "新登记·涉企服务": "1"}
        pdf = tmp_path / "report.pdf"
        pdf.write_bytes(client.get(f"/oversight/report.pdf?{q}").data)
        text = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True,
                              text=True, check=True).stdout
        assert "六、重点领域、服务模式与特殊群体（9）：本期新登记 4 件" in text
        section = text.split("六、重点领域", 1)[1]  # its table's 合计 row
        line = next(x for x in section.splitlines() if x.strip().startswith("合计"))
        assert line.split()[1:] == ["4", "1", "3", "2", "1", "1", "2", "1", "0", "1", "1"]
    finally:
        hub.close()
