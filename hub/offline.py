"""The municipal root key offline (design.md §5), opt-in: ``hub init --offline-root FILE``.

The default ``hub init`` keeps the root key in the hub's keychain (see hub/README.md,
"Root key online"). With ``--offline-root`` the root is generated, written *alone* to
FILE as a passphrase-locked :class:`sync.crypto.Keychain` (take it off the server) and
never kept by the hub. Instead the hub holds an online directory-signing key (role
``directory_signer``) and the root's delegation to it (``keys/delegation.json``, like an
intermediate CA certificate, default 365 days). Every directory the hub publishes carries
that delegation inside its signed payload; nodes keep pinning only the root
(:func:`sync.crypto.verify_directory`).

The limit: whoever takes over the hub can sign directories until the delegation
expires. The root holder can refuse to renew it, and nodes, which pin the root, then
refuse every directory issued after ``not_after``. Renewal, where the root keychain is::

    bangban hub root delegate --root-keychain FILE --signer-key=PUB --out D.json
    bangban hub --hub-dir H delegation install D.json       # verifies, stores, republishes
    bangban hub --hub-dir H delegation show                 # signer key, not_after, days left
"""

from __future__ import annotations

import datetime as dt
import getpass
import json
import os
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from hub import keys as hub_keys
from hub.errors import AlreadyExists, BadInput, DelegationExpired, NotInitialized
from hub.settings import env_name
from sync.crypto import (
    CryptoError,
    Keychain,
    SigningKeyPair,
    sign_delegation,
    verify_delegation,
)
from sync.crypto.keys import SCRYPT_N

if TYPE_CHECKING:
    from hub.core import Hub

DEFAULT_DAYS = 365
#: scrypt N of the root keychain file: the full offline-keychain cost (tests lower it).
ROOT_SCRYPT_N = SCRYPT_N
PASSPHRASE_ENV = env_name("root_passphrase")  # BANGBAN_ROOT_PASSPHRASE, declared in hub.settings


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def root_passphrase(file: str | None = None, *, confirm: bool = False) -> str:
    """The root keychain's passphrase: ``file``, else ``$BANGBAN_ROOT_PASSPHRASE``, else asked
    (twice when ``confirm``, i.e. when a new root keychain is written)."""
    if file:
        try:
            text = Path(file).read_text("utf-8").strip()
        except OSError as exc:
            raise BadInput(f"--root-passphrase-file {file}: {exc.strerror}") from exc
    elif os.environ.get(PASSPHRASE_ENV):
        text = os.environ[PASSPHRASE_ENV]
    else:
        if not sys.stdin.isatty():  # getpass would fail with EOFError (cron, ssh without -t)
            raise BadInput(f"no root keychain passphrase: give --root-passphrase-file or "
                           f"{PASSPHRASE_ENV}")
        text = getpass.getpass("root keychain passphrase: ")
        if confirm and getpass.getpass("again: ") != text:
            raise BadInput("the two root passphrases differ")
    if not text:
        raise BadInput("the root keychain passphrase is empty")
    return text


@dataclass(frozen=True)
class OfflineRoot:
    """What ``hub init --offline-root`` needs: where to write the root and for how long
    the first delegation runs."""

    path: str
    passphrase: str = field(repr=False)
    days: int = DEFAULT_DAYS
    scrypt_n: int | None = None

    def create_keys(self, hub_dir: str | Path,
                    hub_device: str) -> tuple[Keychain, Any, SigningKeyPair]:
        """Write the root keychain file, the hub's keys (no root) and the first delegation;
        returns the hub keychain, the escrow pair and the root (its public half is pinned)."""
        target = Path(self.path).resolve()
        if target.exists():
            raise AlreadyExists(f"{self.path} exists: refusing to overwrite a root keychain")
        if target.is_relative_to(Path(hub_dir).resolve()):
            raise BadInput(f"--offline-root {self.path}: outside the hub folder, please (the "
                           "point is that the server does not hold the root key)")
        root = SigningKeyPair.generate()
        offline = Keychain()
        offline.add("root", "municipal", root)
        target.parent.mkdir(parents=True, exist_ok=True)
        with open(target, "x", encoding="utf-8") as out:
            json.dump(offline.lock(self.passphrase, n=self.scrypt_n or ROOT_SCRYPT_N), out, indent=1)
        target.chmod(0o600)
        chain, escrow = hub_keys.create(hub_dir, hub_device, root=False)
        signer = chain.active(hub_keys.SIGNER_ROLE).key
        assert isinstance(signer, SigningKeyPair)
        hub_keys.save_delegation(hub_dir, sign_delegation(
            signer, root, days=self.days, serial=int(_now().timestamp())))
        return chain, escrow, root


