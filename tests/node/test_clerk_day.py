"""A village clerk's working day in the UI (Flask test client): what a clerk stumbled on.

Each test failed before its fix: refused input that left a half-written case, a form that
lost what was typed, a step of the standard the case page never offered, messages naming
codes instead of fields, a rating recorded without being chosen.
"""

from __future__ import annotations

import base64
import datetime as dt
import re
import subprocess
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from schemas.state import local_today
from tests.node.conftest import PASSPHRASE, csrf

PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==")
SIG = "data:image/png;base64," + base64.b64encode(PNG).decode()


def _consult(client: Any, **extra: str | None) -> Any:
    from schemas.sample import catalog

    data = {"csrf": csrf(client), "applicant_name": "王小明", "phone": "13800000000",
            "question": "怎么办理？", "service_item": catalog()[0]["code"],
            "service_type": "proxy", "mode": "nearby", "channel": "window", "answered": "1", "outcome": "已当场答复"}
    data.update(extra)
    return client.post("/consultations/", data={k: v for k, v in data.items() if v is not None})


def _case_id(resp: Any) -> str:
    assert resp.status_code == 302, resp.data.decode()[:2000]
    return str(resp.headers["Location"].rstrip("/").split("/")[-1])


def _step(client: Any, case_id: str, event_type: str, **data: Any) -> Any:
    return client.post(f"/cases/{case_id}/steps/{event_type}", data={"csrf": csrf(client), **data})


def _stored_cases(client: Any) -> list[str]:
    node = client.application.extensions["bangban_node"]
    rows = node.store.all_docs(startkey="case:", endkey="case:\uffff")["rows"]
    return [r["id"] for r in rows]


def test_a_refused_consultation_opens_no_case(unlocked: Any) -> None:
    """10.1.1: the consultation is the case's first record; refused, nothing is written
    (before: the case header was stored, then the consultation refused: a case 'new'
    forever, without its consultation, and a case number used up)."""
    r = _consult(unlocked, question="问" * 5000)
    assert r.status_code == 400
    assert _stored_cases(unlocked) == []
    node = unlocked.application.extensions["bangban_node"]
    assert node.index.counts(today="2000-01-01", soon="2000-01-02")["open"] == 0


def test_a_phone_with_letters_is_refused_naming_field_and_rule(unlocked: Any) -> None:
    r = _consult(unlocked, phone="138abc0000")
    html = r.data.decode()
    assert r.status_code == 400 and _stored_cases(unlocked) == []
    err = re.search(r'id="phone-err"[^>]*>([^<]*)<', html)
    assert err and "联系电话" in err.group(1) and "数字" in err.group(1) and " / " in err.group(1)
    assert 'value="138abc0000"' in html  # what was typed stays


def test_an_unanswered_consultation_stays_unanswered_after_an_error(unlocked: Any) -> None:
    """10.1.1.3: unticking "answered on the spot" sets the 1-working-day reply deadline; a
    refused form must not tick it again (before: re-rendered ticked, saved as answered)."""
    r = _consult(unlocked, applicant_name="", answered=None)
    html = r.data.decode()
    assert r.status_code == 400
    box = re.search(r'<input type="checkbox" name="answered"[^>]*>', html)
    assert box and "checked" not in box.group(0)


def test_messages_name_the_field_in_chinese_and_english(unlocked: Any) -> None:
    case_id = _case_id(_consult(unlocked))
    r = _step(unlocked, case_id, "work_log", kind="tracking", text="")
    html = r.data.decode()
    assert r.status_code == 400
    box = re.search(r'class="error-box"[^>]*>([^<]*)<', html)
    assert box and "内容" in box.group(1) and " / " in box.group(1), box
    assert "text：" not in box.group(1)  # no code where the clerk reads a label


def test_an_assisted_case_can_apply_then_be_accepted(unlocked: Any) -> None:
    """10.1.2 → 10.1.3: an assisted (帮办) case is accepted after its application; the case
    page must offer 申请 (before: no button, so 受理 was out of reach for 帮办 cases)."""
    case_id = _case_id(_consult(unlocked, service_type="assist"))
    page = unlocked.get(f"/cases/{case_id}").data.decode()
    offered = page.split("其他步骤")[0]
    assert 'id="step-application"' in offered
    assert unlocked.get(f"/cases/{case_id}/steps/application").status_code == 200
    from schemas.sample import catalog

    assert _step(unlocked, case_id, "application", channel="offline", mode="nearby",
                 service_item=catalog()[0]["code"]).status_code == 302
    page = unlocked.get(f"/cases/{case_id}").data.decode()
    assert 'id="step-acceptance"' in page.split("其他步骤")[0]


