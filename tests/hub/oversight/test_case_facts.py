"""Hand-made case histories and what they count: facts, counters, the report (no hub)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from hub.oversight.facts import CaseFact, case_fact, contributions
from schemas import sample
from schemas.workdays import Workdays
from tests.hub.oversight.cases import CaseBuilder

V = "410602101201"
WD = Workdays(sample.calendars())


def test_a_bad_rating_of_an_archived_case_can_be_followed_up() -> None:
    """The 好差评 rating arrives after completion, usually once the case is archived (10.1.6:
    promptly); the rules refused every work-log entry on an archived case, so the station
    could not record its call back: the bad rating stayed 'not followed up' for good (the
    hub's copy of such an entry was kept as a conflict: needs review)."""
    b = CaseBuilder(V, "s1", "2026-03-02").accepted("2026-03-02", 10)
    b.completed("2026-03-05", archive="2026-03-06")
    b.ev("rating", "2026-03-09", level="dissatisfied", channel="haochaping")
    b.ev("work_log", "2026-03-10", kind="contact", private={"text": "差评回访，已整改"})
    f = case_fact(b.header, b.events, WD, complaint_days=5)
    assert f.status == "archived" and not f.needs_review and f.reviews == 0
    assert f.rating_followed is True
    counted = contributions(f)[(V, "s1", "2026-03")]
    assert (counted["bad_ratings"], counted["bad_followed"]) == (1, 1)


def test_only_contact_with_the_applicant_follows_up_a_bad_rating() -> None:
    """11.2.1: a bad rating is followed up by calling the applicant back. Any work-log entry
    counted, so a 跟踪 note on the approval written after a 不满意 marked it 已回访."""
    b = CaseBuilder(V, "s1", "2026-03-02").accepted("2026-03-02", 10)
    b.completed("2026-03-05")
    b.ev("rating", "2026-03-09", level="very_dissatisfied", channel="haochaping")
    b.ev("work_log", "2026-03-10", kind="tracking", private={"text": "审批结果已送达"})
    assert case_fact(b.header, b.events, WD, complaint_days=5).rating_followed is False
    b.ev("work_log", "2026-03-11", kind="contact", private={"text": "电话回访，已说明原因"})
    assert case_fact(b.header, b.events, WD, complaint_days=5).rating_followed is True


def test_each_consultation_is_counted_in_the_month_it_was_asked() -> None:
    """All the consultations of a case were counted in the month of its first one: a
    question asked on 16 Mar during handling, answered late, went into February's report
    (changing it afterwards) and March's showed no late reply (10.1.1.3, 5 c)."""
    b = CaseBuilder(V, "s1", "2026-02-27")
    b.ev("consultation", "2026-02-27", channel="window", answered=True,
         private={"question": "要带什么材料？"})
    b.accepted("2026-03-02", 10)
    q = b.ev("consultation", "2026-03-16", channel="phone", answered=False,
             private={"question": "进度？"})
    b.ev("reply", "2026-03-18", consultation=q["hlc"], channel="phone",
         private={"answer": "已报送"})  # due Tue 17 Mar: one day late
    b.ev("consultation", "2026-03-19", channel="phone", answered=False,
         private={"question": "何时办结？"})  # still waiting
    counted = contributions(case_fact(b.header, b.events, WD, complaint_days=5))
    feb, mar = counted[(V, "s1", "2026-02")], counted[(V, "s1", "2026-03")]
    assert (feb["consultations"], feb["consult_in_time"], feb["consult_late"]) == (1, 1, 0)
    assert (mar["consultations"], mar["consult_in_time"], mar["consult_late"],
            mar["consult_pending"]) == (2, 0, 1, 1)


def test_a_fact_stored_before_consultation_days_is_taken_back_as_counted() -> None:
    """The materialization moves counters by new - old contributions; an old fact (no
    per-consultation days) must take back exactly what it added."""
    old = CaseFact(case_id="c", institution=V, staff="s1", opened_on="2026-02-27",
                   consulted_on="2026-02-27", consultations=3, consult_late=1,
                   consult_pending=1)
    assert dict(contributions(old)[(V, "s1", "2026-02")]) == {
        "opened": 1, "consultations": 3, "consult_late": 1, "consult_pending": 1,
        "consult_in_time": 1}


def test_the_monthly_report_states_how_many_cases_are_overdue(report_said: list[str]) -> None:
    """The PDF report's 超期未办结 heading counted the rows it listed, which stop at 200 (the
    earliest deadlines): a city with 250 late cases reported "200 件", against 250 in its
    own table's total row."""
    from hub.oversight.indicators import Row
    from hub.oversight.report import monthly_report

    said = report_said
    total = Row("", live={"overdue": 3})
    listed = [{"case_no": f"N-{i}", "case_id": f"c{i}", "institution": V, "staff": "s1",
               "due": "2026-03-09"} for i in range(2)]
    pdf = monthly_report(scope_name="鹤壁市", first="2026-03", last="2026-03",
                         today=dt.date(2026, 3, 20), rows=[], total=total, name=str,
                         overdue=listed, missing=[], complaint_days=5)
    assert pdf.startswith(b"%PDF")
    assert "三、超期未办结的办件（5 a、11.1 b）：3 件" in said
    assert "下表列出办理时限到期最早的 2 件。" in said


def test_a_complaint_taken_at_the_hub_in_utc_counts_on_beijing_s_day() -> None:
    """The hub (a server in UTC) writes ``at`` with +00:00: a complaint taken at 02:00 on
    20 Mar in Hebi is 18:00 on 19 Mar in UTC. Its day was read in the writer's offset, so
    the tracking list showed it received the day before, its 5 c) deadline one working day
    early, and one taken on 1 Apr counted in March."""
    b = CaseBuilder(V, "s1", "2026-03-02").accepted("2026-03-02", 10)
    b.completed("2026-03-05", archive="2026-03-06")
    taken = b.ev("complaint", "2026-03-20", channel="written", category="attitude",
                 private={"text": "态度生硬"})
    taken["at"] = "2026-03-19T18:00:00+00:00"  # 2026-03-20 02:00 Beijing time
    f = case_fact(b.header, b.events, WD, complaint_days=5)
    assert [(c.received_on, c.due) for c in f.complaints] == [("2026-03-20", "2026-03-27")]


def test_the_monthly_report_counts_terminations_beside_completions(tmp_path: Path) -> None:
    """The report's rate leaves terminated cases out (终止另计, its legend says), but its
    table had no 终止 column: the demo's month with two cases terminated past their
    resumption deadline (10.2.5.2) read 办结 4, 按时办结率 100% and nothing else."""
    import subprocess

    from hub.oversight.indicators import Row
    from hub.oversight.report import monthly_report

    total = Row("", c={"completed": 4, "on_time": 4, "terminated": 2})
    pdf = tmp_path / "report.pdf"
    pdf.write_bytes(monthly_report(
        scope_name="鹤壁市", first="2026-11", last="2026-11", today=dt.date(2026, 11, 27),
        rows=[], total=total, name=str, overdue=[], missing=[], complaint_days=5))
    text = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True,
                          text=True, check=True).stdout
    table = text.split("一、质量指标", 1)[1]
    head = next(x for x in table.splitlines() if x.strip().startswith("机构")).split()
    line = next(x for x in table.splitlines() if x.strip().startswith("合计")).split()
    assert head[1:4] == ["办结", "按时办结率", "终止"]
    assert line[1:4] == ["4", "100.0%", "2"]