def load_root(path: str, passphrase: str) -> SigningKeyPair:
    """The root key from its offline keychain file (WrongPassphrase if it does not open)."""
    try:
        locked = json.loads(Path(path).read_text("utf-8"))
    except (OSError, ValueError) as exc:
        raise BadInput(f"--root-keychain {path}: not readable as a keychain ({exc})") from exc
    key = Keychain.unlock(locked, passphrase).active("root").key
    if not isinstance(key, SigningKeyPair):
        raise BadInput(f"--root-keychain {path}: its root key is not Ed25519")
    return key


def delegate(root_path: str, passphrase: str, signer_key: str, *, days: int = DEFAULT_DAYS,
             serial: int | None = None) -> dict[str, Any]:
    """A new delegation from the offline root to ``signer_key`` (base64url Ed25519 public
    key, as ``delegation show`` prints it). Needs no hub folder."""
    root = load_root(root_path, passphrase)
    try:
        return sign_delegation(signer_key, root, days=days,
                               serial=int(_now().timestamp()) if serial is None else serial)
    except CryptoError as exc:
        raise BadInput(exc.reason) from exc


def _verified(hub: Hub, doc: Any) -> Any:
    """The delegation verified under the hub's pinned root keys (expiry checked by callers)."""
    issued = doc.get("issued_at") if isinstance(doc, dict) else None
    try:
        return verify_delegation(doc, hub.identity["root_keys"], at=issued or _now())
    except CryptoError as exc:
        raise BadInput(exc.reason) from exc


def current(hub: Hub) -> Any:
    """The hub's stored, verified delegation (:class:`sync.crypto.Delegation`)."""
    if hub.keys.has_root:
        raise BadInput("this hub holds its root key (default `hub init`): no delegation is used")
    doc = hub_keys.load_delegation(hub.settings.hub_dir)
    if doc is None:
        raise NotInitialized(f"{hub.settings.hub_dir}/keys/{hub_keys.DELEGATION} is missing: "
                             "install one with `bangban hub delegation install`")
    return _verified(hub, doc)


def _renew_hint(hub: Hub) -> str:
    return ("renew it where the root keychain is: `bangban hub root delegate --root-keychain "
            f"FILE --signer-key={hub.keys.directory_signer.public_b64} --out D.json`, then "
            "`bangban hub delegation install D.json`")


def directory_key(hub: Hub) -> tuple[SigningKeyPair, dict[str, Any] | None]:
    """The key :func:`hub.admin.publish_directory` signs with and the delegation to carry:
    the root if the hub holds it (today's default), else the directory-signing key."""
    if hub.keys.has_root:
        return hub.keys.root, None
    deleg = current(hub)
    signer = hub.keys.directory_signer
    if deleg.key_id != signer.key_id:
        raise DelegationExpired(f"the stored delegation names {deleg.key_id}, not this hub's "
                                f"directory-signing key {signer.key_id}: {_renew_hint(hub)}")
    if deleg.expired(_now()):
        raise DelegationExpired(f"the root's delegation to the directory-signing key expired "
                                f"at {deleg.doc['not_after']}; no directory can be published "
                                f"until it is renewed: {_renew_hint(hub)}")
    return signer, dict(deleg.doc)


def read_file(path: str) -> Any:
    """A delegation JSON file (as ``root delegate --out`` writes it)."""
    try:
        return json.loads(Path(path).read_text("utf-8"))
    except (OSError, ValueError) as exc:
        raise BadInput(f"{path}: not a readable JSON delegation ({exc})") from exc


def install(hub: Hub, doc: Any) -> dict[str, Any]:
    """Check a renewed delegation (verifies under the hub's root, names the hub's current
    signer key, not expired, serial not older), store it and republish the directory."""
    from hub import admin

    if hub.keys.has_root:
        raise BadInput("this hub holds its root key (default `hub init`): no delegation is used")
    deleg = _verified(hub, doc)
    signer = hub.keys.directory_signer
    if deleg.key_id != signer.key_id:
        raise BadInput(f"delegation.key_id: {deleg.key_id} is not this hub's directory-signing "
                       f"key {signer.key_id} (give --signer-key={signer.public_b64})")
    if deleg.expired(_now()):
        raise BadInput(f"delegation.not_after: {deleg.doc['not_after']} has passed")
    old = hub_keys.load_delegation(hub.settings.hub_dir)
    if old is not None and isinstance(old.get("serial"), int) and deleg.serial < old["serial"]:
        raise BadInput(f"delegation.serial: {deleg.serial} is older than the installed "
                       f"{old['serial']}")
    hub_keys.save_delegation(hub.settings.hub_dir, deleg.doc)
    directory = admin.publish_directory(hub)
    return {**info(hub), "directory_version": directory["version"]}


def info(hub: Hub) -> dict[str, Any]:
    """What ``bangban hub delegation show`` prints."""
    deleg = current(hub)
    now = _now()
    return {"signer_key_id": deleg.key_id, "signer_key": deleg.public,
            "issued_at": deleg.doc["issued_at"], "not_after": deleg.doc["not_after"],
            "days_left": round(deleg.days_left(now), 2), "expired": deleg.expired(now),
            "serial": deleg.serial, "root_key_id": deleg.root_key_id}
