"""Byte encodings shared by the crypto modules: base64url, canonical JSON, key ids.

Envelopes and signatures live inside CouchDB JSON documents, so every binary
field is unpadded base64url (RFC 4648 §5, as JOSE uses). What is signed or bound
as associated data is the *canonical* JSON encoding of a value: keys sorted, no
whitespace, UTF-8, integral floats written as integers (CouchDB and PouchDB may
turn ``1.0`` into ``1`` on the way through, which must not break a signature).
"""

from __future__ import annotations

import base64
import binascii
import json
import math
import re
from collections.abc import Mapping
from typing import Any

import orjson
from cryptography.hazmat.primitives import hashes

from sync.crypto.errors import MalformedEnvelope


def b64u_encode(data: bytes) -> str:
    """Unpadded base64url text of ``data``."""
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64u_decode(text: object, *, field: str = "value") -> bytes:
    """Bytes of unpadded (or padded) base64url ``text``; :class:`MalformedEnvelope` otherwise."""
    if not isinstance(text, str):
        raise MalformedEnvelope(f"{field}: expected base64url text, got {type(text).__name__}")
    try:
        return base64.b64decode(text + "=" * (-len(text) % 4), altchars=b"-_", validate=True)
    except (binascii.Error, ValueError) as exc:
        raise MalformedEnvelope(f"{field}: not valid base64url") from exc


def _normalise(value: Any) -> Any:
    if isinstance(value, bool) or value is None or isinstance(value, int | str):
        return value
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError("canonical JSON has no NaN or infinity")
        return int(value) if value.is_integer() else value
    if isinstance(value, Mapping):
        return {str(k): _normalise(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_normalise(v) for v in value]
    raise TypeError(f"not JSON: {type(value).__name__}")


def _canonical_slow(value: Any) -> bytes:
    return json.dumps(
        _normalise(value), sort_keys=True, separators=(",", ":"), ensure_ascii=False,
        allow_nan=False,
    ).encode("utf-8")


#: Where a number with a fraction or an exponent may start in compact JSON: after ``:``,
#: ``,`` or ``[`` (a float alone is seen by its type). It also matches inside a string: that
#: only costs the slow path. Searched only when the output has a ``.``, ``e+`` or ``e-``:
#: orjson writes every finite float with one of them (``1.0``, ``1e+16``, ``5e-324``).
_FLOAT_TOKEN = re.compile(rb"[:,\[]-?[0-9]+[.eE]")
_FAST = (orjson.OPT_SORT_KEYS | orjson.OPT_PASSTHROUGH_SUBCLASS | orjson.OPT_PASSTHROUGH_DATETIME
         | orjson.OPT_PASSTHROUGH_DATACLASS)


def canonical_json(value: Any) -> bytes:
    """Canonical UTF-8 JSON bytes: sorted keys, no whitespace, integral floats as ints.

    orjson writes the same bytes as the stdlib encoder below (sorted keys: UTF-8 byte
    order is code point order; the same escapes) about five times faster; every value
    it would render otherwise takes the stdlib path: floats (integral ones are written as
    integers here; orjson writes NaN and infinities as ``null``), integers beyond 64
    bits, keys that are not strings, subclasses, other mappings, dates and dataclasses
    (orjson refuses them with these options), bad UTF-8. A ``uuid.UUID`` or an
    ``enum.Enum`` member, which no document parsed from JSON holds, is written as
    orjson writes it (its text, its value) instead of refused. tests/sync/crypto/
    test_canonical.py checks both paths agree on JSON values of every shape (signatures
    made by older nodes still verify).
    """
    try:
        out = orjson.dumps(value, option=_FAST)
    except TypeError:  # orjson.JSONEncodeError is a TypeError
        return _canonical_slow(value)
    if isinstance(value, float) or (b"." in out or b"e+" in out or b"e-" in out) and \
            _FLOAT_TOKEN.search(out) is not None:
        return _canonical_slow(value)
    if b"null" in out:
        # A NaN or an infinity, the floats the search above cannot see: the stdlib's C
        # encoder refuses them (three times cheaper than the whole slow path).
        try:
            json.dumps(value, allow_nan=False, check_circular=False)
        except (TypeError, ValueError):
            return _canonical_slow(value)
    return out


def fingerprint(public_bytes: bytes, prefix: str) -> str:
    """A key id: ``prefix`` + the first 12 bytes of SHA-256 of the raw public key, base64url.

    Derived from the key itself, so the same key always has the same id on every
    node and a directory cannot silently pair an id with another key.
    """
    digest = hashes.Hash(hashes.SHA256())
    digest.update(public_bytes)
    return f"{prefix}{b64u_encode(digest.finalize()[:12])}"


__all__ = ["b64u_decode", "b64u_encode", "canonical_json", "fingerprint"]