def test_a_firms_parallel_items_each_keep_their_own_time_limit() -> None:
    """9.1: one firm's items run side by side, each its own case with its own limit. The
    one suspended for an unpaid fee (10.2.5.1 b) stops its own clock only: completed after
    its first due day but within the days suspended it is on time; its neighbour, accepted
    the same day and not suspended, completed as late is not; a third still suspended is
    in no denominator and not overdue (10.2.5)."""
    def firm_item(item: str) -> CaseBuilder:
        b = CaseBuilder(V, "s1", "2026-03-02", service_type="proxy", service_item=item,
                        focus_area="enterprise")
        b.ev("entrustment", "2026-03-02", channel="offline", service_item=item, mode="nearby",
             ledger_no=f"DB-{item}", period_end="2026-12-31", signer="agent",
             private={"scope": "代办", "applicant_signature": "c.png", "signer_name": "张伟"})
        b.ev("acceptance", "2026-03-02", zone="assisted_zone", time_limit_days=5)  # due 9 Mar
        return b

    fee, plain, waiting = firm_item("QY-012"), firm_item("QY-002"), firm_item("QY-004")
    fee.ev("suspension", "2026-03-04", reason="b", resumption_deadline="2026-04-30")
    fee.ev("resumption", "2026-03-11", cause_removed_on="2026-03-11",
           private={"applicant_signature": "e.png"})  # 4, 5, 6, 9, 10 Mar stopped
    fee.completed("2026-03-13")
    plain.completed("2026-03-13")
    waiting.ev("suspension", "2026-03-04", reason="b", resumption_deadline="2026-04-30")
    facts = {name: case_fact(b.header, b.events, WD, complaint_days=5)
             for name, b in (("fee", fee), ("plain", plain), ("waiting", waiting))}
    assert facts["plain"].due == "2026-03-09" and facts["plain"].on_time is False
    assert facts["fee"].due == "2026-03-16" and facts["fee"].on_time is True
    assert facts["waiting"].on_time is None and facts["waiting"].suspended_since == "2026-03-04"
    month = [contributions(f)[(V, "s1", "2026-03")] for f in facts.values()]
    assert sum(c.get("completed", 0) for c in month) == 2
    assert sum(c.get("on_time", 0) for c in month) == 1


