"""A small case builder for rule tests: events at given local times, one device per institution."""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection
from typing import Any

from hypothesis import strategies as st

from schemas.build import handover_fields, make_event
from schemas.fold import fold
from schemas.hlc import HLC, pack, tick
from schemas.paper import PAPER_STEPS, paper_at
from schemas.rules import check_transition
from schemas.state import CaseState

TZ = dt.timezone(dt.timedelta(hours=8))
VILLAGE = "410621101201"  # 浚县善堂镇善堂村便民服务站 (sample numbering)
TOWN = "410621101"
COUNTY = "410621"
CITY = "410600"
OTHER_VILLAGE = "410621102201"

SIGNED = {"applicant_signature": "sig.png"}


class CaseBuilder:
    """Builds events of one case; ``ev`` checks the transition unless ``check=False``."""

    def __init__(self, opened: str = "2026-02-02T09:00"):
        self.clocks: dict[str, HLC | None] = {}
        self.events: list[dict[str, Any]] = []
        start = self._dt(opened)
        self.case_id = pack(HLC(int(start.timestamp() * 1000) - 1, 0, f"{VILLAGE}-A1"))

    @staticmethod
    def _dt(at: str) -> dt.datetime:
        return dt.datetime.fromisoformat(at).replace(tzinfo=TZ)

    def state(self, **kw: Any) -> CaseState:
        return fold(self.events, **kw)

    def make(self, event_type: str, at: str, *, institution: str = VILLAGE, short: str = "A1",
             private: dict[str, Any] | None = None, stated: str | None = None,
             **fields: Any) -> dict[str, Any]:
        """An event typed at ``at`` (its clock), stating ``stated`` (补录) or ``at``."""
        moment = self._dt(at)
        dev = f"{institution}-{short}"
        clock = tick(int(moment.timestamp() * 1000), self.clocks.get(dev), dev)
        self.clocks[dev] = clock
        return make_event(event_type, case_id=self.case_id, clock=clock,
                          at=stated or moment.isoformat(),
                          institution=institution, staff="staff-1", private=private, **fields)

    def ev(self, event_type: str, at: str, *, check: bool = True, **kw: Any) -> dict[str, Any]:
        doc = self.make(event_type, at, **kw)
        if check:
            check_transition(self.state(), doc)
        self.events.append(doc)
        return doc

    # -- common steps --------------------------------------------------------------------------
    def consult(self, at: str, answered: bool = True, **kw: Any) -> dict[str, Any]:
        return self.ev("consultation", at, channel="window", answered=answered,
                       private={"question": "怎么办理？"}, **kw)

    def apply_assist(self, at: str, **kw: Any) -> dict[str, Any]:
        return self.ev("application", at, channel="offline", service_item="MS-004",
                       mode="nearby", **kw)

    def entrust(self, at: str, period_end: str = "2026-06-30", **kw: Any) -> dict[str, Any]:
        return self.ev("entrustment", at, channel="offline", service_item="MS-004", mode="door",
                       ledger_no="DB-2026-00001", period_end=period_end,
                       private={"scope": "代为申报", **SIGNED}, **kw)

    def accept(self, at: str, days: int = 10, **kw: Any) -> dict[str, Any]:
        return self.ev("acceptance", at, zone="assisted_zone", time_limit_days=days, **kw)

    def notify(self, at: str, **kw: Any) -> dict[str, Any]:
        return self.ev("notification", at, materials=[
            {"code": "M02", "name": "户口簿", "how_to_obtain": "本人户口簿原件"}], **kw)

    def suspend(self, at: str, reason: str = "c", deadline: str = "2026-03-20",
                **kw: Any) -> dict[str, Any]:
        return self.ev("suspension", at, reason=reason, resumption_deadline=deadline,
                       private={"details": "暂停"}, **kw)

    def resume(self, at: str, removed: str | None = None, **kw: Any) -> dict[str, Any]:
        return self.ev("resumption", at, cause_removed_on=removed or at[:10], private=SIGNED,
                       **kw)

    def complete(self, at: str, **kw: Any) -> dict[str, Any]:
        return self.ev("completion", at, private=SIGNED, **kw)

    def hand(self, kind: str, at: str, frm: str, to: str, **kw: Any) -> dict[str, Any]:
        return self.ev(kind, at, institution=frm, **handover_fields(frm, to, "beyond_authority"),
                       **kw)

    def proxy_in_handling(self) -> CaseBuilder:
        self.consult("2026-03-02T09:00")
        self.entrust("2026-03-02T09:30")
        self.accept("2026-03-02T10:00")
        return self

    def assist_in_handling(self) -> CaseBuilder:
        self.consult("2026-03-02T09:00")
        self.apply_assist("2026-03-02T09:30")
        self.accept("2026-03-02T10:00")
        return self


# Random sequences, legal or not, from two devices (property tests of the fold).
STEPS = ["consultation", "application", "entrustment", "acceptance", "notification",
         "material_received", "suspension", "resumption", "conversion", "completion",
         "termination", "rating", "archived", "work_log", "submitted", "decision", "access"]


#: the indices of :func:`random_events`' steps to enter from paper: any, or (a case brought
#: in from the paper ledger) its first ones
PAPER = st.one_of(st.sets(st.integers(0, 30)), st.integers(0, 30).map(lambda n: set(range(n))))


def random_events(spec: list[tuple[str, int, int]],
                  paper: Collection[int] = ()) -> list[dict[str, Any]]:
    """One case's events: ``(step, minute after 2026-03-02 08:00 in 10-hour days, device)``;
    those at the indices ``paper`` of ``spec`` that may be are 补录 (schemas.paper), stating
    the paper's date a week before the day they are typed."""
    c = CaseBuilder("2026-03-02T08:00")
    kw: dict[str, dict[str, Any]] = {
        "consultation": dict(channel="window", answered=False, private={"question": "?"}),
        "application": dict(channel="offline", service_item="MS-004", mode="nearby"),
        "entrustment": dict(channel="offline", service_item="MS-004", mode="door",
                            ledger_no="DB-1", period_end="2026-06-30",
                            private={"scope": "s", **SIGNED}),
        "acceptance": dict(zone="assisted_zone", time_limit_days=5),
        "notification": dict(materials=[{"code": "M1", "name": "n", "how_to_obtain": "h"}]),
        "material_received": dict(materials=["M1"]),
        "suspension": dict(reason="c", resumption_deadline="2026-04-30"),
        "resumption": dict(cause_removed_on="2026-03-02", private=SIGNED),
        "conversion": dict(ledger_no="DB-2", period_end="2026-06-30", private=SIGNED),
        "completion": dict(private=SIGNED),
        "termination": dict(reason="applicant_withdrew"),
        "rating": dict(level="basic", channel="haochaping"),
        "archived": dict(archive_no="GD-1"),
        "work_log": dict(kind="tracking", private={"text": "t"}),
        "submitted": dict(department="民政局", channel="online"),
        "decision": dict(department="民政局", outcome="approved"),
        "access": dict(purpose="handling"),
    }
    out = []
    for step, minute, device in spec:
        at = f"2026-03-{2 + minute // 600:02d}T{8 + (minute % 600) // 60:02d}:{minute % 60:02d}"
        ev = c.make(step, at, short=f"A{device}", **kw[step])
        if len(out) in paper and step in PAPER_STEPS:
            day = dt.date.fromisoformat(at[:10]) - dt.timedelta(days=7)
            ev = c.make(step, at, short=f"A{device}", stated=paper_at(day), **kw[step])
        out.append(ev)
    return out