def test_reading_a_case_writes_one_access_event_per_session(unlocked: Any) -> None:
    """7.2.2.2 / design §5: one access event per case and unlock session (before: each view
    opened the previous view's sealed access event and wrote another one)."""
    case_id = _case_id(_consult(unlocked))
    node = unlocked.application.extensions["bangban_node"]
    unlocked.post("/lock", data={"csrf": csrf(unlocked)})
    unlocked.post("/unlock", data={"passphrase": PASSPHRASE, "csrf": csrf(unlocked)})
    for _ in range(3):
        page = unlocked.get(f"/cases/{case_id}")
        assert page.status_code == 200
    accesses = [e for e in node.casework.events(case_id) if e["event_type"] == "access"]
    assert len(accesses) == 1
    text = page.data.decode()
    # what was read is named with the form's labels, not codes or look-alike vocab words
    assert "applicant_name" not in text and "服务对象姓名" in text


def test_a_rating_must_be_chosen_and_its_channels_read_as_words(unlocked: Any) -> None:
    """11.2.1: the applicant's rating feeds staff assessment (11.2.2); saving the form
    untouched must not record the best level (before: 非常满意 was preselected)."""
    case_id = _case_id(_consult(unlocked))
    form = unlocked.get(f"/cases/{case_id}/steps/rating").data.decode()
    assert ">haochaping<" not in form and "好差评系统" in form
    r = _step(unlocked, case_id, "rating", channel="window")
    assert r.status_code == 400 and 'id="level-err"' in r.data.decode()


def test_a_deadline_in_the_past_is_refused_on_its_field(unlocked: Any) -> None:
    """10.2.2 entrustment period, 10.2.5 resumption deadline: a past date is refused next to
    its own input, with the rule, and the form keeps what was typed."""
    from schemas.sample import catalog

    case_id = _case_id(_consult(unlocked))
    past = (local_today() - dt.timedelta(days=3)).isoformat()
    r = _step(unlocked, case_id, "entrustment", channel="offline", mode="nearby",
              service_item=catalog()[0]["code"], ledger_no="DB-1", period_end=past,
              scope="代为提交", signature_data=SIG)
    html = r.data.decode()
    assert r.status_code == 400 and 'id="period_end-err"' in html, html[:3000]
    assert f'value="{past}"' in html and 'value="DB-1"' in html
    future = (local_today() + dt.timedelta(days=60)).isoformat()
    assert _step(unlocked, case_id, "entrustment", channel="offline", mode="nearby",
                 service_item=catalog()[0]["code"], ledger_no="DB-1", period_end=future,
                 scope="代为提交", signature_data=SIG).status_code == 302
    assert _step(unlocked, case_id, "acceptance", zone="assisted_zone",
                 time_limit_days="5").status_code == 302
    r = _step(unlocked, case_id, "suspension", reason="c", resumption_deadline=past,
              signature_data=SIG)
    html = r.data.decode()
    assert r.status_code in (400, 409) and 'id="resumption_deadline-err"' in html, html[:3000]


def test_form_b_before_completion_claims_no_outcome(unlocked: Any, tmp_path: Path) -> None:
    """10.1.5: form B states the outcome; printed before completion or termination it must
    not say 终止 (before: any case not completed printed as terminated)."""
    case_id = _case_id(_consult(unlocked))
    pdf = unlocked.get(f"/cases/{case_id}/forms/B.pdf")
    out = tmp_path / "b.pdf"
    out.write_bytes(pdf.data)
    text = subprocess.run(["pdftotext", "-layout", str(out), "-"], capture_output=True,
                          text=True, check=True).stdout
    line = next(x for x in text.splitlines() if "办理结果" in x)
    assert "终止" not in line and "办结" not in line.replace("办理结果", "")


def test_wrong_addresses_answer_in_the_page_s_words(unlocked: Any) -> None:
    """A mistyped address or one opened by the wrong method (the consultation form's own
    URL after a refusal, reloaded from the address bar) shows the app's page in Chinese,
    not Werkzeug's English one; the API answers JSON."""
    case_id = _case_id(_consult(unlocked))
    for url, status in ((f"/cases/{case_id}/steps/bogus", 404), ("/consultations/", 405),
                        (f"/cases/{case_id}/forms/Z.pdf", 404), ("/cases/nope", 404)):
        r = unlocked.get(url)
        html = r.data.decode()
        assert r.status_code == status and "出错了" in html and "返回首页" in html, (url, html)
        assert "The requested URL" not in html and "no case nope" not in html.split(" / ")[0]
    r = unlocked.get("/api/cases/nope")
    assert r.status_code == 404 and r.is_json


