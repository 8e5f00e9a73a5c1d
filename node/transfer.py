"""The institution's keys carried to a station's second laptop (``bangban node keys export``,
then ``bangban node init --institution-keys FILE``).

Every laptop of an institution must hold the same institution X25519 key (case keys are
wrapped to it, and the hub's directory has one active key per institution), but each
laptop signs with its own device key. The transfer file therefore holds a
:class:`sync.crypto.Keychain` with only the institution's entries, every generation and
status (retired keys still open old cases), locked under a *transfer passphrase* that is
not the clerk's daily passphrase: the file may travel on a USB stick, and whoever carries
it must not learn how to unlock the first laptop.

The keychain authenticates each entry (AES-GCM with its metadata as associated data) but not
which entries are present, their order (the newest active key is the last one) nor the
header. ``mac`` binds those: an HMAC keyed by a value derived from every private key in the
file, so only someone who could open the file could have written it.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from node.errors import BadPassphrase, NotEnrolled, TransferRefused

if TYPE_CHECKING:
    from node.keys import NodeKeys
    from sync.crypto import Keychain

KIND = "bangban-institution-keys"
VERSION = 1
MAC_INFO = b"bangban/v1/institution-keys-transfer"
#: A short transfer passphrase would make the file, the institution's most valuable secret,
#: cheap to guess once copied off a USB stick.
MIN_TRANSFER_PASSPHRASE = 8
ALTERED = "密钥文件已损坏或被改动 / the key file is damaged or was altered"


def read_enrollment(folder: Path) -> dict[str, Any]:
    from node.core import ENROLLMENT

    path = folder / ENROLLMENT
    if not path.exists():
        raise NotEnrolled(f"{folder} 尚未登记 / no enrollment in {folder}: run `bangban node init`")
    data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return data


def check_transfer_passphrase(transfer: str, daily: str) -> None:
    """Refuse a transfer passphrase that is short or equal to the clerk's daily one."""
    if len(transfer) < MIN_TRANSFER_PASSPHRASE:
        raise TransferRefused(
            f"传递口令至少 {MIN_TRANSFER_PASSPHRASE} 个字符 / the transfer passphrase needs at "
            f"least {MIN_TRANSFER_PASSPHRASE} characters", fields={"transfer_passphrase": "short"})
    if transfer == daily:
        raise TransferRefused(
            "传递口令不能与本机口令相同 / the transfer passphrase must differ from this "
            "laptop's passphrase", fields={"transfer_passphrase": "same as passphrase"})


def institution_keychain(chain: Keychain, institution: str) -> Keychain:
    """A keychain with only ``institution``'s keys of ``chain``, in order, statuses kept."""
    from sync.crypto import Keychain

    only = Keychain()
    for held in chain.find("institution", institution, active_only=False):
        only.add(held.role, held.owner, held.key, held.status)
    return only


def _mac(chain: Keychain, header: Mapping[str, Any]) -> str:
    from sync.crypto import EncryptionKeyPair
    from sync.crypto.encoding import b64u_encode, canonical_json

    secrets = []
    for held in chain.keys:
        if not isinstance(held.key, EncryptionKeyPair):
            raise TransferRefused(f"keychain: {held.key_id} is not an institution (X25519) key",
                                  fields={"keychain": "foreign keys"})
        secrets.append(held.key.derive_key(MAC_INFO))
    key = hashlib.sha256(b"".join(secrets)).digest()
    body = canonical_json({**header, "keys": [[h.key_id, h.status] for h in chain.keys]})
    return b64u_encode(hmac.new(key, body, hashlib.sha256).digest())


def export_document(keys: NodeKeys, transfer_passphrase: str, *,
                    scrypt_n: int | None = None) -> dict[str, Any]:
    """The transfer file's JSON for ``keys``' institution (no device key in it)."""
    from sync.crypto.keys import SCRYPT_N  # read at call time: tests lower it

    chain = institution_keychain(keys.keychain, keys.institution)
    if not chain.find("institution", keys.institution):
        raise TransferRefused(f"本机没有机构 {keys.institution} 的有效密钥 / this laptop holds no "
                              f"active key of institution {keys.institution}")
    header = {"kind": KIND, "v": VERSION, "institution": keys.institution,
              "exported_by": keys.device_id,
              "exported_at": datetime.now(UTC).isoformat(timespec="seconds")}
    locked = chain.lock(transfer_passphrase, n=scrypt_n or SCRYPT_N)
    return {**header, "keychain": locked, "mac": _mac(chain, header)}


