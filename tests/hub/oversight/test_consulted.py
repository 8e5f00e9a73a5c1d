"""10.1.1: a consultation answered on the spot (or by its reply, 10.1.1.3) is done. The
oversight does not count it 在办 (the boards' open cases), nor overdue, and the public
page counts it 经办 only in the 30 days after it was answered; the consultation indicators
(咨询及时答复率) are what they were. A fact file folded before is folded again."""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from hub.oversight import FACTS_FILE, Oversight
from hub.oversight import indicators as ind
from hub.oversight.boards import BoardPublisher
from schemas.state import local_today
from tests.hub.oversight.cases import CaseBuilder
from tests.hub.oversight.conftest import make_hub, put_cases
from tests.hub.oversight.scenario import V1

ASK = {"channel": "window", "private": {"question": "需要哪些材料？"}}


def _cases() -> dict[str, CaseBuilder]:
    today = local_today()

    def day(n: int) -> str:
        return (today - dt.timedelta(days=n)).isoformat()

    # the station's roster (schemas.sample): 唐思琪 answered one lately and one long ago
    out = {"done": CaseBuilder(V1, "staff-201-1", day(3)),
           "wait": CaseBuilder(V1, "staff-201-2", day(1)),
           "replied": CaseBuilder(V1, "staff-201-3", day(5)),
           "old": CaseBuilder(V1, "staff-201-1", day(60))}
    out["done"].ev("consultation", day(3), answered=True, **ASK)
    out["wait"].ev("consultation", day(1), answered=False, **ASK)
    q = out["replied"].ev("consultation", day(5), answered=False, **ASK)
    out["replied"].ev("reply", day(5), consultation=q["hlc"], channel="phone",
                      private={"answer": "已答复"})
    out["old"].ev("consultation", day(60), answered=True, **ASK)
    return out


def _board(hub: Any, ov: Oversight) -> dict[str, Any]:
    board = BoardPublisher(hub, ov.facts, ov.institutions).build(V1, ov.institutions())
    assert board is not None
    return board


def test_answered_consultations_are_not_open_nor_overdue(tmp_path: Path) -> None:
    hub = make_hub(tmp_path)
    ov = Oversight(hub, tmp_path / "facts.sqlite")
    cases = _cases()
    put_cases(hub, [b.history() for b in cases.values()])
    ov.catch_up(force=True)
    status = {k: ov.facts.get(b.case_id).status for k, b in cases.items()}  # type: ignore[union-attr]
    assert status == {"done": "consulted", "wait": "consulting", "replied": "consulted",
                      "old": "consulted"}
    board = _board(hub, ov)
    assert [r["case"] for r in board["cases"]] == [cases["wait"].case_id]
    assert board["counts"]["open"] == 1
    db = ov.facts.reader()
    today = local_today()
    assert ind.case_count(db, "overdue", V1, today) == 0
    # 10.1.1.3 as before: every consultation counted, answered at once or in time
    assert db.execute("SELECT SUM(consultations), SUM(consult_in_time), SUM(consult_late), "
                      "SUM(consult_pending) FROM counters").fetchone() == (4, 3, 0, 1)
    ov.facts.close()
    hub.close()


def test_the_public_page_counts_an_answered_consultation_for_30_days(tmp_path: Path) -> None:
    from hub.app import create_app

    hub = make_hub(tmp_path)
    put_cases(hub, [b.history() for b in _cases().values()])
    page = create_app(hub=hub).test_client().get(f"/oversight/public/{V1}").text
    # 唐思琪's consultation answered 60 days ago is not 经办 in the last 30 days for good
    for name in ("唐思琪 · 帮办员", "曾嘉豪 · 帮办代办员", "蒋思远 · 代办员"):
        assert f"{name}（近 30 日经办 1 件）" in page
    hub.close()


def test_a_fact_file_of_the_fold_before_is_folded_again(tmp_path: Path) -> None:
    """As `hub serve` starts (hub.serve._refold_if_stale) on a file the release before
    ``consulted`` folded: every consultation-only case open, the file stamped with its
    version. The file is folded again and the answered ones leave the open count."""
    from hub.serve import _refold_if_stale

    hub = make_hub(tmp_path)
    put_cases(hub, [b.history() for b in _cases().values()])
    path = Path(hub.settings.hub_dir) / FACTS_FILE
    ov = Oversight(hub, path)
    ov.catch_up(force=True)
    ov.facts.close()
    db = sqlite3.connect(path, isolation_level=None)
    for case_id, data in db.execute("SELECT case_id, data FROM facts").fetchall():
        old = {**json.loads(data), "status": "consulting"}
        old.pop("answered_on", None)
        db.execute("UPDATE facts SET status = 'consulting', data = ? WHERE case_id = ?",
                   (json.dumps(old, ensure_ascii=False), case_id))
    db.execute("PRAGMA user_version = 3")  # the release before ``consulted`` (FOLD_VERSION 3)
    db.close()
    _refold_if_stale(SimpleNamespace(hub_dir=hub.settings.hub_dir))
    ov = Oversight(hub, path)
    ov.catch_up(force=True)
    assert _board(hub, ov)["counts"]["open"] == 1
    ov.facts.close()
    hub.close()


def test_the_reply_list_says_the_reply_is_due(tmp_path: Path) -> None:
    """The dashboard's 咨询超过 1 个工作日未答复 list read 咨询 for the case's status: beside
    咨询已答复 it now says what is missing, 咨询待答复 (schemas.state.STATUS_LABELS)."""
    from hub.app import create_app
    from hub.oversight.supervisors import add_supervisor
    from tests.hub.oversight.test_web import login

    hub = make_hub(tmp_path)
    day = (local_today() - dt.timedelta(days=20)).isoformat()  # past any holiday
    late = CaseBuilder(V1, "staff-201-2", day)
    late.ev("consultation", day, answered=False, **ASK)
    put_cases(hub, [late.history()])
    add_supervisor(hub, "city", "city-pass-1", institution="410600", name="市中心监督员")
    client, _ = login(create_app(hub=hub), "city", "city-pass-1")
    page = client.get("/oversight/cases/reply_overdue").text
    assert late.header["case_no"] in page and "<td class=\"l\">咨询待答复</td>" in page
    hub.close()
