"""Every event type of the process (10.1 assisted, 10.2 proxy, 11 evaluation), with its
cleartext fields and its private part. :data:`EVENT_SCHEMAS` maps ``event_type`` to schema.
"""

from __future__ import annotations

from typing import ClassVar

from schemas.event_signed import (
    Completion,
    Conversion,
    Resumption,
    SignerClear,
    SignerPrivate,
    Suspension,
    Termination,
)
from schemas.events import EventSchema, NoPrivate
from schemas.events_oversight import (
    Access,
    Complaint,
    ComplaintHandled,
    Rating,
    ReviewResolved,
)
from schemas.fields import (
    Bool,
    DateStr,
    HlcStr,
    InstitutionCode,
    Int,
    ItemCode,
    Part,
    Str,
    fields,
    one_of,
    validate,
)
from schemas.reference import Material
from schemas.vocab import (
    CHANNELS,
    DECISIONS,
    HANDOVER_REASONS,
    MODES,
    PROBLEM_CATEGORIES,
    PROBLEM_RESULTS,
    PROBLEM_STATUSES,
    REFUSAL_REASONS,
    SUBMIT_CHANNELS,
    TIERS,
    WORK_LOG_KINDS,
    ZONES,
)
from schemas.withdraw import CompletionWithdrawn


def _opt(max_len: int = 4000) -> Str:
    return Str(allow_none=True, max_len=max_len)


def _codes(min_len: int = 1) -> fields.List:
    return fields.List(Str(max_len=40), required=True, validate=validate.Length(min=min_len))


class SignedRequired(Part):
    applicant_signature = Str(required=True, max_len=200)
    note = _opt()


# -- consultation (10.1.1, 10.2.1) ----------------------------------------------------------

class ConsultationPrivate(Part):
    name = _opt(100)
    contact = _opt(100)
    question = Str(required=True, max_len=4000)
    outcome = _opt()


class Consultation(EventSchema):
    """10.1.1 / 10.2.1: record name, contact, question, outcome; unanswered → reply due in 1
    working day (10.1.1.3)."""

    EVENT_TYPE, CLAUSE, LABEL_ZH = "consultation", "10.1.1", "咨询"
    PRIVATE = ConsultationPrivate
    channel = Str(required=True, validate=one_of(CHANNELS, "咨询渠道"))
    answered = Bool(required=True)  # answered on the spot (one-time notification)
    referred_to = _opt(100)  # approval department asked when not answered
    service_item = ItemCode(allow_none=True)


class ReplyPrivate(Part):
    answer = Str(required=True, max_len=4000)


class Reply(EventSchema):
    """10.1.1.3: the reply to a consultation not answered on the spot."""

    EVENT_TYPE, CLAUSE, LABEL_ZH = "reply", "10.1.1.3", "咨询答复"
    PRIVATE = ReplyPrivate
    consultation = HlcStr(required=True)  # the consultation's event id
    channel = Str(required=True, validate=one_of(CHANNELS))


# -- application / entrustment -----------------------------------------------------------------

class Application(EventSchema):
    """10.1.2: application for assisted handling."""

    EVENT_TYPE, CLAUSE, LABEL_ZH = "application", "10.1.2", "申请"
    channel = Str(required=True, validate=one_of(["online", "offline"]))
    service_item = ItemCode(required=True)
    mode = Str(required=True, validate=one_of(MODES))


class EntrustmentPrivate(SignerPrivate, Part):
    scope = Str(required=True, max_len=2000)  # 委托事项及权限
    materials_received = fields.List(Str(max_len=200))
    applicant_signature = Str(required=True, max_len=200)
    note = _opt()


class Entrustment(SignerClear, EventSchema):
    """10.2.2: form C signed, case entered in the proxy ledger (代办服务台账); who signed it
    (schemas.event_signed: the applicant, or a guardian or agent for them, 9.2)."""

    EVENT_TYPE, CLAUSE, LABEL_ZH = "entrustment", "10.2.2", "委托"
    SCHEMA_VERSION = 2
    ACCEPTED_VERSIONS = (1, 2)
    PRIVATE: type[Part] | None = EntrustmentPrivate
    channel = Str(required=True, validate=one_of(["online", "offline"]))
    service_item = ItemCode(required=True)
    mode = Str(required=True, validate=one_of(MODES))
    ledger_no = Str(required=True, max_len=40)
    period_end = DateStr(required=True)  # 委托期限


