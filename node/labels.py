"""Template filters that turn codes into words (status, fields, vocabularies, institutions,
service items), in the page's language. Codes stay in documents; people read words."""

from __future__ import annotations

import datetime as dt
import functools
import re
from typing import Any

from flask import Flask

from schemas.state import local_today

#: Beijing time (Asia/Shanghai has had no daylight saving since 1991: a fixed +08:00 is exact
#: and needs no tz database on the clerk's laptop). Documents keep UTC; pages show local time.
BEIJING = dt.timezone(dt.timedelta(hours=8), "CST")

#: codes the schemas validate inline (``one_of([...])``) without a ``schemas.vocab`` table
LOCAL_TABLES: dict[str, dict[str, tuple[str, str]]] = {
    "ENTRY_CHANNELS": {"online": ("线上", "online"), "offline": ("线下", "in person")},
    # 11.2.1: where the applicant rated the service (the government 好差评 system first)
    "RATING_CHANNELS": {"haochaping": ("好差评系统", "good/bad review system"),
                        "window": ("窗口", "window"), "phone": ("电话", "phone"),
                        "online": ("网上", "online")},
}


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


def notice_reason(code: Any) -> str:
    """A coordination notice's reason (schemas/notices.py) in the page's language."""
    from schemas.notices import NOTICE_REASONS

    pair = NOTICE_REASONS.get(str(code))
    return pair[int(_en())] if pair else str(code or "")


def deadline_label(code: Any) -> str:
    """A board row's deadline (schemas/boards.py ``DEADLINES``) in the page's language."""
    from schemas.boards import DEADLINES

    pair = DEADLINES.get(str(code))
    return pair[int(_en())] if pair else str(code or "")


def field_label(name: Any) -> str:
    from node.steps import LABELS

    label = LABELS.get(str(name))
    return str(label) if label is not None else str(name)


def record_label(name: Any) -> str:
    """A field's label in a case's record: the form's label without its hint to the
    clerk (交还材料（每行一项）: … read as an instruction, not as what was recorded)."""
    label = field_label(name)
    for hint in ("（每行一项）", " (one per line)"):  # the zh label, and its English one
        label = label.replace(hint, "")
    return label


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
                 "COMPLAINT_CATEGORIES", "COMPLAINT_CHANNELS", "COMPLAINT_RESULTS", "REFUSAL_REASONS",
                 "TIERS",
                 "SERVICE_TYPES"):
        table = getattr(vocab, name, {})
        if text in table and len(text) > 1:
            return str(table[text][int(_en())])
    return text


def local_time(value: Any, seconds: bool = False) -> str:
    """An ISO timestamp (UTC in documents) as Beijing time, ``2026-11-26 12:48`` (with
    ``seconds``, ``2026-11-26 12:48:47``); a date or anything else unparseable stays as it is."""
    text = str(value or "")
    if len(text) < 16 or "T" not in text:
        return text
    try:
        when = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return text
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.UTC)
    return when.astimezone(BEIJING).strftime("%Y-%m-%d %H:%M:%S" if seconds else "%Y-%m-%d %H:%M")


_CJK = "\u3400-\u9fff"

#: "中文 / English", the house's bilingual message (docs/CONVENTIONS.md, "Errors"): one
#: Chinese part, then one English part with no Chinese in it
_BILINGUAL = re.compile(f"(?P<zh>.*[{_CJK}][^{_CJK}]*?) / (?P<en>[A-Za-z`'\"(-][^{_CJK}]*)", re.S)


def one_language(text: Any) -> str:
    """A bilingual message as the page's language reads it: the clerk's page showed the
    English half of every refusal beside the Chinese one ("页面不存在…… / page not found").
    A field named before the Chinese (``reason: 不是…… / not a notice reason``) stays in
    either. Text that is not one clean pair is shown whole: nothing it says is dropped."""
    said = str(text or "")
    m = _BILINGUAL.fullmatch(said)
    if m is None:
        return said
    field = re.match(r"([A-Za-z_-][\w.\[\]-]*): ", m["zh"])
    if not _en():  # the field by its label on the form, where it has one
        label = field_label(field[1]) if field else ""
        return m["zh"] if not field or label == field[1] else f"{label}：{m['zh'][field.end():]}"
    return m["en"] if field is None or m["en"].startswith(field[0]) else field[0] + m["en"]


def vocab_table(choices: list[str]) -> dict[str, Any] | None:
    """The code list (``schemas.vocab`` first, then :data:`LOCAL_TABLES`) holding all these
    codes, or None."""
    from schemas import vocab

    tables = [getattr(vocab, n) for n in dir(vocab) if n.isupper()]
    for table in [*tables, *LOCAL_TABLES.values()]:
        if isinstance(table, dict) and choices and set(choices) <= set(table):
            return table
    return None


