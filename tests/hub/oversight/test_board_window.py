"""A coordination board's 30-day counts (schemas/boards.py) follow the date."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from hub.oversight import Oversight
from hub.oversight.boards import BoardPublisher
from tests.hub.oversight.cases import CaseBuilder
from tests.hub.oversight.conftest import make_hub, put_cases

V = "410602101201"


def test_a_quiet_stations_board_drops_completions_older_than_30_days(tmp_path: Path) -> None:
    """The board was rebuilt only when one of the station's cases changed: a month after
    its last completion a quiet station's board still said 近 30 日办结 1 to the town."""
    hub = make_hub(tmp_path)
    ov = Oversight(hub, tmp_path / "facts.sqlite")
    b = CaseBuilder(V, "s1", "2026-03-02").accepted("2026-03-02", 5).completed("2026-03-04")
    put_cases(hub, [b.history()])
    ov.catch_up(force=True)
    day = [dt.date(2026, 3, 20)]
    publisher = BoardPublisher(hub, ov.facts, ov.institutions, interval=0.0,
                               today=lambda: day[0])

    def counts() -> tuple[int, int]:
        c = hub.stores.main.get(f"board:{V}")["counts"]
        return c["finished_30d"], c["completed_30d"]

    publisher.run_once()
    assert counts() == (1, 1)
    day[0] = dt.date(2026, 4, 2)  # 4 March + 29 days: still in the window
    publisher.run_once()
    assert counts() == (1, 1)
    day[0] = dt.date(2026, 4, 6)  # out of it, and nothing of the station changed
    publisher.run_once()
    assert counts() == (0, 0)
    # a restarted hub (a new publisher) a day later has nothing more to move
    assert BoardPublisher(hub, ov.facts, ov.institutions, interval=0.0,
                          today=lambda: day[0]).run_once() == 0
    ov.facts.close()
    hub.close()
