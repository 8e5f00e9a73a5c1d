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

