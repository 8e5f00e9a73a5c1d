"""Which event may follow which state: the standard's process as transition rules.

:func:`check_transition` raises :class:`IllegalTransition` naming the clause; it is what a
node runs before recording an event and, through :func:`schemas.fold.check_received`, what
the hub runs on receipt. Every rule cites its clause of DB4106/T 101—2023.
:func:`check_time_limit` holds a promised time limit to the service item's statutory one
(it needs the 清单 entry, which the fold does not carry).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from schemas.errors import IllegalTransition, ValidationFailed
from schemas.ids import institution_tier
from schemas.state import (
    CONSULTATION,
    ENDED,
    OPEN,
    STATUS_LABELS,
    CaseState,
    event_date,
    resume_by,
)
from schemas.vocab import TIER_ORDER
from schemas.withdraw import check as _withdrawal

Event = Mapping[str, Any]

#: events that may open a case (10.1.1, 10.1.2, 10.2.1, 10.2.2)
FIRST_EVENTS = frozenset({"consultation", "application", "entrustment"})
#: process steps only the institution holding the case may record (4.3: one holder at a time)
HOLDER_ONLY = frozenset({"acceptance", "refusal", "notification", "submitted", "decision",
                         "correction_requested", "suspension", "resumption", "conversion",
                         "hand_up", "hand_down", "completion", "termination", "archived"})


def _deny(clause: str, rule: str, en: str, zh: str, ev: Event) -> IllegalTransition:
    return IllegalTransition(clause, rule, en, zh, event_id=ev.get("hlc"))


def _zh_status(status: str) -> str:
    """A status as the clerk's list shows it: the refusal said 状态为“handling”."""
    return STATUS_LABELS[status][0] if status in STATUS_LABELS else status


def _status_in(state: CaseState, ev: Event, allowed: set[str] | frozenset[str], clause: str,
               zh_step: str) -> None:
    if state.status not in allowed:
        raise _deny(clause, "status",
                    f"{ev['event_type']} is not allowed while the case is {state.status} "
                    f"(allowed: {', '.join(sorted(allowed))})",
                    f"办件当前状态为“{_zh_status(state.status)}”，不能{zh_step}", ev)


def _consultation(s: CaseState, ev: Event) -> None:
    _status_in(s, ev, {"new", *CONSULTATION, "applied", "handling", "suspended", "completed",
                       "terminated", "refused"}, "10.1.1", "登记咨询")


def _reply(s: CaseState, ev: Event) -> None:
    if ev["consultation"] not in s.pending_replies:
        raise _deny("10.1.1.3", "reply_without_pending_consultation",
                    "no consultation awaiting a reply has this id",
                    "没有待答复的该咨询记录", ev)


def _application(s: CaseState, ev: Event) -> None:
    _status_in(s, ev, {"new", *CONSULTATION, "refused"}, "10.1.2", "提出帮办申请")


def _entrustment(s: CaseState, ev: Event) -> None:
    if s.status == "terminated" and s.termination_reason == "resumption_deadline_passed":
        raise _deny("10.2.5.2", "entrust_again",
                    "past the resumption deadline the service is terminated; entrust again "
                    "as a new case", "超过续办期限已视为终止，须重新委托（新建办件）", ev)
    _status_in(s, ev, {"new", *CONSULTATION, "refused"}, "10.2.2", "签订代办委托")
    _period_from_signing(ev, "10.2.2")


def _period_from_signing(ev: Event, clause: str) -> None:
    """Form C's 委托期限 (10.2.2; the conversion's, 10.1.4.3) cannot end before it is signed:
    such an entrustment never authorised anything. The node refuses a date before today on
    its form; this holds it for every writer, at the hub too."""
    if ev["period_end"] < event_date(ev).isoformat():
        raise _deny(clause, "period_end_before_signing",
                    f"the entrustment period ends ({ev['period_end']}) before it is signed",
                    f"委托期限（{ev['period_end']}）早于委托书签订日期", ev)


