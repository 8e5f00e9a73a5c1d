"""Two laptops of one station record a step of the same case while offline (design.md §3:
the second is kept, not applied, and flags the case for review): what the clerks then print
and read on the case page, and how they settle it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tests.node.test_applicant_papers import _applied, _text
from tests.node.test_clerk_day import _step


def concurrent_step(client: Any, case_id: str, event_type: str, **clear: Any) -> dict[str, Any]:
    """Store ``event_type`` as the station's other laptop recorded it offline: judged
    against the case as it stood before the last step here (its ``base_hlc``), clocked after
    it, as it arrives with the next sync."""
    n = client.application.extensions["bangban_node"]
    cw = n.casework
    events = cw.events(case_id)
    seen = events[:-1]  # the other laptop never saw this laptop's last step
    docs, signed, _ = cw._prepare(case_id, event_type, clear, None, staff=None, files=[],
                                  header=cw.header(case_id), events=seen,
                                  case_key=cw.case_key(case_id))
    cw._store_docs(docs)
    n.reindex_case(case_id)
    return signed


def test_form_a_of_a_case_accepted_twice_offline_prints_the_acceptance_that_counts(
        unlocked: Any, tmp_path: Path) -> None:
    """Both laptops accepted the case offline, 3 and 5 working days. The fold counts the
    first (the case page and the hub give its due date); form A printed the second's "5 个
    工作日" over the first's date, a promise the station's own records do not make."""
    case_id = _applied(unlocked)
    assert _step(unlocked, case_id, "acceptance", zone="assisted_zone",
                 time_limit_days="3").status_code == 302
    concurrent_step(unlocked, case_id, "acceptance", zone="assisted_zone", time_limit_days=5)
    state = unlocked.get(f"/api/cases/{case_id}").json["state"]
    assert state["needs_review"] and state["time_limit_days"] == 3
    text = _text(unlocked, case_id, "A", tmp_path)
    assert f"承诺办理时限 3 个工作日 预计办结日期 {state['due']}" in text, text
    assert "5 个工作日" not in text



def test_the_case_page_says_which_step_did_not_count_and_the_station_settles_it(
        unlocked: Any) -> None:
    """After the sync the case read 需复核 and nothing more: which step did not count, why,
    what to do, and no step at the station could clear the mark (review_resolved was on no
    page), so the case stayed 需复核 on the station's, the town's and the city's lists."""
    case_id = _applied(unlocked)
    assert _step(unlocked, case_id, "acceptance", zone="assisted_zone",
                 time_limit_days="3").status_code == 302
    second = concurrent_step(unlocked, case_id, "acceptance", zone="assisted_zone",
                             time_limit_days=5)
    page = unlocked.get(f"/cases/{case_id}").data.decode()
    assert 'id="reviews"' in page and f'data-event="{second["hlc"]}"' in page
    box = page[page.index('id="reviews"'):page.index("</section>", page.index('id="reviews"'))]
    assert "受理（附录A）" in box and "不能受理" in box and "电脑 A1" in box
    assert "“办理中”" in box and "handling" not in box  # the status in words, not its code
    assert "重新打印" in box and 'id="resolve-review"' in box
    assert f'data-unapplied="{second["hlc"]}"' in page  # marked in the record too
    form = unlocked.get(f"/cases/{case_id}/steps/review_resolved").data.decode()
    assert f'<option value="{second["hlc"]}" selected>' in form
    r = _step(unlocked, case_id, "review_resolved", events=second["hlc"],
              decision="kept_as_record", note="与蒋思远核对：以唐思琪受理为准，已收回第二张受理单")
    assert r.status_code == 302, r.data.decode()[:3000]
    state = unlocked.get(f"/api/cases/{case_id}").json["state"]
    assert not state["needs_review"] and state["time_limit_days"] == 3
    page = unlocked.get(f"/cases/{case_id}").data.decode()
    assert 'id="reviews"' not in page and "未计入（已复核）" in page
    assert 'id="step-review_resolved"' not in page.split("<summary>")[0]  # nothing left


def test_no_review_step_is_offered_while_nothing_waits_for_review(unlocked: Any) -> None:
    case_id = _applied(unlocked)
    page = unlocked.get(f"/cases/{case_id}").data.decode()
    assert 'id="step-review_resolved"' not in page.split("<summary>")[0]
    assert 'id="reviews"' not in page


ID = "410602199001011231"


