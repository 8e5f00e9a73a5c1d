"""The events whose form the applicant signs (Appendices B–E), and who signed it.

An 80-year-old served at home signs form C with a thumbprint, or her son signs for her; a
firm's form B is signed by its legal representative or by the employee it sent (9.1, 9.2).
The standard asks for the applicant's signature (10.1.5, 10.2.2, 10.2.5, 10.2.6) and the
form must say whose it is: before, the papers printed 代理人（签字） whenever the case's
*current* agent was set, so a form C signed by the old man himself read as signed by the
son a later 更正 named, and nothing anywhere said a guardian had signed.

So each signed event records, from its newest schema version on (schemas.event_versions
keeps the older ones valid as received):

* ``signer`` (clear): the capacity the signer acted in (:data:`schemas.vocab.SIGNERS`:
  本人, 法定代表人, 委托代理人, 监护人). A code, not a name: the hub counts it (9.2: how many
  services were signed for someone else) without reading personal data.
* ``thumbprint`` (clear): signed with a thumbprint (按指印), not a written name.
* ``signer_name`` (private, sealed): who signed, when not the applicant in person.

All three are optional (a force-majeure suspension may leave no one to sign; a hub-written
10.2.5.2 termination has no signer); :func:`check_signer` is the node's rule that a
signature for someone else names its signer.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

from schemas.events import EventSchema
from schemas.fields import Bool, DateStr, Int, Part, Str, fields, one_of, validate
from schemas.vocab import SIGNERS, SUSPENSION_REASONS, TERMINATION_REASONS

#: the cleartext members a signed event gained, and its private one
SIGNER_CLEAR = ("signer", "thumbprint")
SIGNER_PRIVATE = ("signer_name",)
#: capacities in which someone other than the applicant in person signs: named
SIGNS_FOR_ANOTHER = ("legal_rep", "agent", "guardian")


def _opt(max_len: int = 4000) -> Str:
    return Str(allow_none=True, max_len=max_len)


class SignerClear:
    """Cleartext members of a signed form's event (a mixin: marshmallow reads fields along
    the MRO)."""

    signer = Str(allow_none=True, validate=one_of(SIGNERS, "签字人身份"))
    thumbprint = Bool(allow_none=True)


class SignerPrivate:
    signer_name = _opt(100)


def check_signer(clear: Mapping[str, Any], private: Mapping[str, Any]) -> dict[str, str]:
    """``{field: message}``: a signature by someone other than the applicant in person names
    who signed (10.2.2: the entrustment must be the applicant's own will; the form shows
    whose hand is on it). Empty when fine."""
    if clear.get("signer") in SIGNS_FOR_ANOTHER and not str(private.get("signer_name") or "").strip():
        label = SIGNERS[str(clear["signer"])][0]
        return {"signer_name": f"由{label}签字时，请填写签字人姓名 / signer_name: required when "
                               f"the {SIGNERS[str(clear['signer'])][1]} signs"}
    return {}


class Signed(SignerPrivate, Part):
    """A form signed by the applicant: the signature is a scan/pad image attachment name."""

    applicant_signature = _opt(200)
    note = _opt()


class SuspensionPrivate(SignerPrivate, Part):
    details = _opt()
    applicant_signature = _opt(200)  # force majeure (d) may leave no one to sign


class Suspension(SignerClear, EventSchema):
    """10.2.5.1: suspend for reason a–d; form D; resumption deadline (10.2.5.2)."""

    EVENT_TYPE, CLAUSE, LABEL_ZH = "suspension", "10.2.5.1", "中止"
    SCHEMA_VERSION = 2
    ACCEPTED_VERSIONS = (1, 2)
    PRIVATE: type[Part] | None = SuspensionPrivate
    reason = Str(required=True, validate=one_of(SUSPENSION_REASONS, "中止原因"))
    resumption_deadline = DateStr(required=True)


class Resumption(SignerClear, EventSchema):
    """10.2.5.1: the cause removed, form E signed, handling continues."""

    EVENT_TYPE, CLAUSE, LABEL_ZH = "resumption", "10.2.5.1", "续办"
    SCHEMA_VERSION = 2
    ACCEPTED_VERSIONS = (1, 2)
    PRIVATE: type[Part] | None = Signed
    cause_removed_on = DateStr(required=True)
    new_time_limit_days = Int(allow_none=True,
                              validate=validate.Range(min=0, max=365))


class ConversionPrivate(SignerPrivate, Part):
    reason = _opt()
    applicant_signature = Str(required=True, max_len=200)  # form C for the proxy part


class Conversion(SignerClear, EventSchema):
    """10.1.4.3: the applicant finds it too hard → assisted becomes proxy handling (form C)."""

    EVENT_TYPE, CLAUSE, LABEL_ZH = "conversion", "10.1.4.3", "帮办转代办"
    SCHEMA_VERSION = 2
    ACCEPTED_VERSIONS = (1, 2)
    PRIVATE: type[Part] | None = ConversionPrivate
    ledger_no = Str(required=True, max_len=40)
    period_end = DateStr(required=True)


class CompletionPrivate(SignerPrivate, Part):
    materials_returned = fields.List(Str(max_len=200))
    documents = fields.List(Str(max_len=200))  # approval documents
    applicant_signature = Str(required=True, max_len=200)
    note = _opt()


class Completion(SignerClear, EventSchema):
    """10.1.5 / 10.2.6: form B signed by the applicant; materials and documents handed over."""

    EVENT_TYPE, CLAUSE, LABEL_ZH = "completion", "10.1.5", "办结"
    SCHEMA_VERSION = 3
    ACCEPTED_VERSIONS = (1, 2, 3)
    SEALED_FIELDS: ClassVar[tuple[str, ...]] = ("materials_returned", "documents")
    PRIVATE: type[Part] | None = CompletionPrivate


class TerminationPrivate(SignerPrivate, Part):
    materials_returned = fields.List(Str(max_len=200))
    applicant_signature = _opt(200)  # none when the hub writes 10.2.5.2
    reasons = _opt()


class Termination(SignerClear, EventSchema):
    """10.1.5 / 10.2.6 (form B), or 10.2.5.2 past the resumption deadline (hub-written)."""

    EVENT_TYPE, CLAUSE, LABEL_ZH = "termination", "10.1.5", "终止"
    SCHEMA_VERSION = 3
    ACCEPTED_VERSIONS = (1, 2, 3)
    SEALED_FIELDS: ClassVar[tuple[str, ...]] = ("materials_returned",)
    PRIVATE: type[Part] | None = TerminationPrivate
    reason = Str(required=True, validate=one_of(TERMINATION_REASONS, "终止原因"))
