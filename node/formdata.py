"""Content of the printed forms (Appendices A–E, the one-time notification N, the refusal R) from a case.

The standard gives only the forms' titles; their fields follow what a Chinese
government form carries (standard.md, "Appendices A–E"): 编号, institution, applicant,
service item and department, type, mode, dates, time limit, staff, signatures, and each
form's own content.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from node.notice_rows import notice_terms, refusal_rows
from node.pdf import FormContent
from schemas.state import local_timestamp

TITLES = {
    "A": "帮办代办受理单",
    "B": "帮办代办办结（终止）单",
    "C": "代办服务委托书",
    "D": "代办服务中止单",
    "E": "代办服务续办委托书",
    "N": "一次性告知单",
    "R": "不予受理告知单",
}
EVENT_OF_FORM = {"A": ("acceptance",), "B": ("completion", "termination"),
                 "C": ("entrustment", "conversion"), "D": ("suspension",), "E": ("resumption",),
                 "N": ("notification",), "R": ("refusal",)}


def _label(table: Mapping[str, Any], code: Any) -> str:
    value = table.get(code) if code else None
    return value[0] if isinstance(value, tuple) else str(code or "")


def not_applied(state: Mapping[str, Any]) -> set[str]:
    """The clocks of the case's events the fold did not apply (design.md §3: a step two
    laptops recorded offline that clashes with another, kept and flagged for review, or
    reviewed since and kept as a record)."""
    return {str(r.get("event_id")) for key in ("reviews", "resolved_reviews")
            for r in state.get(key) or []}


def _last(events: list[dict[str, Any]], types: tuple[str, ...],
          state: Mapping[str, Any] | None = None) -> dict[str, Any] | None:
    """The last step of ``types`` that counts: one the fold of ``state`` did not apply is
    never the one a form prints. Two laptops accepting one case offline (3 and 5 days)
    printed the second's 5 days over the first's due date, which the case page and the hub
    count, and named its clerk as 经办人."""
    skip = not_applied(state or {}) | {  # a withdrawn completion (撤销办结) issues no form B
        str(w.get("completion")) for w in (state or {}).get("withdrawals") or []}
    found = [e for e in events if e.get("event_type") in types and str(e.get("hlc")) not in skip]
    return found[-1] if found else None


def _member(ev: dict[str, Any] | None, name: str) -> list[str]:
    from schemas.registry import member

    return list(member(ev, name) or []) if ev else []


def held_materials(case: Mapping[str, Any], events: list[dict[str, Any]]) -> list[str]:
    """What the station holds of the applicant's (10.2.6: handed back at the end): form C's
    已收材料 and the item's materials form A prints as 已收 (not listed as missing)."""
    names = [str(n) for e in events if e.get("event_type") == "entrustment"
             for n in _member(e, "materials_received")]
    missing = set((case.get("state") or {}).get("materials_missing") or [])
    names += [str(m.get("name", "")) for m in (case.get("item") or {}).get("materials", [])
              if m.get("code") not in missing]
    return list(dict.fromkeys(n for n in names if n))


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
    # the person who came for the applicant (a firm's 经办人, an old person's son): who
    # signed the paper must be on it, else the form reads as signed by the applicant
    # a firm's is its contact, who acts for it by its authority (9.1; the row said 代理人,
    # which reads as a relative's): 委托代理人, as the signature line says
    firm = h.get("applicant_kind") == "enterprise"
    agent = [("委托代理人" if firm else "代理人", str(p["agent_name"]))] \
        if p.get("agent_name") else []
    return [
        ("服务机构", institution_name or h.get("institution", "")),
        ("服务对象", applicant), *agent,
        ("证件类型及号码", id_text),
        ("联系电话", p.get("phone") or ""),
        # a firm has an address, not a residence (住址)
        ("地址" if h.get("applicant_kind") == "enterprise" else "住址", p.get("address") or ""),
        ("服务事项", f"{item.get('name', '')}（{now['service_item'] or ''}）" if item else (now["service_item"] or "")),
        ("审批部门", item.get("department", "")),
        ("服务类型", _label(vocab.SERVICE_TYPES, now["service_type"])),
        ("服务方式", _label(vocab.MODES, now["mode"])),
    ]


