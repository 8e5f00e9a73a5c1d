"""The case header: the small, mutable document of one case (design.md §2, §3).

The case's *state* (status, holder, deadlines) is never stored here: it is the
fold of the case's immutable events (:mod:`schemas.fold`). The header carries
the facts fixed at opening and a few editable attributes, each with its own
hybrid logical clock in ``clocks`` so concurrent edits merge field by field
(:mod:`schemas.merge`); values that lose a merge are kept in ``history``.

Mergeable fields: :data:`MERGE_FIELDS` plus the private part as one unit (the
hub cannot read it, so it merges ``sealed`` as a whole under the clock
``clocks["private"]``).
"""

from __future__ import annotations

from typing import Any

from marshmallow import ValidationError, validates_schema

from schemas.fields import (
    DateTimeStr,
    DeviceId,
    HlcStr,
    InstitutionCode,
    ItemCode,
    Part,
    Str,
    fields,
    msg,
    one_of,
    validate,
)
from schemas.ids import CASE_NO_RE, doc_id
from schemas.reference import DocBase
from schemas.vocab import (
    APPLICANT_KINDS,
    FOCUS_AREAS,
    ID_TYPES,
    MODES,
    SERVICE_TYPES,
    SPECIAL_GROUPS,
)

#: header fields that may change after opening (each merged by its own clock)
MERGE_FIELDS = ("staff", "mode", "service_item", "focus_area", "special_groups", "labels",
                "applicant_kind")
#: the clock key of the private part (``private`` while open, ``sealed`` when stored)
PRIVATE_CLOCK = "private"


class CasePrivate(Part):
    """Personal data of the applicant (7.2.2.2): sealed before storing."""

    applicant_name = Str(required=True, max_len=100)
    enterprise_name = Str(allow_none=True, max_len=200)
    id_type = Str(validate=one_of(ID_TYPES, "证件类型"))
    id_number = Str(allow_none=True, max_len=40)
    phone = Str(allow_none=True, max_len=40)
    address = Str(allow_none=True, max_len=300)
    agent_name = Str(allow_none=True, max_len=100)  # 经办人 (enterprise)
    note = Str(allow_none=True, max_len=2000)


class HistoryEntry(Part):
    """A value that lost a field merge (kept, never dropped: design.md §3)."""

    field = Str(required=True, max_len=40)
    value = fields.Raw(required=True, allow_none=True)
    #: the clock of the lost version ("" for a fixed field two revisions disagreed on)
    hlc = fields.String(required=True, validate=validate.Regexp(
        r"^(|[0-9a-f]{12}-[0-9a-f]{4}-[A-Za-z0-9][A-Za-z0-9_.-]{0,63})$",
        error=msg("hlc", "not a hybrid logical clock", "混合逻辑时钟格式错误")))


class CaseSchema(DocBase):
    DOC_TYPE = "case"
    PRIVATE = CasePrivate

    case_id = HlcStr(required=True)
    case_no = Str(required=True, validate=validate.Regexp(CASE_NO_RE, error=msg(
        "case_no", "case_no must be {institution}-{year}-{short}-{serial:05d}",
        "办件编号格式应为 机构代码-年份-设备简码-五位流水号")))
    institution = InstitutionCode(required=True)  # where the case was opened
    #: codes from the city down to ``institution`` (scope routing, 4.3)
    institution_path = fields.List(InstitutionCode(), required=True,
                                   validate=validate.Length(min=1, max=4))
    device = DeviceId(required=True)
    opened_at = DateTimeStr(required=True)
    service_type = Str(required=True, validate=one_of(SERVICE_TYPES, "服务类型"))  # at opening
    service_item = ItemCode(allow_none=True)
    mode = Str(required=True, validate=one_of(MODES, "服务方式"))
    focus_area = Str(required=True, validate=one_of(FOCUS_AREAS, "重点领域"))
    applicant_kind = Str(required=True, validate=one_of(APPLICANT_KINDS, "服务对象类型"))
    special_groups = fields.List(Str(validate=one_of(SPECIAL_GROUPS)))
    staff = Str(allow_none=True, max_len=64)  # staff id, not a name
    labels = fields.List(Str(max_len=40))
    clocks = fields.Dict(keys=Str(max_len=40), values=HlcStr(), required=True)
    history = fields.List(fields.Nested(HistoryEntry))

    def expected_id(self, data: dict[str, Any]) -> str | None:
        return doc_id("case", data["case_id"]) if "case_id" in data else None

    @validates_schema
    def _consistent(self, data: dict[str, Any], **kw: Any) -> None:
        path, inst = data.get("institution_path"), data.get("institution")
        if path and inst and path[-1] != inst:
            raise ValidationError(msg("institution_path", "institution_path must end with institution",
                                      "机构路径必须以受理机构结尾"), "institution_path")
        dev, no = data.get("device"), data.get("case_no")
        if dev and inst and not dev.startswith(inst + "-"):
            raise ValidationError(msg("device_institution", "device must belong to institution",
                                      "设备必须属于受理机构"), "device")
        if no and inst and dev and not no.startswith(inst + "-"):
            raise ValidationError(msg("case_no_institution", "case_no must start with institution",
                                      "办件编号必须以受理机构代码开头"), "case_no")
        clocks = data.get("clocks") or {}
        bad = sorted(set(clocks) - set(MERGE_FIELDS) - {PRIVATE_CLOCK})
        if bad:
            raise ValidationError(msg("clock_field", f"no clock allowed for {bad}",
                                      f"以下字段不可设置时钟：{bad}"), "clocks")
