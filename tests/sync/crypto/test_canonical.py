"""canonical_json's orjson path writes the very bytes of the stdlib encoder it replaced.

Every signature and every sealed envelope's associated data is made over these bytes, so
one byte of difference would refuse every document an older node signed (and every node
would refuse the hub's). The stdlib encoder (``_canonical_slow``) is the reference.
"""

from __future__ import annotations

import math
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sync.crypto import encoding
from sync.crypto.encoding import _canonical_slow, canonical_json

# Every string hypothesis makes: control characters, quotes, backslashes, U+2028, astral
# characters, lone surrogates (not UTF-8: both paths must refuse them alike).
_text = st.text(st.characters(codec=None), max_size=12)
_keys = st.one_of(_text, st.sampled_from(["_id", "type", "a", "A", "é", "\x00", "😀", "\uffff"]))
_ints = st.one_of(st.integers(-2**70, 2**70), st.sampled_from([-2**63, 2**63 - 1, 2**64 - 1,
                                                                 2**64, -2**63 - 1]))
_floats = st.one_of(st.floats(allow_nan=True, allow_infinity=True),
                    st.integers(-2**60, 2**60).map(float))
_scalars = st.one_of(st.none(), st.booleans(), _ints, _floats, _text)
_json = st.recursive(_scalars, lambda inner: st.one_of(
    st.lists(inner, max_size=5), st.dictionaries(_keys, inner, max_size=6),
    st.lists(inner, max_size=3).map(tuple)), max_leaves=30)


def _outcome(fn: Any, value: Any) -> Any:
    try:
        return fn(value)
    except (TypeError, ValueError) as exc:  # UnicodeEncodeError is a ValueError
        return type(exc)


@settings(max_examples=300)
@given(_json)
def test_same_bytes_as_the_stdlib_encoder(value: Any) -> None:
    assert _outcome(canonical_json, value) == _outcome(_canonical_slow, value)


# What devices send: objects of strings (any valid UTF-8), 64-bit integers, booleans, lists.
_utf8 = st.text(st.characters(codec="utf-8"), max_size=12)
_plain = st.recursive(
    st.one_of(st.booleans(), st.integers(-2**63, 2**64 - 1), _utf8),
    lambda inner: st.one_of(st.lists(inner, max_size=5),
                            st.dictionaries(st.one_of(_utf8, st.sampled_from(["_id", "a", "é", "😀"])),
                                            inner, max_size=4)), max_leaves=12)


@settings(max_examples=200)
@given(st.dictionaries(_utf8, _plain, min_size=1, max_size=8))
def test_documents_without_floats_or_nulls_get_orjsons_bytes(doc: dict[str, Any]) -> None:
    """The documents the hub verifies take the orjson path; its bytes are the stdlib's."""
    fast = encoding.orjson.dumps(doc, option=encoding._FAST)
    assert canonical_json(doc) == fast == _canonical_slow(doc)


@pytest.mark.parametrize("value, expected", [
    ({"a": 1.0, "b": [2.0, -0.0]}, b'{"a":1,"b":[2,0]}'),
    ({"x": 1e16}, b'{"x":10000000000000000}'),
    ({"x": [1e22, 5e-324, 1e-05]}, b'{"x":[10000000000000000000000,5e-324,1e-05]}'),
    (1.0, b"1"), (-2.5, b"-2.5"), ([0.5], b"[0.5]"),  # a float first, after no ":", "," or "["
    ({"x": 0.1}, b'{"x":0.1}'),
    ({"x": 2**64}, b'{"x":18446744073709551616}'),
    ({1: "a", "b": None}, b'{"1":"a","b":null}'),
    ({"t": ("a", 1)}, b'{"t":["a",1]}'),
    ({"s": "a:1.5"}, b'{"s":"a:1.5"}'),  # a float-like string: the slow path, same bytes
])
def test_values_the_orjson_path_leaves_to_the_stdlib(value: Any, expected: bytes) -> None:
    assert canonical_json(value) == expected == _canonical_slow(value)


@pytest.mark.parametrize("bad", [math.nan, math.inf, -math.inf])
def test_nan_and_infinity_are_refused_even_beside_a_null(bad: float) -> None:
    """orjson writes NaN as ``null``: a document with a NaN must not sign as one with null."""
    for value in ({"a": bad}, {"a": None, "b": [bad]}, [None, {"c": bad}]):
        with pytest.raises(ValueError):
            canonical_json(value)


def test_non_json_values_are_still_refused() -> None:
    import datetime as dt
    from collections import OrderedDict
    from types import MappingProxyType

    for bad in ({"d": dt.date(2026, 1, 1)}, {"o": object()}, {"s": {1, 2}}, {"b": b"x"}):
        with pytest.raises(TypeError):
            canonical_json(bad)
    # mappings orjson refuses are written as the stdlib writes them
    assert canonical_json(MappingProxyType({"b": 1, "a": 2})) == b'{"a":2,"b":1}'
    assert canonical_json(OrderedDict([("b", 1), ("a", 2)])) == b'{"a":2,"b":1}'
