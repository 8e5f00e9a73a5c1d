"""Hand-made case histories with chosen dates, for indicators with known answers."""

from __future__ import annotations

import datetime as dt
from typing import Any

from schemas.build import make_case, make_event
from schemas.hlc import HLC, pack, tick
from schemas.ids import case_no, device_id

TZ = dt.timezone(dt.timedelta(hours=8))
HUB_DEVICE = "410600-HB"


class CaseBuilder:
    """``CaseBuilder(village, staff, "2026-02-12").ev("application", "2026-02-12", ...)``."""

    serials: dict[str, int] = {}
    seconds = 0  # every event of every builder gets its own second: unique clocks

    def __init__(self, institution: str, staff: str, opened: str, *, service_type: str = "assist",
                 service_item: str = "MS-001", mode: str = "nearby",
                 focus_area: str = "livelihood", special_groups: tuple[str, ...] = ()):
        self.institution, self.staff = institution, staff
        self.device = device_id(institution, "A1")
        self.clock: HLC | None = None
        at = self._at(opened)
        self.clock = tick(int(at.timestamp() * 1000), None, self.device)
        self.case_id = pack(self.clock)
        n = CaseBuilder.serials[institution] = CaseBuilder.serials.get(institution, 0) + 1
        path = ["410600", institution[:6], institution[:9], institution][: 1 + len(institution) // 3 - 1]
        self.header = make_case(
            clock=self.clock, case_no=case_no(institution, 2026, "A1", n), institution=institution,
            path=path, device=self.device, opened_at=at.isoformat(), service_type=service_type,
            mode=mode, focus_area=focus_area, applicant_kind="person",
            private={"applicant_name": "张三"}, service_item=service_item, staff=staff,
            special_groups=special_groups)
        self.events: list[dict[str, Any]] = []
        self.last: str | None = None

    def _at(self, day: str) -> dt.datetime:
        CaseBuilder.seconds += 1
        return dt.datetime.combine(dt.date.fromisoformat(day), dt.time(9, 0), TZ) + \
            dt.timedelta(seconds=CaseBuilder.seconds)

    def ev(self, event_type: str, day: str, *, device: str | None = None,
           institution: str | None = None, private: dict[str, Any] | None = None,
           **fields: Any) -> dict[str, Any]:
        at = self._at(day)
        dev = device or self.device
        base = self.clock
        self.clock = tick(max(int(at.timestamp() * 1000), base.wall_ms if base else 0),
                          HLC(base.wall_ms, base.counter, dev) if base else None, dev)
        doc = make_event(event_type, case_id=self.case_id, clock=self.clock, at=at.isoformat(),
                         institution=institution or self.institution,
                         staff=None if device == HUB_DEVICE else fields.pop("staff", self.staff),
                         base_hlc=self.last, private=private or {}, **fields)
        self.last = doc["hlc"]
        self.events.append(doc)
        return doc

    # -- common sequences ----------------------------------------------------------------
    def accepted(self, day: str, limit: int, *, proxy: bool = False) -> CaseBuilder:
        if proxy:
            self.ev("entrustment", day, channel="offline", service_item="MS-001", mode="nearby",
                    ledger_no="DB-1", period_end="2026-12-31",
                    private={"scope": "代办", "applicant_signature": "s.png"})
        else:
            self.ev("application", day, channel="offline", service_item="MS-001", mode="nearby")
        self.ev("acceptance", day, zone="assisted_zone", time_limit_days=limit)
        return self

    def completed(self, day: str, *, log: bool = True, archive: str | None = None) -> CaseBuilder:
        if log:
            self.ev("work_log", day, kind="tracking", private={"text": "跟踪"})
        self.ev("completion", day, private={"applicant_signature": "b.png",
                                           "materials_returned": [], "documents": []})
        if archive:
            self.ev("archived", archive, archive_no=f"GD-{self.case_id[-6:]}")
        return self

    def history(self) -> list[dict[str, Any]]:
        return [self.header, *self.events]