def test_the_case_page_shows_its_deadlines(unlocked: Any) -> None:
    """10.1.1.3: a consultation not answered on the spot is replied to within one working
    day; the clerk sees that date on the case page (before: only in the lists)."""
    case_id = _case_id(_consult(unlocked, answered=None))
    node = unlocked.application.extensions["bangban_node"]
    due = node.index.get(case_id)["due"]
    page = unlocked.get(f"/cases/{case_id}").data.decode()
    assert due and "咨询答复期限（10.1.1.3）" in page and f'class="deadline">{due}' in page


def test_a_reply_picks_its_consultation_instead_of_typing_a_clock(unlocked: Any) -> None:
    """10.1.1.3: the reply names the consultation it answers; the form offers the case's
    unanswered ones (before: a text box wanting the consultation's event clock)."""
    case_id = _case_id(_consult(unlocked, answered=None, question="宅基地怎么批"))
    node = unlocked.application.extensions["bangban_node"]
    hlc = next(e["hlc"] for e in node.casework.events(case_id) if e["event_type"] == "consultation")
    form = unlocked.get(f"/cases/{case_id}/steps/reply").data.decode()
    picked = re.search(r'<select id="consultation"[^>]*>(.*?)</select>', form, re.S)
    assert picked and f'value="{hlc}" selected' in picked.group(1) and "宅基地怎么批" in picked.group(1)
    r = _step(unlocked, case_id, "reply", consultation=hlc, channel="phone", answer="已电话答复")
    assert r.status_code == 302, r.data.decode()[:2000]
    assert node.index.get(case_id)["due"] is None


def test_a_phone_is_found_as_it_was_written(unlocked: Any) -> None:
    """Search (the clerk types the number as the applicant gives it): a landline with its
    area code and hyphen was taken for a case number and found nothing."""
    case_id = _case_id(_consult(unlocked, phone="0392-1234567"))
    no = unlocked.application.extensions["bangban_node"].index.get(case_id)["case_no"]
    for q in ("0392-1234567", "03921234567", no, no[:12]):
        page = unlocked.get("/cases/", query_string={"q": q}).data.decode()
        assert case_id in page, q


def test_the_case_page_offers_only_steps_some_input_makes_legal(unlocked: Any) -> None:
    """A step whose rule reads its own input was always offered (a completed case offered
    终止, a case with nothing to answer offered 咨询答复); clicking led to a refusal."""
    case_id = _case_id(_consult(unlocked))  # answered on the spot: no reply pending
    offered = unlocked.get(f"/cases/{case_id}").data.decode().split("其他步骤")[0]
    assert 'id="step-reply"' not in offered and 'id="step-termination"' not in offered
    waiting = _case_id(_consult(unlocked, answered=None))
    offered = unlocked.get(f"/cases/{waiting}").data.decode().split("其他步骤")[0]
    assert 'id="step-reply"' in offered
    from schemas.sample import catalog

    future = (local_today() + dt.timedelta(days=60)).isoformat()
    for event_type, data in (
            ("entrustment", dict(channel="offline", mode="nearby", service_item=catalog()[0]["code"],
                                 ledger_no="DB-1", period_end=future, scope="代为提交",
                                 signature_data=SIG)),
            ("acceptance", dict(zone="assisted_zone", time_limit_days="5"))):
        r = _step(unlocked, case_id, event_type, **data)
        assert r.status_code == 302, r.data.decode()[:2000]
    offered = unlocked.get(f"/cases/{case_id}").data.decode().split("其他步骤")[0]
    assert 'id="step-termination"' in offered and 'id="step-completion"' in offered
    assert _step(unlocked, case_id, "completion", signature_data=SIG).status_code == 302
    offered = unlocked.get(f"/cases/{case_id}").data.decode().split("其他步骤")[0]
    assert 'id="step-termination"' not in offered and 'id="step-rating"' in offered


def test_refusals_of_the_step_form_are_bilingual(unlocked: Any) -> None:
    case_id = _case_id(_consult(unlocked))
    r = _step(unlocked, case_id, "hand_up", to_institution="999", reason_code="other")
    err = re.search(r'id="to_institution-err"[^>]*>([^<]*)<', r.data.decode())
    assert r.status_code == 400 and err and "机构代码" in err.group(1) and " / " in err.group(1)
    r = _step(unlocked, case_id, "work_log", kind="tracking", text="记录", signature_data=SIG)
    box = re.search(r'class="error-box"[^>]*>([^<]*)<', r.data.decode())
    assert r.status_code == 400 and box and "服务对象签字" in box.group(1), box


