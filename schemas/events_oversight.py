"""Events of evaluation and supervision (11.1, 11.2.1) and the access log (design.md §5)."""

from __future__ import annotations

from schemas.events import EventSchema
from schemas.fields import HlcStr, Part, Str, fields, one_of
from schemas.vocab import (
    ACCESS_PURPOSES,
    CHANNELS,
    COMPLAINT_CATEGORIES,
    COMPLAINT_RESULTS,
    RATING_LEVELS,
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
    """11.1: complaints about the handling; 5 c) handled in time."""

    EVENT_TYPE, CLAUSE, LABEL_ZH = "complaint", "11.1", "投诉"
    PRIVATE = ComplaintPrivate
    channel = Str(required=True, validate=one_of(CHANNELS))
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
