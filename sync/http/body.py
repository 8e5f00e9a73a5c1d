"""Reading request bodies and query parameters the way CouchDB 3 does.

The messages (``invalid UTF-8 JSON``, ``Content-Type must be application/json``,
``Invalid rev format``, ``query_parse_error``) are Apache CouchDB's own, from
``chttpd.erl`` / ``couch_doc.erl`` / ``couch_mrview_http.erl``, so clients that
match on them keep working.
"""

from __future__ import annotations

import json
import re
from typing import Any

from sync.errors import BadRequest, UnsupportedMediaType
from sync.http.messages import QueryArgs, Request

JSON_TYPE = "application/json"
_REV = re.compile(r"^[1-9][0-9]*-.+$")


def _reject_constant(name: str) -> Any:
    # NaN/Infinity are not JSON; CouchDB's parser (jiffy) rejects them.
    raise ValueError(name)


def loads(data: bytes | str) -> Any:
    """Strict JSON: UTF-8 only, no NaN/Infinity; anything else is CouchDB's 400."""
    try:
        text = data.decode("utf-8") if isinstance(data, bytes) else data
        return json.loads(text, parse_constant=_reject_constant)
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise BadRequest("invalid UTF-8 JSON") from exc


def validate_ctype(request: Request, ctype: str = JSON_TYPE) -> None:
    """``chttpd:validate_ctype/2``: the media type must match exactly (415 otherwise)."""
    if request.media_type() != ctype:
        raise UnsupportedMediaType(f"Content-Type must be {ctype}", error="bad_content_type")


def json_body(request: Request, *, check_ctype: bool = True) -> Any:
    """The decoded JSON body (``chttpd:json_body/1``)."""
    if check_ctype:
        validate_ctype(request)
    return loads(request.body)


def json_body_obj(request: Request, *, check_ctype: bool = True, allow_empty: bool = False) -> dict[str, Any]:
    """A JSON object body (``chttpd:json_body_obj/1``); an empty body may mean ``{}``."""
    if allow_empty and not request.body.strip():
        if check_ctype and request.body and request.media_type() != JSON_TYPE:
            validate_ctype(request)
        return {}
    value = json_body(request, check_ctype=check_ctype)
    if not isinstance(value, dict):
        raise BadRequest("Request body must be a JSON object")
    return value


def parse_rev(value: Any) -> str:
    """``couch_doc:parse_rev/1``: ``N-hash`` with N a positive integer."""
    if not isinstance(value, str) or not _REV.match(value):
        raise BadRequest("Invalid rev format")
    return value


def parse_revs(value: Any) -> list[str]:
    if not isinstance(value, list):
        raise BadRequest("Invalid rev format")
    return [parse_rev(v) for v in value]


# -- query parameters -------------------------------------------------------


def query_error(reason: str) -> BadRequest:
    return BadRequest(reason, error="query_parse_error")


def flag(args: QueryArgs, name: str) -> bool:
    """Document-style boolean: only the value ``true`` switches an option on
    (``chttpd_db:parse_doc_query/1`` ignores anything else)."""
    return args.get(name) == "true"


def strict_bool(args: QueryArgs, name: str, default: bool = False) -> bool:
    """View-style boolean (``_all_docs``): ``true``/``false`` or a 400."""
    value = args.get(name)
    if value is None:
        return default
    if value in ("true", "false"):
        return value == "true"
    raise query_error(f'Invalid boolean parameter: "{value}"')


def int_arg(args: QueryArgs, name: str, *, minimum: int | None = None) -> int | None:
    value = args.get(name)
    if value is None:
        return None
    try:
        number = int(value)
    except ValueError:
        raise query_error(f'Invalid value for integer: "{value}"') from None
    if minimum is not None and number < minimum:
        kind = "positive integer" if minimum > 0 else "non-negative integer"
        raise query_error(f'Invalid value for {kind}: "{value}"')
    return number


def json_arg(args: QueryArgs, *names: str) -> Any:
    """A JSON-encoded parameter (``key``, ``startkey``, ``open_revs``...); the
    first of ``names`` present wins (``startkey`` and ``start_key`` are aliases)."""
    for name in names:
        value = args.get(name)
        if value is not None:
            return loads(value)
    return None


def seq_arg(value: Any) -> int | str:
    """``since``: ``now``, an integer, or an opaque CouchDB 3 sequence string."""
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if not isinstance(value, str):
        raise query_error(f"Invalid since value: {json.dumps(value)}")
    if value == "now":
        return value
    try:
        return int(value)
    except ValueError:
        pass
    if value.startswith('"'):
        decoded = loads(value)
        if isinstance(decoded, str):
            return seq_arg(decoded)
    return value
