"""Coordination notices: a town (or county) urges a station about one of its cases.

4.2 asks for whole-process coordination and tracking (全程协调、全程跟踪). The hub's coordination
boards (schemas/boards.py) show a town its villages' late cases, but a town may write only to
cases it holds (design.md §5), so it could see a late case and not say so in the system. A
``notice`` is that word: ``_id = "notice:{to_institution}:{hlc}"``, written and signed by a
device of the institution above, delivered to the station named in ``to_institution``.

It carries no free text on purpose: a reason from :data:`NOTICE_REASONS` and the case's
number as the board showed it. A free-text message could name the applicant, and the notice
is not sealed (it belongs to no case keyring); the station opens the case itself for
everything else. Notices never change (a second revision is refused, as for events).
"""

from __future__ import annotations

from typing import Any

from marshmallow import validates_schema

from schemas.fields import (
    DateTimeStr,
    DeviceId,
    HlcStr,
    InstitutionCode,
    Str,
    check_device_institution,
    one_of,
)
from schemas.reference import DocBase

NOTICE_PREFIX = "notice:"
#: Why a station is urged (zh, en). The first three are the board's deadlines.
NOTICE_REASONS = {
    "due": ("办理时限已过", "time limit passed"),
    "reply_due": ("咨询答复超期（10.1.1.3）", "consultation reply late (10.1.1.3)"),
    "resume_by": ("续办期限已过（10.2.5.2）", "resumption deadline passed (10.2.5.2)"),
    "review": ("待复核，请核对办理步骤", "needs review: check the steps"),
    "follow_up": ("请跟进", "please follow up"),
}


def notice_doc_id(to_institution: str, hlc: str) -> str:
    return f"{NOTICE_PREFIX}{to_institution}:{hlc}"


class NoticeSchema(DocBase):
    """``notice:{to}:{hlc}``: one urge from an institution above to a station."""

    DOC_TYPE = "notice"
    hlc = HlcStr(required=True)
    at = DateTimeStr(required=True)
    device = DeviceId(required=True)
    institution = InstitutionCode(required=True)  # the writer's (town or county)
    to_institution = InstitutionCode(required=True)
    case_id = HlcStr(required=True)
    case_no = Str(max_len=60)
    reason = Str(required=True, validate=one_of(NOTICE_REASONS))

    def expected_id(self, data: dict[str, Any]) -> str | None:
        has = "to_institution" in data and "hlc" in data
        return notice_doc_id(data["to_institution"], data["hlc"]) if has else None

    @validates_schema
    def _device(self, data: dict[str, Any], **kw: Any) -> None:
        check_device_institution(data)  # written by a device of ``institution`` itself
