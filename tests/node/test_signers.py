"""Who signed each form, and in what capacity (9.2 上门办: an old woman at home signs form C
with her thumbprint, her son signs form B for her weeks later; 9.1: a firm's contact who
changed halfway). Before, no step recorded who signed: every paper printed 代理人（签字）
under whatever agent the case named *now*, so a form the applicant had signed in person
read as signed by the son, and a firm's form C reprinted after its new contact was entered
named the new contact as the one who had signed it."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

from schemas.state import local_today
from tests.node.test_applicant_papers import _text
from tests.node.test_clerk_day import SIG, _case_id, _consult, _step


def _entrusted(client: Any, **entrust: str) -> str:
    from schemas.sample import catalog

    case_id = _case_id(_consult(client, applicant_name="李桂兰", agent_name="王小明",
                                mode="door", special_groups="elderly"))
    period = (local_today() + dt.timedelta(days=60)).isoformat()
    resp = _step(client, case_id, "entrustment", channel="offline",
                 service_item=catalog()[0]["code"], mode="door", ledger_no="DB-9",
                 period_end=period, scope="代为申请", signature_data=SIG, **entrust)
    assert resp.status_code == 302, resp.data.decode()[:3000]
    return case_id


def test_a_thumbprint_in_person_is_printed_as_such_not_as_the_agents(unlocked: Any,
                                                                     tmp_path: Path) -> None:
    case_id = _entrusted(unlocked, signer="self", thumbprint="1")
    text = _text(unlocked, case_id, "C", tmp_path)
    assert "签字人 本人，按指印" in text
    assert "委托人（按指印）" in text and "代理人（签字）" not in text
    ev = [e for e in unlocked.application.extensions["bangban_node"].casework.events(case_id)
          if e["event_type"] == "entrustment"][0]
    # the capacity is a code in clear (the hub counts it), the name is sealed
    assert ev["signer"] == "self" and ev["thumbprint"] is True and ev["schema_version"] == 2


def test_the_case_page_says_door_to_door_and_whom_it_serves(unlocked: Any) -> None:
    """9, 9.2: the page the clerk plans the visit from did not say 上门办, nor that the
    applicant is old or disabled (both in the header, counted by the hub)."""
    import re

    from schemas.sample import catalog

    case_id = _case_id(_consult(unlocked, special_groups=["elderly", "other"]))  # 就近办
    page = unlocked.get(f"/cases/{case_id}").data.decode()
    assert re.search(r'id="mode">\s*就近办', page)
    assert re.search(r'id="special-groups">\s*老年人、其他特殊群体', page)
    period = (local_today() + dt.timedelta(days=60)).isoformat()
    assert _step(unlocked, case_id, "entrustment", channel="offline",
                 service_item=catalog()[0]["code"], mode="door", ledger_no="DB-9",
                 period_end=period, scope="代为申请", signature_data=SIG,
                 signer="self").status_code == 302
    assert re.search(r'id="mode">\s*上门办', unlocked.get(f"/cases/{case_id}").data.decode())


def test_a_guardian_signing_is_named_with_the_capacity(unlocked: Any, tmp_path: Path) -> None:
    case_id = _entrusted(unlocked, signer="guardian", signer_name="王小明")
    assert _step(unlocked, case_id, "acceptance", zone="assisted_zone",
                 time_limit_days="5").status_code == 302
    assert _step(unlocked, case_id, "completion", signature_data=SIG, signer="guardian",
                 signer_name="王小明").status_code == 302
    for letter in ("C", "B"):
        text = _text(unlocked, case_id, letter, tmp_path)
        assert "签字人 王小明（监护人）" in text and "监护人（签字）" in text, letter
    # the declaration is hers, signed by her guardian
    assert "本人自愿委托上述服务机构代为办理上述事项（由监护人代为签字）" in \
        _text(unlocked, case_id, "C", tmp_path)
    events = unlocked.application.extensions["bangban_node"].store.all_docs(
        startkey=f"event:{case_id}:", endkey=f"event:{case_id}:\uffff", include_docs=True)
    stored = " ".join(str(r["doc"]) for r in events["rows"])
    assert "王小明" not in stored  # sealed (7.2.2.2)


def test_someone_signing_for_the_applicant_must_be_named(unlocked: Any) -> None:
    from schemas.sample import catalog

    case_id = _case_id(_consult(unlocked))
    period = (local_today() + dt.timedelta(days=60)).isoformat()
    resp = _step(unlocked, case_id, "entrustment", channel="offline",
                 service_item=catalog()[0]["code"], mode="door", ledger_no="DB-9",
                 period_end=period, scope="代为申请", signature_data=SIG, signer="guardian")
    assert resp.status_code == 400
    page = resp.data.decode()
    assert 'id="signer_name-err"' in page and "签字人姓名" in page
    assert not [e for e in unlocked.application.extensions["bangban_node"].casework.events(case_id)
                if e["event_type"] == "entrustment"]


def test_a_firms_new_contact_is_not_printed_as_the_signer_of_the_old_form(
        unlocked: Any, tmp_path: Path) -> None:
    """9.1: the firm's 经办人 张三 signed form C; months later the firm sends 李四, and the
    clerk corrects the contact (更正). Form C reprinted for the archive must still say 张三."""
    from schemas.sample import catalog

    case_id = _case_id(_consult(unlocked, applicant_name="鹤壁市某某机械制造有限公司",
                                agent_name="张三", applicant_kind="enterprise", id_type="uscc",
                                id_number="91410600MA44XXXX85"))
    period = (local_today() + dt.timedelta(days=60)).isoformat()
    assert _step(unlocked, case_id, "entrustment", channel="offline",
                 service_item=catalog()[0]["code"], mode="nearby", ledger_no="DB-10",
                 period_end=period, scope="代为申请", signature_data=SIG, signer="agent",
                 signer_name="张三").status_code == 302
    resp = unlocked.post(f"/cases/{case_id}/applicant/", data={
        "csrf": _csrf(unlocked), "applicant_name": "鹤壁市某某机械制造有限公司",
        "agent_name": "李四", "phone": "13900000000", "id_type": "uscc",
        "id_number": "91410600MA44XXXX85"})
    assert resp.status_code == 302
    text = _text(unlocked, case_id, "C", tmp_path)
    assert "签字人 张三（委托代理人）" in text and "委托代理人（签字）" in text
    # a firm's contact is its 委托代理人, and the firm (本单位) entrusts, not "本人"
    assert "委托代理人 李四" in text and "统一社会信用代码 91410600MA44XXXX85" in text
    assert "本单位自愿委托上述服务机构代为办理上述事项（10.2.2）" in text
    # the form the firm's new contact is asked to sign offers him, not the old one
    page = unlocked.get(f"/cases/{case_id}/steps/completion").data.decode()
    assert 'value="李四"' in page and 'value="张三"' not in page


def test_a_firms_legal_representative_signs_as_such(unlocked: Any, tmp_path: Path) -> None:
    """9.1: the firm's legal representative comes himself; the header has no member for
    him, so the form names him where he signs (签字人 …（法定代表人）)."""
    from schemas.sample import catalog

    case_id = _case_id(_consult(unlocked, applicant_name="鹤壁市某某机械制造有限公司",
                                applicant_kind="enterprise", id_type="uscc",
                                id_number="91410600MA44XXXX85"))
    page = unlocked.get(f"/cases/{case_id}/steps/entrustment").data.decode()
    assert '<option value="self" selected' not in page  # a firm is not "本人"
    period = (local_today() + dt.timedelta(days=60)).isoformat()
    assert _step(unlocked, case_id, "entrustment", channel="offline",
                 service_item=catalog()[0]["code"], mode="nearby", ledger_no="DB-11",
                 period_end=period, scope="代为申请", signature_data=SIG, signer="legal_rep",
                 signer_name="赵六").status_code == 302
    text = _text(unlocked, case_id, "C", tmp_path)
    assert "签字人 赵六（法定代表人）" in text and "法定代表人（签字）" in text
    assert "本单位自愿委托" in text


def _csrf(client: Any) -> str:
    from tests.node.conftest import csrf

    return str(csrf(client))


def test_special_groups_are_corrected_on_the_case(unlocked: Any) -> None:
    """9.2: the son called (no group ticked); at the visit the clerk finds his mother old
    and disabled. The groups were fixed at the consultation: the hub's 9.2 columns never
    counted her. 更正 sets them now (a header merge field, the old value in history)."""
    node = unlocked.application.extensions["bangban_node"]
    case_id = _case_id(_consult(unlocked))
    assert 'name="special_groups" value="elderly"' in \
        unlocked.get(f"/cases/{case_id}/applicant/").data.decode()
    resp = unlocked.post(f"/cases/{case_id}/applicant/", data={
        "csrf": _csrf(unlocked), "applicant_name": "王小明", "phone": "13800000000",
        "groups_shown": "1", "special_groups": ["elderly", "disabled"]})
    assert resp.status_code == 302, resp.data.decode()[:2000]
    header = node.casework.header(case_id)
    assert header["special_groups"] == ["elderly", "disabled"]
    assert {"field": "special_groups", "value": [], "hlc": ""} in header["history"]
    assert "老年人、残疾人" in unlocked.get(f"/cases/{case_id}").data.decode()
    # the API, and a code outside the list refused by name
    resp = unlocked.post(f"/api/cases/{case_id}/applicant", json={
        "applicant_name": "王小明", "special_groups": ["aliens"]})
    assert resp.status_code == 400 and "special_groups" in resp.get_data(as_text=True)
    assert node.casework.header(case_id)["special_groups"] == ["elderly", "disabled"]
