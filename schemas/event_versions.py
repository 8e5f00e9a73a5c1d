"""Older versions of event types, valid as received (design.md §2; standard 7.2.2.2).

Nodes already deployed wrote, and keep writing and syncing, version 1 of the event types
whose free text version 2 seals (:mod:`schemas.event_types`: submitted, decision,
completion, termination). A hub and every node must accept those documents as they were
signed, so each old version stays registered here; this software writes only the newest
(:func:`schemas.registry.writing_version`). Readers take a member from where its document's
version keeps it (:func:`schemas.registry.member`).

Each class is its version-2 class with the moved members back in clear and the old private
part: the signature covers the version, and the AEAD of the sealed part binds it
(sync.crypto.seal.BOUND_FIELDS), so a version-1 document cannot be relabelled version 2.

The events of the signed forms (entrustment, conversion, suspension, resumption: version
2; completion, termination: version 3) record who signed (schemas.event_signed); their
versions before that are the same classes without those members (:func:`_before_signer`).
"""

from __future__ import annotations

from typing import Any

from schemas.event_signed import SIGNER_CLEAR, SIGNER_PRIVATE
from schemas.event_types import (
    EVENT_SCHEMAS,
    Completion,
    Conversion,
    Decision,
    Entrustment,
    Resumption,
    SignedRequired,
    Submitted,
    Suspension,
    Termination,
)
from schemas.events import EventSchema, NoPrivate
from schemas.fields import Part, Str, fields


def _without(cls: type[Any], members: tuple[str, ...], name: str, **attrs: Any) -> type[Any]:
    """``cls`` without ``members`` (marshmallow's ``Meta.exclude``: an excluded member is an
    unknown one, refused as before it existed)."""
    meta = type("Meta", (cls.Meta,), {"exclude": members})
    return type(name, (cls,), {"Meta": meta, "__module__": __name__, **attrs})


def _before_signer(cls: type[EventSchema], version: int,
                   private: type[Part] | None = None) -> type[EventSchema]:
    """The version of ``cls`` before it recorded its signer: no ``signer``, ``thumbprint``,
    nor ``signer_name`` in its private part (``private``: an older private part)."""
    old = private or cls.PRIVATE
    if old is not None and any(m in old._declared_fields for m in SIGNER_PRIVATE):
        old = _without(old, SIGNER_PRIVATE, f"{old.__name__}V{version}")
    return _without(cls, SIGNER_CLEAR, f"{cls.__name__}V{version}", SCHEMA_VERSION=version,
                    PRIVATE=old)


def _opt(max_len: int) -> Str:
    return Str(allow_none=True, max_len=max_len)


class SubmittedV1(Submitted):
    SCHEMA_VERSION = 1
    SEALED_FIELDS = ()
    PRIVATE = NoPrivate
    reference = _opt(100)


class DecisionV1(Decision):
    SCHEMA_VERSION = 1
    SEALED_FIELDS = ()
    PRIVATE = NoPrivate
    document_no = _opt(100)


class CompletionV1(Completion):
    class Meta(Completion.Meta):
        exclude = SIGNER_CLEAR

    SCHEMA_VERSION = 1
    SEALED_FIELDS = ()
    PRIVATE = SignedRequired
    materials_returned = fields.List(Str(max_len=200))
    documents = fields.List(Str(max_len=200))


class TerminationPrivateV1(Part):
    applicant_signature = _opt(200)
    reasons = _opt(4000)


class TerminationV1(Termination):
    class Meta(Termination.Meta):
        exclude = SIGNER_CLEAR

    SCHEMA_VERSION = 1
    SEALED_FIELDS = ()
    PRIVATE = TerminationPrivateV1
    materials_returned = fields.List(Str(max_len=200))


_OLDER: tuple[type[EventSchema], ...] = (
    SubmittedV1, DecisionV1, CompletionV1, TerminationV1,
    *(_before_signer(c, 1) for c in (Entrustment, Conversion, Suspension, Resumption)),
    *(_before_signer(c, 2) for c in (Completion, Termination)))

#: every accepted ``(event_type, schema_version)``: the current classes and the older ones
EVENT_VERSIONS: dict[tuple[str, int], type[EventSchema]] = {
    **{(t, cls.SCHEMA_VERSION): cls for t, cls in EVENT_SCHEMAS.items()},
    **{(cls.EVENT_TYPE, cls.SCHEMA_VERSION): cls for cls in _OLDER},
}
