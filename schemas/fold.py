"""The deterministic fold of a case's events into its state (design.md §3).

Events are ordered by hybrid logical clock, tie-broken by ``_id`` (:func:`order_key`), and
de-duplicated by ``_id``, so any delivery order folds to the same state. An event that
the rules refuse at its place in that order is **kept** (counted, listed in
``state.reviews``) but not applied, and the case is flagged ``needs_review``: concurrent
offline edits that cannot both hold never lose data (a hub's termination repeated is not).

Public API: :func:`fold`, :func:`order_key`, :func:`apply`, :func:`check_transition`
(re-exported from :mod:`schemas.rules`), :func:`check_received` and its :class:`FoldCache`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from typing import Any

from schemas import withdraw
from schemas.errors import IllegalTransition, ValidationFailed
from schemas.overdue import mark_overdue
from schemas.paper_fold import check_in_fold, mark_live
from schemas.rules import FIRST_EVENTS, check_transition, repeats_termination
from schemas.state import CONSULTATION, CaseState, Review, event_date, resettles, resume_by
from schemas.workdays import Workdays

Event = Mapping[str, Any]

__all__ = ["CaseState", "FoldCache", "apply", "check_received", "check_transition", "fold",
           "order_key"]


def order_key(event: Event) -> tuple[str, str]:
    """HLC strings sort in clock order (schemas.hlc); the ``_id`` breaks ties."""
    return (str(event.get("hlc", "")), str(event.get("_id", "")))


def _refresh_due(s: CaseState, wd: Workdays) -> None:
    """The time limit runs from acceptance (or the last resumption with a new period) in
    working days, excluding suspended periods (10.2.5: the clock stops while suspended).

    10.1.3 says only that acceptance issues form A. The code reads the limit as 《行政许可法》
    counts periods: the acceptance day is not counted, so one accepted on a day off (a
    door-to-door visit on Saturday) counts from the next working day and is due as if
    accepted the working day before; a 即办件 (0 days) is due the day it was accepted."""
    if s.limit_start is None or s.time_limit_days is None:
        return
    start = dt.date.fromisoformat(s.limit_start)
    excluded = [(dt.date.fromisoformat(p["since"]), dt.date.fromisoformat(p["until"]))
                for p in s.suspensions if p["until"] >= s.limit_start]
    d = wd.deadline(start, s.time_limit_days, excluded)
    s.due, s.due_estimated = d.due.isoformat(), d.estimated


def _close_suspension(s: CaseState, day: dt.date, resumed: str | None, wd: Workdays) -> None:
    """The open suspension ends the day before ``day``; its working days are counted.
    10.2.5 does not say which days a suspension stops: the code stops the days a case
    *ends* suspended, so the resumption day counts again and a case suspended and resumed
    on one day stops none (the period is empty, ``until`` the day before ``since``)."""
    assert s.suspension is not None
    until = day - dt.timedelta(days=1)
    since = dt.date.fromisoformat(s.suspension["since"])
    s.suspended_days += max(0, wd.working_days_between(since - dt.timedelta(days=1), until))
    s.suspensions.append(dict(s.suspension, until=until.isoformat(), resumed=resumed))
    s.suspension = None


def _materials_by(s: CaseState, wd: Workdays) -> None:
    """The materials period's last day (10.2.5.1 a), or the next working day (民法典 §203)."""
    s.materials_by = wd.last_day(s.materials_due).isoformat() if s.materials_due else None


def _consultation_status(s: CaseState) -> None:
    """A case that is only consultations so far is open while a reply is due (10.1.1.3) and
    answered (``consulted``, not open) once none is: 10.1.1 asks for the question and its
    outcome to be recorded, nothing more. A case further on keeps its status (its steps')."""
    if s.status in ("new", *CONSULTATION):
        s.status = "consulting" if s.pending_replies else "consulted"


def apply(state: CaseState, event: Event, wd: Workdays) -> CaseState:
    """The state after one accepted event, ``state`` unchanged (no check: check_transition)."""
    s = state.copy()
    _apply(s, event, wd)
    return s


