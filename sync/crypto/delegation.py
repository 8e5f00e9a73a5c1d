"""A root-signed delegation to an online directory-signing key (like an intermediate CA).

design.md §5 wants the municipal root key *offline*, yet the hub must publish a new
directory at every enrollment and key registration. The root therefore signs, offline
and for a limited time, a *delegation* naming one Ed25519 key the hub holds online::

    {"type": "directory_signer", "key_id": "ed25519-…", "key": "<base64url public key>",
     "issued_at": "2026-11-26T07:00:00Z", "not_after": "2027-11-26T07:00:00Z",
     "serial": 1764140400,
     "sig": {"key_id": "<root key id>", "alg": "Ed25519", "value": "…"}}

The signature covers :data:`DELEGATION_DOMAIN` + the canonical JSON of the delegation
without ``sig``; its own domain tag keeps a delegation signature from ever being
accepted as a directory signature (or the reverse). A delegated directory carries the
delegation in its field ``delegation`` *inside* its signed payload and is signed by the
delegated key (:func:`sync.crypto.sign_directory`). Nodes keep pinning only the root:
:func:`sync.crypto.verify_directory` accepts a directory signed by a key the root
delegated, as long as the directory was issued no later than ``not_after`` and, for a
directory arriving at a node (``now``), as long as ``not_after`` has not passed: the
directory's ``issued_at`` is the online key's own word. The limit of the scheme: whoever
takes the online key can sign directories until the delegation expires; the root then
refuses to renew it.

Pure: no IO, no clock except the default ``issued_at`` of :func:`sign_delegation`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from sync.crypto.encoding import b64u_decode, b64u_encode, fingerprint
from sync.crypto.errors import BadSignature, MalformedEnvelope
from sync.crypto.keys import ED25519_PREFIX, SigningKeyPair, load_ed25519_public
from sync.crypto.sign import SIG_ALG, check_signature, signing_payload

DELEGATION_TYPE = "directory_signer"
DELEGATION_DOMAIN = b"bangban/v1/directory-delegation\n"
_STAMP = "%Y-%m-%dT%H:%M:%SZ"

Roots = Sequence[str | bytes] | str | bytes


def trusted_roots(roots: Roots) -> dict[str, bytes]:
    """The pinned root public keys by key id (base64url text or raw bytes accepted)."""
    items = [roots] if isinstance(roots, str | bytes) else list(roots)
    out = {}
    for root in items:
        raw = b64u_decode(root, field="root") if isinstance(root, str) else bytes(root)
        out[fingerprint(raw, ED25519_PREFIX)] = raw
    return out


def parse_time(value: object, *, field: str) -> dt.datetime:
    """An aware datetime from ISO 8601 text; :class:`MalformedEnvelope` naming ``field``."""
    if isinstance(value, dt.datetime):
        stamp = value
    elif isinstance(value, str):
        try:
            stamp = dt.datetime.fromisoformat(value)
        except ValueError as exc:
            raise MalformedEnvelope(f"{field}: not an ISO 8601 time ({value!r})") from exc
    else:
        raise MalformedEnvelope(f"{field}: expected an ISO 8601 time, got {type(value).__name__}")
    if stamp.tzinfo is None:
        # A time without a zone would mean something else on the root's machine and the hub.
        raise MalformedEnvelope(f"{field}: {value!r} has no time zone")
    return stamp


def _stamp(at: dt.datetime) -> str:
    return at.astimezone(dt.UTC).strftime(_STAMP)


@dataclass(frozen=True)
class Delegation:
    """A *verified* delegation. Make it with :func:`verify_delegation` only."""

    key_id: str
    public: str
    issued_at: dt.datetime
    not_after: dt.datetime
    serial: int
    root_key_id: str
    doc: dict[str, Any] = field(repr=False)

    def expired(self, at: dt.datetime) -> bool:
        return self.not_after < at

    def days_left(self, at: dt.datetime) -> float:
        return (self.not_after - at).total_seconds() / 86400


def sign_delegation(signer_public: str | bytes | SigningKeyPair, root: SigningKeyPair, *,
                    days: int, serial: int, issued_at: dt.datetime | str | None = None
                    ) -> dict[str, Any]:
    """The root's delegation to ``signer_public`` (done where the root key lives, offline).

    Valid from ``issued_at`` (default now) for ``days`` days. ``serial`` orders the
    delegations of one root (a hub refuses to go back to an older one).
    """
    if isinstance(signer_public, SigningKeyPair):
        raw = signer_public.public_bytes
    elif isinstance(signer_public, str):
        raw = b64u_decode(signer_public, field="signer_public")
    else:
        raw = bytes(signer_public)
    load_ed25519_public(raw, field="signer_public")
    if isinstance(days, bool) or not isinstance(days, int) or days < 1:
        raise MalformedEnvelope(f"days: must be a positive whole number of days, got {days!r}")
    if isinstance(serial, bool) or not isinstance(serial, int) or serial < 0:
        raise MalformedEnvelope(f"serial: must be a non-negative integer, got {serial!r}")
    start = (dt.datetime.now(dt.UTC) if issued_at is None
             else parse_time(issued_at, field="issued_at"))
    doc: dict[str, Any] = {"type": DELEGATION_TYPE, "key_id": fingerprint(raw, ED25519_PREFIX),
                           "key": b64u_encode(raw), "issued_at": _stamp(start),
                           "not_after": _stamp(start + dt.timedelta(days=days)),
                           "serial": serial}
    doc["sig"] = {"key_id": root.key_id, "alg": SIG_ALG,
                  "value": b64u_encode(root.sign(signing_payload(doc, DELEGATION_DOMAIN)))}
    return doc


def verify_delegation(doc: object, roots: Roots, *, at: dt.datetime | str,
                      what: str = "delegation", at_name: str = "the time checked") -> Delegation:
    """Verify ``doc`` under one of the pinned root keys and check it is valid at ``at``.

    Raises :class:`MalformedEnvelope` (bad shape; ``key_id`` not the fingerprint of
    ``key``) or :class:`BadSignature` (unsigned, altered, signed by an untrusted root, or
    ``not_after`` before ``at``). ``what`` prefixes the reasons (e.g.
    ``directory.delegation`` when it is checked inside a directory) and ``at_name`` says
    what ``at`` is.
    """
    if not isinstance(doc, Mapping):
        raise MalformedEnvelope(f"{what}: must be an object")
    if doc.get("type") != DELEGATION_TYPE:
        raise MalformedEnvelope(f"{what}.type: must be {DELEGATION_TYPE!r}, got {doc.get('type')!r}")
    key = doc.get("key")
    raw = b64u_decode(key, field=f"{what}.key")
    load_ed25519_public(raw, field=f"{what}.key")
    key_id = doc.get("key_id")
    if fingerprint(raw, ED25519_PREFIX) != key_id:
        raise MalformedEnvelope(f"{what}.key_id: {key_id!r} is not the fingerprint of its key")
    serial = doc.get("serial")
    if isinstance(serial, bool) or not isinstance(serial, int):
        raise MalformedEnvelope(f"{what}.serial: must be an integer, got {serial!r}")
    issued = parse_time(doc.get("issued_at"), field=f"{what}.issued_at")
    not_after = parse_time(doc.get("not_after"), field=f"{what}.not_after")
    sig = doc.get("sig")
    if not isinstance(sig, Mapping) or sig.get("alg") != SIG_ALG:
        raise BadSignature(f"{what}.sig: not signed by an Ed25519 root key")
    root_pub = trusted_roots(roots).get(str(sig.get("key_id")))
    if root_pub is None:
        raise BadSignature(f"{what}.sig.key_id: signed by {sig.get('key_id')!r}, "
                           "not a trusted root key")
    check_signature(root_pub, sig.get("value"), signing_payload(doc, DELEGATION_DOMAIN), what=what)
    when = parse_time(at, field="at")
    if not_after < when:
        raise BadSignature(f"{what}.not_after: {doc.get('not_after')} is before {at_name} "
                           f"{_stamp(when)} (rule: a directory issued after its delegation "
                           "expired is refused; renew the delegation with the root key)")
    return Delegation(str(key_id), str(key), issued, not_after, serial, str(sig["key_id"]),
                      dict(doc))


__all__ = ["DELEGATION_DOMAIN", "DELEGATION_TYPE", "Delegation", "parse_time",
           "sign_delegation", "trusted_roots", "verify_delegation"]
