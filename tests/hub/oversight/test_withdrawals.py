"""撤销办结 in the oversight (hub/oversight/withdrawals.py): a withdrawn completion counts as no
completion (5 a on-time rate), the checks page counts and lists the withdrawals of the period
with their reason, and the case's history shows both steps, the withdrawn one marked."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.a11y import markup_problems
from tests.hub.oversight.cases import CaseBuilder
from tests.hub.oversight.conftest import make_hub, stored
from tests.hub.oversight.scenario import V1
from tests.hub.oversight.test_web import login

Q = "from=2026-03&to=2026-03&as_of=2026-03-31"


def _withdraw(b: CaseBuilder, day: str, reason: str = "wrong_case") -> dict[str, Any]:
    done = next(e for e in reversed(b.events) if e["event_type"] == "completion")
    return b.ev("completion_withdrawn", day, completion=done["hlc"], reason=reason,
                private={"details": "点错了办件"})


@pytest.fixture(scope="module")
def world(tmp_path_factory: Any) -> Iterator[tuple[Any, dict[str, CaseBuilder]]]:
    hub = make_hub(tmp_path_factory.mktemp("withdraw"))
    # W1: completed on 10 Mar by mistake, withdrawn the same day, still in handling
    w1 = CaseBuilder(V1, "s1", "2026-03-02").accepted("2026-03-02", 20).completed("2026-03-10")
    _withdraw(w1, "2026-03-10")
    # W2: withdrawn on 11 Mar (not finished), completed for real on 12 Mar
    w2 = CaseBuilder(V1, "s2", "2026-03-02").accepted("2026-03-02", 20).completed("2026-03-10")
    _withdraw(w2, "2026-03-11", reason="not_finished")
    w2.ev("completion", "2026-03-12", private={"applicant_signature": "b.png"}, staff="s3")
    # C3: a plain completion
    c3 = CaseBuilder(V1, "s1", "2026-03-02").accepted("2026-03-02", 20).completed("2026-03-10")
    cases = {"w1": w1, "w2": w2, "c3": c3}
    hub.stores.main.bulk_docs([stored(d) for b in cases.values() for d in b.history()])
    from hub.app import create_app
    from hub.oversight.supervisors import add_supervisor

    add_supervisor(hub, "town", "town-pass-1", institution="410602101", name="鹤壁集镇监督员")
    yield create_app(hub=hub), cases
    hub.close()


def _ov(app: Any) -> Any:
    from hub.oversight import oversight_for

    ov = oversight_for(app)
    ov.catch_up(force=True)
    return ov


def test_a_withdrawn_completion_is_not_counted_as_completed(world: Any) -> None:
    app, cases = world
    ov = _ov(app)
    w1, w2 = ov.facts.get(cases["w1"].case_id), ov.facts.get(cases["w2"].case_id)
    assert (w1.status, w1.completed_on, w1.on_time, w1.finished_on) == \
        ("handling", None, None, None)
    assert (w2.status, w2.completed_on) == ("completed", "2026-03-12")
    assert w2.staff == "s3"  # who completed it for real did the work (11.2.2), not s2
    assert [w[1:3] for w in w1.withdrawals] == [["2026-03-10", "wrong_case"]]
    completed = ov.facts.reader().execute(
        "SELECT SUM(completed), SUM(on_time) FROM counters WHERE institution=? AND month=?",
        (V1, "2026-03")).fetchone()
    assert completed == (2, 2)  # W2 once (its real completion) and C3; W1 not at all


def test_the_checks_page_counts_and_lists_the_withdrawals(world: Any) -> None:
    app, cases = world
    client, _ = login(app, "town", "town-pass-1")
    page = client.get(f"/oversight/checks?{Q}")
    assert page.status_code == 200, page.text
    assert markup_problems(page.text) == []
    count = page.text.split('id="withdrawn-count"', 1)[1].split("</p>", 1)[0]
    assert "2 件" in count and "误点了其他办件的办结 1 件" in count
    rows = page.text.split('id="withdrawals"', 1)[1].split("</table>", 1)[0].split("<tr")[2:]
    assert len(rows) == 2
    assert cases["w2"].header["case_no"] in rows[0] and "2026-03-11" in rows[0]
    assert cases["w1"].header["case_no"] in rows[1] and "误点了其他办件的办结" in rows[1]
    later = client.get("/oversight/checks?from=2026-04&to=2026-04&as_of=2026-04-30").text
    assert "本期撤销办结（误点办结后撤销，不计入办结和按时办结率） 0 件" in later


def test_the_case_history_shows_both_steps_and_the_reason(world: Any) -> None:
    app, cases = world
    client, _ = login(app, "town", "town-pass-1")
    page = client.get(f"/oversight/case?no={cases['w1'].header['case_no']}&why=check")
    assert page.status_code == 200, page.text
    steps = page.text.split('id="steps"', 1)[1].split("</table>", 1)[0]
    done = next(r for r in steps.split("<tr")[2:] if "step-completion " in r
                or 'step-completion"' in r)
    assert "step-withdrawn" in done and "已撤销" in done
    withdrawn = next(r for r in steps.split("<tr")[2:] if "step-completion_withdrawn" in r)
    assert "撤销办结：误点了其他办件的办结" in withdrawn and "reason=wrong_case" in withdrawn
