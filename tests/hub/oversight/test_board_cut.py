"""A station with more open cases than a board carries (schemas.boards.MAX_ROWS): which
rows the hub leaves off."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from hub.oversight import Oversight, boards
from hub.oversight.boards import BoardPublisher
from tests.hub.oversight.cases import CaseBuilder
from tests.hub.oversight.conftest import make_hub, put_cases

V = "410602101201"


def test_a_late_reply_is_not_the_row_a_full_board_leaves_off(tmp_path: Path,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    """The rows were cut in the order of the time limit alone: a consultation waiting for
    its reply has none, so it sorted after every accepted case and a busy station's late
    replies (10.1.1.3) never reached the town. Cut by the nearest running deadline, the
    late reply stays and the case due furthest ahead is the one counted in ``more``."""
    monkeypatch.setattr(boards, "MAX_ROWS", 2)
    hub = make_hub(tmp_path)
    ov = Oversight(hub, tmp_path / "facts.sqlite")
    soon = CaseBuilder(V, "s1", "2026-03-20").accepted("2026-03-20", 5)
    later = CaseBuilder(V, "s1", "2026-03-20").accepted("2026-03-20", 20)
    asked = CaseBuilder(V, "s2", "2026-03-17")
    asked.ev("consultation", "2026-03-17", channel="window", answered=False,
             private={"name": "张三", "question": "办理条件", "contact": "13800000000"})
    put_cases(hub, [soon.history(), later.history(), asked.history()])
    ov.catch_up(force=True)
    BoardPublisher(hub, ov.facts, ov.institutions, interval=0.0,
                   today=lambda: dt.date(2026, 3, 25)).run_once()
    board = hub.stores.main.get(f"board:{V}")
    listed = [r["case"] for r in board["cases"]]
    assert listed == [asked.case_id, soon.case_id]
    assert board["more"] == 1 and board["counts"]["open"] == 3
    ov.facts.close()
    hub.close()
