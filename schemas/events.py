"""Event documents: one immutable document per step of the standard's process (design.md §2).

Every event has the members of :class:`EventSchema` (``_id`` is
``event:{case_id}:{hlc}``) plus its own cleartext fields; personal data and free
text go in ``private`` (sealed before storing). The event types and their
clauses are listed in :data:`EVENT_SCHEMAS` (built in :mod:`schemas.event_types`).
"""

from __future__ import annotations

from typing import Any, ClassVar

from marshmallow import ValidationError, validates, validates_schema

from schemas.chunks import chunked_field
from schemas.fields import (
    DateTimeStr,
    DeviceId,
    HlcStr,
    InstitutionCode,
    Int,
    Part,
    Str,
    check_device_institution,
    msg,
)
from schemas.ids import event_doc_id
from schemas.reference import DocBase


def must_be_sealed(name: str, version: int) -> str:
    """The refusal of free text written in clear where its schema version seals it."""
    return msg("must_be_sealed",
               f"{name} must be sealed: since schema_version {version} it is free text kept in "
               "the private part, which the hub and oversight users cannot read (7.2.2.2)",
               f"{name} 必须加密存放：自 schema_version {version} 起该自由文本只能写在 private "
               "部分，中心和监督用户不可读（7.2.2.2）")


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
    #: the version this class describes (registry: ``(event_type, schema_version)`` -> class);
    #: this software writes each type's newest version only (schemas.registry.writing_version)
    SCHEMA_VERSION: ClassVar[int] = 1
    #: every version of this event type still accepted as received (older nodes keep writing
    #: and syncing them); named in the error for a version outside it
    ACCEPTED_VERSIONS: ClassVar[tuple[int, ...]] = (1,)
    #: members an older version kept in clear that this version keeps in ``private`` only:
    #: refused at the top level with the rule ``must_be_sealed``
    SEALED_FIELDS: ClassVar[tuple[str, ...]] = ()

    schema_version = Int(required=True)
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

    def load_doc(self, doc: Any) -> dict[str, Any]:
        in_clear = [k for k in self.SEALED_FIELDS if isinstance(doc, dict) and k in doc]
        if not in_clear:
            return super().load_doc(doc)
        # Named as its own rule rather than marshmallow's "unknown field": the clerk's
        # software is older or wrong, and the fix is to move the value into ``private``.
        errors: dict[str, Any] = {k: [must_be_sealed(k, self.SCHEMA_VERSION)] for k in in_clear}
        try:
            super().load_doc({k: v for k, v in doc.items() if k not in in_clear})
        except ValidationError as exc:
            if isinstance(exc.messages, dict):
                errors.update({k: v for k, v in exc.messages.items() if k not in errors})
        raise ValidationError(errors)

    @validates("schema_version")
    def _version(self, value: int, **kw: Any) -> None:
        # The registry picks the class of the document's own version; a mismatch here is a
        # version no class describes.
        if value != self.SCHEMA_VERSION:
            versions = [str(v) for v in self.ACCEPTED_VERSIONS]
            raise ValidationError(msg(
                "schema_version",
                f"schema_version must be {' or '.join(versions)} for {self.EVENT_TYPE} events",
                f"{self.EVENT_TYPE} 事件的 schema_version 必须为 {' 或 '.join(versions)}"))

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