def _acceptance(s: CaseState, ev: Event) -> None:
    _status_in(s, ev, {"applied"}, "10.1.3", "受理（须先申请或委托）")
    # 10.2.3 accepts the entrustment of 10.2.2: not one whose period has already run out
    # (the proxy would act for the applicant without authority, 3.2). The standard says
    # nothing of an entrustment that lapses later, during handling: the steps after
    # acceptance stay open (form E, 10.2.5.2, is the only renewal the process has, and
    # refusing the submission or the form B would strand the applicant's case), and the
    # fold warns ``entrustment_expired`` for supervision (11.1 a). Here the way on is
    # plain: refuse (10.2.3), then entrust again with a new period.
    if s.service_type == "proxy" and s.entrusted_until \
            and event_date(ev).isoformat() > s.entrusted_until:
        raise _deny("10.2.3", "entrustment_expired",
                    f"the entrustment ended on {s.entrusted_until}: refuse, then entrust "
                    "again with a new period",
                    f"委托期限已于 {s.entrusted_until} 届满，不能受理；请不予受理后重新签订委托书", ev)


def _refusal(s: CaseState, ev: Event) -> None:
    _status_in(s, ev, {"applied"}, "10.1.3", "不予受理（须先申请或委托）")


def _notification(s: CaseState, ev: Event) -> None:
    _status_in(s, ev, {*CONSULTATION, "applied", "handling", "suspended"}, "10.1.4.2",
               "一次性告知")


def _material(s: CaseState, ev: Event) -> None:
    _status_in(s, ev, {*CONSULTATION, "applied", "handling", "suspended"}, "10.1.4", "接收材料")


def _reminder(s: CaseState, ev: Event) -> None:
    _status_in(s, ev, {"handling", "suspended"}, "10.2.5.1", "催告")


def _correction_requested(s: CaseState, ev: Event) -> None:
    _status_in(s, ev, {"handling"}, "10.2.4", "登记补正通知")


def _correction_received(s: CaseState, ev: Event) -> None:
    _status_in(s, ev, {"handling", "suspended"}, "10.2.4", "接收补正材料")
    if ev["request"] not in s.corrections_open:
        raise _deny("10.2.4", "correction_not_open", "no open correction request has this id",
                    "没有该待补正通知", ev)


def _problem_opened(s: CaseState, ev: Event) -> None:
    _status_in(s, ev, OPEN | CONSULTATION, "10.2.4", "登记问题")
    if ev["problem_id"] in s.problems:
        raise _deny("10.2.4", "problem_exists", f"problem {ev['problem_id']} already recorded",
                    f"问题 {ev['problem_id']} 已登记", ev)


def _problem_changed(s: CaseState, ev: Event) -> None:
    if s.problems.get(ev["problem_id"]) not in ("open", "in_progress"):
        raise _deny("10.2.4", "problem_not_open", f"problem {ev['problem_id']} is not open",
                    f"问题 {ev['problem_id']} 不存在或已办结", ev)


def _submitted(s: CaseState, ev: Event) -> None:
    _status_in(s, ev, {"handling"}, "10.2.4", "报送审批部门")


def _decision(s: CaseState, ev: Event) -> None:
    _status_in(s, ev, {"handling"}, "10.2.4", "登记审批决定")
    if s.decisions >= s.submissions:
        raise _deny("10.2.4", "decision_without_submission",
                    "a department decision needs a submission to that department first",
                    "须先报送审批部门，才能登记审批决定", ev)


def _work_log(s: CaseState, ev: Event) -> None:
    if s.status == "archived" and s.rating is not None:
        return  # 11.2.1: the follow-up of a rating (see _check)
    if s.status in ("new", "archived"):
        raise _deny("7.3.2", "status", f"no work-log entry while the case is {s.status}",
                    f"办件状态为“{_zh_status(s.status)}”，不能记工作日志", ev)


