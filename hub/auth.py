"""Device credentials: enrollment secrets and HTTP Basic authentication.

A device authenticates every request with HTTP Basic (device id, secret) — what
ibmcloudant's ``BasicAuthenticator`` and a PouchDB URL with credentials send. The
hub stores only a salted hash of the secret, in the hub-private database, never in the
replicated one.

The hash is HMAC-SHA-256 keyed with a random salt, not a slow password hash: the secret is
256 random bits (:func:`new_secret`), so a stolen hash cannot be guessed back however fast
each guess is, and a slow hash bought nothing but cost. That cost was a hazard: anyone
who knew a device id (they are printed on forms) made the hub run a full scrypt (tens of
ms of CPU) per request with a wrong secret. Secrets enrolled before this change keep their
``scrypt$…`` hashes, which are still checked (RFC 7914, ``hashlib.scrypt``); re-enrolling
such a device gives it the fast hash. Supervisors' passwords, chosen by people, stay on
scrypt (:mod:`hub.oversight.supervisors`).

A verified (device, secret) pair is remembered in memory for ``auth_cache_seconds`` as a
keyed digest; the device's record (revocation flag) is still read from the store on every
request, so a revocation made through any gateway is seen at the next contact (design.md §5).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import secrets
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from hub.errors import DeviceRevoked, Unauthorized
from sync.errors import NotFound
from sync.store import DocumentStore

SCRYPT_R = 8
SCRYPT_P = 1
CRED_PREFIX = "cred:"
HMAC_KIND = "hmac-sha256"


def new_secret() -> str:
    """A fresh device secret: 32 random bytes, base64url (43 characters)."""
    return secrets.token_urlsafe(32)


def hash_secret(secret: str, *, salt: bytes | None = None) -> str:
    """``hmac-sha256$salt$hash`` (salt and hash base64) of a secret from :func:`new_secret`."""
    salt = salt if salt is not None else secrets.token_bytes(16)
    digest = hmac.new(salt, secret.encode("utf-8"), hashlib.sha256).digest()
    return "$".join((HMAC_KIND, base64.b64encode(salt).decode(),
                     base64.b64encode(digest).decode()))


def scrypt_hash(secret: str, *, n: int = 16384, salt: bytes | None = None) -> str:
    """``scrypt$N$r$p$salt$hash``: how secrets were hashed before ``hmac-sha256`` (kept to
    check those records, and to test that they still pass)."""
    salt = salt if salt is not None else secrets.token_bytes(16)
    digest = hashlib.scrypt(secret.encode("utf-8"), salt=salt, n=n, r=SCRYPT_R, p=SCRYPT_P,
                            dklen=32, maxmem=256 * 1024 * 1024)
    return "$".join(("scrypt", str(n), str(SCRYPT_R), str(SCRYPT_P),
                     base64.b64encode(salt).decode(), base64.b64encode(digest).decode()))


def check_secret(secret: str, stored: str) -> bool:
    try:
        kind, *fields = stored.split("$")
        if kind == HMAC_KIND and len(fields) == 2:
            salt, want = (base64.b64decode(f) for f in fields)
            got = hmac.new(salt, secret.encode("utf-8"), hashlib.sha256).digest()
        elif kind == "scrypt" and len(fields) == 5:
            n, r, p, salt_b64, hash_b64 = fields
            salt = base64.b64decode(salt_b64)
            want = base64.b64decode(hash_b64)
            got = hashlib.scrypt(secret.encode("utf-8"), salt=salt, n=int(n), r=int(r),
                                 p=int(p), dklen=len(want), maxmem=256 * 1024 * 1024)
        else:
            return False
    except (ValueError, binascii.Error):
        return False
    return hmac.compare_digest(got, want)


def parse_basic(header: str | None) -> tuple[str, str]:
    """``Authorization: Basic …`` → (user, password); :class:`Unauthorized` otherwise."""
    if not header:
        raise Unauthorized("authentication required: HTTP Basic with device id and secret")
    scheme, _, value = header.partition(" ")
    if scheme.lower() != "basic":
        raise Unauthorized("only HTTP Basic authentication is accepted")
    try:
        user, sep, password = base64.b64decode(value.strip(), validate=True).decode(
            "utf-8").partition(":")
    except (binascii.Error, UnicodeDecodeError) as exc:
        raise Unauthorized("malformed Basic credentials") from exc
    if not sep or not user:
        raise Unauthorized("malformed Basic credentials")
    return user, password


@dataclass(frozen=True)
class Device:
    """An authenticated device: its id and its institution's code."""

    device_id: str
    institution: str
    record: Mapping[str, Any]


class DeviceAuth:
    """Checks Basic credentials against ``cred:{device id}`` records of the private db."""

    def __init__(self, private: DocumentStore, *, cache_seconds: float = 300.0):
        self.private = private
        self.cache_seconds = cache_seconds
        self._key = secrets.token_bytes(32)
        self._verified: dict[str, tuple[bytes, float]] = {}
        self._lock = threading.Lock()

    def record(self, device_id: str) -> dict[str, Any] | None:
        try:
            return self.private.get(CRED_PREFIX + device_id)
        except NotFound:
            return None

    def authenticate(self, header: str | None) -> Device:
        device_id, secret = parse_basic(header)
        rec = self.record(device_id)
        if rec is None:
            raise Unauthorized("unknown device or wrong secret")
        if rec.get("revoked"):
            raise DeviceRevoked(device_id)
        tag = hmac.new(self._key, f"{device_id}\0{secret}\0{rec['secret_hash']}".encode(),
                       hashlib.sha256).digest()
        now = time.monotonic()
        with self._lock:
            hit = self._verified.get(device_id)
        if hit is None or hit[1] < now or not hmac.compare_digest(hit[0], tag):
            if not check_secret(secret, rec["secret_hash"]):
                raise Unauthorized("unknown device or wrong secret")
            with self._lock:
                self._verified[device_id] = (tag, now + self.cache_seconds)
        return Device(device_id, rec["institution"], rec)
