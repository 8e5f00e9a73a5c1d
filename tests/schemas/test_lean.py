"""schemas.lean walks the fields itself: the same loaded documents and the same errors as
marshmallow's own ``Schema._deserialize``, on every document type, valid or broken."""

from __future__ import annotations

import copy
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from marshmallow import Schema, ValidationError, fields
from marshmallow import validate as checks

from schemas import ValidationFailed, validate
from schemas.lean import LeanSchema
from tests.schemas.test_bad_input import KINDS, SAMPLES


@contextmanager
def _marshmallows_own() -> Iterator[None]:
    """Loads with marshmallow's own field walk (the reference), then the lean one again."""
    lean = LeanSchema._deserialize
    LeanSchema._deserialize = Schema._deserialize  # type: ignore[method-assign]
    try:
        yield
    finally:
        LeanSchema._deserialize = lean  # type: ignore[method-assign]


def _outcome(doc: Any) -> Any:
    try:
        return ("ok", validate(doc))
    except ValidationFailed as exc:  # the problems' order follows a set: compare as a set
        return ("refused", exc.status, sorted(
            (p.field, p.rule, p.message_en, p.message_zh) for p in exc.problems))
    except Exception as exc:  # an UnknownType, or anything else: the same kind either way
        return ("raised", type(exc).__name__, str(exc))


def _both(doc: Any) -> tuple[Any, Any]:
    lean = _outcome(copy.deepcopy(doc))
    with _marshmallows_own():
        own = _outcome(copy.deepcopy(doc))
    return lean, own


@pytest.mark.parametrize("kind", KINDS)
def test_every_sample_loads_the_same(kind: str) -> None:
    lean, own = _both(SAMPLES[kind])
    assert lean == own
    assert lean[0] == "ok"


_values = st.one_of(
    st.none(), st.booleans(), st.integers(-3, 10**6), st.floats(allow_nan=False),
    st.sampled_from(["", "x", "2026-03-02", "2026-03-02T09:00:00+08:00", "410602101201",
                     "410602101201-A1", "01a21ac4a8f8-0000-410602101201-A1", "window", "y" * 300]),
    st.lists(st.sampled_from(["a", 1, None, {}]), max_size=3),
    st.dictionaries(st.sampled_from(["code", "name", "x"]), st.sampled_from(["a", 1, None]),
                    max_size=2))


def _mutate(doc: Any, data: st.DataObject) -> Any:
    """One change somewhere in ``doc`` (in place): a member dropped, replaced, or added."""
    node = doc
    while True:
        if isinstance(node, dict) and node:
            key = data.draw(st.sampled_from(sorted(node)))
            child = node[key]
            if isinstance(child, dict | list) and child and data.draw(st.booleans()):
                node = child
                continue
            how = data.draw(st.sampled_from(["drop", "set", "add"]))
            if how == "drop":
                del node[key]
            elif how == "set":
                node[key] = data.draw(_values)
            else:
                node[data.draw(st.sampled_from(["extra", "note", "zz"]))] = data.draw(_values)
            return doc
        if isinstance(node, list) and node:
            i = data.draw(st.integers(0, len(node) - 1))
            if isinstance(node[i], dict | list) and node[i] and data.draw(st.booleans()):
                node = node[i]
                continue
            node[i] = data.draw(_values)
            return doc
        return doc


@settings(max_examples=400)
@given(st.sampled_from(KINDS), st.integers(1, 3), st.data())
def test_broken_documents_get_the_same_errors(kind: str, changes: int,
                                              data: st.DataObject) -> None:
    doc = copy.deepcopy(SAMPLES[kind])
    for _ in range(changes):
        _mutate(doc, data)
    lean, own = _both(doc)
    assert lean == own


def _not_bad(value: str) -> None:
    if value == "bad":
        raise ValidationError("bad::bad::坏")


class _Hooked(LeanSchema):
    """Field options the project's schemas do not use yet: still marshmallow's behaviour."""

    a = fields.String(data_key="A", validate=[_not_bad, checks.Length(max=5)])
    b = fields.Integer(load_default=lambda: 7, post_load=[lambda v: v * 2])
    c = fields.String(attribute="nested.c", pre_load=[lambda v: v.strip() if isinstance(v, str) else v],
                      allow_none=True)
    d = fields.Constant("k")


@pytest.mark.parametrize("data, unknown", [
    ({"A": "x", "b": 2, "c": " y "}, None), ({"A": "bad"}, None), ({"c": None, "zz": 1}, None),
    ({"A": 1, "b": "n"}, None), ({"A": "toolong"}, None), ({"A": "x", "b": None}, None), ({"A": "x", "q": 1}, "exclude"), ({"A": "x", "q": 1}, "include"),
    ([{"A": "x"}], None), ("not a mapping", None)])
def test_field_options_and_load_arguments(data: Any, unknown: str | None) -> None:
    def load(partial: Any = None) -> Any:
        many = isinstance(data, list)
        try:
            return _Hooked(many=many).load(data, unknown=unknown, partial=partial)
        except ValidationError as exc:
            return ("refused", exc.messages)

    lean, lean_partial = load(), load(partial=True)
    with _marshmallows_own():
        assert (load(), load(partial=True)) == (lean, lean_partial)
