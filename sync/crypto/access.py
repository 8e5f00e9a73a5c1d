"""Releasing personal data, and the access event that must go with it (design §5).

Every decryption of a case's personal data is recorded as an ``access`` event
(who: staff, institution, device; when: ``at`` and ``hlc``; which case; what:
``fields_read``; why: ``purpose``) that the node stores and that syncs
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
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

from schemas.build import make_event
from schemas.errors import SchemaError
from schemas.hlc import HLC, tick
from schemas.vocab import ACCESS_PURPOSES
from sync.crypto.errors import AccessNotLogged, CryptoError
from sync.crypto.seal import CaseKey
from sync.crypto.sign import DeviceSigner, sign_document

ACCESS_EVENT_TYPE = "access"
#: Why personal data may be opened (schemas.vocab.ACCESS_PURPOSES: handling, printing, …).
PURPOSES = tuple(ACCESS_PURPOSES)

OnAccess = Callable[[dict[str, Any]], object]
T = TypeVar("T")


@dataclass
class Actor:
    """Who is reading: the staff member, their institution, and the device (which signs).

    ``clock`` returns a fresh hybrid logical clock for the event id; by default a
    per-actor HLC ticked from the wall clock (nodes pass their own clock so that ids
    stay monotonic across everything the device writes).
    """

    staff: str
    institution: str
    signer: DeviceSigner
    clock: Callable[[], HLC] | None = None
    _last: HLC | None = field(default=None, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def next_clock(self) -> HLC:
        if self.clock is not None:
            return self.clock()
        with self._lock:
            self._last = tick(int(time.time() * 1000), self._last, self.signer.device_id)
            return self._last


def access_event(case_key: CaseKey, purpose: str, actor: Actor, *, fields_read: Sequence[str] = (),
                 note: str | None = None) -> dict[str, Any]:
    """The sealed, signed ``access`` event (schemas/event_types.py ``Access``) for the case.

    ``purpose`` is a cleartext code that oversight counts; the optional free-text
    ``note`` goes in ``private`` and is sealed with the case key like any other.
    """
    if purpose not in ACCESS_PURPOSES:
        raise CryptoError(
            f"purpose: required, one of {', '.join(PURPOSES)}, got {purpose!r} "
            "/ 查阅个人信息必须说明目的", status=400, error="bad_request")
    at = dt.datetime.now().astimezone().isoformat(timespec="seconds")
    try:
        doc = make_event(ACCESS_EVENT_TYPE, case_id=case_key.case_id, clock=actor.next_clock(), at=at,
                         institution=actor.institution, staff=actor.staff, purpose=purpose,
                         fields_read=sorted(set(fields_read)),
                         private={"note": note} if note else {})
    except SchemaError as exc:
        raise CryptoError(f"access event: {exc}", status=400, error="bad_request") from exc
    return sign_document(case_key.seal(doc), actor.signer)


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
    if not opened:
        return opened  # nothing personal was decrypted: nothing to account for
    read = [name for private in opened.values() for name in private]
    _release(access_event(case_key, purpose, actor, fields_read=read, note=note), on_access)
    return opened


def open_private(doc: Mapping[str, Any], case_key: CaseKey, *, purpose: str,
                 on_access: OnAccess, actor: Actor, note: str | None = None) -> dict[str, Any]:
    """The ``private`` object of one sealed document, after its access event is stored."""
    private = case_key._open(doc)
    _release(access_event(case_key, purpose, actor, fields_read=list(private), note=note), on_access)
    return private


def open_attachment(blob: bytes, doc_id: str, name: str, case_key: CaseKey, *, purpose: str,
                    on_access: OnAccess, actor: Actor, note: str | None = None) -> bytes:
    """The plaintext bytes of a sealed attachment, after its access event is stored."""
    data = case_key._open_attachment(blob, doc_id, name)
    _release(access_event(case_key, purpose, actor, fields_read=[name[:40]], note=note), on_access)
    return data


def derive_private(doc: Mapping[str, Any], case_key: CaseKey,
                   derive: Callable[[dict[str, Any]], T]) -> T:
    """What ``derive`` computes from a sealed part, in memory, without an access event: a
    machine step no person reads (design §5 logs every *reading*), such as the node's keyed
    search tokens of a case pulled from the station's other laptop (node.tokenmaker). The
    plaintext never leaves this call; ``derive`` must return nothing it can be read back
    from (the node hashes the tokens under its institution's key before they are stored),
    and the person who then lists or opens the case writes the access event as ever."""
    return derive(case_key._open(doc))


def with_private(doc: Mapping[str, Any], private: Mapping[str, Any]) -> dict[str, Any]:
    """The open in-memory form: ``sealed`` replaced by ``private`` (never store it)."""
    out = {k: v for k, v in doc.items() if k != "sealed"}
    out["private"] = dict(private)
    return out


__all__ = ["ACCESS_EVENT_TYPE", "PURPOSES", "Actor", "access_event", "open_attachment", "open_case",
           "open_private", "with_private"]