def _due(state: Mapping[str, Any]) -> str:
    """The date the time limit falls on (the fold's, suspensions excluded: 10.2.5), said
    as estimated over a year whose holidays are not published (schemas.workdays)."""
    due = str(state.get("due") or "")[:10]
    if due and "calendar_estimated" in (state.get("warnings") or []):
        return f"{due}（预计，节假日安排公布后可能调整）"
    return due


def _promised(ev: Mapping[str, Any] | None, state: Mapping[str, Any]) -> str:
    """The time limit in force at the step (form A's, or a resumption's new period); ""
    on a blank form and before any acceptance."""
    days = state.get("time_limit_days")
    return f"{days} 个工作日" if ev and days is not None else ""


def _last_day(typed: str, folded: Any, last: Any) -> str:
    """A period's end as the clerk typed it, with the day it really ends when that one fell
    on a weekend or holiday (10.2.5.2, 10.2.5.1 a: the fold's ``resume_by``/``materials_by``,
    《民法典》第二百零三条): the applicant reading only "2026-10-04" would think a Sunday the
    last day, while the case page and the hub count to the next working day. ``folded`` is the
    date the fold moved on; a reprint of an older form whose period is no longer the case's
    current one prints the typed date alone."""
    typed = str(typed or "")
    if typed and folded and str(folded)[:10] == typed[:10] and last and str(last)[:10] != typed[:10]:
        return f"{typed}（遇休息日、节假日顺延至 {str(last)[:10]}）"
    return typed