def test_form_a_lists_the_materials_received_and_missing(unlocked: Any, tmp_path: Path) -> None:
    """10.1.3 form A with the item's checklist: what was received, what is still missing
    and how to obtain it (before: form A named no material at all)."""
    from schemas.sample import catalog

    item = catalog()[0]
    first, *rest = item["materials"]
    case_id = _case_id(_consult(unlocked, service_type="assist", have=first["code"]))
    assert _step(unlocked, case_id, "application", channel="offline", mode="nearby",
                 service_item=item["code"]).status_code == 302
    assert _step(unlocked, case_id, "acceptance", zone="assisted_zone",
                 time_limit_days="5").status_code == 302
    out = tmp_path / "a.pdf"
    out.write_bytes(unlocked.get(f"/cases/{case_id}/forms/A.pdf").data)
    text = subprocess.run(["pdftotext", "-layout", str(out), "-"], capture_output=True,
                          text=True, check=True).stdout
    assert "材料清单" in text and "收取情况" in text
    assert next(x for x in text.splitlines() if first["name"] in x).rstrip().endswith("已收")
    assert text.count("待补") == len(rest) and all(m["name"] in text for m in rest)


def test_signature_labels_print_on_one_line(unlocked: Any, tmp_path: Path) -> None:
    """Forms C and E: 受托代办员（签字）： wrapped its colon onto a line of its own."""
    case_id = _case_id(_consult(unlocked))
    for letter in "CE":
        out = tmp_path / f"{letter}.pdf"
        out.write_bytes(unlocked.get(f"/cases/{case_id}/forms/{letter}.pdf").data)
        text = subprocess.run(["pdftotext", "-layout", str(out), "-"], capture_output=True,
                              text=True, check=True).stdout
        assert "受托代办员（签字）：" in text, text


def test_the_consultation_form_s_choices_follow_the_language(unlocked: Any) -> None:
    unlocked.post("/lang", data={"csrf": csrf(unlocked), "lang": "en", "next": "/"})
    html = unlocked.get("/consultations/new").data.decode()
    assert ">proxy handling<" in html and ">代办<" not in html and ">window<" in html


def test_after_a_step_that_issues_a_form_the_page_offers_to_print_it(unlocked: Any) -> None:
    """Saving an entrustment redirected with ``?printed=C`` and the page ignored it; the
    clerk must hand form C (10.2.2) to the applicant: the page now offers it first."""
    case_id = _case_id(_consult(unlocked))
    page = unlocked.get(f"/cases/{case_id}?printed=C").data.decode()
    assert 'id="print-now"' in page and f"/cases/{case_id}/forms/C.pdf" in page.split('id="print-now"')[1][:200]
    assert 'id="print-now"' not in unlocked.get(f"/cases/{case_id}?printed=<x>").data.decode()


def test_the_forms_address_and_id_type_can_be_recorded(unlocked: Any, tmp_path: Path) -> None:
    """Forms A–E print 证件类型及号码 and 住址 (standard.md, Appendices), but the consultation
    form had no input for either: they printed blank. A resident ID is checked for shape."""
    r = _consult(unlocked, id_type="resident_id", id_number="12345")
    assert r.status_code == 400 and 'id="id_number-err"' in r.data.decode()
    assert _stored_cases(unlocked) == []
    case_id = _case_id(_consult(unlocked, id_type="resident_id", id_number="410602195001011233",
                                address="鹤壁集镇鹤壁集村三组12号"))
    out = tmp_path / "n.pdf"
    out.write_bytes(unlocked.get(f"/cases/{case_id}/forms/N.pdf").data)
    text = subprocess.run(["pdftotext", "-layout", str(out), "-"], capture_output=True,
                          text=True, check=True).stdout
    assert "居民身份证 410602195001011233" in text and "鹤壁集镇鹤壁集村三组12号" in text


def test_a_village_is_offered_hand_up_never_hand_down(unlocked: Any) -> None:
    """4.3: a village station hands cases up to its town; nothing lies below it, so 下派
    was a button that could only be refused."""
    case_id = _case_id(_consult(unlocked))
    offered = unlocked.get(f"/cases/{case_id}").data.decode().split("其他步骤")[0]
    assert 'id="step-hand_up"' in offered and 'id="step-hand_down"' not in offered


def test_form_b_cites_the_completion_clause_of_its_service_type(unlocked: Any,
                                                               tmp_path: Path) -> None:
    """Form B is filled at completion: 10.1.5 for assisted handling, 10.2.6 for proxy
    handling (it cited 10.1.5 for both)."""
    for service_type, clause in (("proxy", "10.2.6"), ("assist", "10.1.5")):
        case_id = _case_id(_consult(unlocked, service_type=service_type))
        out = tmp_path / f"b-{service_type}.pdf"
        out.write_bytes(unlocked.get(f"/cases/{case_id}/forms/B.pdf").data)
        text = subprocess.run(["pdftotext", str(out), "-"], capture_output=True, text=True,
                              check=True).stdout
        assert f"（{clause}）" in text, (service_type, text)


