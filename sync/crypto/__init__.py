"""Confidentiality for Bangban documents (design §5; standard 7.2.2.2, 7.3.2.4).

Built only from ``cryptography`` primitives: AES-256-GCM, X25519, Ed25519,
HKDF-SHA256, scrypt. The public API:

Keys (:mod:`.keys`)
    :class:`EncryptionKeyPair` (X25519: institutions, escrow), :class:`SigningKeyPair`
    (Ed25519: devices, municipal root), :class:`Keychain` (``lock(passphrase)`` /
    ``Keychain.unlock(locked, passphrase)``), :func:`change_passphrase`.
Directory (:mod:`.directory`)
    :func:`build_directory`, :func:`key_entry`, :func:`sign_directory` (root, offline),
    :func:`verify_directory` -> :class:`Directory` (nodes trust no key before this).
Delegation (:mod:`.delegation`)
    :func:`sign_delegation` (root, offline: lets one online key sign directories until
    ``not_after``), :func:`verify_delegation` -> :class:`Delegation`; pass the delegation
    to :func:`sign_directory` and the directory carries it (design §5, root offline).
Case keys (:mod:`.keyring`, :mod:`.seal`)
    :func:`new_keyring`, :func:`unlock_case_key` -> :class:`CaseKey` (``seal(doc)``,
    ``seal_attachment(bytes, doc_id, name)``), :func:`add_recipient` (hand-up, transfer),
    :func:`rewrap` / :func:`rotate_keyrings` (key rotation), :func:`needs_rewrap` (after a
    merged conflict), :func:`keyring_id`.
Reading personal data (:mod:`.access`)
    :func:`open_private`, :func:`open_case`, :func:`open_attachment`: each requires a
    ``purpose`` and an ``on_access`` callback that stores the signed access event;
    :func:`derive_private`: a machine step's result (search tokens), never the plaintext.
Signatures (:mod:`.sign`)
    :class:`DeviceSigner`, :func:`sign_document`, :func:`verify_document` (the one check
    used by hub and nodes).
Errors (:mod:`.errors`)
    :class:`CryptoError` (a :class:`sync.errors.SyncError`) and its subclasses.
"""

from sync.crypto.access import (
    ACCESS_EVENT_TYPE,
    PURPOSES,
    Actor,
    access_event,
    derive_private,
    open_attachment,
    open_case,
    open_private,
    with_private,
)
from sync.crypto.delegation import (
    DELEGATION_DOMAIN,
    Delegation,
    sign_delegation,
    verify_delegation,
)
from sync.crypto.directory import (
    DIRECTORY_ID,
    Directory,
    build_directory,
    check_public_key,
    key_entry,
    sign_directory,
    verify_directory,
)
from sync.crypto.errors import (
    AccessNotLogged,
    BadSignature,
    CryptoError,
    DecryptionFailed,
    MalformedEnvelope,
    UnknownKey,
    WrongPassphrase,
)
from sync.crypto.keyring import (
    ESCROW,
    add_recipient,
    keyring_id,
    needs_rewrap,
    new_keyring,
    rewrap,
    rotate_keyrings,
    unlock_case_key,
)
from sync.crypto.keys import (
    EncryptionKeyPair,
    Keychain,
    SigningKeyPair,
    change_passphrase,
)
from sync.crypto.seal import CaseKey, is_sealed
from sync.crypto.sign import DeviceSigner, Signer, sign_document, signing_payload, verify_document

__all__ = [
    "ACCESS_EVENT_TYPE",
    "DELEGATION_DOMAIN",
    "DIRECTORY_ID",
    "ESCROW",
    "PURPOSES",
    "AccessNotLogged",
    "Actor",
    "BadSignature",
    "CaseKey",
    "CryptoError",
    "DecryptionFailed",
    "Delegation",
    "DeviceSigner",
    "Directory",
    "EncryptionKeyPair",
    "Keychain",
    "MalformedEnvelope",
    "Signer",
    "SigningKeyPair",
    "UnknownKey",
    "WrongPassphrase",
    "access_event",
    "add_recipient",
    "build_directory",
    "check_public_key",
    "change_passphrase",
    "is_sealed",
    "key_entry",
    "keyring_id",
    "needs_rewrap",
    "new_keyring",
    "open_attachment",
    "derive_private",
    "open_case",
    "open_private",
    "rewrap",
    "rotate_keyrings",
    "sign_delegation",
    "sign_directory",
    "sign_document",
    "signing_payload",
    "unlock_case_key",
    "verify_delegation",
    "verify_directory",
    "verify_document",
    "with_private",
]
