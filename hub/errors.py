"""The hub's one exception tree.

Each error carries CouchDB's triple (``status``, ``error``, ``reason``) like
:class:`sync.errors.SyncError`, so the HTTP layer renders hub and sync errors
the same way. Foreign errors are translated where they happen (``raise … from``).
"""

from __future__ import annotations

import re
from typing import Any

#: "English / 中文", the hub's bilingual reason: an English half with no Chinese, then one
#: that has Chinese
_BILINGUAL = re.compile(r"(?P<en>[^\u3400-\u9fff]+?) / (?P<zh>.*[\u3400-\u9fff].*)", re.S)


class HubError(Exception):
    """Base of every error raised by :mod:`hub`."""

    status: int = 500
    error: str = "hub_error"

    def __init__(self, reason: str = "", *, error: str | None = None, status: int | None = None):
        super().__init__(reason)
        self.reason = reason or (self.__class__.__doc__ or self.error).strip()
        if error is not None:
            self.error = error
        if status is not None:
            self.status = status

    def as_json(self) -> dict[str, Any]:
        return {"error": self.error, "reason": self.reason}

    def __str__(self) -> str:
        return f"{self.status} {self.error}: {self.reason}"

    def halves(self) -> tuple[str, str]:
        """(Chinese, English) of the reason, for a page a supervisor reads in Chinese: the
        oversight's error page led with the English half. A reason that is not one such
        pair is its own Chinese half, with no English one (nothing of it is dropped)."""
        m = _BILINGUAL.fullmatch(self.reason)
        return (m["zh"], m["en"]) if m else (self.reason, "")


class ConfigError(HubError):
    """A setting is missing or malformed."""

    status = 500
    error = "config_error"


class NotInitialized(HubError):
    """The hub directory has not been initialised: run `bangban hub init` first."""

    status = 503
    error = "not_initialized"


class AlreadyExists(HubError):
    """The institution, device or hub already exists."""

    status = 409
    error = "conflict"


class UnknownInstitution(HubError):
    """No such institution in the hub's directory."""

    status = 404
    error = "not_found"


class UnknownDevice(HubError):
    """No such device."""

    status = 404
    error = "not_found"


class BadInput(HubError):
    """A command or request argument is malformed."""

    status = 400
    error = "bad_request"


class Unauthorized(HubError):
    """Missing or wrong device credentials (HTTP Basic: device id and secret)."""

    status = 401
    error = "unauthorized"


class DeviceRevoked(Unauthorized):
    """The device was revoked: it must wipe its keys and local data (design.md §5)."""

    reason_text = "device revoked"

    def __init__(self, device_id: str = ""):
        super().__init__("device revoked")
        self.device_id = device_id

    def as_json(self) -> dict[str, Any]:
        # The contract with node/ (engineer H): 401 and ``bangban_wipe: true``.
        return {"error": "unauthorized", "reason": "device revoked", "bangban_wipe": True}


class DelegationExpired(HubError):
    """The root's delegation to the hub's directory-signing key has expired (root offline,
    design.md §5): renew it where the root keychain is."""

    status = 503
    error = "delegation_expired"