def test_the_home_tile_says_what_it_counts(unlocked: Any) -> None:
    """The tile counts cases opened today (a consultation, application or entrustment); it
    said 今日咨询与受理, though a case accepted today but opened earlier was not in it."""
    _case_id(_consult(unlocked))
    html = unlocked.get("/").data.decode()
    assert "今日咨询与受理" not in html
    assert re.search(r'<div class="n">1</div>今日新登记办件', html)


def test_the_api_takes_the_id_type_as_the_form_does(unlocked: Any) -> None:
    spec = unlocked.get("/api/openapi.json").json
    assert "id_type" in spec["components"]["schemas"]["Consultation"]["properties"]
    r = unlocked.post("/api/consultations", json={"applicant_name": "甲", "question": "问",
                                                  "id_type": 1, "id_number": "x"})
    assert r.status_code == 400 and "id_type" in r.json["fields"]


def test_a_hand_up_the_town_cannot_open_yet_says_why_in_both_languages(unlocked: Any) -> None:
    """4.3: before the first sync the node knows no key of its town; the refusal names the
    field in Chinese / English (it was Chinese only)."""
    case_id = _case_id(_consult(unlocked))
    r = _step(unlocked, case_id, "hand_up", reason_code="needs_coordination",
              to_institution="410621100")
    err = re.search(r'id="to_institution-err"[^>]*>([^<]*)<', r.data.decode())
    assert r.status_code == 400 and err and "密钥" in err.group(1) and "no key" in err.group(1)


def test_the_sync_badge_s_poll_does_not_keep_an_idle_laptop_unlocked(
        unlocked: Any, monkeypatch: Any) -> None:
    """7.2.2.2: the keys drop after ``idle_lock_minutes`` (30) without a request; every page
    polls /sync/status.json each 10 s, which counted as activity, so a laptop left with the
    UI open never locked. The poll now tells the page to go to the unlock screen."""
    from node import core

    n = unlocked.application.extensions["bangban_node"]
    start = n.last_touch
    clock = [start]
    monkeypatch.setattr(core, "time", SimpleNamespace(monotonic=lambda: clock[0]))
    for minutes in (10, 20, 29, 31):  # the clerk has gone; the open page keeps polling
        clock[0] = start + 60 * minutes
        body = unlocked.get("/sync/status.json").get_json()
    assert body["locked"] is True and not n.unlocked
    assert unlocked.get("/").status_code == 302  # to the unlock page


def test_an_unanswered_consultation_names_the_department_asked(unlocked: Any) -> None:
    """10.1.1.3: not answerable on the spot, the clerk asks the approval department; the
    consultation records which (``referred_to``), but the form had no input for it."""
    form = unlocked.get("/consultations/new").data.decode()
    assert '<label for="referred_to">' in form and 'name="referred_to"' in form
    case_id = _case_id(_consult(unlocked, answered=None, referred_to="民政局社会救助股"))
    assert "民政局社会救助股" in unlocked.get(f"/cases/{case_id}").data.decode()


def test_a_promise_longer_than_the_statutory_limit_is_refused_on_its_field(unlocked: Any) -> None:
    """10.1.3: 承诺时限 within the item's 法定时限 (the 清单 entry the node pulled); before,
    365 working days for a 3-day item was accepted and counted as on time for a year."""
    from schemas.sample import catalog

    item = next(i for i in catalog() if "village" in i["tiers"])  # a village accepts it
    node = unlocked.application.extensions["bangban_node"]
    node.store.bulk_docs([{"_id": f"service_item:{item['code']}", **item}])
    case_id = _case_id(_consult(unlocked, service_type="assist", service_item=item["code"]))
    assert _step(unlocked, case_id, "application", channel="offline", mode="nearby",
                 service_item=item["code"]).status_code == 302
    over = item["time_limit_days"] + 1
    r = _step(unlocked, case_id, "acceptance", zone="assisted_zone", time_limit_days=str(over))
    assert r.status_code == 409 and "法定时限" in r.text  # TransitionRefused: a rule, not a type
    assert 'id="time_limit_days-err"' in r.text  # shown next to its input
    assert _step(unlocked, case_id, "acceptance", zone="assisted_zone",
                 time_limit_days=str(item["time_limit_days"])).status_code == 302