def _apply(s: CaseState, event: Event, wd: Workdays) -> None:
    """:func:`apply` in place (the fold owns its state, so it skips the copy)."""
    e = event
    et, day = e["event_type"], event_date(e)
    today = day.isoformat()
    if s.case_id is None:
        s.case_id = e["case_id"]
    if s.origin is None and et in FIRST_EVENTS:  # an access log entry never makes a holder
        s.origin, s.holder = e["institution"], e["institution"]
        s.institutions = [e["institution"]]
    if et == "consultation":
        s.consultations += 1
        s.service_item = s.service_item or e.get("service_item")
        if not e["answered"]:  # 10.1.1.3: reply within 1 working day
            s.pending_replies[e["hlc"]] = wd.add_working_days(day, 1).isoformat()
        _consultation_status(s)
    elif et == "reply":
        s.replies += 1
        due = s.pending_replies.pop(e["consultation"])
        if today > due:
            s.replies_late += 1
            s.late_replies.append(e["consultation"])
        _consultation_status(s)
    elif et in ("application", "entrustment"):
        s.status = "applied"
        s.service_item, s.mode = e["service_item"], e["mode"]
        s.service_type = "assist" if et == "application" else "proxy"
        if et == "entrustment":
            s.entrusted, s.ledger_no = True, e["ledger_no"]
            s.entrusted_until = e["period_end"]
    elif et == "acceptance":
        s.status, s.accepted_on = "handling", today
        s.time_limit_days, s.limit_start = e["time_limit_days"], today
        _refresh_due(s, wd)
    elif et == "refusal":
        s.status, s.refused_on = "refused", today
    elif et == "notification":
        s.materials_missing = sorted({m["code"] for m in e["materials"]})
        s.materials_due, s.reminders = e.get("materials_due"), 0
        _materials_by(s, wd)
    elif et == "material_received":
        s.materials_missing = sorted(set(s.materials_missing) - set(e["materials"]))
        if not s.materials_missing:
            s.materials_due = s.materials_by = None
    elif et == "reminder":
        s.reminders += 1
        s.materials_missing = sorted(set(s.materials_missing) | set(e["materials"]))
        s.materials_due = e.get("due") or s.materials_due
        _materials_by(s, wd)
    elif et == "correction_requested":
        s.corrections_open = sorted({*s.corrections_open, e["hlc"]})
    elif et == "correction_received":
        s.corrections_open = [c for c in s.corrections_open if c != e["request"]]
    elif et == "problem_opened":
        s.problems[e["problem_id"]] = "open"
    elif et == "problem_updated":
        s.problems[e["problem_id"]] = e["status"]
    elif et == "problem_resolved":
        s.problems[e["problem_id"]] = e["result"]
    elif et == "submitted":
        s.submissions += 1
    elif et == "decision":
        s.decisions += 1
        s.last_decision = e["outcome"]
    elif et == "work_log":
        s.work_log_entries += 1
    elif et == "suspension":
        s.status = "suspended"
        s.suspension = {"reason": e["reason"], "since": today,
                        "resumption_deadline": e["resumption_deadline"], "event": e["hlc"],
                        "resume_by": wd.last_day(e["resumption_deadline"]).isoformat()}
    elif et == "resumption":
        _close_suspension(s, day, e["hlc"], wd)
        s.status = "handling"
        if e.get("new_time_limit_days") is not None:  # form E: a new period
            s.time_limit_days, s.limit_start = e["new_time_limit_days"], today
        _refresh_due(s, wd)
    elif et == "conversion":  # 10.1.4.3
        s.service_type, s.converted, s.entrusted, s.ledger_no = "proxy", True, True, e["ledger_no"]
        s.entrusted_until = e["period_end"]
    elif et in ("hand_up", "hand_down"):  # 4.3
        # the limit keeps running (4.2, 4.3: one service across the tiers): the new holder
        # inherits the days already run, and cannot accept anew (acceptance needs applied)
        s.holder = e["to_institution"]
        s.handovers += 1
        if s.holder not in s.institutions:
            s.institutions.append(s.holder)
    elif et == "completion":  # 5 a); withdrawable for a working day (schemas.withdraw)
        withdraw.complete(s, e, today, wd)
    elif et == "completion_withdrawn":  # 撤销办结: back to handling, the clock still running
        withdraw.withdraw(s, e)
    elif et == "termination":
        ended = day
        if e["reason"] == "resumption_deadline_passed" and s.suspension is not None:
            # 10.2.5.2: "deemed terminated" once the resumption deadline has passed: the
            # day after it, however late the hub's watcher wrote the event (a hub down for
            # a week must not move the terminations into another month's report, 11.1 a)
            after = dt.date.fromisoformat(resume_by(s.suspension)) + dt.timedelta(days=1)
            ended = min(day, after)
        s.status, s.termination_reason = "terminated", e["reason"]
        s.terminated_on = ended.isoformat()
        if s.suspension is not None:  # 10.2.5.2: suspended until the termination
            _close_suspension(s, ended, None, wd)
    elif et == "archived":
        s.status, s.archive_no = "archived", e["archive_no"]
    elif et == "rating":
        s.rating = e["level"]
    elif et == "complaint":
        s.complaints += 1
        s.complaints_open[e["hlc"]] = e["category"]
    elif et == "complaint_handled":
        s.complaints_open.pop(e["complaint"], None)
    elif et == "access":
        s.accesses += 1
    elif et == "review_resolved":  # design.md §3: acknowledged, still kept
        done = set(e["events"])
        s.resolved_reviews += [r for r in s.reviews if r.event_id in done]
        s.reviews = [r for r in s.reviews if r.event_id not in done]
        s.needs_review = bool(s.reviews)
    withdraw.settle(s, e)
    s.applied += 1
    s.applied_ids.add(str(e.get("_id")))