class Acceptance(EventSchema):
    """10.1.3 / 10.2.3: form A issued; the time limit starts."""

    EVENT_TYPE, CLAUSE, LABEL_ZH = "acceptance", "10.1.3", "受理"
    zone = Str(required=True, validate=one_of(ZONES, "办理区域"))
    time_limit_days = Int(required=True, validate=validate.Range(min=0, max=365))


class RefusalPrivate(Part):
    reasons = Str(required=True, max_len=4000)


class Refusal(EventSchema):
    """10.1.3 / 10.2.3: not eligible → tell the applicant with reasons."""

    EVENT_TYPE, CLAUSE, LABEL_ZH = "refusal", "10.1.3", "不予受理"
    PRIVATE = RefusalPrivate
    reason_codes = fields.List(Str(validate=one_of(REFUSAL_REASONS)), required=True,
                               validate=validate.Length(min=1))


# -- handling (10.1.4, 10.2.4) -------------------------------------------------------------------

class Notification(EventSchema):
    """一次性告知 (3, 10.1.4.2): every missing material at once, each with how to obtain it."""

    EVENT_TYPE, CLAUSE, LABEL_ZH = "notification", "10.1.4.2", "一次性告知"
    materials = fields.List(fields.Nested(Material), required=True,
                            validate=validate.Length(min=1))
    materials_due = DateStr(allow_none=True)


class MaterialReceived(EventSchema):
    EVENT_TYPE, CLAUSE, LABEL_ZH = "material_received", "10.1.4", "材料接收"
    materials = _codes()
    attachments = fields.List(Str(max_len=200))  # scans (8.2.3), sealed by F


class Reminder(EventSchema):
    """10.2.5.1 a): materials not submitted → remind before suspending."""

    EVENT_TYPE, CLAUSE, LABEL_ZH = "reminder", "10.2.5.1", "催告"
    materials = _codes()
    due = DateStr(allow_none=True)


class CorrectionPrivate(Part):
    details = _opt()


class CorrectionRequested(EventSchema):
    """10.2.4: the department asks for corrections (补正); contact the applicant."""

    EVENT_TYPE, CLAUSE, LABEL_ZH = "correction_requested", "10.2.4", "补正通知"
    PRIVATE = CorrectionPrivate
    department = Str(required=True, max_len=100)
    materials = _codes()
    due = DateStr(allow_none=True)


class CorrectionReceived(EventSchema):
    EVENT_TYPE, CLAUSE, LABEL_ZH = "correction_received", "10.2.4", "补正材料接收"
    request = HlcStr(required=True)  # the correction_requested event id


class ProblemOpenedPrivate(Part):
    description = Str(required=True, max_len=4000)


class ProblemOpened(EventSchema):
    """10.2.4: record each problem and keep its status and result up to date."""

    EVENT_TYPE, CLAUSE, LABEL_ZH = "problem_opened", "10.2.4", "问题登记"
    PRIVATE = ProblemOpenedPrivate
    problem_id = Str(required=True, max_len=40)
    category = Str(required=True, validate=one_of(PROBLEM_CATEGORIES))


class ProblemUpdatedPrivate(Part):
    progress = _opt()


class ProblemUpdated(EventSchema):
    EVENT_TYPE, CLAUSE, LABEL_ZH = "problem_updated", "10.2.4", "问题进展"
    PRIVATE = ProblemUpdatedPrivate
    problem_id = Str(required=True, max_len=40)
    status = Str(required=True, validate=one_of(PROBLEM_STATUSES))


class ProblemResolvedPrivate(Part):
    result_text = _opt()


class ProblemResolved(EventSchema):
    EVENT_TYPE, CLAUSE, LABEL_ZH = "problem_resolved", "10.2.4", "问题办结"
    PRIVATE = ProblemResolvedPrivate
    problem_id = Str(required=True, max_len=40)
    result = Str(required=True, validate=one_of(PROBLEM_RESULTS))


