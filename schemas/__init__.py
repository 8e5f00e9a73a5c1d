"""Bangban's document schemas and case rules: pure functions, no IO (design.md §2, §3, §6).

Public API (see schemas/README.md for the document shapes):

* documents: :func:`validate`, :func:`validate_open`, :func:`validate_sealed`,
  :func:`schema_for`, :func:`private_schema_for`, :func:`split`, :func:`join`,
  ``DOC_TYPES``, ``EVENT_TYPES`` (:mod:`schemas.registry`)
* builders: :func:`make_case`, :func:`make_event`, :func:`set_fields` (:mod:`schemas.build`)
* errors: :class:`SchemaError`, :class:`ValidationFailed`, :class:`UnknownType`,
  :class:`IllegalTransition`, :class:`CalendarError`, :class:`ClockError` (:mod:`schemas.errors`)
* ids and clocks: :mod:`schemas.ids`, :mod:`schemas.hlc`
* case rules: :mod:`schemas.fold` (``fold``, ``check_transition``, ``check_received``),
  :mod:`schemas.workdays`, :mod:`schemas.merge`
* sample data: :mod:`schemas.sample`
"""

from schemas.build import make_case, make_event, set_fields
from schemas.errors import (
    CalendarError,
    ClockError,
    IllegalTransition,
    Problem,
    SchemaError,
    UnknownType,
    ValidationFailed,
)
from schemas.fold import check_received, check_transition, fold
from schemas.merge import merge, resolve
from schemas.registry import (
    DOC_TYPES,
    EVENT_TYPES,
    join,
    private_schema_for,
    schema_for,
    split,
    validate,
    validate_open,
    validate_sealed,
)
from schemas.state import CaseState
from schemas.steps import next_steps
from schemas.workdays import Workdays

__all__ = [
    "DOC_TYPES", "EVENT_TYPES", "CalendarError", "ClockError", "IllegalTransition", "Problem",
    "SchemaError", "UnknownType", "ValidationFailed", "join", "make_case", "make_event",
    "private_schema_for", "schema_for", "set_fields", "split", "validate", "validate_open",
    "validate_sealed", "fold", "check_transition", "check_received", "merge", "resolve",
    "CaseState", "Workdays", "next_steps",
]
