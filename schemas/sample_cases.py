"""Deterministic sample case histories: a header and its events, open form, all legal.

:func:`case_history` plays one scenario (:data:`SCENARIOS`) for one village station;
:func:`case_histories` makes many, cycling scenarios, places and catalog items.
Each event is checked with :func:`schemas.rules.check_transition` as it is made, so the
samples exercise the real rules; the town's and the hub's devices join where the
scenario hands the case up or terminates it (10.2.5.2).
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from schemas.build import handover_fields, make_case, make_event
from schemas.fold import apply
from schemas.hlc import HLC, pack, tick
from schemas.ids import case_no, device_id
from schemas.rules import check_transition
from schemas.sample import calendars as sample_calendars
from schemas.sample import catalog as sample_catalog
from schemas.sample import enterprise, institutions, name, person
from schemas.state import CaseState
from schemas.workdays import Workdays

TZ = dt.timezone(dt.timedelta(hours=8))
HUB_SHORT = "HB"  # the hub's own device under the city code (writes 10.2.5.2 terminations)
SCENARIOS = ("consult_answered", "consult_reply", "assist_completed", "proxy_completed",
             "proxy_suspended_resumed", "proxy_suspended_expired", "converted", "handed_up",
             "refused", "in_handling")


class _Recorder:
    """Writes one case's events with per-device clocks, checking each transition."""

    def __init__(self, rng: random.Random, wd: Workdays, start: dt.datetime, village: str,
                 town: str, city: str, staff: str):
        self.rng, self.wd, self.now = rng, wd, start
        self.inst = village
        self.town, self.city, self.staff = town, city, staff
        self.clocks: dict[str, HLC | None] = {}
        self.device = device_id(village, "A1")
        self.state = CaseState()
        self.events: list[dict[str, Any]] = []
        self.case_id = ""

    def tick(self) -> HLC:
        c = tick(int(self.now.timestamp() * 1000), self.clocks.get(self.device), self.device)
        self.clocks[self.device] = c
        return c

    def later(self, working_days: int = 0, minutes: int = 0) -> None:
        if working_days:
            day = self.wd.add_working_days(self.now.date(), working_days)
            self.now = dt.datetime.combine(day, dt.time(9, self.rng.randrange(0, 50)), TZ)
        self.now += dt.timedelta(minutes=minutes or self.rng.randrange(5, 40))

    def as_(self, institution: str, short: str = "A1") -> None:
        self.inst, self.device = institution, device_id(institution, short)

    def ev(self, event_type: str, private: Mapping[str, Any] | None = None,
           **fields: Any) -> dict[str, Any]:
        self.later()
        base = self.state.last_hlc
        doc = make_event(event_type, case_id=self.case_id, clock=self.tick(),
                         at=self.now.isoformat(), institution=self.inst, staff=self.staff,
                         base_hlc=base, private=private or {}, **fields)
        check_transition(self.state, doc)  # samples must be legal
        self.state = apply(self.state, doc, self.wd)
        self.state.last_hlc = doc["hlc"]
        self.events.append(doc)
        return doc


