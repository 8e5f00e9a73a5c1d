"""Every reading of a case's personal data is logged as an access event naming who read it
(design.md §5; 7.2.2.2). The node keeps what it opened in memory for the unlock: a member
who took the window, or a second browser, read a case another had opened with no access
event naming them."""

from __future__ import annotations

from typing import Any

from tests.node.conftest import PASSPHRASE, csrf
from tests.node.test_clerk_day import _case_id, _consult
from tests.node.test_window_staff import ROSTER, _accept, _choose, _docs, _roster, _staff_of


def _lock_and_unlock(client: Any) -> None:
    client.post("/lock", data={"csrf": csrf(client)})
    assert client.post("/unlock", data={"passphrase": PASSPHRASE,
                                        "csrf": csrf(client)}).status_code == 302


def _accesses(app: Any, case_id: str) -> list[dict[str, Any]]:
    return [e for e in _docs(app, case_id)[1] if e["event_type"] == "access"]


def test_the_member_who_takes_the_window_is_logged_reading(app: Any, unlocked: Any) -> None:
    _roster(app, ROSTER)
    _choose(unlocked, "S1")
    case_id = _case_id(_consult(unlocked))
    _lock_and_unlock(unlocked)  # what S1 wrote is no longer open in memory
    _choose(unlocked, "S1")
    assert unlocked.get(f"/cases/{case_id}").status_code == 200
    assert _staff_of(_accesses(app, case_id), "access") == {"S1"}
    _choose(unlocked, "S2")  # S2 sits down at the window, no lock between
    assert unlocked.get(f"/cases/{case_id}").status_code == 200  # from memory
    accesses = _accesses(app, case_id)
    assert _staff_of(accesses, "access") == {"S1", "S2"}
    s2 = next(e for e in accesses if e["staff"] == "S2")
    assert "applicant_name" in s2["fields_read"]
    # paging on through the case writes no more (one per member, case and unlock)
    assert unlocked.get(f"/cases/{case_id}").status_code == 200
    _choose(unlocked, "S1")
    assert unlocked.get(f"/cases/{case_id}").status_code == 200
    assert len(_accesses(app, case_id)) == len(accesses)


def test_the_writer_reading_back_what_they_wrote_is_not_logged_again(app: Any,
                                                                     unlocked: Any) -> None:
    _roster(app, ROSTER)
    _choose(unlocked, "S1")
    case_id = _case_id(_consult(unlocked))
    assert unlocked.get(f"/cases/{case_id}").status_code == 200
    assert _accesses(app, case_id) == []
    _choose(unlocked, "S2")
    assert unlocked.get(f"/cases/{case_id}").status_code == 200
    assert _staff_of(_accesses(app, case_id), "access") == {"S2"}


def test_a_step_added_to_a_case_another_opened_is_no_reading_of_it(app: Any,
                                                                   unlocked: Any) -> None:
    """S2 records a step on a case S1 has open (the form posted, the case page not shown):
    S2 wrote the step, not the applicant's particulars; S2's next view of the case is
    logged."""
    _roster(app, ROSTER)
    _choose(unlocked, "S1")
    case_id = _case_id(_consult(unlocked))
    _lock_and_unlock(unlocked)
    _choose(unlocked, "S1")
    assert unlocked.get(f"/cases/{case_id}").status_code == 200
    _choose(unlocked, "S2")
    _accept(unlocked, case_id)
    r = unlocked.post(f"/api/cases/{case_id}/events/work_log",
                      json={"kind": "tracking", "private": {"text": "已电话联系"}})
    assert r.status_code == 201, r.json
    assert _staff_of(_accesses(app, case_id), "access") == {"S1"}  # S2 wrote, read nothing
    assert unlocked.get(f"/api/cases/{case_id}").status_code == 200
    assert "S2" in _staff_of(_accesses(app, case_id), "access")


def test_every_printed_form_is_logged_with_its_purpose(app: Any, unlocked: Any) -> None:
    """A form carries the applicant's name and ID number out on paper (PIPL art. 51):
    printing it once the case page had opened the case wrote no access event at all."""
    _roster(app, ROSTER)
    _choose(unlocked, "S1")
    case_id = _case_id(_consult(unlocked))
    _accept(unlocked, case_id)
    _choose(unlocked, "S2")
    assert unlocked.get(f"/cases/{case_id}").status_code == 200  # S2's reading: logged
    before = _accesses(app, case_id)
    assert [e["purpose"] for e in before] == ["handling"]
    for _ in range(2):  # a reprint is another paper
        resp = unlocked.get(f"/cases/{case_id}/forms/A.pdf")
        assert resp.status_code == 200 and resp.headers["Cache-Control"] == "no-store"
    prints = [e for e in _accesses(app, case_id) if e["purpose"] == "printing"]
    assert len(prints) == 2 and {e["staff"] for e in prints} == {"S2"}
    assert all("form:A" in e["fields_read"] and "applicant_name" in e["fields_read"]
               for e in prints)


def _searched(app: Any, case_id: str) -> list[dict[str, Any]]:
    return [e for e in _accesses(app, case_id) if e["fields_read"] == ["search"]]


def test_a_search_by_a_person_is_logged_on_each_case_it_lists(app: Any, unlocked: Any) -> None:
    """A list found by a name ties the person to the cases' items and states (a neighbour's
    disability allowance) with no particulars shown: it left no trace at all."""
    _roster(app, ROSTER)
    _choose(unlocked, "S1")
    theirs = [_case_id(_consult(unlocked, applicant_name="赵秀英", phone="13912345678"))
              for _ in range(2)]
    other = _case_id(_consult(unlocked, applicant_name="钱多多"))
    _lock_and_unlock(unlocked)
    _choose(unlocked, "S2")
    for q in ("赵秀英", "13912345678"):  # the second search lists the same: no new events
        resp = unlocked.post("/cases/", data={"csrf": csrf(unlocked), "q": q})
        assert theirs[0] in unlocked.get(resp.headers["Location"]).data.decode()
    for case_id in theirs:
        assert [e["staff"] for e in _searched(app, case_id)] == ["S2"]
    assert _searched(app, other) == []
    no = _docs(app, other)[0]["case_no"]  # a case number names nobody
    resp = unlocked.post("/cases/", data={"csrf": csrf(unlocked), "q": no})
    assert other in unlocked.get(resp.headers["Location"]).data.decode()
    assert _searched(app, other) == []
    _choose(unlocked, "S1")  # the API's search is the same reading
    rows = unlocked.get("/api/cases", query_string={"q": "钱多多"}).get_json()["rows"]
    assert [r["case_id"] for r in rows] == [other]
    assert [e["staff"] for e in _searched(app, other)] == ["S1"]