@functools.cache
def _field_tables() -> dict[tuple[str, str], dict[str, Any]]:
    """(event type, field) -> the code list its ``OneOf`` draws from, read from the schemas
    (cleartext and private parts, lists of codes too)."""
    from marshmallow import fields as mf
    from marshmallow import validate as mv

    from schemas.event_types import EVENT_SCHEMAS

    def one_of(f: Any) -> list[str] | None:
        if isinstance(f, mf.List):
            f = f.inner
        v = next((v for v in getattr(f, "validators", []) if isinstance(v, mv.OneOf)), None)
        return [str(c) for c in v.choices] if v is not None else None

    out: dict[tuple[str, str], dict[str, Any]] = {}
    for event_type, cls in EVENT_SCHEMAS.items():
        parts = [cls().fields]
        private = getattr(cls, "PRIVATE", None)
        if private is not None:
            parts.append(private().fields)
        for flds in parts:
            for name, f in flds.items():
                choices = one_of(f)
                table = vocab_table(choices) if choices else None
                if table is not None:
                    out[(event_type, name)] = table
    return out


def _coded(table: dict[str, Any], code: str) -> str:
    pair = table.get(code)
    if pair is None:
        return code
    label = str(pair[int(_en())] if isinstance(pair, tuple) else pair)
    if len(code) != 1:
        return label
    # 10.2.5 reasons a)–d): “c）” in Chinese, as form D prints them
    return f"{code}) {label}" if _en() else f"{code}）{label}"


def event_value(value: Any, event_type: Any, name: Any, item: Any = None) -> str:
    """One field of a recorded event as people read it: service items and institutions by
    name, codes by their label in the page's language, the rest as :func:`value_label`.
    ``item``: the case's service item, whose materials a step names by code."""
    if name == "service_item":
        return item_name(value)
    if name == "materials" and isinstance(value, list):
        # a material_received step stores the item's material codes (M03); the record read
        # "材料: M03" where the clerk had ticked 银行账户信息 (the notification's words). A
        # one-time notification (10.1.4) stores each material with its name and how to
        # obtain it: the record printed those as a Python dict.
        named = {str(m.get("code")): str(m.get("name")) for m in (item or {}).get("materials")
                 or ()}
        return "、".join(_material(v, named) for v in value)
    if name in ("to_institution", "from_institution", "holder"):
        return institution_name(value)
    if name == "fields_read" and isinstance(value, list):  # field names, not vocabulary codes
        return "、".join(dict.fromkeys(_read_label(str(v)) for v in value))
    if name in ("tier", "from_tier", "to_tier"):
        from schemas import vocab

        return _coded(vocab.TIERS, str(value))
    table = _field_tables().get((str(event_type), str(name)))
    if table is not None:
        if isinstance(value, list):
            return "、".join(_coded(table, str(v)) for v in value)
        return _coded(table, str(value))
    if isinstance(value, str) and len(value) >= 16 and value[4:5] == "-" and "T" in value:
        return local_time(value)
    return value_label(value)


def _read_label(name: str) -> str:
    """What an access event (7.2.2.2) names as read: a field by its label, a printed form
    (``form:A``, node.views.forms) and the drawn signature (``signature.png``) by the names
    the case page prints them under; the record read "查阅字段：signature.png" and
    "form:A" to the clerk."""
    from flask_babel import gettext as _

    from node.steps import FORM_TITLES

    if name.startswith("form:") and name[5:] in FORM_TITLES:
        title = FORM_TITLES[name[5:]]
        return f"{_('打印')} {title}" if _en() else f"{_('打印')}{title}"
    if name == "signature.png":
        return field_label("applicant_signature")
    return field_label(name)


def _material(value: Any, named: dict[str, str]) -> str:
    """One material of a step: a code named from the service item, or a notification's
    ``{code, name, how_to_obtain}`` as its name and, in brackets, how to obtain it."""
    if isinstance(value, dict):
        label = str(value.get("name") or named.get(str(value.get("code")), value.get("code")))
        how = str(value.get("how_to_obtain") or "")
        return f"{label}（{how}）" if how else label
    return named.get(str(value), str(value))


