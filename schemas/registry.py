"""Dispatch on ``type`` (and ``event_type``), and the cleartext/private split.

Two forms of a document (docs/CONVENTIONS.md, "Documents"):

* **open** (in memory on a node): cleartext members top-level, personal data and
  free text in ``private``;
* **sealed** (stored, replicated, all the hub ever sees): the same cleartext,
  ``private`` replaced by ``sealed`` (sync.crypto's AES-256-GCM envelope).

:func:`validate` accepts either; :func:`validate_open` and :func:`validate_sealed`
insist on one. :func:`split` / :func:`join` move between the open form and the
``(cleartext, private)`` pair that sync.crypto seals.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from marshmallow import ValidationError

from schemas.boards import BoardSchema
from schemas.case import CaseSchema
from schemas.chunks import ChunkSchema
from schemas.errors import Problem, SchemaError, UnknownType, ValidationFailed
from schemas.event_types import EVENT_SCHEMAS
from schemas.event_versions import EVENT_VERSIONS
from schemas.fields import Part, problems_from_messages
from schemas.notices import NoticeSchema
from schemas.reference import (
    CalendarSchema,
    DeviceSchema,
    DocBase,
    InstitutionSchema,
    KeyringSchema,
    ServiceItemSchema,
)
from schemas.vocab import SCHEMA_VERSION

DOC_SCHEMAS: dict[str, type[DocBase]] = {
    "institution": InstitutionSchema,
    "device": DeviceSchema,
    "service_item": ServiceItemSchema,
    "calendar": CalendarSchema,
    "case": CaseSchema,
    "keyring": KeyringSchema,
    "chunk": ChunkSchema,  # a slice of a sealed scan (design.md §4)
    "board": BoardSchema,  # the hub's coordination board of one institution (design.md §5)
    "notice": NoticeSchema,  # an institution above urges a station about a case (4.2)
}
DOC_TYPES = (*DOC_SCHEMAS, "event")
EVENT_TYPES = tuple(EVENT_SCHEMAS)

_INSTANCES: dict[tuple[str, str | None, int | None], DocBase] = {}
_PRIVATE_INSTANCES: dict[type[Part], Part] = {}


def schema_for(doc_type: str, event_type: str | None = None,
               version: int | None = None) -> type[DocBase]:
    """The schema class of a document type (raises :class:`UnknownType`): of the given
    ``schema_version`` when that version of an event type is accepted, else the newest (which
    names the accepted versions when asked to load another one)."""
    if doc_type == "event":
        if event_type not in EVENT_SCHEMAS:
            raise UnknownType([Problem(
                "event_type", "unknown_event_type",
                f"unknown event_type {event_type!r}; known: {', '.join(EVENT_TYPES)}",
                f"未知的事件类型 {event_type!r}")])
        if version is not None and (event_type, version) in EVENT_VERSIONS:
            return EVENT_VERSIONS[(event_type, version)]  # type: ignore[index]
        return EVENT_SCHEMAS[event_type]  # type: ignore[index]
    if doc_type not in DOC_SCHEMAS:
        raise UnknownType([Problem("type", "unknown_type",
                                   f"unknown type {doc_type!r}; known: {', '.join(DOC_TYPES)}",
                                   f"未知的文档类型 {doc_type!r}")])
    return DOC_SCHEMAS[doc_type]


def writing_version(doc_type: str, event_type: str | None = None) -> int:
    """The ``schema_version`` this software writes for a type: always the newest (older
    event versions are accepted as received only, schemas.event_versions). An unknown type
    gets the base version: validating the document then names what is unknown."""
    known = event_type in EVENT_SCHEMAS if doc_type == "event" else doc_type in DOC_SCHEMAS
    return schema_for(doc_type, event_type).SCHEMA_VERSION if known else SCHEMA_VERSION


def private_schema_for(doc_type: str, event_type: str | None = None,
                       version: int | None = None) -> type[Part] | None:
    """The schema of the ``private`` part, or None if the type holds no personal data."""
    return schema_for(doc_type, event_type, version).PRIVATE


def has_private(doc_type: str, event_type: str | None = None) -> bool:
    return private_schema_for(doc_type, event_type) is not None


def _version(doc: Mapping[str, Any]) -> int | None:
    version = doc.get("schema_version")
    return version if isinstance(version, int) and not isinstance(version, bool) else None


def _kind(doc: Mapping[str, Any]) -> tuple[str, str | None]:
    if not isinstance(doc, Mapping):
        raise ValidationFailed([Problem("(document)", "type", "a document must be a JSON object",
                                        "文档必须是 JSON 对象")])
    doc_type = doc.get("type")
    if not isinstance(doc_type, str):
        raise UnknownType([Problem("type", "required", "type is missing or not a string",
                                   "缺少 type 字段或其不是字符串")])
    event_type = doc.get("event_type") if doc_type == "event" else None
    if doc_type == "event" and not isinstance(event_type, str):
        raise UnknownType([Problem("event_type", "required", "event_type is missing",
                                   "缺少 event_type 字段")])
    return doc_type, event_type  # type: ignore[return-value]


def _schema(doc_type: str, event_type: str | None, version: int | None) -> DocBase:
    key = (doc_type, event_type, version if doc_type == "event" else None)
    if key not in _INSTANCES:
        _INSTANCES[key] = schema_for(*key)()
    return _INSTANCES[key]


def _load_private(cls: type[Part], value: Any) -> dict[str, Any]:
    inst = _PRIVATE_INSTANCES.setdefault(cls, cls())
    loaded: dict[str, Any] = inst.load(value)
    return loaded


def _check_sealed(value: Any) -> list[Problem]:
    # The envelope's inner shape belongs to sync.crypto; here: a non-empty JSON object.
    if not isinstance(value, Mapping) or not value:
        return [Problem("sealed", "sealed_envelope", "sealed must be a non-empty object",
                        "sealed 必须是非空对象")]
    return []


def _validate(doc: Mapping[str, Any], form: str) -> dict[str, Any]:
    doc_type, event_type = _kind(doc)
    schema = _schema(doc_type, event_type, _version(doc))
    private_cls = schema.PRIVATE
    body = {k: v for k, v in doc.items() if k not in ("private", "sealed")}
    problems: list[Problem] = []
    cause: ValidationError | None = None
    try:
        out = schema.load_doc(body)
    except ValidationError as exc:
        out, cause = {}, exc
        problems.extend(problems_from_messages(exc.messages))
    has_p, has_s = "private" in doc, "sealed" in doc
    if private_cls is None:
        for name in ("private", "sealed"):
            if name in doc:
                problems.append(Problem(name, "no_private_part",
                                        f"{doc_type} documents hold no personal data",
                                        f"{doc_type} 文档不含个人信息部分"))
    elif has_p and has_s:
        problems.append(Problem("sealed", "exclusive", "a document has private or sealed, not both",
                                "private 与 sealed 不能同时存在"))
    elif form == "sealed" or (form == "any" and has_s):
        if has_p:
            problems.append(Problem("private", "not_sealed",
                                    "a stored document must not carry private",
                                    "存储的文档不得包含明文 private 部分"))
        elif not has_s:
            problems.append(Problem("sealed", "required", "the sealed part is missing",
                                    "缺少 sealed 加密部分"))
        else:
            problems.extend(_check_sealed(doc["sealed"]))
            out["sealed"] = doc["sealed"]
    else:
        try:
            out["private"] = _load_private(private_cls, doc.get("private", {}))
        except ValidationError as exc:
            cause = cause or exc
            problems.extend(problems_from_messages(exc.messages, "private"))
    if problems:
        raise ValidationFailed(problems) from cause  # marshmallow stops here (CONVENTIONS)
    return out


def validate(doc: Mapping[str, Any]) -> dict[str, Any]:
    """Validate a document in either form; returns the loaded document (defaults filled in).

    Raises :class:`ValidationFailed` (400) listing every problem with field path and rule,
    :class:`UnknownType` for an unknown ``type``/``event_type``.
    """
    return _validate(doc, "any")


def validate_open(doc: Mapping[str, Any]) -> dict[str, Any]:
    """Validate the open form (``private`` present or defaulted to ``{}``; no ``sealed``)."""
    if "sealed" in doc:
        raise ValidationFailed([Problem("sealed", "not_open", "expected the open form",
                                        "应为未加密（打开）形式")])
    return _validate(doc, "open")


def validate_sealed(doc: Mapping[str, Any]) -> dict[str, Any]:
    """What the hub runs on every write: cleartext valid, ``sealed`` present, no ``private``
    (for types with a private part). The hub cannot decrypt, so this is all it can check."""
    return _validate(doc, "sealed")


def split(doc: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, Any] | None]:
    """Open form → ``(cleartext, private)``; private is None for types without one."""
    doc_type, event_type = _kind(doc)
    clear = {k: v for k, v in doc.items() if k != "private"}
    if private_schema_for(doc_type, event_type, _version(doc)) is None:
        return clear, None
    return clear, dict(doc.get("private") or {})


def join(cleartext: Mapping[str, Any], private: Mapping[str, Any] | None) -> dict[str, Any]:
    """Inverse of :func:`split` (also used after opening a ``sealed`` envelope)."""
    doc = {k: v for k, v in cleartext.items() if k not in ("sealed", "private")}
    if private is not None:
        doc["private"] = dict(private)
    return doc


def member(doc: Mapping[str, Any], name: str, default: Any = None) -> Any:
    """A member of an open document, read where the document's own schema version keeps it:
    ``private`` when that version's private part declares it, else the top level. (A
    version-1 completion holds ``materials_returned`` in clear, a version-2 one in
    ``private``; a sealed document not opened yields ``default`` for a private member.)
    A partial dict with no type or version this software knows is read wherever it holds
    the member, ``private`` first."""
    private = doc.get("private") or {}
    try:
        doc_type, event_type = _kind(doc)
        cls: type[DocBase] | None = schema_for(doc_type, event_type, _version(doc))
    except SchemaError:
        cls = None
    if cls is None or cls.SCHEMA_VERSION != _version(doc):
        return private[name] if name in private else doc.get(name, default)
    if cls.PRIVATE is not None and name in cls.PRIVATE._declared_fields:
        return private.get(name, default)
    return doc.get(name, default)


def error_body(exc: ValidationFailed) -> dict[str, Any]:
    """CouchDB-style body with the problem list (for the hub's and node's HTTP answers)."""
    return exc.as_json()
