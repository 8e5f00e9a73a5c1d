"""marshmallow's load, with less of its per-field machinery (the hub checks every write).

The hub validates every document a device pushes (hub/validate.py, check 4), and
marshmallow's generic ``Schema._deserialize`` spends most of that time on plumbing:
a closure, ``_call_and_store``, ``Field.deserialize``'s missing/None/pre-load steps
and a new ``validate.And`` for every field of every document (docs/benchmarks.md,
hub: 0.10 ms of the hub's 0.3 ms of checks per document). :class:`LeanSchema` keeps
the schemas as the one definition and marshmallow as the engine (``Schema.load``,
its field and schema validators, its errors) and only walks the fields itself, for
the one case the schemas use: one object, no ``partial``. For a value that is
present and not ``None`` it calls exactly what ``Field.deserialize`` would
(``_deserialize``, the field's validators, its ``post_load`` functions); a missing or
``None`` value, a field with ``pre_load`` functions or whose class overrides those
steps goes through ``Field.deserialize`` itself; anything else (``many``, ``partial``,
a non-mapping) through marshmallow's own ``_deserialize``. tests/schemas/test_lean.py
checks both give the same output and the same errors.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from marshmallow import EXCLUDE, INCLUDE, RAISE, Schema, ValidationError, fields, validate
from marshmallow.utils import missing, set_value

#: One field as walked: (key in the input, the field, key in the output, its validators
#: when the lean steps apply to it).
_Step = tuple[str, fields.Field, str, Callable[[Any], Any] | None]


def _plain(field: fields.Field) -> Callable[[Any], Any] | None:
    """The field's validators as one callable when ``Field.deserialize`` is just
    ``_validate_missing``, ``_deserialize``, the validators and ``post_load`` for this
    field (no override, no ``pre_load``), else ``None``. ``Field._validate`` builds the
    same ``And`` on every call; it holds nothing between calls. (``getattr``: members
    of marshmallow's internals that another 4.x release may not have: then the field
    takes ``Field.deserialize``, which is always right.)"""
    cls, base = type(field), fields.Field
    same = all(getattr(cls, name, None) is getattr(base, name, None) is not None
               for name in ("deserialize", "_validate", "_validate_all", "_validate_missing"))
    plain = same and not getattr(field, "pre_load", ()) and hasattr(field, "post_load")
    return validate.And(*field.validators) if plain else None


class LeanSchema(Schema):
    """A marshmallow schema whose single-object load walks its fields directly."""

    _steps: tuple[tuple[_Step, ...], frozenset[str]] | None = None

    def _plan(self) -> tuple[tuple[_Step, ...], frozenset[str]]:
        # load_fields is fixed once the schema instance exists (registry caches instances).
        if self._steps is None:
            steps = tuple(
                (f.data_key if f.data_key is not None else name, f, f.attribute or name,
                 _plain(f))
                for name, f in self.load_fields.items())
            self._steps = (steps, frozenset(s[0] for s in steps))
        return self._steps

    def _deserialize(self, data: Any, *, error_store: Any, many: bool = False,
                     partial: Any = None, unknown: Any = RAISE, index: Any = None) -> Any:
        if many or partial is not None or not isinstance(data, Mapping):
            return super()._deserialize(data, error_store=error_store, many=many,
                                        partial=partial, unknown=unknown, index=index)
        index = index if self.opts.index_errors else None
        steps, names = self._plan()
        out = self.dict_class()
        for name, field, key, check in steps:
            raw = data.get(name, missing)
            try:
                if check is None or raw is None:
                    value = field.deserialize(raw, name, data)
                elif raw is missing:  # Field.deserialize's first steps, for an absent member
                    if field.required:
                        raise field.make_error("required")
                    default = field.load_default
                    value = default() if callable(default) else default
                else:
                    value = field._deserialize(raw, name, data)
                    if field.validators:
                        check(value)
                    for func in field.post_load:
                        value = func(value)
            except ValidationError as error:
                error_store.store_error(error.messages, name, index=index)
                value = error.valid_data or missing
            if value is not missing:
                if "." in key:
                    set_value(out, key, value)
                else:
                    out[key] = value
        if unknown != EXCLUDE:
            for name in set(data) - names:
                if unknown == INCLUDE:
                    out[name] = data[name]
                elif unknown == RAISE:
                    error_store.store_error([self.error_messages["unknown"]], name, index)
        return out
