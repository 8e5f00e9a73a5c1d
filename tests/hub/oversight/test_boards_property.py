"""Property: whatever the order of fact changes (cases opened, handed up and down, finished,
re-opened by a late event) and of publisher passes in between, once the publisher has run
every board lists exactly the open cases its institution holds (none stale, none missing)
and counts exactly its cases finished, completed and completed on time in the last 30 days.

This is the dirty-marking of :meth:`hub.oversight.materialize.FactStore.upsert` (old and new
holder of each changed case) and the take-then-build order of
:meth:`hub.oversight.boards.BoardPublisher.run_once`, checked without a hub process."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from hub.oversight.boards import BoardPublisher
from hub.oversight.facts import CaseFact
from hub.oversight.materialize import FactStore
from sync.crypto import DeviceSigner, SigningKeyPair
from sync.errors import NotFound
from sync.open import open_db

CITY, COUNTY, TOWN = "410600", "410602", "410602101"
VILLAGES = ("410602101201", "410602101202", "410602101203")
CODES = (TOWN, *VILLAGES)
NAMES = {COUNTY: {"parent": CITY}, TOWN: {"parent": COUNTY},
         **{v: {"parent": TOWN} for v in VILLAGES}}
SIGNER = DeviceSigner(f"{CITY}-HB", SigningKeyPair.generate())

#: its status: open (handling, a consultation awaiting its reply), finished, or a
#: consultation answered with nothing pending (consulted: neither open nor finished, 10.1.1)
STATUS = ("handling", "consulting", "completed", "consulted")
change = st.tuples(st.integers(min_value=0, max_value=7),  # which case
                   st.sampled_from(CODES),  # its holder now
                   st.sampled_from(STATUS))
script = st.lists(st.one_of(st.lists(change, min_size=1, max_size=4), st.just("pass")),
                  max_size=12)


def _fact(i: int, holder: str, status: str) -> CaseFact:
    finished = status == "completed"
    return CaseFact(case_id=f"case-{i}", case_no=f"NO-{i}", institution=holder,
                    origin=VILLAGES[i % len(VILLAGES)], status=status,
                    finished_on="2026-11-20" if finished else None,
                    completed_on="2026-11-20" if finished else None,
                    on_time=(i % 2 == 0) if finished else None)


@settings(max_examples=60, deadline=None)
@given(steps=script)
def test_boards_list_exactly_the_open_cases_held(tmp_path_factory: Any, steps: list[Any]) -> None:
    folder = Path(tmp_path_factory.mktemp("boards"))
    facts = FactStore(folder / "facts.sqlite")
    main = open_db(folder / "main.sqlite", create=True)
    hub = SimpleNamespace(stores=SimpleNamespace(main=main), keys=SimpleNamespace(signer=SIGNER))
    publisher = BoardPublisher(hub, facts, lambda: NAMES, interval=0.0,  # type: ignore[arg-type]
                               today=lambda: dt.date(2026, 11, 26))
    now: dict[int, tuple[str, bool]] = {}
    try:
        for step in steps:
            if step == "pass":
                publisher.run_once()
                continue
            facts.upsert([_fact(i, holder, status) for i, holder, status in step])
            now.update({i: (holder, status) for i, holder, status in step})
        publisher.run_once()
        for code in CODES:
            expected = {f"case-{i}" for i, (holder, status) in now.items()
                        if holder == code and status in ("handling", "consulting")}
            try:
                board = main.get(f"board:{code}")
            except NotFound:
                board = {"cases": [], "counts": {"open": 0}}
            assert {r["case"] for r in board["cases"]} == expected, code
            assert board["counts"]["open"] == len(expected)
            if board["cases"] or "finished_30d" in board["counts"]:
                done = [i for i, (holder, status) in now.items()
                        if holder == code and status == "completed"]
                assert board["counts"]["finished_30d"] == len(done)
                assert board["counts"]["completed_30d"] == len(done)
                assert board["counts"]["on_time_30d"] == sum(1 for i in done if i % 2 == 0)
    finally:
        facts.close()
        main.close()
