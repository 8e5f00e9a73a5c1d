"""The sansio request and response of the CouchDB HTTP API core.

The core never touches a socket: an adapter (``sync.http.wsgi``, or a test)
builds a :class:`Request` from whatever it received and sends the
:class:`Response` back. This keeps the whole API testable without a server and
lets the hub reuse it behind its own gateway (design.md section 1).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, unquote

try:
    import orjson as _orjson
except ModuleNotFoundError:  # pragma: no cover - orjson is a declared dependency
    _orjson = None  # type: ignore[assignment]

Body = bytes | Iterable[bytes]


class Headers:
    """Case-insensitive header map (last value wins, as CouchDB reads headers)."""

    def __init__(self, items: Mapping[str, str] | Iterable[tuple[str, str]] = ()) -> None:
        pairs = items.items() if isinstance(items, Mapping) else items
        self._items: dict[str, tuple[str, str]] = {}
        for key, value in pairs:
            self._items[key.lower()] = (key, value)

    def get(self, name: str, default: str | None = None) -> str | None:
        item = self._items.get(name.lower())
        return item[1] if item is not None else default

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and name.lower() in self._items

    def __getitem__(self, name: str) -> str:
        return self._items[name.lower()][1]

    def __setitem__(self, name: str, value: str) -> None:
        self._items[name.lower()] = (name, value)

    def pop(self, name: str, default: str | None = None) -> str | None:
        item = self._items.pop(name.lower(), None)
        return item[1] if item is not None else default

    def items(self) -> list[tuple[str, str]]:
        return list(self._items.values())

    def __iter__(self) -> Iterator[str]:
        return (key for key, _ in self._items.values())

    def __repr__(self) -> str:
        return f"Headers({self.items()!r})"


class QueryArgs:
    """The query string as an ordered multi-dict (``open_revs`` may repeat, and
    CouchDB uses the last value of a repeated scalar parameter)."""

    def __init__(self, pairs: Iterable[tuple[str, str]] = ()) -> None:
        self._pairs = list(pairs)

    @classmethod
    def parse(cls, query_string: str) -> QueryArgs:
        return cls(parse_qsl(query_string, keep_blank_values=True))

    def get(self, name: str, default: str | None = None) -> str | None:
        for key, value in reversed(self._pairs):
            if key == name:
                return value
        return default

    def getlist(self, name: str) -> list[str]:
        return [value for key, value in self._pairs if key == name]

    def __contains__(self, name: object) -> bool:
        return any(key == name for key, _ in self._pairs)

    def pairs(self) -> list[tuple[str, str]]:
        return list(self._pairs)


@dataclass
class Request:
    """One HTTP request as the core sees it.

    ``path`` is the *raw* (still percent-encoded) path, because CouchDB ids may
    contain ``/`` written as ``%2F`` and must not be split there.
    """

    method: str
    path: str
    query: QueryArgs = field(default_factory=QueryArgs)
    headers: Headers = field(default_factory=Headers)
    body: bytes = b""

    @classmethod
    def build(
        cls,
        method: str,
        target: str,
        *,
        headers: Mapping[str, str] | None = None,
        body: bytes | None = None,
        json_body: Any = None,
    ) -> Request:
        """Convenience constructor: ``Request.build("GET", "/db/doc?revs=true")``."""
        path, _, query = target.partition("?")
        hdrs = Headers(headers or {})
        if json_body is not None:
            body = json.dumps(json_body).encode()
            if "content-type" not in hdrs:
                hdrs["Content-Type"] = "application/json"
        return cls(method.upper(), path, QueryArgs.parse(query), hdrs, body or b"")

    @property
    def segments(self) -> list[str]:
        """Decoded path segments; a trailing slash adds no empty segment."""
        parts = self.path.split("/")[1:]
        if parts and parts[-1] == "":
            parts.pop()
        return [unquote(p) for p in parts]

    def media_type(self) -> str | None:
        value = self.headers.get("Content-Type")
        if value is None:
            return None
        return value.split(";", 1)[0].strip().lower()

    def accepts(self, media_type: str) -> bool:
        accept = self.headers.get("Accept") or ""
        return any(part.split(";", 1)[0].strip().lower() == media_type for part in accept.split(","))


@dataclass
class Response:
    """Status, headers and a body of bytes, or an iterator of byte chunks when
    streaming (continuous and longpoll feeds with heartbeats)."""

    status: int
    headers: Headers = field(default_factory=Headers)
    body: Body = b""

    @property
    def streaming(self) -> bool:
        return not isinstance(self.body, bytes | bytearray)

    def json(self) -> Any:
        """Decode a non-streaming JSON body (for tests and in-process callers)."""
        if not isinstance(self.body, bytes | bytearray):
            raise TypeError("streaming response has no single JSON body")
        return json.loads(self.body)


def _stdlib_dumps(value: Any) -> bytes:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def dumps(value: Any) -> bytes:
    """JSON as CouchDB sends it: compact, UTF-8, non-ASCII left as is.

    Encoding is the HTTP layer's main cost on a changes feed with docs, so orjson
    (4x faster) is used when installed; it refuses integers beyond 64 bits, which
    JSON and CouchDB allow, and those bodies go through the standard library.
    Decoding stays with the standard library: orjson would turn such integers into
    floats silently.
    """
    if _orjson is not None:
        try:
            return _orjson.dumps(value)
        except (TypeError, _orjson.JSONEncodeError):
            pass
    return _stdlib_dumps(value)


def json_response(status: int, value: Any, headers: Mapping[str, str] | None = None) -> Response:
    """A JSON response; ``Cache-Control: must-revalidate`` as CouchDB sends it."""
    hdrs = Headers({"Content-Type": "application/json", "Cache-Control": "must-revalidate"})
    for key, val in (headers or {}).items():
        hdrs[key] = val
    return Response(status, hdrs, dumps(value) + b"\n")


def ok(status: int = 200, **extra: Any) -> Response:
    return json_response(status, {"ok": True, **extra})
