"""撤销办结 on the clerk's laptop: a completed case within its window offers the step, asks a
reason and a confirmation, and the case is in handling again with both steps in its record."""

from __future__ import annotations

import base64
import re
from typing import Any

from tests.a11y import markup_problems
from tests.node.conftest import csrf
from tests.node.test_casework_flow import PNG, _consult, _step, later

SIG = "data:image/png;base64," + base64.b64encode(PNG).decode()


def _completed(c: Any) -> str:
    from schemas.sample import catalog

    case_id = _consult(c)
    for step, data in (("entrustment", dict(channel="offline", mode="nearby", ledger_no="DB-1",
                                            service_item=catalog()[0]["code"], scope="代为提交",
                                            period_end=later(60), signature_data=SIG)),
                       ("acceptance", dict(zone="assisted_zone", time_limit_days="5")),
                       ("completion", dict(signature_data=SIG, documents="营业执照"))):
        r = _step(c, case_id, step, **data)
        assert r.status_code == 302, r.data.decode()[:3000]
    return case_id


def _done_hlc(c: Any, case_id: str) -> str:
    page = c.get(f"/cases/{case_id}/steps/completion_withdrawn").data.decode()
    (hlc,) = re.findall(r'<select id="completion" name="completion"[^>]*>\s*<option value="([^"]+)"',
                        page)
    return hlc


def test_a_completion_is_withdrawn_with_a_reason_and_a_confirmation(unlocked: Any) -> None:
    c = unlocked
    case_id = _completed(c)
    page = c.get(f"/cases/{case_id}").data.decode()
    assert 'id="step-completion_withdrawn" href' in page.split("其他步骤")[0]  # offered
    form = c.get(f"/cases/{case_id}/steps/completion_withdrawn").data.decode()
    assert "data-confirm=" in form and 'name="confirm"' in form and 'name="details"' in form
    assert markup_problems(form) == []  # every input labelled (tests/a11y.py)
    done = _done_hlc(c, case_id)
    base = {"completion": done, "reason": "wrong_case", "details": "点错了，应为隔壁的件"}
    unconfirmed = c.post(f"/cases/{case_id}/steps/completion_withdrawn",
                         data={"csrf": csrf(c), **base})
    assert unconfirmed.status_code == 400 and "请勾选确认撤销办结" in unconfirmed.data.decode()
    no_reason = c.post(f"/cases/{case_id}/steps/completion_withdrawn",
                       data={"csrf": csrf(c), **base, "details": "", "confirm": "1"})
    assert no_reason.status_code == 400
    r = c.post(f"/cases/{case_id}/steps/completion_withdrawn",
               data={"csrf": csrf(c), **base, "confirm": "1"})
    assert r.status_code == 302, r.data.decode()[:3000]
    page = c.get(f"/cases/{case_id}").data.decode()
    record = page.split("办理记录")[1]
    assert f'data-withdrawn="{done}"' in record and "撤销办结" in record
    assert "误点了其他办件的办结" in record and "点错了，应为隔壁的件" in record
    steps = page.split("其他步骤")[0]
    assert 'id="step-completion" href' in steps  # handling again: the real completion later
    assert 'id="step-completion_withdrawn" href' not in steps
    again = c.post(f"/cases/{case_id}/steps/completion_withdrawn",
                   data={"csrf": csrf(c), **base, "confirm": "1"})
    # nothing left to withdraw: the rule's refusal, the form shown again (node.errors: 409)
    assert again.status_code == 409 and "只能撤销作为本件最后一步的办结" in again.data.decode()


def test_a_rated_completion_is_not_offered_for_withdrawal(unlocked: Any) -> None:
    c = unlocked
    case_id = _completed(c)
    r = _step(c, case_id, "rating", level="satisfied", channel="window")
    assert r.status_code == 302, r.data.decode()[:3000]
    steps = c.get(f"/cases/{case_id}").data.decode().split("其他步骤")[0]
    assert 'id="step-completion_withdrawn" href' not in steps


def test_form_b_does_not_print_a_withdrawn_completion() -> None:
    """A form B printed after 撤销办结 is the blank one of a case in handling, not the paper
    of the completion taken back (node.formdata._last)."""
    from node.formdata import build
    from node.state import fold
    from tests.hub.oversight.cases import CaseBuilder

    b = CaseBuilder("410621100201", "s7", "2026-03-02").accepted("2026-03-02", 5)
    done = b.ev("completion", "2026-03-04", private={"applicant_signature": "b.png"})
    b.ev("completion_withdrawn", "2026-03-04", completion=done["hlc"], reason="wrong_case",
         private={"details": "点错了"})
    rows = dict(build("B", {"header": b.header, "private": {}, "events": b.events,
                            "state": fold(b.header, b.events)}).rows)
    assert rows["办理结果"] == "" and rows["办结（终止）日期"] == ""


def test_the_api_withdraws_a_completion_only_when_confirmed(client: Any) -> None:
    from schemas.sample import catalog
    from tests.node.test_api import _unlock

    _unlock(client)
    item = catalog()[0]
    r = client.post("/api/consultations", json={
        "applicant_name": "刘德明", "phone": "13600001111", "question": "如何办理？",
        "service_item": item["code"], "service_type": "assist", "answered": True,
            "outcome": "已当场答复"})
    case_id = r.json["case_id"]

    def ev(t: str, **body: Any) -> Any:
        return client.post(f"/api/cases/{case_id}/events/{t}", json=body)

    assert ev("application", channel="offline", service_item=item["code"],
              mode="nearby").status_code == 201
    assert ev("acceptance", zone="assisted_zone", time_limit_days=5).status_code == 201
    r = ev("completion", signature_png_base64=base64.b64encode(PNG).decode())
    assert r.status_code == 201, r.json
    done = r.json["id"].rsplit(":", 1)[1]
    body = {"completion": done, "reason": "not_finished", "private": {"details": "尚未办完"}}
    r = ev("completion_withdrawn", **body)
    assert r.status_code == 400 and "confirm" in r.json["fields"]
    r = ev("completion_withdrawn", **body, confirm=True)
    assert r.status_code == 201, r.json
    state = client.get(f"/api/cases/{case_id}").json["state"]
    assert state["status"] == "handling" and state["withdrawals"][0]["completion"] == done