def _suspension(s: CaseState, ev: Event) -> None:
    _status_in(s, ev, {"handling"}, "10.2.5.1", "中止")
    if s.service_type != "proxy":
        raise _deny("10.2.5.1", "suspension_proxy_only",
                    "suspension (form D) applies to proxy handling", "中止仅适用于代办服务", ev)
    if ev["resumption_deadline"] <= event_date(ev).isoformat():
        raise _deny("10.2.5.2", "resumption_deadline_future",
                    "the resumption deadline must be after the suspension date",
                    "续办期限必须晚于中止日期", ev)
    if ev["reason"] == "a":
        if not s.materials_missing and not s.corrections_open:
            raise _deny("10.2.5.1", "reason_a_needs_missing_materials",
                        "reason a) needs materials notified as missing (one-time notification, "
                        "reminder or correction) and still not submitted",
                        "原因 a）须有已告知但仍未提交的材料（一次性告知、催告或补正）", ev)
        # the period's last day (a weekend one runs to Monday); a state folded before
        # materials_by existed has the notified date only
        last = s.materials_by or s.materials_due
        period_over = last is not None and event_date(ev).isoformat() > last
        if s.materials_missing and not s.corrections_open and not period_over \
                and not s.reminders:
            raise _deny("10.2.5.1", "reason_a_period_or_reminder",
                        "reason a) applies after the set period has passed or after a reminder",
                        "原因 a）须在规定期限届满后或经催告后才能适用", ev)


def _resumption(s: CaseState, ev: Event) -> None:
    _status_in(s, ev, {"suspended"}, "10.2.5.1", "续办（须先中止）")
    assert s.suspension is not None
    day, last = event_date(ev).isoformat(), resume_by(s.suspension)
    # 10.2.5.2 "超过续办期限": the deadline day itself is still in time (and a deadline on a
    # weekend or holiday runs to the next working day: Workdays.last_day)
    if day > last:
        raise _deny("10.2.5.2", "resumption_deadline_passed",
                    f"past the resumption deadline {last} the service counts as terminated; "
                    "entrust again", f"已超过续办期限 {last}，视为终止，须重新委托", ev)
    if ev["cause_removed_on"] > day or ev["cause_removed_on"] < s.suspension["since"]:
        raise _deny("10.2.5.1", "cause_removed_on",
                    "the cause must be removed between the suspension and the resumption",
                    "中止原因消除日期须在中止日与续办日之间", ev)


def _conversion(s: CaseState, ev: Event) -> None:
    _status_in(s, ev, {"applied", "handling"}, "10.1.4.3", "帮办转代办")
    if s.service_type != "assist":
        raise _deny("10.1.4.3", "conversion_from_assist",
                    "only assisted handling converts to proxy handling", "只有帮办可以转为代办", ev)
    _period_from_signing(ev, "10.1.4.3")


def _handover(s: CaseState, ev: Event) -> None:
    up = ev["event_type"] == "hand_up"
    # an answered consultation too (4.3): the visitor may come back to the other institution
    _status_in(s, ev, OPEN | CONSULTATION, "4.3", "上报" if up else "下派")
    if ev["from_institution"] != s.holder:
        raise _deny("4.3", "handover_from_holder",
                    f"only the holder {s.holder} can hand the case over",
                    f"只有当前承办机构 {s.holder} 可以移交办件", ev)
    # the tiers are the codes' (schemas.ids): the event's own words for them are not trusted
    tiers = institution_tier(ev["from_institution"]), institution_tier(ev["to_institution"])
    fi, ti = (TIER_ORDER.index(t) for t in tiers)
    parent, child = (ev["to_institution"], ev["from_institution"]) if up else \
        (ev["from_institution"], ev["to_institution"])
    adjacent = (fi - ti == 1) if up else (ti - fi == 1)
    # 4.3: one step up or down the city–county–town–village line. Codes nest (village
    # 12 digits = town 9 + 3, town = county 6 + 3); a county's city shares its first 4
    # digits. A county is 6 digits like its city: by length alone a town of 浚县 (410621…)
    # could hand up to 鹤山区 (410602), another county, which then saw the case.
    city_parent = institution_tier(parent) == "city"
    nested = child[:4] == parent[:4] if city_parent else child.startswith(parent)
    if (ev["from_tier"], ev["to_tier"]) != tiers:
        raise _deny("4.3", "handover_tier",
                    f"from_tier/to_tier must be the tiers of the codes: {tiers[0]}, {tiers[1]}",
                    f"移交双方的层级须与机构代码一致：{tiers[0]}、{tiers[1]}", ev)
    if not adjacent or not nested:
        raise _deny("4.3", "handover_adjacent_tier",
                    f"{'hand_up' if up else 'hand_down'} goes one tier "
                    f"{'up to the parent' if up else 'down to a child'} institution",
                    "上报只能移交给直接上级机构，下派只能移交给直接下级机构", ev)


