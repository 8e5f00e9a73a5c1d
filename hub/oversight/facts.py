"""One compact fact row per case, from cleartext metadata only (pure, no IO).

The hub never holds case keys (design.md §5): everything here reads top-level
cleartext fields of the case header and its events (event types, dates, staff ids,
``sig`` presence) and E's fold (:func:`schemas.fold.fold`), never ``sealed``.

:func:`case_fact` gives a :class:`CaseFact`; :func:`contributions` turns it into the
counters it adds to per (institution, staff, month) so the materialization can apply
``new - old`` when a case changes (incremental aggregates, issue 8).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, fields
from typing import Any

from hub.oversight.paper import paper_steps
from hub.oversight.withdrawals import counted_ids, withdrawal_rows
from schemas.event_signed import SIGNS_FOR_ANOTHER
from schemas.fold import fold
from schemas.state import followed_up, local_timestamp, resume_by
from schemas.vocab import BAD_RATINGS, FOCUS_AREAS, MODES, SPECIAL_GROUPS
from schemas.workdays import Workdays

RATING_LEVELS = ("very_satisfied", "satisfied", "basic", "dissatisfied", "very_dissatisfied")
#: Record items checked for a finished case (5 d, 11.1 e); labels for reports.
RECORD_ITEMS = {"A": ("受理单（附录A）", "form A: acceptance"),
                "B": ("办结/终止单（附录B）", "form B: completion or termination"),
                "C": ("委托书（附录C）", "form C: entrustment"),
                "D": ("中止单（附录D）", "form D: suspension"),
                "E": ("续办单（附录E）", "form E: resumption"),
                "sig": ("设备签名", "device signatures"),
                "log": ("工作日志", "work log (7.3.2)"),
                "archive": ("归档", "archiving (10.1.6, 10.2.7)")}
#: Events that record no handling by their staff member: the read audit of 7.2.2.2, and
#: the applicant's or a supervisor's word on the handling (11.2.1 a rating, 11.1 a complaint
#: and its handling), which whoever sits at the window types in: after a clerk left, the
#: colleague entering the applicant's rating took over the leaver's completion and rating.
#: Nor is 冲突复核 (review_resolved, design.md §3): the station head settling two laptops'
#: clash took over the open case and its time limit from the clerk doing the work.
NOT_HANDLING = frozenset({"access", "rating", "complaint", "complaint_handled", "review_resolved"})
#: The step that finishes a case: who did the work is settled by it (11.2.2).
FINISHING = frozenset({"completion", "termination", "refusal"})
FINISHED = frozenset({"completed", "terminated", "refused", "archived"})
#: A fact still open (在办) in SQL over ``facts``: not finished, and not a consultation
#: answered with nothing pending (``consulted``: done, 10.1.1; ``consulting`` awaits its
#: reply, 10.1.1.3). Not finished either: it has no record items (5 d) to count.
OPEN_SQL = "finished_on IS NULL AND status IS NOT 'consulted'"


@dataclass
class Complaint:
    """One complaint (11.1) and its handling (5 c)."""

    complaint_id: str  # the complaint event's hlc
    case_id: str
    institution: str  # the institution complained about (the case holder)
    received_on: str
    channel: str
    category: str
    due: str
    handled_on: str | None = None
    result: str | None = None
    by_hub: bool = False  # taken in at the hub (on-site, phone, written, online intake)


@dataclass
class CaseFact:
    case_id: str
    case_no: str = ""
    institution: str = ""  # the holder (4.3): who answers for the case now
    origin: str = ""
    staff: str = ""  # who did the work at the holder (facts.handlers), counted for the case
    unclaimed: bool = False  # handed over, no step at the holder yet: on boards, 待接办
    opener: str = ""  # who first handled it there: its 新立 counters are theirs (11.2.2)
    service_item: str = ""
    service_type: str = ""
    #: clause 9 as the header says now (a merge field may change): focus area (9.1 涉企,
    #: 9.2 民生), service mode (上门办, 网上办, 就近办), special groups served (9.2)
    focus_area: str = ""
    mode: str = ""
    special_groups: list[str] = field(default_factory=list)
    #: 9.2, 10.2.2: a form of a person's case signed by someone for them (a guardian, an
    #: agent; a firm always signs through someone, so its cases are not counted), and one
    #: signed with a thumbprint (schemas.event_signed: the capacities, never the names)
    signed_other: bool = False
    thumbprint: bool = False
    status: str = "new"
    opened_on: str = ""
    accepted_on: str | None = None
    due: str | None = None
    completed_on: str | None = None
    on_time: bool | None = None
    completion: str | None = None  # its hlc (schemas.state)
    terminated_on: str | None = None
    termination_reason: str | None = None
    refused_on: str | None = None
    finished_on: str | None = None
    consulted_on: str | None = None
    #: a ``consulted`` case: the day its last consultation was answered (at once, or by
    #: the reply clearing the last pending one), its 经办 day on the public page (8.1.2)
    answered_on: str | None = None
    consultations: int = 0
    consult_late: int = 0
    consult_pending: int = 0
    reply_due: str | None = None  # earliest pending reply deadline (10.1.1.3)
    #: [day, "in_time" | "late" | "pending", reply due if pending] per consultation
    #: (10.1.1.3), each counted in the month it was asked (a case's later question is not
    #: its first one's month); a pending one counts as late once its due day has passed
    consults: list[list[str]] = field(default_factory=list)
    rating: str | None = None
    rated_on: str | None = None
    rating_followed: bool | None = None
    missing: list[str] = field(default_factory=list)  # RECORD_ITEMS keys (finished cases)
    suspended_since: str | None = None
    resumption_deadline: str | None = None
    needs_review: bool = False
    reviews: int = 0
    handovers: int = 0
    department: str = ""  # approval department the case was submitted to (11.1 d)
    submitted_on: str | None = None
    submitted_by: str = ""  # the institution whose device recorded it: it counts there
    corrections: int = 0
    decision: str | None = None
    complaints: list[Complaint] = field(default_factory=list)
    #: 补录 steps (hub.oversight.paper.paper_steps) and the live steps after them
    paper: list[list[Any]] = field(default_factory=list)
    paper_live: int = 0
    paper_live_first: str | None = None
    withdrawals: list[list[str]] = field(default_factory=list)  # 撤销办结 (withdrawals.py)

    def as_dict(self) -> dict[str, Any]:
        # not dataclasses.asdict: its deep copies dominate loading a million facts
        d = {name: getattr(self, name) for name in _FACT_FIELDS}
        d["complaints"] = [dict(c.__dict__) for c in self.complaints]
        d["missing"] = list(self.missing)
        d["consults"] = [list(c) for c in self.consults]
        d["special_groups"] = list(self.special_groups)
        d["paper"] = [list(p) for p in self.paper]
        return d


_FACT_FIELDS = tuple(f.name for f in fields(CaseFact))


def _day(at: str) -> str:
    """The Beijing date of a time stamp, whatever offset its writer used (schemas.state)."""
    return local_timestamp(at)[:10]


def _ordered(events: Iterable[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    unique = {str(e.get("_id")): e for e in events if e.get("type") == "event"}
    return sorted(unique.values(), key=lambda e: (str(e.get("hlc", "")), str(e.get("_id"))))


def record_gaps(status: str, events: list[Mapping[str, Any]], *, proxy: bool) -> list[str]:
    """Missing record items of a finished case (5 d, 11.1 e); [] for unfinished cases."""
    if status not in FINISHED:
        return []
    types = {e["event_type"] for e in events}
    missing: list[str] = []
    refused = "refusal" in types and "acceptance" not in types
    if not refused:
        if "acceptance" not in types:
            missing.append("A")
        if not types & {"completion", "termination"}:
            missing.append("B")
        if proxy and not types & {"entrustment", "conversion"}:
            missing.append("C")
        # D and E apply where the case was suspended / resumed (10.2.5.1)
        if "resumption" in types and "suspension" not in types:
            missing.append("D")
        suspensions = sum(1 for e in events if e["event_type"] == "suspension")
        resumptions = sum(1 for e in events if e["event_type"] == "resumption")
        # a case terminated while suspended (10.2.5.2) has no form E for its last suspension
        if resumptions < suspensions - (1 if "termination" in types else 0):
            missing.append("E")
        if "work_log" not in types:
            missing.append("log")
    if any(not e.get("sig") for e in events):
        missing.append("sig")
    if "archived" not in types:
        missing.append("archive")
    return missing


def handlers(evs: list[Mapping[str, Any]], holder: str, applied: Any) -> tuple[str, str]:
    """The staff ids of the first handling step at ``holder`` and of the last one up to the
    (applied) step that finished the case, "" when none: who opened it there and who did
    the work (11.2.2), not who came after; nor whose step did not count (kept for review,
    design.md §3: the second of two laptops' acceptances took the case from the first)."""
    staff: list[str] = []
    for e in evs:
        if e.get("staff") and e.get("institution") == holder and \
                e["event_type"] not in NOT_HANDLING and str(e.get("_id")) in applied:
            staff.append(str(e["staff"]))
        if e["event_type"] in FINISHING and str(e.get("_id")) in applied:
            break
    return (staff[0], staff[-1]) if staff else ("", "")


def case_fact(header: Mapping[str, Any] | None, events: Iterable[Mapping[str, Any]],
              workdays: Workdays, *, complaint_days: int,
              hub_devices: Iterable[str] = ()) -> CaseFact:
    """The fact row of one case (``header`` may still be missing: events arrive first).

    ``complaint_days``: a complaint is due this many working days after its receipt (5 c
    names no period; the hub setting ``complaint_working_days``, local policy)."""
    evs = _ordered(events)
    hub_set = set(hub_devices)
    state = fold(evs, workdays=workdays)
    case_id = str((header or {}).get("case_id") or state.case_id or
                  (evs[0]["case_id"] if evs else ""))
    f = CaseFact(case_id=case_id)
    h = header or {}
    f.case_no = str(h.get("case_no", ""))
    f.origin = str(h.get("institution") or state.origin or "")
    f.institution = str(state.holder or f.origin)
    f.service_item = str(state.service_item or h.get("service_item") or "")
    f.service_type = str(state.service_type or h.get("service_type") or "")
    # the mode the application or entrustment chose (10.1.2, 10.2.2: the fold's), else the
    # consultation's in the header: a visit at home (上门办) entrusted after a call at the
    # window was counted 就近办, the header's mode being never written after the consultation
    f.focus_area = str(h.get("focus_area") or "")
    f.mode = str(state.mode or h.get("mode") or "")
    f.special_groups = sorted({str(g) for g in h.get("special_groups") or ()})
    signed = [e for e in evs if e.get("signer") and str(e.get("_id")) in state.applied_ids]
    f.signed_other = h.get("applicant_kind") != "enterprise" and any(
        e["signer"] in SIGNS_FOR_ANOTHER for e in signed)
    f.thumbprint = any(e.get("thumbprint") is True for e in signed)
    f.status, f.completion = state.status, state.completion  # clocks.late_receipts times it
    f.opened_on = _day(h["opened_at"]) if h.get("opened_at") else (
        _day(evs[0]["at"]) if evs else "")
    # who answers for the case (11.2.2) is who worked on it at the holder, up to the step
    # that finished it; an ``access`` event is a read (7.2.2.2 audit: every opening of the
    # personal data writes one), so a colleague printing a slip, or the village opening a
    # case the town handed back down, took over its completion, rating and records on the
    # staff page (the demo's hand-down); so did the colleague of a clerk who left, by
    # following up the bad rating or archiving the file after the leaver's completion; and
    # the cases a leaver opened left their 新立 count for the colleague who finished them
    counted, first = counted_ids(state), str(h.get("staff") or "")  # 撤销办结 aside
    at_holder = handlers(evs, f.institution, counted)
    f.staff = at_holder[1] or first
    # its 新立 counters: the first clerk at the station that registered it (contributions)
    origin = f.origin or f.institution
    f.opener = (at_holder if origin == f.institution else handlers(evs, origin, counted))[0] \
        or first
    f.unclaimed = origin != f.institution and not at_holder[1]  # staff: still the opener's
    f.accepted_on, f.due, f.on_time = state.accepted_on, state.due, state.on_time
    f.completed_on, f.refused_on = state.completed_on, state.refused_on
    f.terminated_on, f.termination_reason = state.terminated_on, state.termination_reason
    f.finished_on = f.completed_on or f.terminated_on or f.refused_on
    f.consultations, f.consult_late = state.consultations, state.replies_late
    f.consult_pending = len(state.pending_replies)
    f.reply_due = min(state.pending_replies.values()) if state.pending_replies else None
    # 11.1 counts only the steps the fold applied: a refused, withdrawn or held one stays
    # for review (needs_review), not in the figures (the 11.1 d) submission the same way)
    applied = [e for e in evs if str(e.get("_id")) in state.applied_ids]
    consults = [e for e in applied if e["event_type"] == "consultation"]
    f.consulted_on = _day(consults[0]["at"]) if consults else None
    if state.status == "consulted":
        answers = [e for e in evs if e["event_type"] in ("consultation", "reply")
                   and str(e.get("_id")) in state.applied_ids]
        f.answered_on = _day(answers[-1]["at"]) if answers else None
    late = set(state.late_replies)
    f.consults = [[_day(e["at"]), "pending", state.pending_replies[e["hlc"]]]
                  if e["hlc"] in state.pending_replies else
                  [_day(e["at"]), "late" if e["hlc"] in late else "in_time"]
                  for e in consults]
    f.rating = state.rating
    ratings = [e for e in applied if e["event_type"] == "rating"]
    if ratings:
        last = ratings[-1]
        f.rated_on = _day(last["at"])
        if f.rating in BAD_RATINGS:
            f.rating_followed = followed_up(evs, last)
    f.missing = record_gaps(state.status, applied,
                            proxy=state.service_type == "proxy" or state.entrusted)
    if state.suspension:
        f.suspended_since = state.suspension["since"]
        # the last day it may be resumed (10.2.5.2; a weekend deadline runs to Monday), the
        # day the hub's terminate worker goes by: the list of passed ones shows what it ends
        f.resumption_deadline = resume_by(state.suspension)
    f.needs_review, f.reviews, f.handovers = state.needs_review, len(state.reviews), state.handovers
    submitted = [e for e in applied if e["event_type"] == "submitted"]
    if submitted:
        f.department, f.submitted_on = str(submitted[0]["department"]), _day(submitted[0]["at"])
        f.submitted_by = str(submitted[0].get("institution") or "")
    f.corrections = sum(1 for e in applied if e["event_type"] == "correction_requested")
    f.decision = state.last_decision
    f.paper, f.paper_live, f.paper_live_first = paper_steps(evs)  # 补录 (hub.oversight.paper)
    f.withdrawals = withdrawal_rows(state)  # 撤销办结: no completion, but listed for 11.1 b
    handled = {e["complaint"]: e for e in evs if e["event_type"] == "complaint_handled"}
    for e in evs:
        if e["event_type"] != "complaint":
            continue
        received = _day(e["at"])
        done = handled.get(e["hlc"])
        f.complaints.append(Complaint(
            complaint_id=str(e["hlc"]), case_id=case_id, institution=f.institution,
            received_on=received, channel=str(e.get("channel", "")),
            category=str(e.get("category", "")),
            due=workdays.add_working_days(received, complaint_days).isoformat(),
            handled_on=_day(done["at"]) if done else None,
            result=str(done.get("result")) if done and done.get("result") else None,
            by_hub=str(e.get("device", "")) in hub_set))
    return f


Key = tuple[str, str, str]  # (institution, staff, month YYYY-MM)
#: Clause 9: cases opened per focus area, service mode and special group served, so the
#: city sees where the 9.1/9.2 work goes and how far 上门办/网上办/就近办 are taken up.
CLAUSE9 = (*(f"area_{k}" for k in FOCUS_AREAS), *(f"mode_{k}" for k in MODES),
           *(f"group_{k}" for k in SPECIAL_GROUPS), "signed_other", "signed_thumbprint")
#: Every counter kept per (institution, staff, month); the materialization's columns.
#: 11.1 c): complaint categories (schemas.vocab.COMPLAINT_CATEGORIES), counted per category
COMPLAINT_CATS = ("inaction", "misconduct", "bribery", "overdue", "attitude", "other")
COUNTERS = ("opened", "proxy_opened", "proxy_completed", "proxy_terminated", "completed",
            "on_time", "terminated", "terminated_deadline", "refused",
            "consultations", "consult_in_time", "consult_late", "consult_pending",
            "complaints", "complaints_in_time", "complaints_late", "complaints_open",
            "complaints_upheld", *(f"complaint_{k}" for k in COMPLAINT_CATS),
            *(f"complaint_{k}_handled" for k in COMPLAINT_CATS),
            *(f"rating_{lv}" for lv in RATING_LEVELS), "bad_ratings", "bad_followed",
            "finished", "records_complete", *(f"missing_{k}" for k in RECORD_ITEMS),
            *CLAUSE9)


_CLAUSE9 = frozenset(CLAUSE9)


def contributions(f: CaseFact | None) -> dict[Key, dict[str, int]]:
    """The counters one case adds; each indicator is counted in the month of its own date
    (completions by completion date, consultations by consultation date, …)."""
    out: dict[Key, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    if f is None:
        return out

    def add(day: str | None, name: str, n: int = 1, staff: str = "", at: str = "") -> None:
        if day and n:
            out[(at or f.institution, staff or f.staff, day[:7])][name] += n

    # 新登记 and consultations are the work of the station that registered the case (11.1):
    # counted at the holder, a hand-up or hand-down (4.3) moved them, a reported month too
    origin, opener = f.origin or f.institution, f.opener
    asker = f.staff if origin == f.institution else opener
    add(f.opened_on, "opened", staff=opener, at=origin)
    for name in (f"area_{f.focus_area}", f"mode_{f.mode}",
                 *(f"group_{g}" for g in f.special_groups)):
        if name in _CLAUSE9:  # a code outside the vocabulary is not counted anywhere
            add(f.opened_on, name, staff=opener, at=origin)
    add(f.opened_on, "signed_other", 1 if f.signed_other else 0, staff=opener, at=origin)
    add(f.opened_on, "signed_thumbprint", 1 if f.thumbprint else 0, staff=opener, at=origin)
    if f.service_type == "proxy":  # 11.1 a) execution of entrustments
        add(f.opened_on, "proxy_opened", staff=opener, at=origin)
        add(f.completed_on, "proxy_completed")
        add(f.terminated_on, "proxy_terminated")
    if f.completed_on:
        add(f.completed_on, "completed")
        add(f.completed_on, "on_time", 1 if f.on_time else 0)
    if f.terminated_on:
        add(f.terminated_on, "terminated")
        if f.termination_reason == "resumption_deadline_passed":
            add(f.terminated_on, "terminated_deadline")
    add(f.refused_on, "refused")
    for day, outcome, *_due in f.consults:  # 10.1.1.3: each in the month it was asked
        add(day, "consultations", staff=asker, at=origin)
        add(day, f"consult_{outcome}", staff=asker, at=origin)
    if f.consultations and not f.consults:
        # a fact stored before per-consultation days: taken back as it was counted
        for name, n in (("consultations", f.consultations), ("consult_late", f.consult_late),
                        ("consult_pending", f.consult_pending), ("consult_in_time",
                         f.consultations - f.consult_late - f.consult_pending)):
            add(f.consulted_on, name, n, staff=asker, at=origin)
    for c in f.complaints:
        add(c.received_on, "complaints")
        if c.category in COMPLAINT_CATS:
            add(c.received_on, f"complaint_{c.category}")
            if c.handled_on:
                add(c.received_on, f"complaint_{c.category}_handled")
        if c.result in ("upheld", "partly_upheld"):
            add(c.received_on, "complaints_upheld")
        add(c.received_on, "complaints_open" if c.handled_on is None else
            "complaints_in_time" if c.handled_on <= c.due else "complaints_late")
    if f.rating:
        add(f.rated_on, f"rating_{f.rating}")
        if f.rating in BAD_RATINGS:
            add(f.rated_on, "bad_ratings")
            add(f.rated_on, "bad_followed", 1 if f.rating_followed else 0)
    if f.finished_on:
        add(f.finished_on, "finished")
        add(f.finished_on, "records_complete", 0 if f.missing else 1)
        for k in f.missing:
            add(f.finished_on, f"missing_{k}")
    return out