def build(letter: str, case: Mapping[str, Any], *, institution_name: str = "",
          signature_png: bytes | None = None, staff_name: str = "", contact: str = "",
          handled_by: str = "", step_state: Mapping[str, Any] | None = None) -> FormContent:
    """The FormContent of form ``letter`` (A–E, N the one-time notification, R the notice
    of refusal); ``staff_name``: the 经办人's name on the roster (the step's recorder:
    node.views.forms), "" when none lists it; ``contact``: the address and phone of the
    institution named on the form; ``handled_by``: the institution handling the case now
    (name and contact) when that is another one (a case handed up to the town, 4.3);
    ``step_state``: the fold as it stood after the step the form records (its due date)."""
    from schemas import vocab

    h, events = case["header"], case["events"]
    state = case.get("state") or {}
    at_step = step_state or state  # the fold once the form's step was recorded
    rows = _common(case, institution_name)
    if letter in "CDE":  # proxy forms (10.2.2, 10.2.5; C also converts, 10.1.4.3): a blank
        # one printed for an assisted case read 服务类型 帮办 on a 代办服务委托书
        rows = [(k, "代办" if k == "服务类型" else v) for k, v in rows]
    # 8.1.2, 4.2: the applicant takes the paper home and must know whom to call about it
    reach = [("机构地址及电话", contact)] if contact else []
    reach += [("现办理机构", handled_by)] if handled_by else []
    rows[1:1] = reach  # under 服务机构
    form = FormContent(title=TITLES[letter], number=h.get("case_no", ""),
                       subtitle="依据 DB4106/T 101—2023", signature_png=signature_png)
    ev = _last(events, EVENT_OF_FORM.get(letter, ()), state)
    pe = (ev or {}).get("private", {})
    # the step's date in Beijing time: the first ten characters of an ``at`` written with
    # another offset (a laptop or hub on UTC) were the day before from 00:00 to 08:00
    at = local_timestamp(str((ev or {}).get("at", "")))[:10]
    form.signed_on = at if signature_png else ""
    if letter == "A":
        days = (ev or {}).get("time_limit_days")
        # 10.1.3: the promise is a date the applicant can hold the station to, not only a
        # count of working days they cannot turn into one (weekends, 调休)
        rows += [("受理日期", at), ("办理区域", _label(vocab.ZONES, (ev or {}).get("zone"))),
                 ("承诺办理时限", f"{days} 个工作日" if days is not None else ""),
                 ("预计办结日期", _due(step_state or state) if ev else "")]
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
        # the promise of form A, and whether it was kept (the appendices' common fields:
        # the time limit; 11.2.1: what the applicant is asked to rate)
        on_time = (step_state or state).get("on_time")
        rows.append(("承诺办理时限", _promised(ev, step_state or state)))
        if kind != "termination":  # a terminated case was not completed, late or not
            kept = "" if not ev or on_time is None else "是" if on_time else "否"
            rows.append(("是否按时办结", kept))
        if not ev:  # a blank form B may be a termination: its reason has a line to fill
            rows.append(("终止原因", ""))
        if kind == "termination":
            reason = _label(vocab.TERMINATION_REASONS, (ev or {}).get("reason"))
            # the hub's 10.2.5.2 termination says its reason again, in both languages: the
            # paper read "超过续办期限，视为终止（10.2.5.2）：超过续办期限，视为终止（10.2.5.2）
            # / resumption deadline passed"; only what adds to the reason is printed
            said = str(pe.get("reasons") or "").strip()
            if said.split(" / ")[0].strip() == reason:
                said = ""
            rows.append(("终止原因", reason + (f"：{said}" if said else "")))
            # 10.1.5, 10.2.5.2: an ended case leaves the applicant asking "and now?"
            rows.append(("后续办理", AFTER_TERMINATION.get(str((ev or {}).get("reason")),
                                                      AFTER_TERMINATION["other"])))
        # sealed since schema_version 2, in clear in a version 1 written by an older node
        returned, documents = _member(ev, "materials_returned"), _member(ev, "documents")
        if kind == "termination" and not returned \
                and (ev or {}).get("reason") == "resumption_deadline_passed":
            # 10.2.6 "因其他原因终止的…移交全部资料": the hub writes 10.2.5.2 with no list
            # (it cannot read what the station holds); its form B said 交还材料 无 and
            # "没有需要交还的材料" while form C had the ID and 户口簿 received. Reading: what
            # the station holds is what form C and form A say it received.
            returned = held_materials(case, events)
        # a blank form B (printed before the case ended) is filled in by hand: its 无 said
        # nothing was to be handed back, above a note that everything listed was
        none = "无" if ev else ""
        rows += [("交还材料", "、".join(returned) or none),
                 ("审批结果文件", "、".join(documents) or none)]
        proxy = ((case.get("state") or {}).get("service_type") or h.get("service_type")) == "proxy"
        # what the applicant signs for is what is listed: "已全部移交" over two 无 (a
        # termination before anything was received) said papers were handed over that
        # never existed, and over a partial list that nothing was kept back
        clause = "10.2.6" if proxy else "10.1.5"
        handed = (f"以上所列材料及审批结果文件已移交服务对象（{clause}）。"
                  if returned or documents or not ev  # a blank form B is filled in by hand
                  else f"本次没有需要交还的材料或审批结果文件（{clause}）。")
        form.note = (handed +
                     # 11.2.1: the rating comes after completion; the applicant holding
                     # form B is the one who must know it is asked for, and where to object
                     "欢迎通过政务服务“好差评”对本次服务作出评价；对服务有意见的，可以向本机构"
                     "或其上级机构投诉（11.1、11.2.1）。")
    elif letter == "C":
        scope, received = pe.get("scope") or "", list(pe.get("materials_received") or [])
        if (ev or {}).get("event_type") == "conversion":
            # 10.1.4.3: a conversion records no scope nor materials of its own; its form C
            # printed both blank, a power of attorney signed with nothing written in it
            missing = set((case.get("state") or {}).get("materials_missing") or [])
            scope = "代为办理上述服务事项（由帮办转为代办，10.1.4.3）" + (
                f"。转为代办的原因：{pe['reason']}" if pe.get("reason") else "")
            received = [str(m.get("name", "")) for m in (case.get("item") or {}).get("materials", [])
                        if m.get("code") not in missing]
        rows += [("委托事项及权限", scope),
                 ("已收材料", "、".join(received) or ("无" if ev else "")),
                 ("委托期限至", (ev or {}).get("period_end", "")),
                 ("台账编号", (ev or {}).get("ledger_no", "")), ("委托日期", at)]
        form.note = entrusted_note(h, ev)
        form.signatures = ["委托人（签字）", "受托代办员（签字）"]
    elif letter == "D":
        code = (ev or {}).get("reason")
        # a blank form D printed "中止原因 ）": the a–d item's bracket with no item
        rows += [("承诺办理时限", _promised(ev, step_state or state)),
                 ("中止原因", f"{code}）{_label(vocab.SUSPENSION_REASONS, code)}" if code else ""),
                 ("说明", pe.get("details") or ""), ("中止日期", at),
                 # as at the suspension: a reprint after the resumption is the same paper
                 ("续办期限", _last_day((ev or {}).get("resumption_deadline", ""),
                                        (at_step.get("suspension") or {}).get("resumption_deadline"),
                                        (at_step.get("suspension") or {}).get("resume_by")))]
        # 10.2.5: the clock stops while suspended; the applicant must know both halves
        form.note = ("中止期间不计入办理时限。中止原因消除后，请在续办期限内签订续办委托书继续办理；"
                     "超过续办期限未续办的，视为终止代办服务，需重新委托（10.2.5.2）。")
    elif letter == "E":
        # 10.2.5: with no new period the time limit runs on, less the suspension (the fold):
        # the form said " 个工作日", a blank the applicant signed under
        days = (ev or {}).get("new_time_limit_days")
        rows += [("中止原因消除日期", (ev or {}).get("cause_removed_on", "")),
                 # a new period of 0 days (a 即办件) is one; a blank form E is left blank
                 ("新的办理时限", f"{days} 个工作日" if days is not None
                  else "原时限扣除中止期间" if ev else ""),
                 # the due as at this resumption (a later one moves it), and the line
                 # there on a blank form E too (it had none, nowhere to write the date)
                 ("续办日期", at), ("预计办结日期", _due(step_state or state) if ev else "")]
        form.note = "中止原因已消除，本人同意继续委托代办（10.2.5）。"
        form.signatures = ["委托人（签字）", "受托代办员（签字）"]
    elif letter == "N":
        item = case.get("item") or {}
        note_ev = _last(events, ("notification",), state)
        mats = (note_ev or {}).get("materials") or item.get("materials", [])
        form.items = [(f"{m.get('name', '')}" + ("（原件）" if m.get("original") else ""),
                       m.get("how_to_obtain", "")) for m in mats]
        form.items_title = "需要准备（补齐）的材料：" if note_ev else "所需材料清单："
        days = item.get("time_limit_days")
        # no item chosen yet (暂不确定): " 个工作日", a blank with its unit, read as a promise
        rows += [("法定办理时限", f"{days} 个工作日" if days is not None else "待确定服务事项后告知"),
                 *notice_terms(item),
                 ("材料提交期限", _last_day((note_ev or {}).get("materials_due") or "",
                                          at_step.get("materials_due"),
                                          at_step.get("materials_by")))]
        form.note = "以上为一次性告知的办理条件、办理流程、全部材料及获取方式；材料齐全后即可办理。"
        form.signatures = ["服务对象（签收）", "告知人（签字）"]
    elif letter == "R":
        rows += refusal_rows(ev, case, at)
        form.note = "对不予受理有异议的，可以向本机构或设立本机构的部门反映、投诉（11.1）。"
        form.signatures = ["服务对象（签收）", "告知人（签字）"]
    # every form names its 经办人 (8.1.2), by the roster's name alone: the paper printed
    # the events' id beside it ("蒋思远（staff-201-1）", an English word) or, with no roster
    # entry, instead of it (the device id "410621100201-A1"), and only form A had the row.
    # Unnamed, or on a blank form (the step not recorded: no one did it yet), the line is
    # left for the clerk to write in by hand; the id stays on the events.
    rows.append(("经办人", staff_name if ev or letter == "N" else ""))
    if ev is not None and ev.get("signer"):
        # who signed this step, as recorded with it (schemas.event_signed; 9.2): not the
        # agent the case names now, who may have come after (a firm's contact changed)
        rows.append(("签字人", signer_text(ev)))
        form.signatures = [signer_line(ev, form.signatures[0]), *form.signatures[1:]]
    elif (case.get("private") or {}).get("agent_name"):
        # the agent signs for the applicant: the line says so (the name is in the table)
        first = form.signatures[0]  # its （签字） or （签收）: form N is signed as received
        who = "委托代理人" if h.get("applicant_kind") == "enterprise" else "代理人"
        form.signatures = [who + first[first.find("（"):] if "（" in first else f"{who}（签字）",
                           *form.signatures[1:]]
    form.rows = rows
    return form