def _completion(s: CaseState, ev: Event) -> None:
    _status_in(s, ev, {"handling"}, "10.1.5", "办结（须在办理中，中止须先续办）")
    if s.service_type == "proxy" and not s.entrusted:
        raise _deny("10.2.2", "proxy_needs_entrustment", "proxy handling needs form C first",
                    "代办须先签订委托书", ev)


def _termination(s: CaseState, ev: Event) -> None:
    if ev["reason"] == "resumption_deadline_passed":
        _status_in(s, ev, {"suspended"}, "10.2.5.2", "因超过续办期限终止")
        assert s.suspension is not None
        last = resume_by(s.suspension)
        if event_date(ev).isoformat() <= last:
            raise _deny("10.2.5.2", "resumption_deadline_not_passed",
                        f"the resumption deadline {last} has not passed",
                        f"续办期限 {last} 尚未届满", ev)
        return
    _status_in(s, ev, {"applied", "handling", "suspended"}, "10.1.5", "终止")


def repeats_termination(s: CaseState, ev: Event) -> bool:
    """Is ``ev`` the hub's 10.2.5.2 termination of the suspension the case was already
    deemed terminated for? The same act written twice, not a concurrent step: a hub
    restored from a backup taken before it wrote the first one cannot know of it until a
    station pushes it back, and terminates the case again (docs/operations.md, Backups).
    Its base (``base_hlc``, the last event the hub folded) must include that suspension;
    one written over an earlier suspension since resumed judged a state that never held."""
    if ev.get("event_type") != "termination" or s.termination_reason != \
            "resumption_deadline_passed" or ev.get("reason") != s.termination_reason:
        return False
    ended = s.suspensions[-1] if s.suspensions else {}
    return ended.get("resumed") is None and str(ev.get("base_hlc") or "") >= \
        str(ended.get("event") or "\uffff")


def _archived(s: CaseState, ev: Event) -> None:
    _status_in(s, ev, ENDED, "10.1.6", "归档（须先办结、终止或不予受理）")


def _rating(s: CaseState, ev: Event) -> None:
    _status_in(s, ev, {"completed", "terminated", "archived"}, "11.2.1", "评价（须办结后）")
    if s.rating is not None:
        raise _deny("11.2.1", "rated_once", "the service has already been rated",
                    "该服务已评价", ev)


def _complaint(s: CaseState, ev: Event) -> None:
    # 11.1 c: supervision of inaction, misconduct and 吃拿卡要 while the case is handled, not only
    # afterwards: a complaint may be recorded in any state once the case is opened.
    if s.status == "new":
        raise _deny("11.1 c", "complaint_needs_case",
                    "a complaint is recorded on a case that has been opened (consultation, "
                    "application or entrustment)",
                    "投诉须针对已开始的办件（已有咨询、申请或委托）", ev)


def _complaint_handled(s: CaseState, ev: Event) -> None:
    if ev["complaint"] not in s.complaints_open:
        raise _deny("11.1", "complaint_not_open", "no open complaint has this id",
                    "没有该待处理投诉", ev)


def _access(s: CaseState, ev: Event) -> None:
    return None  # design.md §5: every decryption is logged, whatever the state


def _review_resolved(s: CaseState, ev: Event) -> None:
    open_ids = {r.event_id for r in s.reviews}
    unknown = sorted(set(ev["events"]) - open_ids)
    if unknown:
        raise _deny("4.2", "review_not_open", f"no open review for events {unknown}",
                    f"以下事件没有待复核的冲突：{unknown}", ev)


