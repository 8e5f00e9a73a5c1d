"""9.1: one firm's several items kept together. A firm opening a shop asks the station for
three approvals at once, each its own case (its own 清单 item, department and time limit);
the proxy agent must see, from any one of them, the others and whom each waits on. Before,
the case page showed its own case only: the others were found by searching the 统一社会信用代码
again, and the list said 办理中 for a case waiting on the firm's fee and for one lying
with the department alike."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from node.applicant_cases import waiting_on
from schemas.state import local_today
from tests.node.test_clerk_day import SIG, _case_id, _consult, _step

USCC = "91410600MA44XXXX85"
FIRM = {"applicant_name": "鹤壁市某某商贸有限公司", "agent_name": "张三",
        "applicant_kind": "enterprise", "id_type": "uscc", "id_number": USCC}


def _accepted(client: Any, item: str, **who: str) -> str:
    from schemas.sample import catalog

    have = [m["code"] for i in catalog() if i["code"] == item for m in i["materials"]]
    case_id = _case_id(_consult(client, service_item=item, have=have, **{**FIRM, **who}))
    period = (local_today() + dt.timedelta(days=60)).isoformat()
    for step, data in (("entrustment", dict(channel="offline", service_item=item, mode="nearby",
                                            ledger_no=f"DB-{item}", period_end=period,
                                            scope="代为申请", signature_data=SIG,
                                            signer="agent", signer_name="张三")),
                       ("acceptance", dict(zone="assisted_zone", time_limit_days="1"))):
        resp = _step(client, case_id, step, **data)
        assert resp.status_code == 302, (step, resp.data.decode()[:3000])
    return case_id


def _rows(page: str) -> dict[str, str]:
    section = page.split('id="applicant-cases"', 1)[1].split("</section>", 1)[0]
    return {m[0]: re.sub(r"<[^>]+>", "", m[1]).strip() for m in re.findall(
        r'data-case-id="([^"]+)".*?class="waiting-on">(.*?)</td>', section, re.S)}


def test_a_firms_other_cases_are_listed_with_whom_each_waits_on(unlocked: Any) -> None:
    shop = _accepted(unlocked, "QY-002")
    tobacco = _accepted(unlocked, "QY-012")
    pension = _accepted(unlocked, "MS-001")
    assert _step(unlocked, shop, "submitted", department="市场监督管理局",
                 channel="window").status_code == 302
    deadline = (local_today() + dt.timedelta(days=30)).isoformat()
    assert _step(unlocked, tobacco, "suspension", reason="b", resumption_deadline=deadline,
                 details="许可费未缴", signature_data=SIG, signer="agent",
                 signer_name="张三").status_code == 302
    # another firm, and a person, are not listed
    other = _case_id(_consult(unlocked, **{**FIRM, "applicant_name": "另一家公司",
                                          "id_number": "91410600MA44YYYY02"}))
    page = unlocked.get(f"/cases/{pension}").data.decode()
    assert _rows(page) == {shop: "审批部门（市场监督管理局）", tobacco: "服务对象（缴纳费用）"}
    assert other not in page.split('id="applicant-cases"', 1)[1].split("</section>", 1)[0]
    # from the department's case: the pension item is the station's own work now
    assert _rows(unlocked.get(f"/cases/{shop}").data.decode())[pension] == "本机构（办理）"
    # the department's decision comes: the shop's case is the station's again
    assert _step(unlocked, shop, "decision", department="市场监督管理局",
                 outcome="approved").status_code == 302
    assert _rows(unlocked.get(f"/cases/{pension}").data.decode())[shop] == "本机构（办理）"
    # the department wants a correction: the firm owes it
    assert _step(unlocked, shop, "correction_requested", department="市场监督管理局",
                 materials=["M01"]).status_code == 302
    assert _rows(unlocked.get(f"/cases/{pension}").data.decode())[shop] == "服务对象（补正材料）"
    # a person with no ID number gets no such list
    alone = _case_id(_consult(unlocked))
    assert 'id="applicant-cases"' not in unlocked.get(f"/cases/{alone}").data.decode()


def test_whom_a_case_waits_on() -> None:
    here = "410621100201"
    assert waiting_on({"status": "handling", "holder": "410621"}, [], here,
                      {"410621": "浚县政务服务中心"}.get) == "浚县政务服务中心（已移交）"
    assert waiting_on({"status": "handling", "materials_missing": ["M1"]}, [], here) == \
        "服务对象（补齐材料）"
    assert waiting_on({"status": "handling", "corrections_open": ["h"]}, [], here) == \
        "服务对象（补正材料）"
    assert waiting_on({"status": "suspended", "suspension": {"reason": "a"}}, [], here) == \
        "服务对象（补交材料）"
    assert waiting_on({"status": "handling", "problems": {"P1": "open", "P2": "resolved"}},
                      [], here) == "本机构（待解决问题 1 个）"
    assert waiting_on({"status": "completed"}, [], here) == ""
    # 4.3: a county-level item entrusted at a village waits for its hand-up, not acceptance
    assert waiting_on({"status": "applied"}, [], here, tiers=["county", "city"]) == \
        "本机构（上报：本级不受理该事项，4.3）"
    assert waiting_on({"status": "applied"}, [], here, tiers=["village"]) == "本机构（受理）"
