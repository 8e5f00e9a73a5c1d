"""Releasing personal data, and the access event that must go with it (design §5).

Every decryption of a case's personal data is recorded as an ``access`` event
(who, when, which case, which documents, why) that the node stores and that syncs
to the hub for oversight (standard 7.2.2.2: the applicant's information must not
leak, so every look at it is accounted for). The public way to read a sealed part
is :func:`open_private` / :func:`open_case` / :func:`open_attachment`: each needs
a ``purpose`` and an ``on_access`` callback, and returns plaintext only after the
callback has accepted the signed access event. If the callback raises, nothing
is released (:class:`AccessNotLogged`). The decryption runs first, in memory, so
that failed attempts do not leave access events claiming data was read.
"""

from __future__ import annotations

import datetime as dt
import re
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from schemas.hlc import HLC, pack, tick
from sync.crypto.errors import AccessNotLogged, CryptoError
from sync.crypto.seal import CaseKey
from sync.crypto.sign import DeviceSigner, sign_document

ACCESS_EVENT_TYPE = "access"
PURPOSE_RE = re.compile(r"^[a-z][a-z0-9_.-]{1,63}$")
#: The usual purposes (any code of the right shape is accepted).
PURPOSES = ("casework", "print_form", "hand_over", "review", "supervision", "complaint", "export")

OnAccess = Callable[[dict[str, Any]], object]


@dataclass
class Actor:
    """Who is reading: the staff member, their institution, and the device (which signs).

    ``clock`` returns a fresh hybrid logical clock string for the event id; by default a
    per-actor HLC ticked from the wall clock (nodes pass their own clock so ids stay
    monotonic across everything the device writes).
    """

    staff: str
    institution: str
    signer: DeviceSigner
    clock: Callable[[], str] | None = None
    _last: HLC | None = field(default=None, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def next_clock(self) -> str:
        if self.clock is not None:
            return self.clock()
        with self._lock:
            self._last = tick(int(time.time() * 1000), self._last, self.signer.device_id)
            return pack(self._last)


def access_event(case_key: CaseKey, doc_ids: Sequence[str], purpose: str, actor: Actor,
                 *, note: str | None = None, attachments: Sequence[str] = ()) -> dict[str, Any]:
    """The signed ``access`` event for reading ``doc_ids`` of the case.

    ``purpose`` is a cleartext code (oversight counts it); a free-text ``note`` is
    personal-ish text, so it is sealed with the case key like any ``private`` part.
    """
    if not isinstance(purpose, str) or not PURPOSE_RE.match(purpose):
        raise CryptoError(
            f"purpose: required, a code matching {PURPOSE_RE.pattern} (e.g. {', '.join(PURPOSES[:3])}) "
            "/ 查阅个人信息必须说明原因（原因代码）", status=400, error="bad_request")
    case_id = case_key.case_id
    clock = actor.next_clock()
    doc: dict[str, Any] = {
        "_id": f"event:{case_id}:{clock}",
        "type": "event",
        "event_type": ACCESS_EVENT_TYPE,
        "schema_version": 1,
        "case_id": case_id,
        "hlc": clock,
        "at": dt.datetime.now(dt.UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z"),
        "institution": actor.institution,
        "device": actor.signer.device_id,
        "staff": actor.staff,
        "purpose": purpose,
        "docs": list(doc_ids),
    }
    if attachments:
        doc["attachments"] = list(attachments)
    if note:
        doc["private"] = {"note": str(note)}
        doc = case_key.seal(doc)
    return sign_document(doc, actor.signer)


def _release(event: dict[str, Any], on_access: OnAccess) -> None:
    if not callable(on_access):
        raise CryptoError("on_access: a callback that stores the access event is required",
                          status=400, error="bad_request")
    try:
        on_access(event)
    except Exception as exc:  # whatever the store raised, nothing is released
        raise AccessNotLogged(f"access event {event['_id']} was not recorded: {exc}") from exc


def open_case(docs: Sequence[Mapping[str, Any]], case_key: CaseKey, *, purpose: str,
              on_access: OnAccess, actor: Actor, note: str | None = None) -> dict[str, dict[str, Any]]:
    """Open the sealed parts of several documents of one case with ONE access event.

    Returns ``{doc _id: private}`` for the documents that carry a sealed part.
    """
    sealed = [d for d in docs if "sealed" in d]
    opened = {str(d["_id"]): case_key._open(d) for d in sealed}
    _release(access_event(case_key, list(opened), purpose, actor, note=note), on_access)
    return opened


def open_private(doc: Mapping[str, Any], case_key: CaseKey, *, purpose: str,
                 on_access: OnAccess, actor: Actor, note: str | None = None) -> dict[str, Any]:
    """The ``private`` object of one sealed document, after its access event is stored."""
    private = case_key._open(doc)
    _release(access_event(case_key, [str(doc["_id"])], purpose, actor, note=note), on_access)
    return private


def open_attachment(blob: bytes, doc_id: str, name: str, case_key: CaseKey, *, purpose: str,
                    on_access: OnAccess, actor: Actor, note: str | None = None) -> bytes:
    """The plaintext bytes of a sealed attachment, after its access event is stored."""
    data = case_key._open_attachment(blob, doc_id, name)
    _release(access_event(case_key, [doc_id], purpose, actor, note=note, attachments=[name]),
             on_access)
    return data


def with_private(doc: Mapping[str, Any], private: Mapping[str, Any]) -> dict[str, Any]:
    """The open in-memory form: ``sealed`` replaced by ``private`` (never store it)."""
    out = {k: v for k, v in doc.items() if k != "sealed"}
    out["private"] = dict(private)
    return out


__all__ = ["ACCESS_EVENT_TYPE", "PURPOSES", "PURPOSE_RE", "Actor", "access_event", "open_attachment", "open_case",
           "open_private", "with_private"]
