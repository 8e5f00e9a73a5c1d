"""The schemas package's one exception tree.

Every error carries CouchDB's triple (``status``, ``error``, ``reason``) like
:class:`sync.errors.SyncError`, so the hub can answer a refused ``_bulk_docs``
row with ``{"error": "forbidden", "reason": ...}`` unchanged.
marshmallow's ``ValidationError`` never leaves this package: it is translated
into :class:`ValidationFailed` at the boundary (``raise ... from exc``).
Messages name the field path and the rule in Chinese and English
(docs/CONVENTIONS.md, "Errors").
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any


class SchemaError(Exception):
    """Base of every error raised by :mod:`schemas`."""

    status: int = 400
    error: str = "bad_request"

    def __init__(self, reason: str = "", *, error: str | None = None, status: int | None = None):
        super().__init__(reason)
        self.reason = reason or self.__class__.__doc__ or self.error
        if error is not None:
            self.error = error
        if status is not None:
            self.status = status

    def as_json(self) -> dict[str, Any]:
        """The CouchDB error body ``{"error": ..., "reason": ...}``."""
        return {"error": self.error, "reason": self.reason}

    def __str__(self) -> str:
        return f"{self.status} {self.error}: {self.reason}"


@dataclass(frozen=True)
class Problem:
    """One violated rule: where (``field`` path, dotted, list indexes as numbers) and which."""

    field: str
    rule: str
    message_en: str
    message_zh: str

    def as_dict(self) -> dict[str, str]:
        return asdict(self)

    def __str__(self) -> str:
        return f"{self.field}: {self.message_en} ({self.rule}) / {self.message_zh}"


class ValidationFailed(SchemaError):
    """400: the document does not match its schema."""

    status = 400
    error = "bad_request"

    def __init__(self, problems: list[Problem], *, status: int | None = None,
                 error: str | None = None):
        self.problems = sorted(problems, key=lambda p: (p.field, p.rule))
        reason = "; ".join(str(p) for p in self.problems) or "invalid document"
        super().__init__(reason, status=status, error=error)

    def as_json(self) -> dict[str, Any]:
        body = super().as_json()
        body["problems"] = [p.as_dict() for p in self.problems]
        return body

    @classmethod
    def one(cls, field: str, rule: str, en: str, zh: str) -> ValidationFailed:
        return cls([Problem(field, rule, en, zh)])


class UnknownType(ValidationFailed):
    """400: the ``type`` (or ``event_type``) is not one Bangban knows."""


class IllegalTransition(SchemaError):
    """403: the event is not allowed in the case's current state (names the clause).

    403 ``forbidden`` because that is what CouchDB's ``validate_doc_update``
    answers for a refused write, and the hub refuses such rows the same way.
    """

    status = 403
    error = "forbidden"

    def __init__(self, clause: str, rule: str, en: str, zh: str, *, event_id: str | None = None):
        self.clause = clause
        self.rule = rule
        self.message_en = en
        self.message_zh = zh
        self.event_id = event_id
        super().__init__(f"{rule} (DB4106/T 101-2023 {clause}): {en} / {zh}")

    def as_json(self) -> dict[str, Any]:
        body = super().as_json()
        body.update(clause=self.clause, rule=self.rule, message_en=self.message_en,
                    message_zh=self.message_zh)
        return body


class CalendarError(SchemaError):
    """400: a date outside what the calendar can compute, or a malformed calendar."""


class ClockError(SchemaError):
    """400: a malformed hybrid logical clock, or one too far ahead of the wall clock."""
