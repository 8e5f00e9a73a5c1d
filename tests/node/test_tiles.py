"""Every home tile kept by :mod:`node.tiles` equals the count of the list it opens, for
random histories of index writes (new cases, updates moving a case between holders,
statuses, deadlines, closing and reopening, pending marks, a clear, an index reopened).
The lists are :func:`node.index.view_condition`'s SQL over the rows, the tiles the rows
the triggers keep."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from node.index import CaseIndex, view_condition
from node.state import CLOSED

HERE, TOWN, OTHER = "410602101201", "410602101", "410602101202"
DAYS = ("2026-11-20", "2026-11-25", "2026-11-26", "2026-11-27", "2026-12-03", "2026-12-09")
TODAY, SOON = "2026-11-26", "2026-12-03"
TILES = ("open", "overdue", "deadline_passed", "due_soon", "elsewhere")

row = st.fixed_dictionaries({
    "case_id": st.sampled_from([f"c{i}" for i in range(6)]),
    "institution": st.sampled_from([HERE, OTHER]),
    "holder": st.sampled_from([None, HERE, TOWN, OTHER]),
    "status": st.sampled_from(["consulting", "consulted", "handling", "suspended",
                               "completed", "archived"]),
    "due": st.sampled_from((None, *DAYS)),
    "limit_due": st.sampled_from((None, *DAYS)),
    "suspended_since": st.sampled_from((None, *DAYS)),
})
step = st.one_of(
    st.tuples(st.just("upsert"), row),
    st.tuples(st.just("pending"), st.sampled_from([f"c{i}" for i in range(6)])),
    st.tuples(st.just("clear"), st.none()),
    st.tuples(st.just("reopen"), st.none()),
)


def _listed(index: CaseIndex, view: str) -> int:
    cond, args = view_condition(view, today=TODAY, soon=SOON, holder=HERE)
    return int(index._db.execute(f"SELECT count(*) FROM cases c WHERE {cond}",
                                 args).fetchone()[0])


@settings(max_examples=150, deadline=None)
@given(st.lists(step, max_size=25))
def test_each_tile_is_the_length_of_its_list(history: list[tuple[str, Any]]) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "index.sqlite"
        index = CaseIndex(path)
        try:
            for kind, arg in history:
                if kind == "upsert":
                    index.upsert({**arg, "case_no": arg["case_id"], "updated": TODAY,
                                  "closed": arg["status"] in CLOSED})
                elif kind == "pending":
                    index.set_pending([arg], True)
                elif kind == "clear":
                    index.clear()
                else:
                    index.close()
                    index = CaseIndex(path)
            tiles = index.counts(today=TODAY, soon=SOON, holder=HERE)
            assert {v: tiles[v] for v in TILES} == {v: _listed(index, v) for v in TILES}
            # the open set is the fold's: an answered consultation (consulted) is not open
            marks = ",".join("?" * len(CLOSED))
            held = index._db.execute(
                f"SELECT count(*) FROM cases WHERE coalesce(holder, institution) = ? "
                f"AND status NOT IN ({marks})", (HERE, *sorted(CLOSED))).fetchone()[0]
            assert tiles["open"] == held
        finally:
            index.close()


def test_an_index_written_without_tile_counts_is_counted_when_opened(tmp_path: Path) -> None:
    path = tmp_path / "index.sqlite"
    index = CaseIndex(path)
    index.upsert({"case_id": "c1", "case_no": "c1", "institution": HERE, "status": "handling",
                  "due": "2026-11-20", "limit_due": "2026-11-20", "updated": TODAY})
    index._db.execute("DELETE FROM tile_counts")  # as a release before node.tiles left it
    index._db.execute("DELETE FROM meta WHERE k = 'tiles'")
    index.close()
    index = CaseIndex(path)
    try:
        assert index.counts(today=TODAY, soon=SOON, holder=HERE)["overdue"] == 1
    finally:
        index.close()
