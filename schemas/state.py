"""The state of one case: what the fold of its events yields (design.md §3).

:class:`CaseState` is plain data (``as_dict()`` gives JSON for the hub's oversight
caches and the node's lists); :func:`apply` moves it by one event that
:func:`schemas.rules.check_transition` accepted. Nothing here reads a clock: dates come
from the events' ``at`` and the caller's ``as_of`` (which callers take from
:func:`local_today`, the one place that turns the machine's clock into a Beijing date).
"""

from __future__ import annotations

import copy
import dataclasses
import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

#: status values, in process order
STATUSES = ("new", "consulting", "consulted", "applied", "refused", "handling", "suspended",
            "completed", "terminated", "archived")
#: Open: something is still due. ``consulting`` is a consultation awaiting its reply
#: (10.1.1.3: within 1 working day); ``consulted`` one answered with nothing pending
#: (10.1.1: the question was answered and recorded), done unless the visitor comes back.
OPEN = frozenset({"consulting", "applied", "handling", "suspended"})
#: A case that so far is only consultations (10.1.1): it may still become an application
#: or an entrustment (10.1.2, 10.2.2), whether or not its answer is pending.
CONSULTATION = frozenset({"consulting", "consulted"})
ENDED = frozenset({"completed", "terminated", "refused"})
#: Closed: no deadline runs any more (the node's index and the hub's deadline watch drop
#: it until the case changes again); every status but the open ones and ``new``.
CLOSED = frozenset(STATUSES) - OPEN - {"new"}
#: ``consulting`` reads 咨询待答复 beside 咨询已答复: a bare 咨询 did not tell a clerk which
#: of the two owes the visitor a reply (10.1.1.3). One table: the node, the town page, the
#: hub's lists and the rules' messages all take their words from it.
STATUS_LABELS = {"new": ("新建", "new"),
                 "consulting": ("咨询待答复", "consultation, reply due"),
                 "consulted": ("咨询已答复", "consultation answered"),
                 "applied": ("已申请/委托", "applied"), "refused": ("不予受理", "refused"),
                 "handling": ("办理中", "in handling"), "suspended": ("中止", "suspended"),
                 "completed": ("办结", "completed"), "terminated": ("终止", "terminated"),
                 "archived": ("已归档", "archived")}


#: Beijing time: the standard's dates and deadlines are local dates in Hebi, whatever
#: offset a writer used (a hub server may run in UTC).
LOCAL_TZ = dt.timezone(dt.timedelta(hours=8), "CST")


def local_today(now: dt.datetime | None = None) -> dt.date:
    """Today's date in Beijing time, whatever the machine's time zone. ``dt.date.today()``
    is the *machine's* date: on a server or laptop set to UTC it is still yesterday from
    00:00 to 08:00 Beijing time, so a deadline due today looked not yet passed, a date
    "today" was refused as being before the suspension recorded a minute earlier, and a
    case opened then got last year's number on 1 January. Every "today" that is compared
    with the standard's dates (10.1.1.3, 10.2.5, 11.1) must be this one."""
    return (now or dt.datetime.now(dt.UTC)).astimezone(LOCAL_TZ).date()


def local_timestamp(value: str) -> str:
    """An ISO date-time as Beijing wall-clock time ``YYYY-MM-DDTHH:MM:SS`` (sortable, and
    comparable with :func:`local_today`'s ISO date); a value without an offset is taken as
    already local; a date alone is kept as it is."""
    if len(value) <= 10:
        return value
    try:
        when = dt.datetime.fromisoformat(value)
    except ValueError:  # not ours to judge here (the schema refuses it on write)
        return value[:19]
    if when.tzinfo is not None:
        when = when.astimezone(LOCAL_TZ)
    return when.isoformat(timespec="seconds")[:19]


def zh_date(value: str | None) -> str:
    """A date or date-time as the printed forms and reports write it, ``2026年3月5日`` (a
    date-time: its Beijing date); "" for none."""
    if not value:
        return ""
    if len(value) > 10:
        d = dt.datetime.fromisoformat(value).astimezone(LOCAL_TZ).date()
    else:
        d = dt.date.fromisoformat(value)
    return f"{d.year}年{d.month}月{d.day}日"


def event_date(event: Mapping[str, Any]) -> dt.date:
    """The date of an event in Beijing time."""
    return dt.datetime.fromisoformat(event["at"]).astimezone(LOCAL_TZ).date()