def case_history(rng: random.Random, scenario: str, *, village: Mapping[str, Any],
                 town: Mapping[str, Any], item: Mapping[str, Any], serial: int,
                 start: dt.datetime, workdays: Workdays | None = None,
                 city: str = "410600", short: str = "A1") -> list[dict[str, Any]]:
    """One case: ``[header, event, event, …]`` in open form, opened by the village device
    ``{village code}-{short}``."""
    wd = workdays or Workdays(sample_calendars())
    staff = f"staff-{village['code'][-3:]}-{rng.randrange(1, 4)}"
    r = _Recorder(rng, wd, start, village["code"], town["code"], city, staff)
    r.as_(village["code"], short)
    elderly = item["focus_area"] == "livelihood" and rng.random() < 0.5
    disabled = item["code"] in ("MS-003", "MS-014") or (not elderly and rng.random() < 0.15)
    is_enterprise = item["focus_area"] == "enterprise"
    applicant = enterprise(rng) if is_enterprise else person(
        rng, area=village["code"][:6], address_prefix=village.get("region", ""), elderly=elderly)
    groups = [g for g, on in (("elderly", elderly), ("disabled", disabled)) if on]
    mode = "door" if groups and rng.random() < 0.7 else rng.choice(["online", "nearby"])
    proxy_first = scenario.startswith("proxy") or (scenario == "handed_up" and rng.random() < .5)
    clock = r.tick()
    r.case_id = pack(clock)
    header = make_case(
        clock=clock, case_no=case_no(village["code"], start.year, short, serial),
        institution=village["code"], path=[city, village["code"][:6], town["code"],
                                           village["code"]],
        device=r.device, opened_at=start.isoformat(),
        service_type="proxy" if proxy_first else "assist", mode=mode,
        focus_area=item["focus_area"], applicant_kind="enterprise" if is_enterprise else "person",
        private=applicant, service_item=item["code"], special_groups=groups, staff=staff)
    who = {"name": applicant["applicant_name"], "contact": applicant["phone"]}
    mats = item["materials"]
    answered = scenario != "consult_reply"
    r.ev("consultation", {**who, "question": f"咨询{item['name']}需要哪些材料、多长时间？",
                          "outcome": "已一次性告知所需材料和办理流程" if answered else None},
         channel="door" if mode == "door" else "window", answered=answered,
         service_item=item["code"], **({} if answered else {"referred_to": item["department"]}))
    if scenario == "consult_answered":
        return [header, *r.events]
    if scenario == "consult_reply":
        c = r.events[-1]
        r.later(working_days=1)
        r.ev("reply", {"answer": f"经{item['department']}确认，可按清单准备材料办理。"},
             consultation=c["hlc"], channel="phone")
        return [header, *r.events]
    period_end = (start + dt.timedelta(days=90)).date().isoformat()
    if proxy_first:
        r.ev("entrustment", {"scope": f"代为办理{item['name']}的申报、补正和领取结果",
                             "materials_received": [m["name"] for m in mats[:2]],
                             "applicant_signature": "sig-form-c.png"},
             channel="offline", service_item=item["code"], mode=mode,
             ledger_no=f"DB-{start.year}-{serial:05d}", period_end=period_end)
    else:
        r.ev("application", channel="offline", service_item=item["code"], mode=mode)
    if scenario == "handed_up":
        r.ev("hand_up", {"note": "本站无权限办理，报乡镇便民服务中心"},
             **handover_fields(village["code"], town["code"], "beyond_authority"))
        r.as_(town["code"])
        r.staff = f"staff-{town['code'][-3:]}-1"
    if scenario == "refused":
        r.ev("refusal", {"reasons": "申请事项不属于本站帮办代办事项清单范围，已告知可向县政务服务中心申请。"},
             reason_codes=["not_in_catalog"])
        r.later(working_days=1)
        r.ev("archived", archive_no=f"GD-{start.year}-{serial:05d}")
        return [header, *r.events]
    r.ev("acceptance", zone="assisted_zone", time_limit_days=item["time_limit_days"])
    missing = mats[-1:] if len(mats) > 1 else mats
    r.ev("notification", materials=[{"code": m["code"], "name": m["name"],
                                     "how_to_obtain": m["how_to_obtain"]} for m in missing],
         materials_due=wd.add_working_days(r.now.date(), 5).isoformat())
    r.ev("work_log", {"text": "已电话联系申请人，告知补齐材料的途径。"}, kind="contact")
    if scenario == "converted":
        r.ev("conversion", {"reason": "申请人年事已高，往返不便，自愿转为代办",
                            "applicant_signature": "sig-form-c.png"},
             ledger_no=f"DB-{start.year}-{serial:05d}", period_end=period_end)
    if scenario.startswith("proxy_suspended"):
        r.later(working_days=6)
        r.ev("reminder", {"note": "电话催告补齐材料"}, materials=[m["code"] for m in missing],
             due=wd.add_working_days(r.now.date(), 2).isoformat())
        r.later(working_days=3)
        reason = "a" if scenario.endswith("resumed") else "c"
        r.ev("suspension", {"details": "申请人逾期未补齐材料" if reason == "a" else "申请人要求暂停",
                            "applicant_signature": "sig-form-d.png"}, reason=reason,
             resumption_deadline=wd.add_working_days(r.now.date(), 10).isoformat())
        if scenario.endswith("expired"):
            deadline = dt.date.fromisoformat(r.events[-1]["resumption_deadline"])
            r.now = dt.datetime.combine(deadline + dt.timedelta(days=1), dt.time(2, 0), TZ)
            r.as_(city, HUB_SHORT)
            r.staff = None  # type: ignore[assignment]
            r.ev("termination", {"reasons": None}, reason="resumption_deadline_passed")
            return [header, *r.events]
        r.later(working_days=3)
        r.ev("material_received", materials=[m["code"] for m in missing])
        r.ev("resumption", {"applicant_signature": "sig-form-e.png"},
             cause_removed_on=r.now.date().isoformat())
    else:
        r.later(working_days=2)
        r.ev("material_received", materials=[m["code"] for m in missing])
    if scenario in ("proxy_completed", "handed_up"):
        r.ev("problem_opened", {"description": "审批系统提示材料扫描件不清晰"}, problem_id="P1",
             category="materials")
        r.ev("problem_updated", {"progress": "已重新用高拍仪扫描"}, problem_id="P1",
             status="in_progress")
        r.ev("problem_resolved", {"result_text": "已重新上传，系统校验通过"}, problem_id="P1",
             result="resolved")
    r.ev("submitted", department=item["department"], channel="online")
    if scenario == "in_handling":
        return [header, *r.events]
    if scenario == "proxy_completed":
        corr = r.ev("correction_requested", {"details": "需补正申请表签字页"},
                    department=item["department"], materials=[mats[0]["code"]])
        r.later(working_days=1)
        r.ev("correction_received", request=corr["hlc"])
    r.later(working_days=max(1, item["time_limit_days"] // 2))
    # document numbers and materials are free text: sealed (schema_version 2, 7.2.2.2)
    r.ev("decision", {"note": "审批部门已出具结果",
                      "document_no": f"{item['code']}-{start.year}-{serial:04d}"},
         department=item["department"], outcome="approved")
    # printing form B decrypts the applicant's data: logged (design.md §5)
    r.ev("access", {"note": "打印办结单"}, purpose="printing", fields_read=["applicant_name"])
    r.ev("completion", {"applicant_signature": "sig-form-b.png",
                        "materials_returned": [m["name"] for m in mats if m.get("original")],
                        "documents": [f"{item['name']}审批结果"]})
    level = rng.choices(["very_satisfied", "satisfied", "basic", "dissatisfied"],
                        weights=[6, 3, 1, 1])[0]
    r.ev("rating", {"comment": "服务周到" if level != "dissatisfied" else "等待时间较长"},
         level=level, channel="haochaping")
    if level == "dissatisfied":
        c = r.ev("complaint", {"text": "办理时间比预期长", "complainant": name(rng)},
                 channel="phone", category="overdue")
        r.later(working_days=1)
        r.ev("complaint_handled", {"text": "已回访说明情况，申请人表示理解"},
             complaint=c["hlc"], result="partly_upheld")
    r.later(working_days=1)
    r.ev("archived", archive_no=f"GD-{start.year}-{serial:05d}")
    return [header, *r.events]


def case_histories(seed: int = 1, n: int = 20, *, scenarios: Sequence[str] = SCENARIOS,
                   start: dt.date = dt.date(2026, 2, 2)) -> Iterator[list[dict[str, Any]]]:
    """``n`` cases across Hebi's village stations, cycling scenarios and catalog items."""
    rng = random.Random(seed)
    insts = institutions()
    by_code = {i["code"]: i for i in insts}
    villages = [i for i in insts if i["tier"] == "village"]
    # items a village or town may take, assisted and proxied (scenarios switch between them)
    items = [c for c in sample_catalog() if c["assist"] and c["proxy"]
             and ("village" in c["tiers"] or "town" in c["tiers"])]
    wd = Workdays(sample_calendars())
    serials: dict[str, int] = {}
    day = start
    for k in range(n):
        village = villages[k % len(villages)]
        scenario = scenarios[k % len(scenarios)]
        item = items[rng.randrange(len(items))]
        serials[village["code"]] = serials.get(village["code"], 0) + 1
        if k % 7 == 6:
            day = wd.add_working_days(day, 1)
        at = dt.datetime.combine(day, dt.time(8 + rng.randrange(0, 8), rng.randrange(60)), TZ)
        yield case_history(rng, scenario, village=village, town=by_code[village["parent"]],
                           item=item, serial=serials[village["code"]], start=at, workdays=wd)
