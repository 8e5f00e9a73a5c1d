"""Checking a node's open document before it is sealed: the schemas' refusals as the
clerk reads them (each field by its form label, Chinese then English; CONVENTIONS
"Errors"), and the inputs of a step decoded (a drawn signature). Used by
:mod:`node.casework` and the pages."""

from __future__ import annotations

import base64
from collections.abc import Callable
from typing import Any

from node.errors import InvalidInput


def invalid_from(exc: Exception) -> InvalidInput:
    """schemas' ValidationFailed → InvalidInput with ``fields``: path → the rule, Chinese
    then English (CONVENTIONS "Errors"); the reason names each field by its form label."""
    problems = getattr(exc, "problems", None) or []
    fields: dict[str, str] = {}
    for p in problems:
        key = p.field.removeprefix("private.")
        both = [m for m in (p.message_zh, p.message_en) if m]
        fields.setdefault(key, " / ".join(dict.fromkeys(both)))
    return refusal(fields) if fields else InvalidInput(str(exc))


def refusal(fields: dict[str, str]) -> InvalidInput:
    """Refused input: ``fields`` (name → rule) shown next to each input, and a reason that
    names each field by its form label, as the clerk reads it."""
    from node.labels import field_label

    return InvalidInput("；".join(f"{field_label(k.split('.')[0])}：{v}" for k, v in fields.items()),
                        fields=fields)


#: rules of schemas.rules that judge one input: the refusal is shown next to it
RULE_FIELDS = {"resumption_deadline_future": "resumption_deadline",
               "cause_removed_on": "cause_removed_on",
               "reason_a_needs_missing_materials": "reason",
               "reason_a_period_or_reminder": "reason",
               "handover_adjacent_tier": "to_institution",
               "reply_without_pending_consultation": "consultation",
               "problem_exists": "problem_id", "problem_not_open": "problem_id",
               "time_limit_days_over_statutory": "time_limit_days",
               "new_time_limit_days_over_statutory": "new_time_limit_days",
               "correction_not_open": "request", "complaint_not_open": "complaint",
               "period_end_before_signing": "period_end", "item_not_proxy": "service_item",
               "item_not_assist": "service_item", "item_inactive": "service_item",
               "resumption_deadline_over_period": "resumption_deadline"}


def status_words(message: str, name_of: Callable[[str], str] | None = None) -> str:
    """A rule's Chinese message with the case status code (“handling”) as its label, and
    an institution's code as its name when ``name_of`` knows it (a laptop offline when the
    town sent a case down read "只有当前承办机构（410602101）可以办理此步骤")."""
    import re

    from schemas.state import STATUS_LABELS

    message = re.sub(r"“([a-z_]+)”", lambda m: "“" + (STATUS_LABELS.get(m.group(1)) or (
        m.group(1),))[0] + "”", message)
    if name_of is not None:
        message = re.sub(r"（(\d{6}|\d{9}|\d{12})）", lambda m: "（" + name_of(m.group(1)) + "）",
                         message)
    return message


def validate_draft(doc: dict[str, Any]) -> None:
    """The schemas' check of an open document; refusals as :class:`InvalidInput`."""
    from schemas.registry import validate_open

    try:
        validate_open(doc)
    except Exception as exc:
        if hasattr(exc, "problems"):
            raise invalid_from(exc) from exc
        raise


def schema_fields(event_type: str) -> set[str]:
    from schemas.event_types import EVENT_SCHEMAS

    return set(EVENT_SCHEMAS[event_type]().fields)


def decode_data_url(value: str) -> bytes | None:
    """The PNG bytes of a canvas ``data:image/png;base64,...`` value."""
    if not value or not value.startswith("data:image/png;base64,"):
        return None
    try:
        data = base64.b64decode(value.split(",", 1)[1], validate=True)
    except ValueError:
        return None
    return data if data.startswith(b"\x89PNG") else None