def followed_up(events: Sequence[Mapping[str, Any]], rating: Mapping[str, Any]) -> bool:
    """Whether a step that follows up a rating (:data:`schemas.vocab.FOLLOW_UP_EVENTS`: a
    work-log entry of contact with the applicant, a complaint handled) was recorded after
    ``rating`` (by HLC, 11.2.1)."""
    from schemas.vocab import FOLLOW_UP_EVENTS, FOLLOW_UP_WORK_LOG_KINDS

    after = str(rating.get("hlc") or "")
    return any(e.get("event_type") in FOLLOW_UP_EVENTS and str(e.get("hlc") or "") > after
               and (e.get("event_type") != "work_log" or e.get("kind") in FOLLOW_UP_WORK_LOG_KINDS)
               for e in events)


def resume_by(suspension: Mapping[str, Any]) -> str:
    """The last day a suspended case may be resumed (10.2.5.2): form D's
    ``resumption_deadline``, moved on to the next working day when it falls on a weekend or
    holiday (``resume_by``, set by the fold: :meth:`schemas.workdays.Workdays.last_day`).
    A state folded before ``resume_by`` existed has only the form's date."""
    return str(suspension.get("resume_by") or suspension["resumption_deadline"])[:10]


@dataclass
class Review:
    """Why a case needs review: an event that the fold could not apply (kept, not dropped)."""

    event_id: str
    event_type: str
    clause: str
    rule: str
    message_en: str
    message_zh: str


@dataclass
class CaseState:
    case_id: str | None = None
    status: str = "new"
    service_type: str | None = None  # assist / proxy (10.1 / 10.2)
    service_item: str | None = None
    mode: str | None = None
    origin: str | None = None  # institution of the first event
    holder: str | None = None  # institution holding the case now (4.3)
    institutions: list[str] = field(default_factory=list)  # every holder so far (scope, keys)
    converted: bool = False  # 10.1.4.3
    entrusted: bool = False  # form C signed (10.2.2)
    ledger_no: str | None = None
    entrusted_until: str | None = None  # form C's 委托期限 (10.2.2; conversion: 10.1.4.3)
    # deadlines (dates as ISO strings)
    accepted_on: str | None = None
    time_limit_days: int | None = None
    limit_start: str | None = None
    due: str | None = None
    due_estimated: bool = False
    pending_replies: dict[str, str] = field(default_factory=dict)  # consultation id -> due
    late_replies: list[str] = field(default_factory=list)  # consultation ids replied late
    materials_missing: list[str] = field(default_factory=list)
    materials_due: str | None = None
    materials_by: str | None = None  # its last day: a day off runs to the next working day
    reminders: int = 0  # 10.2.5.1 a): reminders since the last notification
    # the open one: reason, since, resumption_deadline (form D's), resume_by (its last day)
    suspension: dict[str, Any] | None = None
    suspensions: list[dict[str, Any]] = field(default_factory=list)  # closed: + until
    # outcome
    completed_on: str | None = None
    terminated_on: str | None = None
    termination_reason: str | None = None
    refused_on: str | None = None
    archive_no: str | None = None
    on_time: bool | None = None  # 5 a): completed within the time limit
    #: the hlc of the completion ``completed_on`` is the day of: not a withdrawn one, nor
    #: one kept for review (the oversight's late-receipt check times it, hub.oversight.clocks)
    completion: str | None = None
    #: the completion still withdrawable (schemas.withdraw): event, institution, until
    withdrawable: dict[str, str] | None = None
    withdrawals: list[dict[str, Any]] = field(default_factory=list)  # 撤销办结, kept
    #: the steps refused while a withdrawable completion stood, judged again if it is
    #: withdrawn (schemas.withdraw.hold); the fold's own, never written out (as_dict)
    held: list[Mapping[str, Any]] = field(default_factory=list, repr=False)
    rating: str | None = None
    # open items
    problems: dict[str, str] = field(default_factory=dict)  # problem id -> status / result
    corrections_open: list[str] = field(default_factory=list)
    complaints_open: dict[str, str] = field(default_factory=dict)  # id -> category
    submissions: int = 0
    decisions: int = 0
    last_decision: str | None = None
    # oversight counts (5, 11.1)
    consultations: int = 0
    replies: int = 0
    replies_late: int = 0
    complaints: int = 0
    work_log_entries: int = 0
    accesses: int = 0
    handovers: int = 0
    suspended_days: int = 0
    # flags
    needs_review: bool = False
    reviews: list[Review] = field(default_factory=list)  # open: needs_review == bool(reviews)
    resolved_reviews: list[Review] = field(default_factory=list)
    went_live: bool = False  # a step recorded live folded: no paper step after it (paper_fold)
    #: the hlc of the step that made ``went_live`` true: a withdrawn completion makes it
    #: false again (schemas.withdraw.withdraw); the fold's own, never written out
    live_from: str | None = field(default=None, repr=False)
    overdue: list[str] = field(default_factory=list)  # with as_of: which deadlines passed
    warnings: list[str] = field(default_factory=list)  # e.g. calendar beyond known data
    events: int = 0
    applied: int = 0
    last_hlc: str | None = None
    applied_ids: set[str] = field(default_factory=set, repr=False)

    @property
    def problems_open(self) -> int:
        return sum(1 for s in self.problems.values() if s in ("open", "in_progress"))

    def copy(self) -> CaseState:
        return dataclasses.replace(
            self, institutions=list(self.institutions), pending_replies=dict(self.pending_replies),
            late_replies=list(self.late_replies),
            materials_missing=list(self.materials_missing),
            suspension=dict(self.suspension) if self.suspension else None,
            suspensions=[dict(s) for s in self.suspensions], problems=dict(self.problems),
            corrections_open=list(self.corrections_open),
            complaints_open=dict(self.complaints_open), reviews=list(self.reviews),
            resolved_reviews=list(self.resolved_reviews),
            overdue=list(self.overdue), warnings=list(self.warnings),
            withdrawals=list(self.withdrawals), held=list(self.held),
            applied_ids=set(self.applied_ids))

    def as_dict(self) -> dict[str, Any]:
        """What ``dataclasses.asdict`` gives (without the fold's own ``applied_ids``,
        ``held`` and ``live_from``), with ``problems_open``. Written out because ``asdict``
        deep-copies through ``copy`` and took half of a refold's time on the node
        (docs/benchmarks.md: the first unlock after an upgrade refolds every case)."""
        d = {name: _plain(getattr(self, name)) for name in _STATE_FIELDS}
        d["problems_open"] = self.problems_open
        return d