def summary(doc: Mapping[str, Any], path: Path) -> dict[str, Any]:
    """What ``keys export`` prints: public ids only, never key material."""
    return {"ok": True, "institution": doc["institution"], "exported_by": doc["exported_by"],
            "key_ids": [k["key_id"] for k in doc["keychain"]["keys"]], "file": str(path)}


def write_document(path: Path, doc: Mapping[str, Any], *, force: bool = False) -> None:
    """Write ``doc`` with mode 0600; an existing file is replaced only with ``force``."""
    if path.exists() and not force:
        raise TransferRefused(f"{path} 已存在 / {path} exists (give --force to overwrite)",
                              fields={"out": "exists"})
    if force and path.exists():
        path.unlink()
    # O_EXCL with 0600 from the start: the private keys are never readable by others,
    # not even between creating the file and a later chmod.
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    os.fchmod(fd, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        json.dump(doc, fh, ensure_ascii=False, indent=1)


def load_document(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise TransferRefused(f"读不到密钥文件 / cannot read the key file {path}: {exc.strerror}",
                              fields={"institution_keys": "unreadable"}) from exc
    except ValueError as exc:
        raise TransferRefused(f"{ALTERED} (not JSON)",
                              fields={"institution_keys": "not JSON"}) from exc
    if not isinstance(data, dict):
        raise TransferRefused(f"{ALTERED} (not a JSON object)",
                              fields={"institution_keys": "not an object"})
    return data


def open_document(doc: Mapping[str, Any], transfer_passphrase: str, institution: str) -> Keychain:
    """The institution keys in ``doc``, checked against the enrollment's ``institution``."""
    from sync.crypto import CryptoError, Keychain, WrongPassphrase

    if doc.get("kind") != KIND:
        raise TransferRefused(f"kind: 不是机构密钥文件 / not an institution key file (kind must be "
                              f"{KIND!r}, got {doc.get('kind')!r})", fields={"kind": "wrong kind"})
    if doc.get("v") != VERSION:
        raise TransferRefused(f"v: 不支持的版本 / unsupported version {doc.get('v')!r} (expected "
                              f"{VERSION})", fields={"v": "unsupported"})
    if doc.get("institution") != institution:
        raise TransferRefused(
            f"institution: 密钥文件属于机构 {doc.get('institution')}，"
            f"本机登记的机构是 {institution} / "
            f"the key file is for institution {doc.get('institution')}, this device is enrolled "
            f"for {institution}", fields={"institution": "does not match the enrollment"})
    if not isinstance(doc.get("keychain"), Mapping):
        raise TransferRefused(f"keychain: {ALTERED}", fields={"keychain": "missing"})
    try:
        chain = Keychain.unlock(doc["keychain"], transfer_passphrase)
    except WrongPassphrase as exc:
        raise BadPassphrase("传递口令错误 / wrong transfer passphrase") from exc
    except CryptoError as exc:
        raise TransferRefused(f"{ALTERED}: {exc.reason}", fields={"keychain": "altered"}) from exc
    except (AttributeError, TypeError, ValueError) as exc:  # fields of the wrong JSON type
        raise TransferRefused(f"{ALTERED}: {exc}", fields={"keychain": "altered"}) from exc
    # Owners are authenticated per entry; the header's institution is not, so check both.
    if not chain.keys or any(h.role != "institution" or h.owner != institution
                             or h.key.alg != "X25519" for h in chain.keys):
        raise TransferRefused(f"keychain: {ALTERED} (only {institution}'s institution keys belong "
                              "in it)", fields={"keychain": "foreign keys"})
    header = {k: doc.get(k) for k in ("kind", "v", "institution", "exported_by", "exported_at")}
    if not hmac.compare_digest(str(doc.get("mac", "")).encode(), _mac(chain, header).encode()):
        raise TransferRefused(f"mac: {ALTERED}", fields={"mac": "does not match"})
    if not chain.find("institution", institution):
        raise TransferRefused(f"密钥文件没有有效的机构密钥 / the key file holds no active key of "
                              f"{institution}", fields={"keychain": "no active key"})
    return chain