def entrusted_note(header: Mapping[str, Any], ev: Mapping[str, Any] | None) -> str:
    """Form C's declaration (10.2.2: the entrustment is voluntary) in the voice of whoever
    makes it: a firm (本单位), or the applicant with a guardian or agent signing for them."""
    from schemas import vocab

    who = "本单位" if header.get("applicant_kind") == "enterprise" else "本人"
    signer = (ev or {}).get("signer")
    by = f"（由{_label(vocab.SIGNERS, signer)}代为签字）" if signer in ("agent", "guardian") \
        and who == "本人" else ""
    return f"{who}自愿委托上述服务机构代为办理上述事项{by}（10.2.2）。"


def signer_text(ev: Mapping[str, Any]) -> str:
    """Who signed a step and in what capacity: 本人, or 李四（监护人）; 按指印 when a
    thumbprint stands for the signature (9.2: an old person who cannot write)."""
    from schemas import vocab

    capacity = _label(vocab.SIGNERS, ev.get("signer"))
    name = str((ev.get("private") or {}).get("signer_name") or "")
    text = f"{name}（{capacity}）" if name and ev.get("signer") != "self" else capacity
    return text + ("，按指印" if ev.get("thumbprint") else "")


def signer_line(ev: Mapping[str, Any], first: str) -> str:
    """The applicant's signature line of a form whose signer was recorded: the form's own
    (申请人、委托人…) when the applicant signed in person, else the signer's capacity;
    （按指印） for a thumbprint."""
    from schemas import vocab

    who = first[:first.find("（")] if "（" in first else first
    if ev.get("signer") != "self":
        who = _label(vocab.SIGNERS, ev.get("signer"))
    return who + ("（按指印）" if ev.get("thumbprint") else "（签字）")


