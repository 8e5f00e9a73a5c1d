"""What a walk through the UI in a real browser found (Flask test client): a clerk, a town
coordinator. Each test failed before its fix."""

from __future__ import annotations

import re
from typing import Any

from tests.node.conftest import TOWN, VILLAGE, csrf
from tests.node.test_clerk_day import _case_id, _consult, _step


def _institutions(client: Any, *docs: tuple[str, str, str]) -> None:
    """Reference data as a pull brings it: code, name, parent."""
    node = client.application.extensions["bangban_node"]
    for code, name, parent in docs:
        node.store.put({"_id": f"institution:{code}", "type": "institution", "code": code,
                        "name": name, "parent": parent, "schema_version": 1})


def test_a_hand_up_offers_the_town_by_its_name(unlocked: Any) -> None:
    """4.3: a village hands a case up to its town. The form showed a text box holding the
    town's bare code (its list offered the villages below the village: none)."""
    _institutions(unlocked, (TOWN, "测试镇便民服务中心", "410621"),
                  (VILLAGE, "测试村便民服务站", TOWN))
    case_id = _case_id(_consult(unlocked))
    html = unlocked.get(f"/cases/{case_id}/steps/hand_up").data.decode()
    select = re.search(r'<select id="to_institution".*?</select>', html, re.S)
    assert select, "the receiving institution is typed, not chosen"
    assert re.search(rf'<option value="{TOWN}" selected>测试镇便民服务中心</option>',
                     select.group(0))
    # a refused hand-up keeps the choice
    r = _step(unlocked, case_id, "hand_up", to_institution=TOWN, reason_code="")
    assert r.status_code == 400
    assert re.search(rf'<option value="{TOWN}" selected>', r.data.decode())


def test_a_case_opens_after_a_new_key_generation_arrives(unlocked: Any) -> None:
    """The hub seals a complaint it takes (11.1) with a fresh data key it adds to the case's
    keyring. The station had that case's key cached from before: once the pull brought the
    new keyring and the complaint, the case page said "data key 'dk-hub-…' is not a key of
    case …" (403) for every step, until the laptop was locked."""
    import os

    from node.casework import next_clock, now_iso
    from schemas.build import make_event
    from sync.crypto import CaseKey, add_recipient, keyring_id, sign_document

    case_id = _case_id(_consult(unlocked))
    assert unlocked.get(f"/cases/{case_id}").status_code == 200  # its key is cached now
    node = unlocked.application.extensions["bangban_node"]
    ring = node.store.get(keyring_id(case_id))
    kid = "dk-hub-test"
    fresh = CaseKey(case_id, {kid: os.urandom(32)}, kid)
    new_ring = add_recipient({**ring, "data_keys": [*ring["data_keys"], {"kid": kid, "wraps": []}]},
                             fresh, node.institution, node.reading.directory(), node.keys.signer,
                             role="owner")
    new_ring["current"] = ring["current"]
    event = make_event("work_log", case_id=case_id, clock=next_clock(node.device_id),
                       at=now_iso(), institution=node.institution, kind="tracking",
                       private={"text": "中心登记的投诉已转办"})
    node.store.bulk_docs([new_ring, sign_document(fresh.seal(event), node.keys.signer)])
    page = unlocked.get(f"/cases/{case_id}")
    assert page.status_code == 200, page.data.decode()[:500]
    assert "中心登记的投诉已转办" in page.data.decode()


def test_the_record_names_the_consultation_a_reply_answers_in_words(unlocked: Any) -> None:
    """10.1.1.3: the reply's line in the case's record showed the consultation's event
    clock (对应咨询: 01a2190c2b3d-0000-…); a handled complaint showed the complaint's the
    same way. The clerk reads when it was asked and what."""
    case_id = _case_id(_consult(unlocked, answered=None, question="宅基地怎么批"))
    node = unlocked.application.extensions["bangban_node"]
    hlc = next(e["hlc"] for e in node.casework.events(case_id) if e["event_type"] == "consultation")
    r = _step(unlocked, case_id, "reply", consultation=hlc, channel="phone", answer="已电话答复")
    assert r.status_code == 302, r.data.decode()[:2000]
    record = unlocked.get(f"/cases/{case_id}").data.decode().split('class="timeline"')[1]
    line = next(li for li in record.split("<li>") if "已电话答复" in li)
    assert hlc not in line and re.search(r"对应咨询</span>：[^；]*咨询：宅基地怎么批；", line), line


