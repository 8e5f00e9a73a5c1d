"""An applicant asks what the station holds about them (PIPL art. 45): one page lists every
case in their name on this laptop, with what each step recorded and who read it, and the
copy is itself logged as an access event of purpose ``export``. Before, a station had no
way to answer but to open each case it could find by hand."""

from __future__ import annotations

from typing import Any

from tests.node.test_clerk_day import _case_id, _consult

ID = "410611199001011238"


def _exports(client: Any, case_id: str) -> list[dict[str, Any]]:
    cw = client.application.extensions["bangban_node"].casework
    return [e for e in cw.events(case_id)
            if e["event_type"] == "access" and e["purpose"] == "export"]


def test_the_copy_lists_every_case_of_the_applicant_and_is_logged(unlocked: Any) -> None:
    first = _case_id(_consult(unlocked, applicant_name="赵秀英", id_number=ID,
                              phone="13912345678", address="鹤壁集村三组", question="养老金怎么领？"))
    second = _case_id(_consult(unlocked, applicant_name="赵秀英", id_number=ID,
                               phone="13912345678"))
    stranger = _case_id(_consult(unlocked, applicant_name="钱多多",
                                 id_number="410611198502023451"))
    case_page = unlocked.get(f"/cases/{first}").data.decode()
    assert f'href="/cases/{first}/applicant/copy"' in case_page
    resp = unlocked.get(f"/cases/{first}/applicant/copy")
    assert resp.status_code == 200 and resp.headers["Cache-Control"] == "no-store"
    page = resp.data.decode()
    shown = {c for c in (first, second, stranger) if f'data-case-id="{c}"' in page}
    assert shown == {first, second}  # theirs only, found by the ID number
    for value in (ID, "13912345678", "鹤壁集村三组", "养老金怎么领？"):
        assert value in page, value
    assert "钱多多" not in page
    assert "保存期内不能删除" in page  # deletion: the archive rules say why not
    for case_id in (first, second):
        (logged,) = _exports(unlocked, case_id)
        assert "applicant_name" in logged["fields_read"] and logged["staff"] is not None
    assert _exports(unlocked, stranger) == []
    again = unlocked.get(f"/cases/{first}/applicant/copy").data.decode()
    assert again.count("导出") >= 2  # the first copy is in each case's record of readings
