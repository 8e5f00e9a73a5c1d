"""Supervisor accounts (11.1: the departments that set up the institutions supervise them).

A supervisor belongs to one institution of the city, county or town tier and sees its
subtree: institution codes are hierarchical (county ``410621``, town ``410621101``,
village ``410621101201``), so the subtree of a county or town is its code prefix and the
city sees everything. Accounts live in the hub-private database (``P-hub``, never
replicated) as ``supervisor:{login}`` with a salted scrypt hash (RFC 7914: a password is
chosen by a person, so each guess must be slow), compared in constant time; failed logins
are throttled per login and address (:class:`hub.oversight.throttle.LoginThrottle`).
"""

from __future__ import annotations

import hashlib
import hmac
import os
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from hub.errors import AlreadyExists, BadInput
from sync.errors import NotFound

if TYPE_CHECKING:
    from hub.core import Hub

LEVELS = {"city": ("市级", "city"), "county": ("县（区）级", "county"), "town": ("乡镇（街道）级", "town")}
_LOGIN = re.compile(r"[a-z0-9][a-z0-9_.-]{1,39}")


class SupervisorError(BadInput):
    """Bad supervisor input (400)."""


@dataclass(frozen=True)
class Supervisor:
    login: str
    name: str
    level: str
    institution: str
    stamp: str = ""  # session_stamp of the account when read

    @property
    def prefix(self) -> str:
        """The code prefix of the subtree this supervisor sees ("" = the whole city)."""
        return "" if self.level == "city" else self.institution

    def sees(self, code: str) -> bool:
        return code.startswith(self.prefix)


def hash_password(password: str, *, n: int = 16384) -> dict[str, Any]:
    salt = os.urandom(16)
    digest = hashlib.scrypt(password.encode("utf-8"), salt=salt, n=n, r=8, p=1, dklen=32)
    return {"alg": "scrypt", "n": n, "r": 8, "p": 1, "salt": salt.hex(), "hash": digest.hex()}


def check_password(stored: dict[str, Any], password: str) -> bool:
    if stored.get("alg") != "scrypt":
        return False
    digest = hashlib.scrypt(password.encode("utf-8"), salt=bytes.fromhex(stored["salt"]),
                            n=int(stored["n"]), r=int(stored["r"]), p=int(stored["p"]),
                            dklen=len(bytes.fromhex(stored["hash"])))
    return hmac.compare_digest(digest.hex(), stored["hash"])


def add_supervisor(hub: Hub, login: str, password: str, *, institution: str, name: str = "",
                   replace: bool = False) -> Supervisor:
    """Create (or with ``replace`` update) a supervisor of ``institution``'s subtree."""
    if not _LOGIN.fullmatch(login or ""):
        raise SupervisorError("login: 2–40 lower-case letters, digits, _ . - / "
                              "登录名：2–40 位小写字母、数字、_ . -")
    if len(password or "") < 8:
        raise SupervisorError("password: at least 8 characters / 密码：至少 8 位")
    try:
        inst = hub.stores.main.get(f"institution:{institution}")
    except NotFound:
        raise SupervisorError(f"institution: {institution} is not known to the hub / "
                              f"机构 {institution} 不存在") from None
    level = inst.get("tier")
    if level not in LEVELS:
        raise SupervisorError(f"institution: supervisors belong to a city, county or town "
                              f"institution, {institution} is a {level} / 监督账号须属于市、县、乡镇机构")
    doc: dict[str, Any] = {"_id": f"supervisor:{login}", "type": "supervisor", "login": login,
                           "name": name or login, "level": level, "institution": institution,
                           "password": hash_password(password, n=hub.settings.scrypt_n)}
    private = hub.stores.private
    try:
        old = private.get(doc["_id"])
    except NotFound:
        old = None
    if old is not None:
        if not replace:
            raise AlreadyExists(f"supervisor {login} exists / 账号已存在")
        doc["_rev"] = old["_rev"]
    private.put(doc)
    return _supervisor(doc)


def disable_supervisor(hub: Hub, login: str) -> dict[str, Any]:
    """``login`` leaves (7, 6.2.2: staff change; a town coordinator's deputy gets a login of
    their own): refused at the login page and logged out at the next request (:func:`load`).
    The account stays, with the day, because the complaints it took in name it (11.1);
    ``add --replace`` gives it a new password and enables it again."""
    from schemas.state import local_today

    private = hub.stores.private
    try:
        doc = private.get(f"supervisor:{login}")
    except NotFound:
        raise SupervisorError(f"login: no supervisor {login} / 没有该监督账号") from None
    if not doc.get("disabled"):
        doc["disabled"] = local_today().isoformat()
        private.put(doc)
    return doc


def _supervisor(doc: dict[str, Any]) -> Supervisor:
    return Supervisor(doc["login"], doc.get("name", doc["login"]), doc["level"],
                      doc["institution"], session_stamp(doc))


def session_stamp(doc: dict[str, Any]) -> str:
    """What a login session remembers of the account: its password's salt, new with every
    password set. A session whose stamp no longer matches (the password was changed, say
    after a laptop was lost) is logged out at its next request: the signed cookie itself
    cannot be recalled."""
    return str(doc.get("password", {}).get("salt", ""))[:16]


def authenticate(hub: Hub, login: str, password: str) -> Supervisor | None:
    try:
        doc = hub.stores.private.get(f"supervisor:{login}")
    except NotFound:
        # one scrypt run, as a wrong password costs: a "no" at once told a stranger which
        # logins exist (and the throttle then spent their guesses on those only)
        hash_password(password, n=hub.settings.scrypt_n)
        return None
    if not check_password(doc.get("password", {}), password) or doc.get("disabled"):
        return None
    return _supervisor(doc)


def load(hub: Hub, login: str, stamp: str | None = None) -> Supervisor | None:
    """The supervisor of a session; None when unknown, disabled, or (``stamp`` given) when
    the password changed since the session logged in."""
    try:
        doc = hub.stores.private.get(f"supervisor:{login}")
    except NotFound:
        return None
    if doc.get("disabled"):
        return None
    who = _supervisor(doc)
    if stamp is not None and not hmac.compare_digest(stamp, who.stamp):
        return None
    return who