def test_a_refused_submission_is_not_counted_to_its_department() -> None:
    """11.1 d) counted a case at the department of its first ``submitted`` event even when
    the fold refused it (10.2.4: a submission is made while the case is handled, not before
    its acceptance): 浚县住建局 got a case never sent there, in the month of the refusal."""
    b = CaseBuilder(V, "s1", "2026-03-02")
    b.ev("submitted", "2026-03-02", department="浚县住建局", channel="online")  # too soon
    f = case_fact(b.header, b.events, WD, complaint_days=5)
    assert (f.department, f.submitted_on, f.submitted_by) == ("", None, "")
    b.accepted("2026-03-03", 10)
    b.ev("submitted", "2026-03-05", department="浚县民政局", channel="online")
    f = case_fact(b.header, b.events, WD, complaint_days=5)
    assert (f.department, f.submitted_on, f.submitted_by) == ("浚县民政局", "2026-03-05", V)
    assert f.needs_review  # the refused one is still there, for review


def test_a_refused_correction_or_consultation_is_not_counted() -> None:
    """11.1 d) counted every 补正通知 of a case and 11.1's consultations took the first
    consultation event, applied or not: a 补正通知 typed before the acceptance (10.2.4: the
    department asks while the case is handled) went to the department's correction count."""
    b = CaseBuilder(V, "s1", "2026-03-02")
    b.ev("correction_requested", "2026-03-02", department="浚县民政局", materials=["M1"])
    f = case_fact(b.header, b.events, WD, complaint_days=5)
    assert f.corrections == 0 and f.needs_review
    b.accepted("2026-03-03", 10)
    b.ev("submitted", "2026-03-04", department="浚县民政局", channel="online")
    b.ev("correction_requested", "2026-03-05", department="浚县民政局", materials=["M1"])
    f = case_fact(b.header, b.events, WD, complaint_days=5)
    assert f.corrections == 1
