"""更正 of a case whose stored ID number fails the check added since (GB 11643, GB 32100):
every save was refused until the number was fixed, so a clerk could not correct the phone
or the address she came to correct. A number left as stored is taken and flagged plainly
(the correction form, the case page); one edited is checked and refused if it fails."""

from __future__ import annotations

from typing import Any

import pytest

from tests.node.conftest import csrf
from tests.node.test_api import _unlock
from tests.node.test_clerk_day import _case_id, _consult

BAD = "110105194912310021"  # GB 11643: its check digit should be X
GOOD = "11010519491231002X"  # the standard's own example
OTHER_BAD = "110105194912310022"


def _stored_with(client: Any, monkeypatch: pytest.MonkeyPatch, number: str) -> str:
    """A case registered by a node without the check (or before it)."""
    import node.views.consultations as consultations

    with monkeypatch.context() as m:
        m.setattr(consultations, "id_number_problem", lambda *a: None)
        return _case_id(_consult(client, id_type="resident_id", id_number=number,
                                 address="鹤壁市淇滨区九州路 1 号"))


def _correct(client: Any, case_id: str, **typed: str) -> Any:
    """The correction form as the page sends it: what it showed in ``was_*``."""
    shown = {"applicant_name": "王小明", "phone": "13800000000", "id_type": "resident_id",
             "id_number": BAD, "address": "鹤壁市淇滨区九州路 1 号", "agent_name": ""}
    return client.post(f"/cases/{case_id}/applicant/", data={
        "csrf": csrf(client), **shown, **typed, **{f"was_{k}": v for k, v in shown.items()}})


def test_a_bad_stored_number_is_flagged_and_the_address_can_be_corrected(
        unlocked: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    case_id = _stored_with(unlocked, monkeypatch, BAD)
    form = unlocked.get(f"/cases/{case_id}/applicant/").data.decode()
    assert 'id="id_number-flag"' in form and "校验位不符" in form
    assert 'id="id-number-flag"' in unlocked.get(f"/cases/{case_id}").data.decode()
    r = _correct(unlocked, case_id, address="鹤壁市淇滨区黄河路 8 号")
    assert r.status_code == 302, r.data.decode()[:3000]
    page = unlocked.get(f"/cases/{case_id}").data.decode()
    assert "黄河路 8 号" in page and BAD in page  # the number kept as it was, still flagged
    assert 'id="id-number-flag"' in page


def test_a_bad_stored_number_edited_must_be_edited_right(
        unlocked: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    case_id = _stored_with(unlocked, monkeypatch, BAD)
    r = _correct(unlocked, case_id, id_number=OTHER_BAD, address="鹤壁市淇滨区黄河路 8 号")
    page = r.data.decode()
    assert r.status_code == 400 and 'id="id_number-err"' in page and "GB 11643" in page
    assert "黄河路 8 号" not in unlocked.get(f"/cases/{case_id}").data.decode()
    assert _correct(unlocked, case_id, id_number=GOOD).status_code == 302
    page = unlocked.get(f"/cases/{case_id}").data.decode()
    assert GOOD in page and 'id="id-number-flag"' not in page


def test_the_api_takes_a_correction_that_leaves_a_bad_number_as_stored(
        client: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    import node.views.consultations as consultations

    _unlock(client)
    body = {"applicant_name": "王小明", "phone": "13800000000", "id_type": "resident_id",
            "id_number": BAD}
    with monkeypatch.context() as m:
        m.setattr(consultations, "id_number_problem", lambda *a: None)
        case_id = client.post("/api/consultations", json={**body, "question": "问"}
                              ).json["case_id"]
    url = f"/api/cases/{case_id}/applicant"
    r = client.post(url, json={**body, "phone": "13900000000"})
    assert r.status_code == 200 and r.json["changed"] is True, r.json
    r = client.post(url, json={**body, "id_number": OTHER_BAD})
    assert r.status_code == 400 and "GB 11643" in r.json["fields"]["id_number"], r.json
    assert client.get(f"/api/cases/{case_id}").json["private"]["id_number"] == BAD