def case_deadlines(state: Any) -> list[tuple[str, str, str | bool]]:
    """The open deadlines of a folded case as ``(label, date, passed)`` for its page: the
    reply to a consultation (10.1.1.3), the materials (10.1.4), the promised time limit
    (10.1.3), the resumption deadline (10.2.5); nearest first. ``passed`` is False, or
    ``"overdue"`` for the time limit (已超期, the hub's 超期: schemas.overdue), or
    ``"passed"`` for another deadline (past, on the to-do list 待办到期, not 超期)."""
    from flask_babel import gettext as _

    from node.state import CLOSED
    from schemas.overdue import time_limit_holds
    from schemas.state import resume_by

    st = dict(state or {})
    if st.get("status") in CLOSED:
        return []
    rows = [(_("咨询答复期限（10.1.1.3）"), str(d)[:10], "passed")
            for d in (st.get("pending_replies") or {}).values()]
    # the last days of the periods (a weekend or holiday date runs to the next working
    # day: schemas.workdays.Workdays.last_day), as the rules and the hub go by them
    if st.get("materials_due"):
        rows.append((_("材料提交期限（10.1.4）"),
                     str(st.get("materials_by") or st["materials_due"])[:10], "passed"))
    if time_limit_holds(st.get("status"), st.get("due"),  # stopped while suspended
                        (st.get("suspension") or {}).get("since")):
        rows.append((_("办理时限（10.1.3）"), str(st["due"])[:10], "overdue"))
    if (st.get("suspension") or {}).get("resumption_deadline"):
        rows.append((_("续办期限（10.2.5）"), resume_by(st["suspension"]), "passed"))
    today = local_today().isoformat()  # Beijing's date, as the deadlines are
    return sorted(((label, d, kind if d < today else False) for label, d, kind in rows if d),
                  key=lambda r: r[1])


def due_estimated(state: Any) -> str:
    """What the case page says under deadlines counted in working days over a year whose
    holidays the State Council has not published (schemas.workdays: Monday–Friday assumed):
    the time limit (the fold's ``calendar_estimated``) and a consultation's reply deadline
    (10.1.1.3: one working day, so a question of 31 December was due on 1 January). The
    dates may move once the calendar reaches the hub. "" when none is estimated."""
    from flask_babel import gettext as _

    from node.state import CLOSED, workdays
    from node.views.common import node
    from schemas.overdue import time_limit_holds

    st = dict(state or {})
    if st.get("status") in CLOSED:
        return ""
    rows = []
    if "calendar_estimated" in (st.get("warnings") or []) and time_limit_holds(
            st.get("status"), st.get("due"), (st.get("suspension") or {}).get("since")):
        rows.append((_("办理时限"), str(st["due"])[:10]))
    replies = sorted(str(d)[:10] for d in (st.get("pending_replies") or {}).values())
    if replies:
        wd = workdays(node())
        rows += [(_("咨询答复期限"), d) for d in replies if not wd.known(d)]
    if not rows:
        return ""
    return _("%(dates)s 是预计日期：%(years)s 年的法定节假日安排尚未公布，暂按周一至周五计算，"
             "公布后日期可能变动。", dates="、".join(f"{label} {d}" for label, d in rows),
             years="、".join(sorted({d[:4] for _label, d in rows})))


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

    from node.views.common import item_names, node
    from schemas.overdue import time_limit_holds, time_limit_overdue
    from schemas.state import STATUS_LABELS

    lang = int(_en())
    today = local_today().isoformat()
    items = item_names()
    types: dict[str, str] = {"assist": _("帮办"), "proxy": _("代办")}
    n = node()
    out = []
    for r in rows:
        status = STATUS_LABELS.get(str(r.get("status")))
        # the time limit beside the nearest deadline: 已超期 is about the former only
        # (schemas.overdue), and a stopped clock's stale limit is not shown (10.2.5)
        st, limit, since = r.get("status"), r.get("limit_due"), r.get("suspended_since")
        out.append({**r, "time_limit": limit if time_limit_holds(st, limit, since) else "",
                    "time_limit_overdue": time_limit_overdue(st, limit, today, since), "item_label": items.get(str(r.get("service_item"))) or r.get("service_item") or "",
                    "status_label": status[lang] if status else str(r.get("status") or ""),
                    "type_label": types.get(str(r.get("service_type")), r.get("service_type") or ""),
                    "institution_label": _handed_to(n, r)})
    return out


def _handed_to(n: Any, row: dict[str, Any]) -> str:
    """The institution a case was registered at and, once handed to another one, "→ the
    holder" (4.3: the list says whose case it is now, as the home tiles count it)."""
    origin = str(row.get("institution") or "")
    holder = str(row.get("holder") or origin)
    return n.name_of(origin) if holder == origin else f"{n.name_of(origin)} → {n.name_of(holder)}"


def groups_label(codes: Any) -> str:
    """9.2's special groups as words (``other`` is 其他特殊群体 here, not any list's 其他)."""
    from schemas.vocab import SPECIAL_GROUPS

    return "、".join(_coded(SPECIAL_GROUPS, str(c)) for c in codes or ())


def install(app: Flask) -> None:
    app.jinja_env.globals["display_rows"] = display_rows
    app.jinja_env.globals["event_value"] = event_value
    for fn in (status_label, notice_reason, deadline_label, field_label, record_label,
               value_label, item_name, institution_name, local_time, case_deadlines,
               due_estimated, groups_label, one_language):
        app.jinja_env.filters[fn.__name__] = fn
