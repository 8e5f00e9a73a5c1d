"""A village clerk's slips at the window (qa19: a day at the station in a browser): an ID
number with one digit mistyped, a name pasted with its line breaks, a paper date refused
under its input's name; and what the case record says she read."""

from __future__ import annotations

import datetime as dt
import re
import subprocess
from pathlib import Path
from typing import Any

import pytest

from tests.node.conftest import csrf
from tests.node.test_clerk_day import SIG, _case_id, _consult, _step

GOOD_ID = "410602195001011233"  # its last character the GB 11643 check of the others


def _typo(number: str) -> str:
    """``number`` with its 16th digit one more: the slip the check character catches."""
    return number[:15] + str((int(number[15]) + 1) % 10) + number[16:]


@pytest.mark.parametrize(("id_number", "rule"), [
    (_typo(GOOD_ID), "校验位不符"),
    ("410602195013011237", "出生日期"),  # a 13th month
    (f"410602{dt.date.today().year + 3}01011234", "出生日期"),  # born in the future
])
def test_a_mistyped_resident_id_number_is_refused_at_the_window(unlocked: Any, id_number: str,
                                                                rule: str) -> None:
    """A digit mistyped in the ID number was stored, printed on forms A–E and handed to the
    department: only 18 characters were checked, not the card's check character (GB
    11643) nor its birth date. Refused now, naming the field and the rule; what was typed
    stays on the form."""
    r = _consult(unlocked, id_type="resident_id", id_number=id_number)
    page = r.data.decode()
    assert r.status_code == 400 and 'id="id_number-err"' in page
    assert rule in page and f'value="{id_number}"' in page


def test_a_resident_id_number_typed_right_is_taken_as_the_card_prints_it(unlocked: Any) -> None:
    # pasted in groups, a lower-case x: the card's own number
    typed = f" {GOOD_ID[:6]} {GOOD_ID[6:14]} {GOOD_ID[14:].lower()}\n"
    case_id = _case_id(_consult(unlocked, id_type="resident_id", id_number=typed))
    assert GOOD_ID in unlocked.get(f"/cases/{case_id}").data.decode()


def test_the_correction_refuses_a_mistyped_id_number_too(unlocked: Any) -> None:
    case_id = _case_id(_consult(unlocked, id_type="resident_id", id_number=GOOD_ID))
    bad = unlocked.post(f"/cases/{case_id}/applicant/", data={
        "csrf": csrf(unlocked), "applicant_name": "王小明", "id_type": "resident_id",
        "id_number": _typo(GOOD_ID), "phone": "13800000000"})
    assert bad.status_code == 400 and "校验位不符" in bad.data.decode()


def test_a_pasted_name_is_stored_as_written_on_the_card(unlocked: Any, tmp_path: Path) -> None:
    """A name copied from a WeChat message or a spreadsheet cell came with its line break
    and spaces: "王\\n 小明" was stored, and form N printed "王 小明", which the department
    holds against the ID card; a foreign name keeps its one space."""
    case_id = _case_id(_consult(unlocked, applicant_name="  王\n 小明 \t",
                                agent_name="王\u3000大明", service_item=None))
    page = unlocked.get(f"/cases/{case_id}").data.decode()
    assert re.search(r">\s*王小明\s*<", page), page[:3000]
    out = tmp_path / "a.pdf"
    out.write_bytes(unlocked.get(f"/cases/{case_id}/forms/A.pdf").data)
    text = subprocess.run(["pdftotext", str(out), "-"], capture_output=True, text=True,
                          check=True).stdout
    assert "王小明" in text and "王大明" in text and "王 小明" not in text
    other = _case_id(_consult(unlocked, applicant_name="John\n  Smith"))
    assert "John Smith" in unlocked.get(f"/cases/{other}").data.decode()


def test_a_refused_paper_date_is_named_by_its_label(unlocked: Any) -> None:
    """补录 with today's date: the reason read "paper_date：补录日期须早于今天…", the input's
    name in the code, to a clerk who sees 纸质表单上的日期 on the page."""
    from schemas.state import local_today

    r = _consult(unlocked, paper_date=local_today().isoformat())
    reason = re.search(r'<p class="error-box" role="alert">(.*?)</p>', r.data.decode(), re.S)
    assert r.status_code == 400 and reason, r.data.decode()[:2000]
    assert "纸质表单上的日期：" in reason.group(1) and "paper_date" not in reason.group(1)


def test_the_record_names_a_printed_form_and_the_signature_in_words(unlocked: Any) -> None:
    """Printing form C reads the applicant's particulars and the drawn signature (an access
    event, 7.2.2.2); the case's record listed them as "form:C" and "signature.png"."""
    from schemas.sample import catalog
    from schemas.state import local_today

    item = catalog()[0]["code"]
    case_id = _case_id(_consult(unlocked))
    period = (local_today() + dt.timedelta(days=60)).isoformat()
    r = _step(unlocked, case_id, "entrustment", channel="offline", service_item=item,
              mode="nearby", ledger_no="DB-1", period_end=period, scope="代为申请",
              signature_data=SIG, signer="self")
    assert r.status_code == 302, r.data.decode()[:2000]
    assert unlocked.get(f"/cases/{case_id}/forms/C.pdf").status_code == 200
    page = unlocked.get(f"/cases/{case_id}").data.decode()
    record = re.sub(r"<[^>]+>", " ", page.split('<ol class="timeline">', 1)[1])  # words only
    assert "打印委托书（附录C）" in record and "服务对象签字" in record
    assert "form:C" not in record and "signature.png" not in record, record
