"""sync.mango: CouchDB's selector semantics (mango_selector:match)."""

from __future__ import annotations

from typing import Any

import pytest

from sync.errors import BadRequest
from sync.mango import collate, match

DOC: dict[str, Any] = {
    "_id": "case-1", "type": "case", "n": 5, "f": 2.5, "ok": True, "none": None,
    "tags": ["a", "b"], "nested": {"x": {"y": 1}, "list": [{"k": 1}, {"k": 3}]}, "name": "Zhang",
}


@pytest.mark.parametrize(
    ("selector", "expected"),
    [
        ({"type": "case"}, True),
        ({"type": "event"}, False),
        ({"type": "case", "n": 5}, True),
        ({"n": {"$eq": 5.0}}, True),
        ({"n": {"$ne": 4}}, True),
        ({"missing": {"$ne": 4}}, False),  # a missing field fails everything...
        ({"missing": {"$exists": False}}, True),  # ...except $exists: false
        ({"n": {"$exists": True}}, True),
        ({"n": {"$gt": 4, "$lte": 5}}, True),
        ({"n": {"$lt": 5}}, False),
        ({"n": {"$lt": "a"}}, True),  # numbers collate before strings
        ({"ok": {"$gt": False}}, True),
        ({"n": {"$in": [1, 5]}}, True),
        ({"tags": {"$in": ["b", "z"]}}, True),
        ({"tags": {"$nin": ["z"]}}, True),
        ({"tags": {"$nin": ["a"]}}, False),
        ({"tags": {"$all": ["b", "a"]}}, True),
        ({"tags": {"$all": ["c"]}}, False),
        ({"tags": {"$size": 2}}, True),
        ({"tags": "a"}, False),  # no implicit element match (unlike MongoDB)
        ({"tags": ["a", "b"]}, True),
        ({"nested.x.y": 1}, True),
        ({"nested": {"x": {"y": 1}}}, True),
        ({"nested.list": {"$elemMatch": {"k": {"$gt": 2}}}}, True),
        ({"nested.list": {"$allMatch": {"k": {"$gt": 2}}}}, False),
        ({"nested.list.1.k": 3}, True),
        ({"tags": {"$elemMatch": {"$eq": "b"}}}, True),
        ({"name": {"$regex": "^Zh"}}, True),
        ({"n": {"$regex": "5"}}, False),
        ({"n": {"$type": "number"}}, True),
        ({"none": {"$type": "null"}}, True),
        ({"ok": {"$type": "boolean"}}, True),
        ({"n": {"$mod": [2, 1]}}, True),
        ({"$or": [{"n": 1}, {"type": "case"}]}, True),
        ({"$and": [{"n": 5}, {"type": "x"}]}, False),
        ({"$nor": [{"n": 1}, {"type": "x"}]}, True),
        ({"$not": {"n": 5}}, False),
        ({"n": {"$not": {"$gt": 10}}}, True),
        ({"_id": {"$gt": "case-0"}}, True),
        ({}, True),
        # CouchDB normalizes $not/$nor onto the fields, so a missing field fails them too
        ({"$not": {"missing": 1}}, False),
        ({"$nor": [{"missing": 1}]}, False),
        ({"$not": {"missing": {"$exists": True}}}, True),
        ({"n": {"$type": "int"}}, False),  # any string is accepted, only JSON types match
        ({"tags": {"$all": [["a", "b"]]}}, True),
        ({"n": {"$all": [5]}}, False),
        ({"f": {"$mod": [2, 0]}}, False),  # floats never match $mod
        ({"name.first": {"$exists": False}}, False),  # a path through a string is a bad path
        ({"nested.nope": {"$exists": False}}, True),
        ({"tags.5": {"$exists": False}}, False),
        ({"nested": {"list": {"$elemMatch": {"k": 1}}}}, True),
    ],
)
def test_match(selector: dict[str, Any], expected: bool) -> None:
    assert match(selector, DOC) is expected


@pytest.mark.parametrize(
    "selector",
    [{"n": {"$bogus": 1}}, {"$or": {"n": 1}}, {"n": {"$in": 1}}, {"n": {"$regex": "("}},
     {"n": {"$mod": [0, 1]}}, {"$gt": 1}, {"n": {"$size": -1}}, {"n": {"$exists": 1}},
     {"n": {"$where": "x"}}],
)
def test_bad_selectors(selector: dict[str, Any]) -> None:
    with pytest.raises(BadRequest):
        match(selector, DOC)


def test_exact_members_and_erlang_rem() -> None:
    assert match({"v": {"$all": [1]}}, {"v": [1.0]}) is False  # lists:member is =:=
    assert match({"v": {"$in": [1]}}, {"v": [1.0]}) is True  # $in collates
    assert match({"v": {"$mod": [3, -2]}}, {"v": -5}) is True  # -5 rem 3 == -2


def test_collation_order() -> None:
    ordered = [None, False, True, -1, 0, 2.5, "", "A", "a", [], [1], [1, 2], {}, {"a": 1}]
    for i, a in enumerate(ordered):
        for j, b in enumerate(ordered):
            assert collate(a, b) == (i > j) - (i < j), (a, b)
