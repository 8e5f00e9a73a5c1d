"""Content of the standard's forms (Appendices A–E) and the one-time notification, ready for
a renderer (the node prints them as PDF).

The captured standard ends before the forms' tables (standard.md, "Appendices A–E"); the
fields follow a Chinese government form: 编号, institution, applicant, item and department,
service type and mode, dates, time limit, staff, the applicant's signature and date, and
each form's own content. Every function returns::

    {"form": "A", "title_zh", "title_en", "clause", "number",
     "fields": [{"key", "label_zh", "label_en", "value"}],       # value: display text (zh)
     "lists": [{"key", "label_zh", "label_en", "items": [str]}],
     "signatures": [{"key", "label_zh", "label_en", "ref", "date"}]}

Inputs are the header (open form, or sealed with its opened ``private=`` passed separately),
the folded :class:`CaseState`, the event the form records (open form), and optionally the
service item, institution and staff name.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from schemas.registry import member
from schemas.state import LOCAL_TZ, CaseState
from schemas.vocab import (
    APPLICANT_KINDS,
    ID_TYPES,
    MODES,
    SERVICE_TYPES,
    SUSPENSION_REASONS,
    TERMINATION_REASONS,
    ZONES,
)

Doc = Mapping[str, Any]


def zh_date(value: str | None) -> str:
    if not value:
        return ""
    if len(value) > 10:  # a date-time: its Beijing date
        d = dt.datetime.fromisoformat(value).astimezone(LOCAL_TZ).date()
    else:
        d = dt.date.fromisoformat(value)
    return f"{d.year}年{d.month}月{d.day}日"


def _f(key: str, zh: str, en: str, value: Any) -> dict[str, Any]:
    return {"key": key, "label_zh": zh, "label_en": en, "value": "" if value is None else str(value)}


def _label(table: Mapping[str, tuple[str, str]], code: str | None) -> str:
    if code is None:
        return ""
    return table[code][0] if code in table else code


def _common(header: Doc, state: CaseState, item: Doc | None, institution: Doc | None,
            staff_name: str | None, private: Doc | None = None) -> list[dict[str, Any]]:
    p = private if private is not None else (header.get("private") or {})
    holder = institution["name"] if institution else (state.holder or header["institution"])
    applicant = p.get("enterprise_name") or p.get("applicant_name")
    return [
        _f("case_no", "编号", "No.", header["case_no"]),
        _f("institution", "服务机构", "Institution", holder),
        _f("applicant_kind", "服务对象类型", "Applicant type",
           _label(APPLICANT_KINDS, header.get("applicant_kind"))),
        _f("applicant", "服务对象（企业名称）", "Applicant", applicant),
        _f("agent", "经办人", "Agent", p.get("agent_name")),
        _f("id_type", "证件类型", "ID type", _label(ID_TYPES, p.get("id_type", "resident_id"))),
        _f("id_number", "证件号码", "ID number", p.get("id_number")),
        _f("phone", "联系电话", "Phone", p.get("phone")),
        _f("address", "联系地址", "Address", p.get("address")),
        _f("service_item", "办理事项", "Service item",
           item["name"] if item else (state.service_item or header.get("service_item"))),
        _f("department", "审批部门", "Approval department", item["department"] if item else ""),
        _f("service_type", "服务类型", "Service type",
           _label(SERVICE_TYPES, state.service_type or header.get("service_type"))),
        _f("mode", "服务方式", "Mode", _label(MODES, state.mode or header.get("mode"))),
        _f("staff", "帮办代办员", "Staff", staff_name or header.get("staff")),
    ]


def _form(code: str, zh: str, en: str, clause: str, header: Doc, fields: list[dict[str, Any]],
          lists: list[dict[str, Any]], signatures: list[dict[str, Any]]) -> dict[str, Any]:
    return {"form": code, "title_zh": zh, "title_en": en, "clause": clause,
            "number": header["case_no"], "fields": fields, "lists": lists,
            "signatures": signatures}


def _due(state: CaseState) -> str:
    """The date the time limit falls on, as forms A and E print it for the applicant. Counted
    over a year whose holidays are not published (schemas.workdays: Mon-Fri assumed, the
    fold's ``calendar_estimated``) it says so (design.md §6, "with a visible warning"): the
    case page did, and the paper the applicant takes home gave a date the Spring Festival
    may move as certain."""
    text = zh_date(state.due)
    if text and (state.due_estimated or "calendar_estimated" in state.warnings):
        text += "（该年节假日安排未公布，暂按周一至周五估算）"
    return text


def _sig(key: str, zh: str, en: str, ref: str | None, date: str | None) -> dict[str, Any]:
    return {"key": key, "label_zh": zh, "label_en": en, "ref": ref, "date": zh_date(date)}


def _list(key: str, zh: str, en: str, items: list[str]) -> dict[str, Any]:
    return {"key": key, "label_zh": zh, "label_en": en, "items": list(items)}


def form_a(state: CaseState, header: Doc, acceptance: Doc, *, item: Doc | None = None,
           institution: Doc | None = None, staff_name: str | None = None,
           private: Doc | None = None) -> dict[str, Any]:
    """Appendix A 《帮办代办受理单》 (10.1.3, 10.2.3)."""
    fields = _common(header, state, item, institution, staff_name, private) + [
        _f("accepted_on", "受理日期", "Accepted on", zh_date(acceptance["at"])),
        _f("zone", "办理区域", "Zone", _label(ZONES, acceptance["zone"])),
        _f("time_limit", "承诺办结时限（工作日）", "Time limit (working days)",
           acceptance["time_limit_days"]),
        _f("due", "预计办结日期", "Due", _due(state)),
    ]
    mats = [m["name"] for m in (item or {}).get("materials", [])]
    return _form("A", "帮办代办受理单", "Acceptance slip", "附录A；10.1.3、10.2.3", header, fields,
                 [_list("materials", "所需材料", "Required materials", mats)],
                 [_sig("applicant", "服务对象（签字）", "Applicant's signature", None, acceptance["at"]),
                  _sig("staff", "受理人（签字）", "Staff's signature", None, acceptance["at"])])


def form_b(state: CaseState, header: Doc, ending: Doc, *, item: Doc | None = None,
           institution: Doc | None = None, staff_name: str | None = None,
           private: Doc | None = None) -> dict[str, Any]:
    """Appendix B 《帮办代办办结（终止）单》 (10.1.5, 10.2.6): completion or termination."""
    done = ending["event_type"] == "completion"
    p = ending.get("private") or {}
    fields = _common(header, state, item, institution, staff_name, private) + [
        _f("outcome", "办理结果", "Outcome", "办结" if done else "终止"),
        _f("ended_on", "办结（终止）日期", "Date", zh_date(ending["at"])),
        _f("reason", "终止原因", "Reason for termination",
           "" if done else _label(TERMINATION_REASONS, ending.get("reason"))),
        _f("reason_text", "情况说明", "Details", p.get("reasons") or p.get("note")),
        _f("on_time", "是否按时办结", "On time",
           "" if state.on_time is None else ("是" if state.on_time else "否")),
    ]
    # sealed since schema_version 2, in clear in version 1 (schemas.event_versions)
    lists = [_list("materials_returned", "移交材料", "Materials handed over",
                   member(ending, "materials_returned") or []),
             _list("documents", "审批文件", "Approval documents", member(ending, "documents") or [])]
    return _form("B", "帮办代办办结（终止）单", "Completion (termination) slip",
                 "附录B；10.1.5、10.2.6、10.2.5.2", header, fields, lists,
                 [_sig("applicant", "服务对象（签字）", "Applicant's signature",
                       p.get("applicant_signature"), ending["at"]),
                  _sig("staff", "经办人（签字）", "Staff's signature", None, ending["at"])])


def form_c(state: CaseState, header: Doc, entrustment: Doc, *, item: Doc | None = None,
           institution: Doc | None = None, staff_name: str | None = None,
           private: Doc | None = None) -> dict[str, Any]:
    """Appendix C 《代办服务委托书》 (10.2.2; also on conversion, 10.1.4.3)."""
    p = entrustment.get("private") or {}
    fields = _common(header, state, item, institution, staff_name, private) + [
        _f("ledger_no", "代办台账编号", "Proxy ledger no.", entrustment.get("ledger_no")),
        _f("scope", "委托事项及权限", "Scope of entrustment",
           p.get("scope") or p.get("reason") or ""),
        _f("period", "委托期限", "Period",
           f"{zh_date(entrustment['at'])}至{zh_date(entrustment.get('period_end'))}"),
        _f("free", "服务费用", "Fee", "免费（4.1）"),
    ]
    return _form("C", "代办服务委托书", "Proxy service entrustment", "附录C；10.2.2、10.1.4.3",
                 header, fields,
                 [_list("materials_received", "已收材料", "Materials received",
                        p.get("materials_received", []))],
                 [_sig("applicant", "委托人（签字）", "Principal's signature",
                       p.get("applicant_signature"), entrustment["at"]),
                  _sig("staff", "代办员（签字）", "Proxy agent's signature", None,
                       entrustment["at"])])


def form_d(state: CaseState, header: Doc, suspension: Doc, *, item: Doc | None = None,
           institution: Doc | None = None, staff_name: str | None = None,
           private: Doc | None = None) -> dict[str, Any]:
    """Appendix D 《代办服务中止单》 (10.2.5.1 a–d, resumption deadline 10.2.5.2)."""
    p = suspension.get("private") or {}
    reason = suspension["reason"]
    fields = _common(header, state, item, institution, staff_name, private) + [
        _f("reason", "中止原因", "Reason", f"{reason}）{SUSPENSION_REASONS[reason][0]}"),
        _f("details", "情况说明", "Details", p.get("details")),
        _f("suspended_on", "中止日期", "Suspended on", zh_date(suspension["at"])),
        _f("resumption_deadline", "续办期限", "Resumption deadline",
           zh_date(suspension["resumption_deadline"])),
        _f("notice", "告知事项", "Notice",
           "逾期未办理续办手续的，视为终止代办服务，需重新委托（10.2.5.2）"),
    ]
    return _form("D", "代办服务中止单", "Suspension slip", "附录D；10.2.5.1、10.2.5.2", header,
                 fields, [],
                 [_sig("applicant", "服务对象（签字）", "Applicant's signature",
                       p.get("applicant_signature"), suspension["at"]),
                  _sig("staff", "代办员（签字）", "Proxy agent's signature", None,
                       suspension["at"])])


def form_e(state: CaseState, header: Doc, resumption: Doc, *, item: Doc | None = None,
           institution: Doc | None = None, staff_name: str | None = None,
           private: Doc | None = None) -> dict[str, Any]:
    """Appendix E 《代办服务续办委托书》 (10.2.5.1)."""
    p = resumption.get("private") or {}
    new_days = resumption.get("new_time_limit_days")
    fields = _common(header, state, item, institution, staff_name, private) + [
        _f("cause_removed_on", "中止原因消除日期", "Cause removed on",
           zh_date(resumption["cause_removed_on"])),
        _f("resumed_on", "续办日期", "Resumed on", zh_date(resumption["at"])),
        _f("new_period", "续办办理时限（工作日）", "New period (working days)",
           new_days if new_days is not None else "原时限扣除中止期间"),
        _f("due", "预计办结日期", "Due", _due(state)),
    ]
    return _form("E", "代办服务续办委托书", "Resumption entrustment", "附录E；10.2.5.1", header,
                 fields, [],
                 [_sig("applicant", "委托人（签字）", "Principal's signature",
                       p.get("applicant_signature"), resumption["at"]),
                  _sig("staff", "代办员（签字）", "Proxy agent's signature", None,
                       resumption["at"])])


def form_notification(state: CaseState, header: Doc, notification: Doc, *,
                      item: Doc | None = None, institution: Doc | None = None,
                      staff_name: str | None = None, private: Doc | None = None
                      ) -> dict[str, Any]:
    """一次性告知书 (3, 10.1.4): every missing material at once, each with how to obtain it."""
    fields = _common(header, state, item, institution, staff_name, private) + [
        _f("notified_on", "告知日期", "Date", zh_date(notification["at"])),
        _f("materials_due", "材料补齐期限", "Materials due",
           zh_date(notification.get("materials_due"))),
        _f("time_limit", "法定办理时限（工作日）", "Statutory time limit (working days)",
           item["time_limit_days"] if item else ""),
    ]
    items = [f"{m['name']}——获取方式：{m['how_to_obtain']}" for m in notification["materials"]]
    return _form("N", "一次性告知书", "One-time notification", "3；10.1.4", header, fields,
                 [_list("missing", "需补齐材料及获取方式", "Missing materials and how to obtain them",
                        items)],
                 [_sig("applicant", "服务对象（签收）", "Applicant's receipt", None,
                       notification["at"])])


FORMS = {"acceptance": form_a, "completion": form_b, "termination": form_b,
         "entrustment": form_c, "conversion": form_c, "suspension": form_d,
         "resumption": form_e, "notification": form_notification}
