"""Content of the printed forms (Appendices A–E, the one-time notification) from a case.

The standard gives only the forms' titles; their fields follow what a Chinese
government form carries (standard.md, "Appendices A–E"): 编号, institution, applicant,
service item and department, type, mode, dates, time limit, staff, signatures, and each
form's own content.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from node.pdf import FormContent
from schemas.state import local_timestamp

TITLES = {
    "A": "帮办代办受理单",
    "B": "帮办代办办结（终止）单",
    "C": "代办服务委托书",
    "D": "代办服务中止单",
    "E": "代办服务续办委托书",
    "N": "一次性告知单",
}
EVENT_OF_FORM = {"A": ("acceptance",), "B": ("completion", "termination"),
                 "C": ("entrustment", "conversion"), "D": ("suspension",), "E": ("resumption",)}


def _label(table: Mapping[str, Any], code: Any) -> str:
    value = table.get(code) if code else None
    return value[0] if isinstance(value, tuple) else str(code or "")


def _last(events: list[dict[str, Any]], types: tuple[str, ...]) -> dict[str, Any] | None:
    found = [e for e in events if e.get("event_type") in types]
    return found[-1] if found else None


def _member(ev: dict[str, Any] | None, name: str) -> list[str]:
    from schemas.registry import member

    return list(member(ev, name) or []) if ev else []


def _common(case: Mapping[str, Any], institution_name: str) -> list[tuple[str, str]]:
    from schemas import vocab

    h, p, item = case["header"], case["private"], case.get("item") or {}
    # what the application or entrustment chose (10.1.2, 10.2.2: the fold's), else what
    # the consultation wrote in the header: an item left open at the consultation, or a
    # mode changed at the entrustment, printed blank or as the consultation had it
    now = {k: (case.get("state") or {}).get(k) or h.get(k)
           for k in ("service_item", "service_type", "mode")}
    applicant = p.get("enterprise_name") or p.get("applicant_name") or ""
    id_text = " ".join(x for x in (_label(vocab.ID_TYPES, p.get("id_type")), p.get("id_number") or "") if x)
    return [
        ("服务机构", institution_name or h.get("institution", "")),
        ("服务对象", applicant),
        ("证件类型及号码", id_text),
        ("联系电话", p.get("phone") or ""),
        ("住址", p.get("address") or ""),
        ("服务事项", f"{item.get('name', '')}（{now['service_item'] or ''}）" if item else (now["service_item"] or "")),
        ("审批部门", item.get("department", "")),
        ("服务类型", _label(vocab.SERVICE_TYPES, now["service_type"])),
        ("服务方式", _label(vocab.MODES, now["mode"])),
    ]


def build(letter: str, case: Mapping[str, Any], *, institution_name: str = "",
          signature_png: bytes | None = None, staff: str | None = None,
          staff_name: str = "") -> FormContent:
    """The FormContent of form ``letter`` (A–E, or N for the one-time notification);
    ``staff``: the 经办人's id (the step's recorder: node.views.forms), else the header's."""
    from schemas import vocab

    h, events = case["header"], case["events"]
    rows = _common(case, institution_name)
    staff = staff or h.get("staff") or ""
    if staff_name:  # the roster's name (8.1.2), its id beside it as recorded on the events
        staff = f"{staff_name}（{staff}）"
    form = FormContent(title=TITLES[letter], number=h.get("case_no", ""),
                       subtitle="依据 DB4106/T 101—2023", signature_png=signature_png)
    ev = _last(events, EVENT_OF_FORM.get(letter, ()))
    pe = (ev or {}).get("private", {})
    # the step's date in Beijing time: the first ten characters of an ``at`` written with
    # another offset (a laptop or hub on UTC) were the day before from 00:00 to 08:00
    at = local_timestamp(str((ev or {}).get("at", "")))[:10]
    form.signed_on = at if signature_png else ""
    if letter == "A":
        rows += [("受理日期", at), ("办理区域", _label(vocab.ZONES, (ev or {}).get("zone"))),
                 ("承诺办理时限", f"{(ev or {}).get('time_limit_days', '')} 个工作日"),
                 ("经办人", staff)]
        form.note = "本单为帮办代办受理凭证，请妥善保管。帮办代办服务免费（4.1）。"
        # 10.1.3 / 10.1.4: the item's checklist as it stands, what is still missing with
        # how to obtain it (the one-time notification's list, less what was received since)
        missing = set((case.get("state") or {}).get("materials_missing") or [])
        form.items = [(m.get("name", "") + ("（原件）" if m.get("original") else ""),
                       f"待补：{m.get('how_to_obtain', '')}" if m.get("code") in missing else "已收")
                      for m in (case.get("item") or {}).get("materials", [])]
        form.items_title, form.items_head = "材料清单：", ("材料", "收取情况")
    elif letter == "B":
        # 10.1.5: the outcome as recorded; printed before either, the form is left blank
        kind = (ev or {}).get("event_type")
        rows += [("办理结果", {"completion": "办结", "termination": "终止"}.get(str(kind), "")),
                 ("办结（终止）日期", at)]
        if kind == "termination":
            rows.append(("终止原因", _label(vocab.TERMINATION_REASONS, (ev or {}).get("reason"))
                         + (f"：{pe.get('reasons')}" if pe.get("reasons") else "")))
        # sealed since schema_version 2, in clear in a version 1 written by an older node
        rows += [("交还材料", "、".join(_member(ev, "materials_returned")) or "无"),
                 ("审批结果文件", "、".join(_member(ev, "documents")) or "无")]
        proxy = ((case.get("state") or {}).get("service_type") or h.get("service_type")) == "proxy"
        form.note = f"以上材料及审批结果文件已全部移交服务对象（{'10.2.6' if proxy else '10.1.5'}）。"
    elif letter == "C":
        rows += [("委托事项及权限", pe.get("scope") or ""),
                 ("已收材料", "、".join(pe.get("materials_received") or []) or "无"),
                 ("委托期限至", (ev or {}).get("period_end", "")),
                 ("台账编号", (ev or {}).get("ledger_no", "")), ("委托日期", at)]
        form.note = "本人自愿委托上述服务机构代为办理上述事项（10.2.2）。"
        form.signatures = ["委托人（签字）", "受托代办员（签字）"]
    elif letter == "D":
        rows += [("中止原因", f"{(ev or {}).get('reason', '')}）"
                  + _label(vocab.SUSPENSION_REASONS, (ev or {}).get("reason"))),
                 ("说明", pe.get("details") or ""), ("中止日期", at),
                 ("续办期限", (ev or {}).get("resumption_deadline", ""))]
        form.note = "超过续办期限未续办的，视为终止代办服务，需重新委托（10.2.5.2）。"
    elif letter == "E":
        # 10.2.5: with no new period the time limit runs on, less the suspension (the fold):
        # the form said " 个工作日", a blank the applicant signed under
        days = (ev or {}).get("new_time_limit_days")
        due = str((case.get("state") or {}).get("due") or "")[:10]
        rows += [("中止原因消除日期", (ev or {}).get("cause_removed_on", "")),
                 ("新的办理时限", f"{days} 个工作日" if days else "原时限扣除中止期间"),
                 ("续办日期", at)] + ([("预计办结日期", due)] if ev and due else [])
        form.note = "中止原因已消除，本人同意继续委托代办（10.2.5）。"
        form.signatures = ["委托人（签字）", "受托代办员（签字）"]
    elif letter == "N":
        item = case.get("item") or {}
        note_ev = _last(events, ("notification",))
        mats = (note_ev or {}).get("materials") or item.get("materials", [])
        form.items = [(f"{m.get('name', '')}" + ("（原件）" if m.get("original") else ""),
                       m.get("how_to_obtain", "")) for m in mats]
        form.items_title = "需要准备（补齐）的材料：" if note_ev else "所需材料清单："
        rows += [("法定办理时限", f"{item.get('time_limit_days', '')} 个工作日"),
                 ("材料提交期限", (note_ev or {}).get("materials_due") or "")]
        form.note = "以上为一次性告知的全部材料及获取方式；材料齐全后即可办理。"
        form.signatures = ["服务对象（签收）", "告知人（签字）"]
    form.rows = rows
    return form
