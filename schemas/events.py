"""Event documents: one immutable document per step of the standard's process (design.md §2).

Every event has the members of :class:`EventSchema` (``_id`` is
``event:{case_id}:{hlc}``) plus its own cleartext fields; personal data and free
text go in ``private`` (sealed before storing). The event types and their
clauses are listed in :data:`EVENT_SCHEMAS` (built in :mod:`schemas.event_types`).
"""

from __future__ import annotations

from typing import Any, ClassVar

from marshmallow import ValidationError, validates_schema

from schemas.chunks import chunked_field
from schemas.fields import (
    DateTimeStr,
    DeviceId,
    HlcStr,
    InstitutionCode,
    Part,
    Str,
    check_device_institution,
    msg,
)
from schemas.ids import event_doc_id
from schemas.reference import DocBase


class NoPrivate(Part):
    """Events whose free text is optional still get a ``note``."""

    note = Str(allow_none=True, max_len=4000)


class EventSchema(DocBase):
    """Members of every event."""

    DOC_TYPE = "event"
    EVENT_TYPE: ClassVar[str] = ""
    #: the clause of DB4106/T 101—2023 this event carries (cited in errors and forms)
    CLAUSE: ClassVar[str] = ""
    LABEL_ZH: ClassVar[str] = ""
    PRIVATE: type[Part] | None = NoPrivate

    event_type = Str(required=True, max_len=40)
    case_id = HlcStr(required=True)
    hlc = HlcStr(required=True)  # the event id; ordering key (design.md §6)
    #: the latest case event the writer had folded when recording (concurrency check at the hub)
    base_hlc = HlcStr(allow_none=True)
    at = DateTimeStr(required=True)  # when it happened, writer's wall clock with offset
    device = DeviceId(required=True)
    institution = InstitutionCode(required=True)  # the recording institution
    staff = Str(allow_none=True, max_len=64)  # staff id (never a name)
    #: scans too large to travel inline: attachment name -> manifest of its content-addressed
    #: chunk documents (design.md §4; schemas.chunks). Cleartext so the signature covers it.
    chunked = chunked_field()

    def expected_id(self, data: dict[str, Any]) -> str | None:
        if "case_id" in data and "hlc" in data:
            return event_doc_id(data["case_id"], data["hlc"])
        return None

    @validates_schema
    def _event(self, data: dict[str, Any], **kw: Any) -> None:
        if data.get("event_type") != self.EVENT_TYPE:
            raise ValidationError(msg("event_type", f"event_type must be {self.EVENT_TYPE!r}",
                                      f"event_type 必须为 {self.EVENT_TYPE!r}"), "event_type")
        hlc, base = data.get("hlc"), data.get("base_hlc")
        if hlc and base and base >= hlc:
            raise ValidationError(msg("base_hlc", "base_hlc must be before hlc",
                                      "base_hlc 必须早于 hlc"), "base_hlc")
        # Hub-written events (10.2.5.2 termination) come from the hub's own device id under
        # the city code; every other writer records for its own institution.
        check_device_institution(data)
        dev = data.get("device")
        if hlc and dev and not hlc.endswith("-" + dev):
            raise ValidationError(msg("hlc_node", "hlc must be ticked by the recording device",
                                      "hlc 必须由记录设备生成"), "hlc")