CHECKS: dict[str, Callable[[CaseState, Event], None]] = {
    "consultation": _consultation, "reply": _reply, "application": _application,
    "entrustment": _entrustment, "acceptance": _acceptance, "refusal": _refusal,
    "notification": _notification, "material_received": _material, "reminder": _reminder,
    "correction_requested": _correction_requested, "correction_received": _correction_received,
    "problem_opened": _problem_opened, "problem_updated": _problem_changed,
    "problem_resolved": _problem_changed, "submitted": _submitted, "decision": _decision,
    "work_log": _work_log, "suspension": _suspension, "resumption": _resumption,
    "conversion": _conversion, "hand_up": _handover, "hand_down": _handover,
    "completion": _completion, "completion_withdrawn": _withdrawal,
    "termination": _termination, "archived": _archived,
    "rating": _rating, "complaint": _complaint, "complaint_handled": _complaint_handled,
    "access": _access, "review_resolved": _review_resolved,
}


def check_transition(state: CaseState, event: Event) -> None:
    """Raise :class:`IllegalTransition` if ``event`` may not follow ``state``.

    ``event`` is a validated event document (open or sealed form: only cleartext is read).
    """
    try:
        _check(state, event)
    except (KeyError, TypeError, ValueError) as exc:
        # Only validated events reach the rules; a malformed one must still be a clean 4xx.
        raise ValidationFailed.one(str(exc).strip("'") or "(event)", "malformed_event",
                                   f"the event is not valid for the rules: {exc!r}",
                                   "事件格式不符合规则要求（请先通过模式校验）") from exc


def _check(state: CaseState, event: Event) -> None:
    etype = event["event_type"]
    if state.case_id is not None and event["case_id"] != state.case_id:
        raise _deny("-", "case_id", "the event belongs to another case", "事件不属于该办件", event)
    if state.status == "new" and etype not in FIRST_EVENTS and etype != "access":
        raise _deny("10.1.1", "first_event",
                    "a case starts with a consultation, an application or an entrustment",
                    "办件须以咨询、申请或委托开始", event)
    # 11.2.1: the 好差评 rating comes after completion, usually once the case is archived
    # (10.1.6: promptly); the institution "improves accordingly", so the follow-up of a
    # rating (a call back, recorded in the work log) stays possible: without it no bad
    # rating of an archived case could ever count as followed up (hub/oversight/facts.py).
    follow_up = etype == "work_log" and state.rating is not None
    if state.status == "archived" and not follow_up and etype not in (
            "access", "rating", "complaint", "complaint_handled", "review_resolved"):
        raise _deny("10.1.6", "archived", "the case is archived", "办件已归档", event)
    if etype in HOLDER_ONLY and state.holder is not None and event["institution"] != state.holder:
        hub_termination = etype == "termination" and event.get("reason") == \
            "resumption_deadline_passed"
        if not hub_termination:
            raise _deny("4.3", "holder_only",
                        f"only the institution holding the case ({state.holder}) may record "
                        f"{etype}", f"只有当前承办机构（{state.holder}）可以办理此步骤", event)
    CHECKS[etype](state, event)


#: Event types that promise a time limit, and their field (10.1.3 form A; 10.2.5 form E).
PROMISED_LIMITS = {"acceptance": ("time_limit_days", "10.1.3"),
                   "resumption": ("new_time_limit_days", "10.2.5")}


def check_time_limit(event: Event, item: Mapping[str, Any] | None) -> None:
    """A promised time limit (承诺时限) may be shorter than the service item's statutory limit
    (法定时限, the 清单's ``time_limit_days``), never longer: a station that promised 365
    working days for a 3-day item would count as on time for a year (5 a). Unknown items
    (catalog not yet synced) are left to the hub, which holds the whole catalog."""
    field = PROMISED_LIMITS.get(str(event.get("event_type")))
    if field is None or not item:
        return
    promised, statutory = event.get(field[0]), item.get("time_limit_days")
    if isinstance(promised, int) and isinstance(statutory, int) and promised > statutory:
        raise _deny(field[1], f"{field[0]}_over_statutory",
                    f"{field[0]} {promised} exceeds the statutory limit of {item.get('code')}: "
                    f"{statutory} working days",
                    f"承诺时限 {promised} 个工作日超过该事项的法定时限 {statutory} 个工作日", event)