def test_the_same_matter_opened_twice_is_marked_and_one_ends_without_losing_the_other(
        unlocked: Any) -> None:
    """The applicant came in the morning and after lunch; each laptop opened a case for the
    same item. The case page listed the other only as "this applicant's other cases", as
    for the several approvals of a firm's project (9.1): nothing said it was the same
    matter twice, nor how to close one (no step deletes a case)."""
    first = _applied(unlocked, id_type="resident_id", id_number=ID)
    second = _applied(unlocked, id_type="resident_id", id_number=ID)
    page = unlocked.get(f"/cases/{second}").data.decode()
    row = page[page.index(f'data-case-id="{first}"'):]
    assert "可能重复登记" in row[:row.index("</tr>")] and 'id="duplicate-note"' in page
    assert _step(unlocked, second, "termination", reason="other",
                 reasons=f"重复登记，以 {first} 为准").status_code == 302
    page = unlocked.get(f"/cases/{first}").data.decode()
    assert f'data-case-id="{second}"' in page  # still listed, ended: kept on the record
    assert "可能重复登记" not in page and 'id="duplicate-note"' not in page
    assert unlocked.get(f"/api/cases/{first}").json["state"]["status"] == "applied"


def _search(client: Any, q: str) -> str:
    from tests.node.conftest import csrf

    r = client.post("/cases/", data={"csrf": csrf(client), "q": q}, follow_redirects=True)
    assert r.status_code == 200
    return str(r.data.decode())


def test_a_name_search_finds_a_case_of_the_other_laptop_never_opened_here(
        unlocked: Any) -> None:
    """The applicant came back after lunch to laptop 2; the clerk searched the name and read
    没有办件 (a case pulled from laptop 1 had search tokens only once opened here) and opened
    a second case. The pull now makes them (node.tokenmaker); the note about cases a search
    cannot see is left to those no key here opens (tests/node/test_pulled_tokens.py)."""
    case_id = _applied(unlocked, applicant_name="司马光明")
    n = unlocked.application.extensions["bangban_node"]
    n.reading._opened.clear()  # never opened here ...
    n.index.clear()  # ... its documents arrived by a pull from the other laptop
    n.syncer.after_pull()
    page = _search(unlocked, "司马光明")
    assert f'href="/cases/{case_id}"' in page and 'id="search-unfound"' not in page
    n.syncer.state.status = "offline"  # the network is down: the newest may not be here yet
    page = _search(unlocked, "李四")
    assert 'id="search-offline"' in page and 'id="search-unfound"' not in page
    n.syncer.state.status = "ok"
    case_no = n.index.get(case_id)["case_no"]
    assert f'href="/cases/{case_id}"' in _search(unlocked, case_no)  # by its number too


def test_a_question_awaiting_its_reply_is_no_second_registration(unlocked: Any) -> None:
    """The applicant phoned about the item (a consultation, its reply pending, 10.1.1.3),
    then came and applied. The application's page marked the consultation 可能重复登记 and
    told the clerk to end one by 终止, which a consultation refuses (10.1.5: termination
    follows an application): the question is answered by a reply, not ended."""
    from tests.node.test_clerk_day import _case_id, _consult

    asked = _case_id(_consult(unlocked, id_type="resident_id", id_number=ID, answered=None))
    assert unlocked.get(f"/api/cases/{asked}").json["state"]["status"] == "consulting"
    applied = _applied(unlocked, id_type="resident_id", id_number=ID)
    page = unlocked.get(f"/cases/{applied}").data.decode()
    row = page[page.index(f'data-case-id="{asked}"'):]
    assert "可能重复登记" not in row[:row.index("</tr>")] and 'id="duplicate-note"' not in page
    page = unlocked.get(f"/cases/{asked}").data.decode()
    assert "可能重复登记" not in page and 'id="duplicate-note"' not in page


def test_a_case_number_that_finds_nothing_is_not_told_to_search_by_number(unlocked: Any) -> None:
    """A case number finds every case here, opened on this laptop or not; one mistyped
    found nothing and the page said a name search cannot see the other laptop's cases and
    to search by the case number, which the clerk had just done."""
    import copy

    case_id = _applied(unlocked, applicant_name="司马光明")
    n = unlocked.application.extensions["bangban_node"]
    # pulled with a keyring not yet wrapped for this laptop's key: no search tokens here
    # until the wrap arrives (node.tokenmaker), what the note counts
    ring = copy.deepcopy(n.store.get(f"keyring:{case_id}"))
    mine = {k.key_id for k in n.keys.keychain.encryption_keys()}
    for gen in ring["data_keys"]:
        gen["wraps"] = [w for w in gen["wraps"] if w["key_id"] not in mine]
    assert n.store.bulk_docs([ring])[0].get("ok")
    n.reading._opened.clear()  # never opened here: its documents came by a pull
    n.index.clear()
    n.syncer.after_pull()
    assert n.index.tokenless(case_id)
    number = n.index.get(case_id)["case_no"]
    for typed in (number[:-1] + "9", number.split("-")[0] + "-2025"):
        page = _search(unlocked, typed)
        assert "没有" in page and 'id="search-unfound"' not in page, typed
    assert 'id="search-unfound"' in _search(unlocked, "0392-1234567")  # a phone as written
    assert 'id="search-unfound"' in _search(unlocked, "司马光明")