def _plain(value: Any) -> Any:
    """``dataclasses.asdict``'s copy of one value: containers and dataclasses copied
    recursively, scalars shared (they are immutable)."""
    if value is None or isinstance(value, (str, int, float)):
        return value
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {_plain(k): _plain(v) for k, v in value.items()}
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: _plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    return copy.deepcopy(value)


_STATE_FIELDS = tuple(f.name for f in dataclasses.fields(CaseState)
                      if f.name not in ("applied_ids", "held", "live_from"))


def _settled(s: CaseState, ev: Mapping[str, Any]) -> tuple[set[str], set[str]]:
    """A 冲突复核's steps, and those of them settled already (see :func:`resettles`)."""
    ids = set(ev.get("events") or ()) if ev.get("event_type") == "review_resolved" else set()
    if not ids:  # every other event of a fold asks too: nothing to build for it
        return ids, ids
    resolved = {r.event_id for r in s.resolved_reviews}
    return ids, {i for i in ids if i in resolved or f"event:{s.case_id}:{i}" in s.applied_ids}


def resettles(s: CaseState, ev: Mapping[str, Any]) -> bool:
    """Is ``ev`` a 冲突复核 (review_resolved) of steps another one settled already? The
    review box shows on every laptop of the station (design.md §3), and two clerks offline
    each record it: the same act twice, not a clash (no step, no review; the case read
    需复核 again, of its own 冲突复核). A live second one is refused as before: where it is
    written (node casework, the hub's check_received) the steps are no longer open. So is
    one of steps a 撤销办结 released since (schemas.withdraw: kept for review while a
    completion stood, applied once it was withdrawn): settled by the withdrawal. And a
    撤销办结 of a completion withdrawn already: two laptops of the station each took the
    slip back offline (it was refused as not the last step, the case 需复核)."""
    if ev.get("event_type") == "completion_withdrawn":
        return any(w.get("completion") == ev.get("completion") for w in s.withdrawals)
    ids, settled = _settled(s, ev)
    return bool(ids) and ids == settled


def unsettled(s: CaseState, ev: Mapping[str, Any]) -> Mapping[str, Any]:
    """``ev`` as the fold judges it: a 冲突复核 naming steps settled already and steps still
    under review resolves the latter (one box ticked for two steps; a withdrawal released
    one of them before the 冲突复核 synced), not refused for the former (review_not_open)."""
    ids, settled = _settled(s, ev)
    if not settled or ids == settled:
        return ev
    return {**ev, "events": [i for i in ev["events"] if i not in settled]}