def fold(events: Iterable[Event], *, calendars: Iterable[Mapping[str, Any]] = (),
         workdays: Workdays | None = None, as_of: dt.date | str | None = None) -> CaseState:
    """Fold a case's events (any order, duplicates allowed) into its :class:`CaseState`.

    With ``as_of`` the overdue marks and the running suspended days are computed for that
    date; without it the state depends on the events alone. Documents other than events
    are ignored; a malformed event is kept as a review, never a crash.
    """
    wd = workdays or Workdays(calendars)
    state, _malformed = _fold_all(_ordered(events), wd)
    if as_of is not None:
        mark_overdue(state, as_of, wd)
    return state


class _Malformed(Exception):
    def __init__(self, event_id: str):
        self.event_id = event_id


def _review(state: CaseState, review: Review) -> None:
    state.needs_review = True
    state.reviews.append(review)


def _refusal(state: CaseState, ev: Event) -> Review | None:
    """Why ``ev`` may not follow ``state`` (check_transition, and 补录 behind a live step)."""
    try:
        check_in_fold(state, ev)
        return None
    except IllegalTransition as exc:
        why = (exc.clause, exc.rule, exc.message_en, exc.message_zh)
    except ValidationFailed as exc:
        p = exc.problems[0]
        why = ("-", p.rule, p.message_en, p.message_zh)
    return Review(str(ev.get("hlc")), str(ev.get("event_type")), *why)


def _ordered(events: Iterable[Event]) -> list[Event]:
    """The events to fold: documents of type event, one per ``_id``, in fold order."""
    unique = {str(e.get("_id")): e for e in events if e.get("type", "event") == "event"}
    return sorted(unique.values(), key=order_key)


def _fold_all(ordered: list[Event], wd: Workdays) -> tuple[CaseState, set[str]]:
    """The fold of ``ordered`` and the ids of the malformed events it kept as reviews."""
    malformed: set[str] = set()
    while True:
        try:
            return _fold(ordered, wd, malformed), malformed
        except _Malformed as exc:  # rare: restart without the event that broke `apply`
            malformed.add(exc.event_id)


def _fold(ordered: list[Event], wd: Workdays, malformed: set[str],
          state: CaseState | None = None) -> CaseState:
    """Fold ``ordered`` onto ``state`` (in place; a fresh state by default)."""
    state = CaseState() if state is None else state
    for ev in ordered:
        state.events, state.last_hlc = state.events + 1, ev.get("hlc")
        if str(ev.get("_id")) in malformed:
            _review(state, Review(str(ev.get("hlc")), str(ev.get("event_type")), "-",
                                  "malformed_event", "the event is malformed", "事件格式错误"))
            continue
        if repeats_termination(state, ev) or resettles(state, ev):  # one act twice
            continue
        why = _refusal(state, ev)
        if why is not None:
            _review(state, why)
            withdraw.hold(state, ev)  # judged again if the completion it met is withdrawn
            continue
        _applied(state, ev, wd)
        if ev["event_type"] == "completion_withdrawn":
            _release(state, ev, wd)
    return state


def _applied(state: CaseState, ev: Event, wd: Workdays) -> None:
    """:func:`_apply`; a malformed event's error raised as :class:`_Malformed`."""
    try:
        _apply(state, ev, wd)
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise _Malformed(str(ev.get("_id"))) from exc


def _release(state: CaseState, withdrawal: Event, wd: Workdays) -> None:
    """After ``withdrawal`` (撤销办结) the steps its completion held (``state.held``) are judged
    again in clock order as if it had never been (schemas.withdraw); it is a live step."""
    queue, state.held = state.held, []
    while queue:
        ev = queue.pop(0)
        again = resettles(state, ev)  # a repeat of an act released before it: as in _fold
        why = None if again else _refusal(state, ev)
        withdraw.rejudge(state, ev, why)
        if why is not None:
            withdraw.hold(state, ev)  # behind a completion released before it
        elif not again:
            _applied(state, ev, wd)
            if ev.get("event_type") == "completion_withdrawn":  # that completion withdrawn too
                queue, state.held = [*state.held, *queue], []
    mark_live(state, withdrawal)


