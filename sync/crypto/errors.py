"""The crypto part of the sync error tree.

Every failure of :mod:`sync.crypto` is one of these, all subclasses of
:class:`sync.errors.SyncError` so callers catch one base class. The errors of
``cryptography`` (``InvalidTag``, ``ValueError`` from key loading), of libsodium
(PyNaCl's ``BadSignatureError``: signatures are verified there, :mod:`sync.crypto.sign`)
and of base64/JSON decoding are translated at the boundary with
``raise ... from exc``: a wrong key, a flipped bit, swapped associated data or a
truncated blob each surface as exactly one :class:`DecryptionFailed`.
"""

from __future__ import annotations

from sync.errors import SyncError


class CryptoError(SyncError):
    """Base of every error raised by :mod:`sync.crypto`."""

    status = 403
    error = "crypto_error"


class DecryptionFailed(CryptoError):
    """A sealed envelope, wrapped key or encrypted attachment could not be opened:
    wrong key, altered or truncated ciphertext, or associated data that does not match."""

    status = 403
    error = "decryption_failed"


class MalformedEnvelope(DecryptionFailed):
    """The envelope or blob is not in the expected shape (missing field, bad base64,
    unknown version or algorithm, truncated header)."""

    error = "malformed_envelope"


class BadSignature(CryptoError):
    """A document's or directory's signature is missing, malformed or does not verify."""

    status = 403
    error = "bad_signature"


class UnknownKey(CryptoError):
    """The key named by a signature, envelope or keyring is not known (not in the
    directory, not held by this node, or revoked/retired)."""

    status = 403
    error = "unknown_key"


class WrongPassphrase(CryptoError):
    """The passphrase does not unlock the key store."""

    status = 401
    error = "wrong_passphrase"


class AccessNotLogged(CryptoError):
    """Personal data was not released because its access event could not be recorded."""

    status = 500
    error = "access_not_logged"


__all__ = [
    "AccessNotLogged",
    "BadSignature",
    "CryptoError",
    "DecryptionFailed",
    "MalformedEnvelope",
    "UnknownKey",
    "WrongPassphrase",
]
