"""A firm's 统一社会信用代码 (GB 32100-2015) at the window: its check character was not
checked (a resident ID number's was, node.particulars), so one mistyped character of the
business licence was stored, printed on forms A–E and handed to the department. Checked at
entry (the consultation, the correction, the API); a case stored before still opens and
prints."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.node.conftest import csrf
from tests.node.test_api import _unlock
from tests.node.test_clerk_day import _case_id, _consult

GOOD = "91110000600037341L"  # a real firm's code: its last character the check of the others
TYPO = "91110000600087341L"  # one character mistyped (8 for 3)
FIRM = {"applicant_name": "鹤壁市某某商贸有限公司", "applicant_kind": "enterprise",
        "agent_name": "张三", "id_type": "uscc"}


@pytest.mark.parametrize(("typed", "rule"), [
    (TYPO, "统一社会信用代码校验位不符"),
    ("91110000600037341", "统一社会信用代码应为 18 位"),  # a character left out
    ("9111000060003734IO", "不含 I、O、S、V、Z"),  # letters the code set has not
])
def test_a_mistyped_credit_code_is_refused_at_the_window(unlocked: Any, typed: str,
                                                         rule: str) -> None:
    r = _consult(unlocked, **FIRM, id_number=typed)
    page = r.data.decode()
    assert r.status_code == 400 and 'id="id_number-err"' in page
    assert rule in page and "GB 32100" in page
    assert f'value="{typed}"' in page  # what was typed stays on the form


def test_a_credit_code_typed_right_is_taken_as_the_licence_prints_it(unlocked: Any) -> None:
    # read out in groups over the phone, typed in lower case: the licence's own code
    typed = f" {GOOD[:8]} {GOOD[8:].lower()}\n"
    case_id = _case_id(_consult(unlocked, **FIRM, id_number=typed))
    assert GOOD in unlocked.get(f"/cases/{case_id}").data.decode()


def test_the_correction_refuses_a_mistyped_credit_code_too(unlocked: Any) -> None:
    case_id = _case_id(_consult(unlocked, **FIRM, id_number=GOOD))
    bad = unlocked.post(f"/cases/{case_id}/applicant/", data={
        "csrf": csrf(unlocked), "applicant_name": FIRM["applicant_name"], "id_type": "uscc",
        "id_number": TYPO, "phone": "13800000000"})
    assert bad.status_code == 400 and "统一社会信用代码校验位不符" in bad.data.decode()
    assert TYPO not in unlocked.get(f"/cases/{case_id}").data.decode()


def test_the_api_refuses_a_mistyped_credit_code_naming_the_field(client: Any) -> None:
    from schemas.sample import catalog

    _unlock(client)
    body = {"applicant_name": FIRM["applicant_name"], "applicant_kind": "enterprise",
            "phone": "13600001111", "question": "如何办理？", "service_item": catalog()[0]["code"],
            "service_type": "assist", "answered": True, "outcome": "已当场答复", "id_type": "uscc", "id_number": TYPO}
    r = client.post("/api/consultations", json=body)
    assert r.status_code == 400, r.json
    assert "GB 32100" in r.json["fields"]["id_number"]
    assert client.post("/api/consultations", json={**body, "id_number": GOOD}).status_code == 201


def test_a_case_stored_with_a_bad_credit_code_still_opens_and_prints(
        unlocked: Any, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """The check is at entry only: a case taken before it (or synced from a station that
    has it not) is shown and printed as stored, nothing of it lost."""
    import node.views.consultations as consultations

    with monkeypatch.context() as m:  # an older node: no check
        m.setattr(consultations, "id_number_problem", lambda *a: None)
        case_id = _case_id(_consult(unlocked, **FIRM, id_number=TYPO))
    assert TYPO in unlocked.get(f"/cases/{case_id}").data.decode()
    pdf = unlocked.get(f"/cases/{case_id}/forms/N.pdf")
    assert pdf.status_code == 200 and pdf.data.startswith(b"%PDF")


def test_a_credit_code_whose_organisation_code_fails_is_refused_by_that_rule(
        unlocked: Any) -> None:
    """Characters 9–17 are the firm's 组织机构代码, the 17th its GB 11714 check: a code with
    that character wrong but its 18th computed over it (made up, or copied from a generator)
    passed GB 32100's check and was taken."""
    made_up = "91110000600037342P"  # GOOD with its 17th changed, its 18th recomputed
    r = _consult(unlocked, **FIRM, id_number=made_up)
    page = r.data.decode()
    assert r.status_code == 400 and 'id="id_number-err"' in page
    assert "组织机构代码）校验位不符" in page and "GB 11714" in page