class FoldCache:
    """The last fold :func:`check_received` made per case, to extend instead of refold.

    The hub checks a batch in clock order and adds each accepted event to the known ones,
    so the prefix before event k+1 is usually the prefix before event k plus event k:
    folding only the new events makes a case of n events cost n applications, not n^2/2.
    The result is the same as a full fold because :func:`_fold` is a left fold in
    :func:`order_key` order: a prefix that starts with the cached events, all ordered
    before the new ones, passes through exactly the cached state. Anything else (another
    prefix, an event changed since) refolds from scratch. One cache per batch: the cached
    state is advanced in place, so a state handed out is only valid until the next call,
    and the events it holds must not be changed in place meanwhile.
    """

    def __init__(self) -> None:
        #: case id -> (the ordered events folded, their state, the malformed ids in them,
        #: the calendar they were folded with: another one may give other deadlines)
        self._last: dict[str, tuple[list[Event], CaseState, set[str], Workdays]] = {}
        #: folds that reused a cached prefix (for tests and measurements)
        self.extended = 0
        self._workdays: Workdays | None = None

    @property
    def workdays(self) -> Workdays:
        """The default calendar of checks given none: one for all, so their folds extend."""
        if self._workdays is None:
            self._workdays = Workdays()
        return self._workdays

    def fold(self, case_id: str, events: Iterable[Event], wd: Workdays) -> CaseState:
        """``fold(events, workdays=wd)`` of one case, by extending the last one if it can."""
        ordered = _ordered(events)
        # Popped first: if folding the new events raises, no half-advanced state remains.
        last = self._last.pop(case_id, None)
        result: tuple[CaseState, set[str]] | None = None
        # Compared by content, not by _id: the hub hands fresh copies of a batch's events.
        if last is not None and last[3] is wd and ordered[:len(last[0])] == last[0]:
            done, state, malformed, _wd = last
            try:
                result = _fold(ordered[len(done):], wd, malformed, state), malformed
                self.extended += 1
            except _Malformed:  # the full fold restarts without the event that broke
                result = None
        if result is None:
            result = _fold_all(ordered, wd)
        self._last[case_id] = (ordered, *result, wd)
        return result[0]


def check_received(known: Iterable[Event], event: Event, *,
                   workdays: Workdays | None = None, cache: FoldCache | None = None) -> None:
    """The hub's transition check on receipt (design.md §3).

    Legal if the event may follow the fold of the known events ordered before it; or, when
    it names ``base_hlc`` (the last event its writer had folded), the fold of the known
    events up to that clock — then it is concurrent with events the writer had not seen:
    it is accepted and the full fold flags ``needs_review``. If the hub does not hold
    the writer's base event it cannot judge and refuses (``base_unknown``): the base is the
    writer's own earlier event (refused itself, or later in a badly ordered batch) or one
    pulled from the hub, so this only happens to writes that follow a refused one. A CouchDB
    replicator does not resend a refused document: the node keeps it and shows the refusal.
    Otherwise raises :class:`IllegalTransition`. Ingest a batch in :func:`order_key` order,
    adding each accepted event to ``known``; pass the same :class:`FoldCache` to every
    call of one such ingest to fold each event once rather than once per later event.
    """
    wd = workdays or (Workdays() if cache is None else cache.workdays)
    others = [e for e in known if e.get("_id") != event.get("_id")]
    key = order_key(event)
    prefix = [e for e in others if order_key(e) < key]
    try:
        state = fold(prefix, workdays=wd) if cache is None else \
            cache.fold(str(event.get("case_id")), prefix, wd)
        check_transition(state, dict(event))
        return
    except IllegalTransition:
        base = event.get("base_hlc")
        if not base:
            raise
    if not any(e.get("hlc") == base for e in others):
        # The writer's base must be an event the hub holds (its own earlier events arrive
        # first when the hub ingests a batch in order_key order); otherwise it cannot judge.
        raise IllegalTransition("-", "base_unknown",
                                f"base_hlc {base} is not an event of this case known here",
                                f"base_hlc {base} 不是已知的本件事件", event_id=event.get("hlc"))
    seen = [e for e in others if str(e.get("hlc", "")) <= base]
    check_transition(fold(seen, workdays=wd), dict(event))
