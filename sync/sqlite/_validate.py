"""Parse and validate incoming documents exactly as CouchDB 3 does (pure, no IO).

couch_doc:from_json_obj_validate/2 and couch_doc:validate_docid/1: these errors
reject the whole ``_bulk_docs`` request (400/413), before anything is written.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from sync import revtree
from sync.errors import BadRequest, RequestEntityTooLarge
from sync.store import LOCAL_PREFIX

#: CouchDB 3's ``[couchdb] max_document_size`` default (bytes of the JSON body).
DEFAULT_MAX_DOCUMENT_SIZE = 8_000_000

# Special members CouchDB accepts in a document body (couch_doc:transfer_fields).
_IGNORED_SPECIALS = frozenset(
    {"_revs_info", "_conflicts", "_deleted_conflicts", "_local_seq", "_access"}
)
_ENCODER = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False)
DESIGN_PREFIX = "_design/"


@dataclass(slots=True)
class Incoming:
    """A validated document of a write request."""

    id: str
    path: list[str]  # leaf first; [] when no _rev was given
    deleted: bool
    body: dict[str, Any]  # without any "_" member
    body_json: str  # compact JSON of body, as stored and hashed
    attachments: dict[str, dict[str, Any]] | None = None
    blobs: dict[str, bytes] = field(default_factory=dict)  # digest -> data of inline atts

    @property
    def rev(self) -> str | None:
        return self.path[0] if self.path else None

    @property
    def is_local(self) -> bool:
        return self.id.startswith(LOCAL_PREFIX)


def validate_docid(docid: Any) -> str:
    """CouchDB's id rules (couch_doc:validate_docid)."""
    if not isinstance(docid, str):
        raise BadRequest("Document id must be a string")
    if docid == "":
        raise BadRequest("Document id must not be empty")
    if docid.startswith("_"):
        if docid.startswith(DESIGN_PREFIX) and len(docid) > len(DESIGN_PREFIX):
            return docid
        if docid.startswith(LOCAL_PREFIX) and len(docid) > len(LOCAL_PREFIX):
            return docid
        raise BadRequest("Only reserved document ids may start with underscore.")
    return docid


def attachment_digest(data: bytes) -> str:
    """CouchDB's attachment digest: ``"md5-" + base64(md5(data))``."""
    return "md5-" + base64.b64encode(hashlib.md5(data).digest()).decode("ascii")


def _parse_attachments(docid: str, raw: Any, blobs: dict[str, bytes]) -> dict[str, dict[str, Any]]:
    if not isinstance(raw, dict):
        raise BadRequest("_attachments must be a JSON object")
    out: dict[str, dict[str, Any]] = {}
    for name, att in raw.items():
        if not isinstance(att, dict):
            raise BadRequest(f"Attachment {name!r} of {docid!r} must be a JSON object")
        if name.startswith("_"):
            raise BadRequest("Attachment name can't start with '_'")
        ctype = att.get("content_type", "application/octet-stream")
        if not isinstance(ctype, str):
            raise BadRequest(f"Attachment {name!r}: content_type must be a string")
        if att.get("stub") is True:
            out[name] = {"stub": True, "content_type": ctype}
            for key in ("digest", "length", "revpos"):
                if key in att:
                    out[name][key] = att[key]
            continue
        if "data" not in att:
            if att.get("follows"):
                raise BadRequest("Attachments with follows are only accepted in multipart requests")
            raise BadRequest(f"Attachment {name!r} of {docid!r} needs \"data\" or \"stub\": true")
        data_b64 = att["data"]
        if not isinstance(data_b64, str):
            raise BadRequest(f"Attachment {name!r}: data must be a base64 string")
        try:
            data = base64.b64decode(data_b64, validate=True)
        except (binascii.Error, ValueError) as exc:
            raise BadRequest(f"Invalid attachment data for {name}") from exc
        digest = attachment_digest(data)
        blobs[digest] = data
        meta: dict[str, Any] = {"content_type": ctype, "digest": digest, "length": len(data)}
        if isinstance(att.get("revpos"), int):
            meta["revpos"] = att["revpos"]
        out[name] = meta
    return out


def parse_doc(
    doc: Any,
    *,
    new_edits: bool = True,
    max_document_size: int = DEFAULT_MAX_DOCUMENT_SIZE,
) -> Incoming:
    """Validate one document of a write; raises BadRequest/RequestEntityTooLarge."""
    if not isinstance(doc, Mapping):
        raise BadRequest("Document must be a JSON object")
    docid = doc["_id"] if "_id" in doc else uuid.uuid4().hex
    validate_docid(docid)
    body: dict[str, Any] = {}
    path: list[str] = []
    deleted = False
    attachments = None
    blobs: dict[str, bytes] = {}
    rev = None
    for key, value in doc.items():
        if not isinstance(key, str):
            raise BadRequest("Document member names must be strings")
        if not key.startswith("_"):
            body[key] = value
        elif key == "_id" or key in _IGNORED_SPECIALS:
            continue
        elif key == "_rev":
            rev = value
        elif key == "_deleted":
            if not isinstance(value, bool):  # couch_doc:transfer_fields: is_boolean(B) only
                raise BadRequest(f"Bad special document member: {key}", error="doc_validation")
            deleted = value
        elif key == "_revisions":
            if not isinstance(value, Mapping):
                raise BadRequest("_revisions must be a JSON object")
            path = revtree.path_from_revisions(value)
        elif key == "_attachments":
            attachments = _parse_attachments(docid, value, blobs)
        else:
            raise BadRequest(f"Bad special document member: {key}", error="doc_validation")
    if docid.startswith(LOCAL_PREFIX):
        # _local revs are "0-N" (couch_db_updater), validated by the local-doc writer.
        path = [rev] if isinstance(rev, str) and rev else []
    elif rev is not None:
        revtree.validate_rev(rev)
        if path and path[0] != rev:
            raise BadRequest("_rev does not match the first entry of _revisions")
        if not path:
            path = [rev]
    if not new_edits and not path and not docid.startswith(LOCAL_PREFIX):
        raise BadRequest("Document must have a _rev when new_edits is false")
    body_json = _ENCODER.encode(body)
    # couch_doc:from_json_obj_validate compares the encoded body size with the limit;
    # characters are at most 4 UTF-8 bytes, so only long bodies need the exact count.
    if len(body_json) * 4 > max_document_size and len(body_json.encode("utf-8")) > max_document_size:
        raise RequestEntityTooLarge(docid, error="document_too_large")
    return Incoming(docid, path, deleted, body, body_json, attachments, blobs)