# Version 2 of submitted, decision, completion and termination: their free text (receipt and
# document numbers, materials handed back) moved into the sealed part (7.2.2.2, design.md §2):
# a clerk may type a name or an ID number there, and the cleartext is read at the hub and by
# every oversight user. Version 1 (those members in clear) stays valid as received:
# schemas.event_versions.


class SubmittedPrivate(Part):
    reference = _opt(100)  # the department's receipt number
    note = _opt()


class Submitted(EventSchema):
    """10.1.4 / 10.2.4: materials submitted to the approval department."""

    EVENT_TYPE, CLAUSE, LABEL_ZH = "submitted", "10.2.4", "报送审批部门"
    SCHEMA_VERSION = 2
    ACCEPTED_VERSIONS = (1, 2)
    SEALED_FIELDS: ClassVar[tuple[str, ...]] = ("reference",)
    PRIVATE: type[Part] | None = SubmittedPrivate
    department = Str(required=True, max_len=100)  # an institution's name, not a person's
    channel = Str(required=True, validate=one_of(SUBMIT_CHANNELS))


class DecisionPrivate(Part):
    document_no = _opt(100)  # 批准文号: may be a certificate number naming the holder
    note = _opt()


class Decision(EventSchema):
    EVENT_TYPE, CLAUSE, LABEL_ZH = "decision", "10.2.4", "审批决定"
    SCHEMA_VERSION = 2
    ACCEPTED_VERSIONS = (1, 2)
    SEALED_FIELDS: ClassVar[tuple[str, ...]] = ("document_no",)
    PRIVATE: type[Part] | None = DecisionPrivate
    department = Str(required=True, max_len=100)
    outcome = Str(required=True, validate=one_of(DECISIONS))


class WorkLogPrivate(Part):
    text = Str(required=True, max_len=8000)


class WorkLog(EventSchema):
    """7.3.2 / 10.1.4 / 10.2.4: the 《帮办代办工作日志》 entry."""

    EVENT_TYPE, CLAUSE, LABEL_ZH = "work_log", "7.3.2", "工作日志"
    PRIVATE = WorkLogPrivate
    kind = Str(required=True, validate=one_of(WORK_LOG_KINDS))


# -- suspension, resumption, conversion, hand-over ------------------------------------------

# suspension (form D), resumption (form E), conversion (form C): schemas.event_signed


class _Handover(EventSchema):
    from_institution = InstitutionCode(required=True)
    to_institution = InstitutionCode(required=True)
    from_tier = Str(required=True, validate=one_of(TIERS))
    to_tier = Str(required=True, validate=one_of(TIERS))
    reason_code = Str(required=True, validate=one_of(HANDOVER_REASONS))


class HandUp(_Handover):
    """4.3: the case moves up one tier (village → town → county → city)."""

    EVENT_TYPE, CLAUSE, LABEL_ZH = "hand_up", "4.3", "上报"


class HandDown(_Handover):
    """4.3: the case moves down one tier (e.g. door-to-door service by the village)."""

    EVENT_TYPE, CLAUSE, LABEL_ZH = "hand_down", "4.3", "下派"


# -- completion, termination, archiving ------------------------------------------------------

# completion and termination (form B): schemas.event_signed


class Archived(EventSchema):
    """10.1.6 / 10.2.7: handed over and archived."""

    EVENT_TYPE, CLAUSE, LABEL_ZH = "archived", "10.1.6", "归档"
    archive_no = Str(required=True, max_len=60)


EVENT_SCHEMAS: dict[str, type[EventSchema]] = {
    cls.EVENT_TYPE: cls
    for cls in (Consultation, Reply, Application, Entrustment, Acceptance, Refusal, Notification,
                MaterialReceived, Reminder, CorrectionRequested, CorrectionReceived, ProblemOpened,
                ProblemUpdated, ProblemResolved, Submitted, Decision, WorkLog, Suspension,
                Resumption, Conversion, HandUp, HandDown, Completion, CompletionWithdrawn,
                Termination, Archived, Rating, Complaint, ComplaintHandled, Access, ReviewResolved)
}

__all__ = ["EVENT_SCHEMAS", "NoPrivate"]