def test_a_typo_in_the_applicant_s_particulars_can_be_corrected(unlocked: Any,
                                                                  tmp_path: Any) -> None:
    """A typo in the name or ID number at the consultation was printed on forms A–E for
    good: the case page had no way to fix it. Corrected, the forms and the search use the
    new particulars; the replaced ones stay (sealed) in the header's history."""
    import subprocess

    case_id = _case_id(_consult(unlocked, applicant_name="王小眀", id_number="410602195001011241"))
    page = unlocked.get(f"/cases/{case_id}").data.decode()
    assert f'href="/cases/{case_id}/applicant/"' in page
    form = unlocked.get(f"/cases/{case_id}/applicant/").data.decode()
    assert 'value="王小眀"' in form
    bad = unlocked.post(f"/cases/{case_id}/applicant/",
                        data={"csrf": csrf(unlocked), "applicant_name": "王小明",
                              "id_number": "4106021950", "phone": "13800000000"})
    assert bad.status_code == 400 and 'id="id_number-err"' in bad.data.decode()
    assert 'value="王小明"' in bad.data.decode()  # what was typed is kept
    ok = unlocked.post(f"/cases/{case_id}/applicant/",
                       data={"csrf": csrf(unlocked), "applicant_name": "王小明",
                             "id_type": "resident_id", "id_number": "410602195001011233",
                             "phone": "13800000000", "address": "一组3号"})
    assert ok.status_code == 302, ok.data.decode()[:1500]
    page = unlocked.get(f"/cases/{case_id}").data.decode()
    assert "王小明" in page and "410602195001011233" in page
    out = tmp_path / "a.pdf"
    out.write_bytes(unlocked.get(f"/cases/{case_id}/forms/A.pdf").data)
    text = subprocess.run(["pdftotext", str(out), "-"], capture_output=True, text=True,
                          check=True).stdout
    assert "王小明" in text and "410602195001011233" in text and "王小眀" not in text
    node = unlocked.application.extensions["bangban_node"]
    stored = node.store.get(f"case:{case_id}")
    assert "private" not in stored and "王小明" not in str(stored)  # sealed
    assert [h["field"] for h in stored["history"]] == ["private"] and "sealed" in str(stored["history"])
    found = unlocked.get("/cases/", query_string={"q": "王小明"}, follow_redirects=True)
    assert case_id in found.data.decode()


def test_the_record_shows_what_was_recorded_not_the_form_s_hint(unlocked: Any) -> None:
    """The case's record read "交还材料（每行一项）: 户口簿原件": the form's instruction to
    the clerk, printed as if it were part of what happened."""
    from schemas.sample import catalog

    case_id = _case_id(_consult(unlocked))
    r = _step(unlocked, case_id, "entrustment", channel="offline", ledger_no="DB-1",
              service_item=catalog()[0]["code"], mode="nearby",
              period_end="2099-12-31", scope="代为提交", materials_received="身份证复印件",
              signature_data="data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJ"
              "AAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==")
    assert r.status_code == 302, r.data.decode()[:3000]
    record = unlocked.get(f"/cases/{case_id}").data.decode().split('class="timeline"')[1]
    assert "身份证复印件" in record and "已收材料</span>" in record
    assert "每行一项" not in record


def test_a_correction_made_elsewhere_shows_once_it_arrives(unlocked: Any) -> None:
    """The town corrected the name of a case the village had open this session; the
    village pulled the new header but kept showing (and printing) the old name until it was
    locked: the header's opened private part was cached as if headers never changed."""
    from node.casework import next_clock
    from schemas.build import set_fields
    from sync.crypto import sign_document

    case_id = _case_id(_consult(unlocked, applicant_name="张大爷"))
    assert "张大爷" in unlocked.get(f"/cases/{case_id}").data.decode()
    node = unlocked.application.extensions["bangban_node"]
    stored = node.store.get(f"case:{case_id}")  # as the town writes it, then the pull stores it
    body = {k: v for k, v in stored.items() if k not in ("sig", "sealed")}
    private = {"applicant_name": "张德福", "phone": "13800000000"}
    edited = set_fields({**body, "private": private}, {"private": private},
                        next_clock(node.device_id))
    node.store.bulk_docs([sign_document(node.reading.case_key(case_id).seal(edited),
                                        node.keys.signer)])
    page = unlocked.get(f"/cases/{case_id}").data.decode()
    assert "张德福" in page.split('id="applicant"')[1][:40], page.split('id="applicant"')[1][:40]
    before = len(node.casework.events(case_id))
    unlocked.get(f"/cases/{case_id}")  # opened once: no second access event for it
    assert len(node.casework.events(case_id)) == before
    found = unlocked.get("/cases/", query_string={"q": "张德福"}, follow_redirects=True)
    assert case_id in found.data.decode()  # the search knows the corrected name


def test_the_home_tile_counts_the_cases_its_list_shows(unlocked: Any) -> None:
    """Offline, one new consultation: the home tile said 待上传 4 (documents: keyring,
    header, consultation, notification) while the 待上传 list showed 1 case."""
    case_id = _case_id(_consult(unlocked))
    home = unlocked.get("/").data.decode()
    tile = re.search(r'<a class="stat" href="([^"]*view=pending[^"]*)"><div class="n">(\d+)</div>',
                     home)
    assert tile and tile.group(2) == "1", home[home.find("待上传") - 300:home.find("待上传") + 50]
    listed = unlocked.get(tile.group(1).replace("&amp;", "&")).data.decode()
    assert listed.count(f'href="/cases/{case_id}"') == 1
