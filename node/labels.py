"""Template filters that turn codes into words (status, fields, vocabularies, institutions,
service items), in the page's language. Codes stay in documents; people read words."""

from __future__ import annotations

from typing import Any

from flask import Flask


def _en() -> bool:
    from flask_babel import get_locale

    try:
        return str(get_locale() or "").startswith("en")
    except RuntimeError:
        return False


def status_label(code: Any) -> str:
    from schemas.state import STATUS_LABELS

    pair = STATUS_LABELS.get(str(code))
    return pair[int(_en())] if pair else str(code or "")


def field_label(name: Any) -> str:
    from node.steps import LABELS

    label = LABELS.get(str(name))
    return str(label) if label is not None else str(name)


def value_label(value: Any) -> str:
    """A code from any vocabulary as its label; lists joined; other values as they are."""
    from schemas import vocab

    if isinstance(value, list):
        return "、".join(value_label(v) for v in value)
    if isinstance(value, dict):
        return str(value.get("name") or value)
    if isinstance(value, bool):
        return ("yes" if value else "no") if _en() else ("是" if value else "否")
    text = str(value)
    for name in ("ZONES", "SUSPENSION_REASONS", "TERMINATION_REASONS", "DECISIONS", "CHANNELS",
                 "MODES", "HANDOVER_REASONS", "RATING_LEVELS", "WORK_LOG_KINDS",
                 "PROBLEM_CATEGORIES", "PROBLEM_STATUSES", "PROBLEM_RESULTS", "SUBMIT_CHANNELS",
                 "COMPLAINT_CATEGORIES", "COMPLAINT_RESULTS", "REFUSAL_REASONS", "TIERS",
                 "SERVICE_TYPES"):
        table = getattr(vocab, name, {})
        if text in table and len(text) > 1:
            return str(table[text][int(_en())])
    return text


def item_name(code: Any) -> str:
    from node.views.common import item_by_code

    item = item_by_code(str(code)) if code else None
    return str(item.get("name")) if item else str(code or "")


def institution_name(code: Any) -> str:
    from node.views.common import node

    return node().name_of(str(code or ""))


def display_rows(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Case-list rows with their words filled in, in one pass (the locale, the catalog and
    institution names looked up once per page, not once per cell)."""
    from flask_babel import gettext as _

    from node.views.common import catalog, node
    from schemas.state import STATUS_LABELS

    lang = int(_en())
    items = {i.get("code"): i.get("name") for i in catalog()}
    types: dict[str, str] = {"assist": _("帮办"), "proxy": _("代办")}
    n = node()
    out = []
    for r in rows:
        status = STATUS_LABELS.get(str(r.get("status")))
        out.append({**r, "item_label": items.get(r.get("service_item")) or r.get("service_item") or "",
                    "status_label": status[lang] if status else str(r.get("status") or ""),
                    "type_label": types.get(str(r.get("service_type")), r.get("service_type") or ""),
                    "institution_label": n.name_of(str(r.get("institution") or ""))})
    return out


def install(app: Flask) -> None:
    app.jinja_env.globals["display_rows"] = display_rows
    for fn in (status_label, field_label, value_label, item_name, institution_name):
        app.jinja_env.filters[fn.__name__] = fn
