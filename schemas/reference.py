"""Reference documents (hub → nodes, design.md §2): institution, device, service_item, calendar;
and the per-case ``keyring`` (cleartext routing members only).

None of them holds personal data, so none has a ``private`` part.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, ClassVar

from marshmallow import ValidationError, validates_schema

from schemas.fields import (
    Base,
    Bool,
    DateStr,
    DateTimeStr,
    DeviceId,
    HlcStr,
    InstitutionCode,
    Int,
    ItemCode,
    Part,
    Str,
    fields,
    msg,
    one_of,
    validate,
)
from schemas.ids import doc_id, institution_tier
from schemas.vocab import FOCUS_AREAS, MODES, SCHEMA_VERSION, STAFF_ROLES, TIERS


class DocBase(Base):
    """Members every document has (docs/CONVENTIONS.md, "Documents")."""

    DOC_TYPE = ""
    #: the nested schema of the ``private`` part, or None when the type holds no personal data
    PRIVATE: type[Part] | None = None
    #: the version this class describes and this software writes (events may keep older
    #: versions valid as received: schemas.events.EventSchema.ACCEPTED_VERSIONS)
    SCHEMA_VERSION: ClassVar[int] = SCHEMA_VERSION

    _id = Str(required=True, data_key="_id", max_len=200)
    type = Str(required=True)
    schema_version = Int(required=True, validate=validate.Equal(SCHEMA_VERSION, error=msg(
        "schema_version", f"schema_version must be {SCHEMA_VERSION}",
        f"schema_version 必须为 {SCHEMA_VERSION}")))
    #: a signature (events: the device's; directory entries: the municipal root's), made by
    #: sync.crypto; its inner shape is that module's business (not even its keys are
    #: loaded here: sync.crypto reads the four it needs, and marshmallow would cost the hub
    #: four more field loads per document).
    sig = fields.Dict(allow_none=True)

    def expected_id(self, data: dict[str, Any]) -> str | None:
        return None

    @validates_schema
    def _check_id(self, data: dict[str, Any], **kw: Any) -> None:
        if data.get("type") != self.DOC_TYPE:
            raise ValidationError(msg("type", f"type must be {self.DOC_TYPE!r}",
                                      f"type 必须为 {self.DOC_TYPE!r}"), "type")
        want = self.expected_id(data)
        if want is not None and data.get("_id") != want:
            raise ValidationError(msg("doc_id", f"_id must be {want!r}", f"_id 必须为 {want!r}"),
                                  "_id")


class ReferenceBase(DocBase):
    """A document only the hub writes (institution, device, service_item, calendar; and
    schemas.boards' board)."""

    #: the hub's clock of this write (schemas.written): which of two conflicting leaves
    #: the hub wrote last after a restore from a backup; absent on older revisions
    written = HlcStr()


class PublicKey(Part):
    kid = Str(required=True, max_len=100)
    alg = Str(required=True, validate=one_of(["x25519", "ed25519"]))
    key = Str(required=True, max_len=200)  # base64 raw public key (sync.crypto)
    created_at = DateTimeStr()
    revoked_at = DateTimeStr(allow_none=True)


#: Staff on one institution's roster at most (a county center has tens, a station a few).
MAX_STAFF = 200


class StaffMember(Part):
    """One person on an institution's roster: the staff id events carry (``staff``, in clear:
    design.md §2), the name the window shows (8.1.2: public, not an applicant's data) and
    printed forms name as 经办人, the role (7.1), whether on duty now, and the day the person
    left the institution (``left``: `hub institution staff --remove`). A member who left stays
    on the roster, never on duty: the steps they recorded still carry their id, and the case
    page, the forms printed afterwards and the 11.2.2 assessment must still name them (7,
    6.2.2: stations change their staff; a dropped entry printed a bare id)."""

    id = Str(required=True, max_len=40)
    name = Str(required=True, max_len=40)
    role = Str(required=True, validate=one_of(STAFF_ROLES, "岗位"))
    on_duty = Bool()
    left = DateStr(allow_none=True)


def closed(institution: Any) -> bool:
    """Is this institution closed (`hub institution close`: a village merged into another,
    or a code changed)? Its history stays; no laptop is enrolled and no case handed to it."""
    return (institution or {}).get("active", True) is False


def on_duty(member: Any) -> bool:
    """Is a roster member shown at the window now (8.1.2)? ``on_duty`` absent means on
    duty; one who ``left`` never is, whatever else the entry says."""
    return bool(member.get("on_duty", True)) and not member.get("left")


def staff_names(institution: Any) -> dict[str, str]:
    """Staff id -> name from an institution document's roster (8.1.2), for every page and
    form that shows who handled a case; {} for a document without one."""
    return {str(m["id"]): str(m["name"]) for m in (institution or {}).get("staff") or []
            if m.get("id") and m.get("name")}


class InstitutionSchema(ReferenceBase):
    """6.1: a service institution of one tier, linked to its parent (4.3)."""

    DOC_TYPE = "institution"
    code = InstitutionCode(required=True)
    name = Str(required=True, max_len=100)
    tier = Str(required=True, validate=one_of(TIERS, "层级"))
    parent = InstitutionCode(allow_none=True)
    region = Str(allow_none=True, max_len=100)
    address = Str(allow_none=True, max_len=200)  # public (8.1.2)
    phone = Str(allow_none=True, max_len=40)
    public_keys = fields.List(fields.Nested(PublicKey))
    active = Bool()
    staff = fields.List(fields.Nested(StaffMember))  # the roster (8.1.2), `hub institution staff`

    def expected_id(self, data: dict[str, Any]) -> str | None:
        return doc_id("institution", data["code"]) if "code" in data else None

    @validates_schema
    def _roster(self, data: dict[str, Any], **kw: Any) -> None:
        ids = [m.get("id") for m in data.get("staff") or []]
        if len(ids) > MAX_STAFF:
            raise ValidationError(msg("max_items", f"at most {MAX_STAFF} staff on a roster",
                                      f"人员名单最多 {MAX_STAFF} 人"), "staff")
        twice = sorted({i for i in ids if ids.count(i) > 1})
        if twice:
            raise ValidationError(msg("unique", f"staff id {twice[0]!r} is listed twice",
                                      f"人员编号 {twice[0]!r} 重复"), "staff")

    @validates_schema
    def _tiers(self, data: dict[str, Any], **kw: Any) -> None:
        code, tier, parent = data.get("code"), data.get("tier"), data.get("parent")
        if code and tier and institution_tier(code) != tier:
            raise ValidationError(msg("tier_code", f"tier {tier!r} does not match code {code}",
                                      f"层级 {tier!r} 与机构代码 {code} 不符"), "tier")
        if tier == "city" and parent:
            raise ValidationError(msg("parent", "a city center has no parent",
                                      "市级中心没有上级机构"), "parent")
        if tier and tier != "city" and not parent:
            raise ValidationError(msg("required", "parent is required below the city tier (4.3)",
                                      "市级以下机构必须填写上级机构（4.3）"), "parent")


class DeviceSchema(ReferenceBase):
    """An enrolled laptop; its keys are made by sync.crypto (design.md §5)."""

    DOC_TYPE = "device"
    device_id = DeviceId(required=True)
    institution = InstitutionCode(required=True)
    short = Str(required=True, validate=validate.Regexp(r"^[A-Z][A-Z0-9]{1,3}$"))
    label = Str(allow_none=True, max_len=100)
    public_keys = fields.List(fields.Nested(PublicKey))
    enrolled_at = DateTimeStr(required=True)
    revoked_at = DateTimeStr(allow_none=True)

    def expected_id(self, data: dict[str, Any]) -> str | None:
        return doc_id("device", data["device_id"]) if "device_id" in data else None

    @validates_schema
    def _prefix(self, data: dict[str, Any], **kw: Any) -> None:
        dev, inst, short = data.get("device_id"), data.get("institution"), data.get("short")
        if dev and inst and short and dev != f"{inst}-{short}":
            raise ValidationError(msg("device_id", "device_id must be {institution}-{short}",
                                      "设备标识必须为 机构代码-设备简码"), "device_id")


class Material(Part):
    """One required material and how the applicant obtains it (一次性告知)."""

    code = Str(required=True, max_len=40)
    name = Str(required=True, max_len=200)
    how_to_obtain = Str(required=True, max_len=500)
    original = Bool()
    copies = Int(validate=validate.Range(min=0, max=20))


#: the longest 办理条件 or 办理流程 text, in characters: a page of form N at most
CONDITIONS_MAX_LEN = 1000
DEFAULT_MATERIALS_PERIOD_DAYS = 5  # working days to bring missing materials (10.2.5.1 a)
DEFAULT_RESUMPTION_PERIOD_DAYS = 20  # working days before 10.2.5.2 termination


class ServiceItemSchema(ReferenceBase):
    """6.2.4: one entry of the catalog (清单) of items that may be assisted or proxied."""

    DOC_TYPE = "service_item"
    code = ItemCode(required=True)
    name = Str(required=True, max_len=200)
    department = Str(required=True, max_len=100)  # 审批部门
    tiers = fields.List(Str(validate=one_of(TIERS)), required=True,
                        validate=validate.Length(min=1))
    assist = Bool(required=True)  # 可帮办
    proxy = Bool(required=True)  # 可代办
    focus_area = Str(required=True, validate=one_of(FOCUS_AREAS, "重点领域"))
    modes = fields.List(Str(validate=one_of(MODES)))
    materials = fields.List(fields.Nested(Material), required=True)
    time_limit_days = Int(required=True, validate=validate.Range(min=0, max=365))  # 法定时限
    promised_days = Int(allow_none=True, validate=validate.Range(min=0, max=365))
    # Optional with defaults (DEFAULT_MATERIALS_PERIOD_DAYS, DEFAULT_RESUMPTION_PERIOD_DAYS):
    # validate() never inserts defaults, so a signed document is stored exactly as signed.
    materials_period_days = Int(validate=validate.Range(min=1, max=90))
    resumption_period_days = Int(validate=validate.Range(min=1, max=365))
    fees = Bool()  # administrative fees exist (10.2.5.1 b); the service is free (4.1)
    active = Bool()
    # 办理条件 and 办理流程: what the one-time notification (一次性告知, 3 and 10.1.4) tells
    # besides the materials and the time limit. Optional: a catalog without them stays valid,
    # and a node never schema-checks a pulled reference document (node.verify checks its
    # signature only), so an older node stores and ignores them: no new schema_version.
    conditions = Str(max_len=CONDITIONS_MAX_LEN)
    procedure = Str(max_len=CONDITIONS_MAX_LEN)

    def expected_id(self, data: dict[str, Any]) -> str | None:
        return doc_id("service_item", data["code"]) if "code" in data else None

    @validates_schema
    def _eligible(self, data: dict[str, Any], **kw: Any) -> None:
        if data.get("assist") is False and data.get("proxy") is False:
            raise ValidationError(msg("eligible", "an item must allow assist or proxy handling",
                                      "事项必须至少可帮办或可代办"), "assist")


class CalendarSchema(ReferenceBase):
    """design.md §6: one year's holidays and make-up workdays (调休上班), for years
    ``chinesecalendar`` does not know."""

    DOC_TYPE = "calendar"
    year = Int(required=True, validate=validate.Range(min=2000, max=9999))
    holidays = fields.List(DateStr(), required=True)
    workdays = fields.List(DateStr(), required=True)  # make-up workdays on weekends
    source = Str(allow_none=True, max_len=200)
    updated_at = DateTimeStr(allow_none=True)

    def expected_id(self, data: dict[str, Any]) -> str | None:
        return doc_id("calendar", data["year"]) if "year" in data else None

    @validates_schema
    def _dates(self, data: dict[str, Any], **kw: Any) -> None:
        year = data.get("year")
        hol, work = data.get("holidays", []), data.get("workdays", [])
        for name, dates in (("holidays", hol), ("workdays", work)):
            for i, d in enumerate(dates):
                if year and not d.startswith(f"{year:04d}-"):
                    raise ValidationError(msg("calendar_year", f"{d} is not in {year}",
                                              f"{d} 不在 {year} 年内"), f"{name}.{i}")
        both = sorted(set(hol) & set(work))
        if both:
            raise ValidationError(msg("calendar_disjoint", f"both holiday and workday: {both}",
                                      f"同一天不能既是节假日又是调休工作日：{both}"), "workdays")
        for i, d in enumerate(work):
            if dt.date.fromisoformat(d).weekday() < 5:
                raise ValidationError(msg("makeup_weekend",
                                          f"{d} is a weekday; make-up workdays are weekend days",
                                          f"{d} 是工作日；调休上班日应为周末"), f"workdays.{i}")


class KeyringRecipient(Part):
    institution = Str(required=True, max_len=40)  # an institution code, or "escrow"
    key_id = Str(required=True, max_len=200)
    role = Str(required=True, max_len=20)


class KeyringGeneration(Part):
    kid = Str(required=True, max_len=100)
    wraps = fields.List(fields.Dict(keys=fields.String()), required=True)  # sync.crypto's


class KeyringSchema(DocBase):
    """design.md §5: the case data key wrapped per holder (shape owned by sync.crypto.keyring;
    here only the cleartext routing members are checked)."""

    DOC_TYPE = "keyring"
    case_id = HlcStr(required=True)
    current = Str(required=True, max_len=100)
    recipients = fields.List(fields.Nested(KeyringRecipient), required=True)
    data_keys = fields.List(fields.Nested(KeyringGeneration), required=True)

    def expected_id(self, data: dict[str, Any]) -> str | None:
        return f"keyring:{data['case_id']}" if "case_id" in data else None