#: 10.1.5 / 10.2.5.2: what the applicant can do after a termination, by its reason
AFTER_TERMINATION = {
    "applicant_withdrew": "已按您的要求终止。如需再办，可随时重新申请。",
    "not_approved": ("审批部门不予批准，理由以审批部门的决定书为准。对决定不服的，可以依法申请"
                     "行政复议或者提起行政诉讼；需要帮助的，请联系本机构。"),
    "not_eligible": "目前不符合办理条件。条件具备后，可以重新申请。",
    "resumption_deadline_passed": "超过续办期限未续办，代办服务已终止。如需继续办理，须重新委托（10.2.5.2）。",
    "other": "如需继续办理，请联系本机构重新申请。",
}
#: 8.1.2, 10.2.5.2: the 经办人 of a step no clerk took, the hub's own (its device wrote it):
#: a blank line read as a clerk who would not sign, a device id as nobody a citizen can ask
HUB_STEPS = {"termination": "平台自动终止", "complaint": "平台受理"}


def hub_step_text(ev: Mapping[str, Any]) -> str:
    """The 经办人 line of a step the hub recorded: who did it, in the applicant's words
    (``平台自动终止（续办期限已过，10.2.5.2）``), with the reason when the hub gave one."""
    kind = str(ev.get("event_type") or "")
    why = {"resumption_deadline_passed": "（续办期限已过，10.2.5.2）"}.get(str(ev.get("reason")), "")
    return HUB_STEPS.get(kind, "平台自动记录") + why

