"""Twelve cases with hand-computed indicators (2026 calendar: Spring Festival holiday
15–23 Feb, make-up workdays Sat 14 Feb and Sat 28 Feb). ``AS_OF`` = 2026-03-20."""

from __future__ import annotations

from typing import Any

from tests.hub.oversight.cases import HUB_DEVICE, CaseBuilder

V1, V2, W = "410602101201", "410602101202", "410621101201"  # 鹤壁集村, 东头村, 善堂村
AS_OF = "2026-03-20"


def scenario() -> dict[str, CaseBuilder]:
    c: dict[str, CaseBuilder] = {}
    # c1: 3 working days from Thu 12 Feb = Fri 13, Sat 14 (make-up), Tue 24 → on time on 24 Feb
    b = c["c1"] = CaseBuilder(V1, "s1", "2026-02-12").accepted("2026-02-12", 3)
    b.completed("2026-02-24", archive="2026-02-25")
    b.ev("rating", "2026-02-24", level="satisfied", channel="haochaping")
    # c2: same limit, completed 25 Feb → late; bad rating followed up; complaint in time
    b = c["c2"] = CaseBuilder(V1, "s1", "2026-02-12").accepted("2026-02-12", 3)
    b.completed("2026-02-25")
    b.ev("rating", "2026-02-25", level="dissatisfied", channel="haochaping")
    comp = b.ev("complaint", "2026-02-25", channel="phone", category="overdue",
                private={"text": "慢"})
    # due: 5 working days from 25 Feb = 26, 27, 28 (make-up), 2 Mar, 3 Mar
    b.ev("complaint_handled", "2026-03-03", complaint=comp["hlc"], result="partly_upheld",
         private={"text": "已回访"})
    b.ev("work_log", "2026-03-03", kind="tracking", private={"text": "差评回访"})
    b.ev("archived", "2026-03-04", archive_no="GD-2")
    # c3: proxy, accepted Mon 2 Mar, 5 working days → 9 Mar; suspended 3–9 Mar (5 working
    # days excluded) → due 16 Mar; completed 13 Mar: on time only because of the suspension.
    b = c["c3"] = CaseBuilder(V1, "s2", "2026-03-02", service_type="proxy")
    b.accepted("2026-03-02", 5, proxy=True)
    b.ev("suspension", "2026-03-03", reason="c", resumption_deadline="2026-03-20",
         private={"details": "申请人要求暂停"})
    b.ev("resumption", "2026-03-10", cause_removed_on="2026-03-10", private={})
    b.completed("2026-03-13", log=False, archive="2026-03-16")  # no work log
    # c4: proxy suspended, resumption deadline passed: terminated by the hub (10.2.5.2)
    b = c["c4"] = CaseBuilder(V2, "s3", "2026-02-02", service_type="proxy")
    b.accepted("2026-02-02", 10, proxy=True)
    b.ev("suspension", "2026-02-03", reason="c", resumption_deadline="2026-02-10",
         private={"details": "暂停"})
    b.ev("termination", "2026-02-11", device=HUB_DEVICE, institution="410600",
         reason="resumption_deadline_passed", private={})
    # consultations (10.1.1.3: reply within 1 working day)
    b = c["c5"] = CaseBuilder(V2, "s3", "2026-02-13")  # Fri 13 Feb → due Sat 14 (make-up)
    q = b.ev("consultation", "2026-02-13", channel="window", answered=False,
             private={"question": "?"})
    b.ev("reply", "2026-02-24", consultation=q["hlc"], channel="phone", private={"answer": "!"})
    b = c["c6"] = CaseBuilder(V2, "s3", "2026-02-12")
    q = b.ev("consultation", "2026-02-12", channel="window", answered=False,
             private={"question": "?"})
    b.ev("reply", "2026-02-13", consultation=q["hlc"], channel="phone", private={"answer": "!"})
    b = c["c7"] = CaseBuilder(V2, "s3", "2026-03-18")
    b.ev("consultation", "2026-03-18", channel="window", answered=True, private={"question": "?"})
    b = c["c8"] = CaseBuilder(V2, "s3", "2026-03-18")  # pending; due 19 Mar → overdue on 20
    b.ev("consultation", "2026-03-18", channel="window", answered=False, private={"question": "?"})
    # c9: accepted 2 Mar, 5 working days → 9 Mar, still handling on 20 Mar: overdue
    b = c["c9"] = CaseBuilder(W, "s9", "2026-03-02").accepted("2026-03-02", 5)
    # 11.1 d): submitted, a correction asked, returned by the department
    b.ev("submitted", "2026-03-03", department="浚县民政局", channel="online")
    b.ev("correction_requested", "2026-03-04", department="浚县民政局", materials=["M1"],
         private={"details": "补正"})
    b.ev("decision", "2026-03-05", department="浚县民政局", outcome="returned", private={})
    # c10: completed on time, one unsigned event, very bad rating without follow-up,
    # complaint still open past its deadline (5 Mar + 5 working days = 12 Mar)
    b = c["c10"] = CaseBuilder(W, "s9", "2026-03-02").accepted("2026-03-02", 10)
    b.completed("2026-03-05", archive="2026-03-06")
    b.ev("rating", "2026-03-06", level="very_dissatisfied", channel="haochaping")
    b.ev("complaint", "2026-03-06", channel="online", category="attitude", private={"text": "态度差"})
    # c11: a completion the rules refuse (no acceptance): kept, flagged for review
    b = c["c11"] = CaseBuilder(W, "s9", "2026-03-03")
    b.ev("application", "2026-03-03", channel="offline", service_item="MS-001", mode="nearby")
    b.ev("completion", "2026-03-04",
         private={"applicant_signature": "b.png", "materials_returned": [], "documents": []})
    # c12: suspended 16 Mar, resumption deadline 23 Mar: near it on 20 Mar
    b = c["c12"] = CaseBuilder(W, "s9", "2026-03-02", service_type="proxy")
    b.accepted("2026-03-02", 20, proxy=True)
    b.ev("suspension", "2026-03-16", reason="c", resumption_deadline="2026-03-23",
         private={"details": "暂停"})
    return c


UNSIGNED = ("c10", "completion")  # this event is stored without its device signature


def stored_histories(cases: dict[str, CaseBuilder]) -> list[list[dict[str, Any]]]:
    from tests.hub.oversight.conftest import stored

    out = []
    for key, b in cases.items():
        docs = [stored(b.header)]
        for e in b.events:
            unsigned = (key, e["event_type"]) == UNSIGNED
            docs.append(stored(e, signed=not unsigned))
        out.append(docs)
    return out
