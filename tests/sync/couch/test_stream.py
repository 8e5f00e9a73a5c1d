"""sync.couch._stream: a ``{"results": [...]}`` answer parsed as its bytes arrive."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sync.couch._stream import ResultsStream, Truncated

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=4), inner,
                                                                  max_size=3),
    max_leaves=8,
)
items = st.lists(st.dictionaries(st.text(max_size=6), json_values, max_size=4), max_size=6)


def encode(results: list, *, indent: int | None = None, extra: dict | None = None) -> bytes:
    body = {**(extra or {}), "results": results}
    return json.dumps(body, ensure_ascii=False, indent=indent).encode("utf-8")


def feed_in(parser: ResultsStream, data: bytes, cuts: list[int]) -> None:
    last = 0
    for cut in sorted(c % (len(data) + 1) for c in cuts):
        parser.feed(data[last:cut])
        last = max(last, cut)
    parser.feed(data[last:])


@settings(max_examples=200, deadline=None)
@given(items, st.lists(st.integers(min_value=0), max_size=8), st.sampled_from([None, 1]))
def test_any_split_gives_the_whole_answer(results: list, cuts: list[int], indent: int | None
                                          ) -> None:
    data = encode(results, indent=indent)
    parser = ResultsStream()
    feed_in(parser, data, cuts)
    assert parser.close() == json.loads(data)


@settings(max_examples=200, deadline=None)
@given(items, st.integers(min_value=0))
def test_a_prefix_salvages_exactly_the_complete_items(results: list, cut: int) -> None:
    data = encode(results)
    prefix = data[: cut % (len(data) + 1)]
    parser = ResultsStream()
    parser.feed(prefix)
    salvaged = parser.salvage()
    # Every salvaged item is one of the answer's, in order, and each whole one
    # whose closing brace arrived is among them.
    assert salvaged == results[: len(salvaged)]
    text = prefix.decode("utf-8", errors="ignore")
    for n in range(len(results)):
        head = encode(results[: n + 1])[:-2]  # up to the item's closing brace
        if text.startswith(head.decode("utf-8")):
            assert len(salvaged) >= n + 1


def test_other_top_level_keys_are_kept_not_mistaken() -> None:
    results = [{"id": "a", "docs": [{"ok": {"results": [1]}}]}]
    data = encode(results, extra={"note": {"results": ["decoy"]}, "n": 12})
    parser = ResultsStream()
    for i in range(len(data)):
        parser.feed(data[i:i + 1])  # byte by byte, through multi-byte characters too
    assert parser.close() == {"note": {"results": ["decoy"]}, "n": 12, "results": results}


def test_a_number_split_across_chunks_is_not_cut_short() -> None:
    parser = ResultsStream()
    parser.feed(b'{"n": 12')
    parser.feed(b'34, "results": []}')
    assert parser.close() == {"n": 1234, "results": []}


@pytest.mark.parametrize("data", [b'{"results": [{"a": 1}', b'{"results": [', b"",
                                  b'{"results": [{"a": 1}]'])
def test_a_truncated_answer_is_an_error_naming_what_arrived(data: bytes) -> None:
    parser = ResultsStream()
    parser.feed(data)
    with pytest.raises(Truncated):
        parser.close()


def test_garbage_is_an_error_not_a_hang() -> None:
    parser = ResultsStream()
    with pytest.raises(Truncated, match="expected"):
        parser.feed(b'{"results": [{"a": 1} {"b": 2}]}')
        parser.close()
    assert parser.salvage() == [{"a": 1}]


def test_utf8_split_inside_a_character() -> None:
    data = encode([{"name": "帮办代办"}])
    cut = data.index("办".encode()) + 1  # inside the three-byte character
    parser = ResultsStream()
    parser.feed(data[:cut])
    parser.feed(data[cut:])
    assert parser.close()["results"] == [{"name": "帮办代办"}]
