"""MIME multipart in CouchDB's two uses: reading a ``multipart/related`` document
upload (JSON first, then one part per attachment marked ``"follows": true`` -- what
Apache CouchDB's replicator sends for documents with attachments) and writing the
``multipart/mixed`` answer of ``GET /{db}/{docid}?open_revs=``.

CouchDB docs, "Document with attachments: multipart/related"; ``couch_doc:
doc_from_multi_part_stream/2`` and ``chttpd_db:send_docs_multipart/3``.
"""

from __future__ import annotations

import base64
import gzip
import json
import re
import uuid
import zlib
from typing import Any

from sync.errors import BadRequest
from sync.http.body import loads
from sync.http.messages import Headers, Response, dumps

_BOUNDARY = re.compile(r'boundary="?([^";]+)"?', re.I)
_FILENAME = re.compile(r'filename="?([^";]+)"?', re.I)


def boundary_of(content_type: str) -> str:
    match = _BOUNDARY.search(content_type)
    if not match:
        raise BadRequest("multipart body without a boundary")
    return match.group(1)


def split_parts(body: bytes, boundary: str) -> list[tuple[Headers, bytes]]:
    """The parts of a multipart body as (headers, data)."""
    delimiter = b"--" + boundary.encode("latin-1")
    chunks = body.split(delimiter)
    parts: list[tuple[Headers, bytes]] = []
    for chunk in chunks[1:]:
        if chunk.startswith(b"--"):  # the close delimiter
            break
        chunk = chunk[2:] if chunk.startswith(b"\r\n") else chunk
        head, sep, data = chunk.partition(b"\r\n\r\n")
        if not sep:
            head, data = b"", chunk
        headers = Headers()
        for line in head.decode("latin-1").split("\r\n"):
            name, colon, value = line.partition(":")
            if colon:
                headers[name.strip()] = value.strip()
        parts.append((headers, data[:-2] if data.endswith(b"\r\n") else data))
    if not parts:
        raise BadRequest("multipart body has no parts")
    return parts


def related_to_doc(body: bytes, content_type: str) -> dict[str, Any]:
    """A ``multipart/related`` upload turned into one JSON document with the
    ``follows`` attachments inlined as base64 (gzip-encoded ones decoded)."""
    parts = split_parts(body, boundary_of(content_type))
    doc = loads(parts[0][1])
    if not isinstance(doc, dict):
        raise BadRequest("Document must be a JSON object")
    atts = doc.get("_attachments")
    if not isinstance(atts, dict):
        atts = {}
    following = [n for n, a in atts.items() if isinstance(a, dict) and a.get("follows")]
    rest = parts[1:]
    if len(rest) != len(following):
        raise BadRequest(f"multipart body has {len(rest)} attachment parts for "
                         f"{len(following)} attachments marked follows")
    by_name: dict[str, bytes] = {}
    for index, (headers, data) in enumerate(rest):
        match = _FILENAME.search(headers.get("Content-Disposition") or "")
        by_name[match.group(1) if match else following[index]] = data
    for name in following:
        if name not in by_name:
            raise BadRequest(f"attachment {json.dumps(name)} is missing from the multipart body")
        stub = atts[name]
        data = by_name[name]
        if stub.get("encoding") == "gzip":
            try:
                data = gzip.decompress(data)
            except (OSError, EOFError, zlib.error) as exc:
                raise BadRequest(f"attachment {json.dumps(name)} is not valid gzip") from exc
        atts[name] = {"content_type": stub.get("content_type", "application/octet-stream"),
                      "data": base64.b64encode(data).decode("ascii")}
    return doc


def mixed_response(results: list[dict[str, Any]]) -> Response:
    """``send_docs_multipart/3`` with every document as one JSON part (attachments,
    if asked for, stay inline base64 inside the JSON)."""
    boundary = uuid.uuid4().hex
    chunks = [f"--{boundary}".encode()]
    for result in results:
        if "ok" in result:
            chunks += [b"\r\nContent-Type: application/json\r\n\r\n", dumps(result["ok"])]
        else:
            chunks += [b'\r\nContent-Type: application/json; error="true"\r\n\r\n',
                       dumps({"missing": result.get("missing")})]
        chunks.append(f"\r\n--{boundary}".encode())
    chunks.append(b"--")
    headers = Headers({"Content-Type": f'multipart/mixed; boundary="{boundary}"'})
    return Response(200, headers, b"".join(chunks))
