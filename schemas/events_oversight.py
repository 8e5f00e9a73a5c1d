"""Events of evaluation and supervision (11.1, 11.2.1), the access log (design.md §5) and the
acknowledgement of a case flagged ``needs_review`` (design.md §3, 4.2)."""

from __future__ import annotations

from schemas.events import EventSchema
from schemas.fields import HlcStr, Part, Str, fields, one_of, validate
from schemas.vocab import (
    ACCESS_PURPOSES,
    COMPLAINT_CATEGORIES,
    COMPLAINT_CHANNELS,
    COMPLAINT_RESULTS,
    RATING_LEVELS,
    REVIEW_DECISIONS,
)


def _opt(max_len: int = 4000) -> Str:
    return Str(allow_none=True, max_len=max_len)


class RatingPrivate(Part):
    comment = _opt()


class Rating(EventSchema):
    """11.2.1: 好差评 after completion, five levels."""

    EVENT_TYPE, CLAUSE, LABEL_ZH = "rating", "11.2.1", "好差评"
    PRIVATE = RatingPrivate
    level = Str(required=True, validate=one_of(RATING_LEVELS, "评价等级"))
    channel = Str(required=True, validate=one_of(["haochaping", "window", "phone", "online"]))


class ComplaintPrivate(Part):
    text = Str(required=True, max_len=8000)
    complainant = _opt(100)
    contact = _opt(100)


class Complaint(EventSchema):
    """11.1: complaints about the handling (any time after the case is opened, 11.1 c);
    5 c) handled in time."""

    EVENT_TYPE, CLAUSE, LABEL_ZH = "complaint", "11.1", "投诉"
    PRIVATE = ComplaintPrivate
    channel = Str(required=True, validate=one_of(COMPLAINT_CHANNELS, "投诉渠道"))
    category = Str(required=True, validate=one_of(COMPLAINT_CATEGORIES))


class ComplaintHandledPrivate(Part):
    text = Str(required=True, max_len=8000)


class ComplaintHandled(EventSchema):
    EVENT_TYPE, CLAUSE, LABEL_ZH = "complaint_handled", "11.1", "投诉处理"
    PRIVATE = ComplaintHandledPrivate
    complaint = HlcStr(required=True)
    result = Str(required=True, validate=one_of(COMPLAINT_RESULTS))


class Access(EventSchema):
    """design.md §5 (7.2.2.2): a decryption of the case's personal data — who (staff,
    device), when (at), which case (case_id), why (purpose)."""

    EVENT_TYPE, CLAUSE, LABEL_ZH = "access", "7.2.2.2", "查阅个人信息"
    purpose = Str(required=True, validate=one_of(ACCESS_PURPOSES, "查阅目的"))
    fields_read = fields.List(Str(max_len=40))


class ReviewResolvedPrivate(Part):
    note = Str(required=True, max_len=4000)


class ReviewResolved(EventSchema):
    """design.md §3 / 4.2: a coordinator looked at events the fold could not apply (concurrent
    offline steps) and records the decision; those events stop flagging ``needs_review``.
    Nothing is deleted: the refused events stay in the case, listed as ``resolved_reviews``."""

    EVENT_TYPE, CLAUSE, LABEL_ZH = "review_resolved", "4.2", "冲突复核"
    PRIVATE = ReviewResolvedPrivate
    events = fields.List(HlcStr(), required=True, validate=validate.Length(min=1))
    decision = Str(required=True, validate=one_of(REVIEW_DECISIONS, "复核结论"))
