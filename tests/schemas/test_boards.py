"""The coordination board's schema and its pure helpers (schemas/boards.py)."""

from __future__ import annotations

from typing import Any

import pytest

from schemas.boards import MAX_ROWS, overdue_marks, summarize
from schemas.errors import SchemaError
from schemas.registry import validate_sealed

VILLAGE, TOWN = "410621100201", "410621100"


def board(**over: Any) -> dict[str, Any]:
    doc = {"_id": f"board:{VILLAGE}", "type": "board", "schema_version": 1,
           "institution": VILLAGE, "audience": [TOWN], "as_of": "2026-11-26T10:00:00+08:00",
           "counts": {"open": 1}, "cases": [{"case": "c1", "status": "handling",
                                             "due": "2026-11-26"}]}
    doc.update(over)
    return doc


def test_a_valid_board_passes() -> None:
    validate_sealed(board())


@pytest.mark.parametrize(("change", "field"), [
    ({"audience": [VILLAGE, TOWN]}, "audience"),
    ({"_id": "board:410621100202"}, "_id"),
    ({"cases": [{"case": "c", "status": "handling"}] * (MAX_ROWS + 1)}, "cases"),
    ({"cases": [{"case": "c", "status": "handling", "due": "26/11/2026"}]}, "due"),
    ({"counts": {"open": -1}}, "open"),
])
def test_bad_boards_name_the_field(change: dict[str, Any], field: str) -> None:
    with pytest.raises(SchemaError) as info:
        validate_sealed(board(**change))
    assert any(field in p.field for p in info.value.problems)


def test_a_deadline_day_is_still_in_time() -> None:
    row = {"status": "handling", "due": "2026-11-26", "reply_due": "2026-11-20"}
    assert overdue_marks(row, "2026-11-26") == ["reply_due"]
    assert overdue_marks(row, "2026-11-27") == ["due", "reply_due"]
    counts = summarize(board(), "2026-11-27", "2026-11-30")
    assert counts["overdue"] == 1 and counts["due_soon"] == 0 and counts["open"] == 1
    assert summarize(board(), "2026-11-25", "2026-11-30")["due_soon"] == 1
