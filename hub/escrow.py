"""Giving a station its cases back with the escrow key (design.md §5: every case key is
also wrapped for "a municipal escrow key held offline for audited supervision").

When a station's only keychain is gone (its one laptop lost, stolen or burnt, or a
passphrase nobody remembers, with no key file and no backup: docs/operations.md, "Staff come
and go"), the device is revoked, ``hub institution rotate-key`` retires the institution key
and the new laptop registers a new one (``hub device keys``). Nothing held at the station
opens the old cases any more; the escrow key still does. ``bangban hub escrow rewrap``
(:func:`rewrap_cases`), run where the escrow key is brought from its offline medium:

* opens each case key with the escrow key (in memory only: the file is read, never written
  or copied) and re-wraps it with :func:`sync.crypto.rewrap`, as a station's own re-wrap
  after a rotation does (node/rewrap.py): wraps to retired keys are dropped, every
  generation is wrapped for each recipient's *current* key, and a new generation becomes
  ``current``, which the lost key never gets. The wraps are signed by the hub's device,
  which the hub's write checks and the stations' pulls accept as any device's
  (hub/signatures.py ``check_kept`` keeps every wrap to an active key; node/verify.py);
* records each use (7.2.2.2, design.md §5 "audited supervision"): before any case is
  opened, an ``escrow_use:…`` record in the hub's private database (who ran it, as whom on
  the machine, when, why, which institution and cases, the escrow key id), completed with
  what was re-wrapped; and on each re-wrapped case an ``access`` event (purpose
  ``supervision``) written by the hub's device, sealed under the new generation with the
  operator and reason in its note, so the station sees it on the case. ``hub escrow log``
  lists the records.
"""

from __future__ import annotations

import datetime as dt
import getpass
import json
import os
import socket
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from hub.errors import BadInput, HubError
from sync.errors import Conflict, NotFound

if TYPE_CHECKING:
    from hub.core import Hub
    from hub.signatures import DirectoryCache
    from sync.crypto import Directory, Keychain

USE_PREFIX = "escrow_use:"
#: the longest reason kept (an access event's note holds 4000; the rest is the record's)
REASON_MAX = 1000
Ask = Callable[[str], str]


def _now() -> str:
    return dt.datetime.now(dt.UTC).astimezone().isoformat(timespec="seconds")


def open_escrow(hub: Hub, path: str | Path, directory: Directory, ask: Ask | None) -> Keychain:
    """The escrow keychain of ``path``, checked to hold *this hub's* escrow key (the one the
    directory publishes and every keyring wraps for). It was locked at ``hub init`` with
    the hub's key passphrase; when that does not open it (moved to offline media, locked
    again), the passphrase is asked with ``ask`` (never from argv: it would stay in the
    shell's history and the process list)."""
    from hub import keys as hub_keys
    from sync.crypto import CryptoError, Keychain

    file = Path(path)
    try:
        locked = json.loads(file.read_text("utf-8"))
    except FileNotFoundError:
        raise BadInput(f"escrow-file: {file} does not exist: give the escrow key file "
                       "brought from its offline medium (escrow-OFFLINE.json)") from None
    except (OSError, ValueError) as exc:
        raise BadInput(f"escrow-file: {file} is not a key file (JSON): {exc}") from exc
    try:
        chain = hub_keys.unlock(file, hub.settings.hub_dir)
    except (HubError, CryptoError):
        if ask is None:
            raise BadInput(f"escrow-file: the hub's key passphrase does not open {file}, and "
                           "no passphrase can be asked here") from None
        try:
            chain = Keychain.unlock(locked, ask(f"passphrase of {file}: "))
        except CryptoError as exc:
            raise BadInput(f"escrow-file: {file} does not open: {exc.reason}") from exc
    held = [k for k in chain.encryption_keys() if k.role == "escrow"]
    if not any(k.key_id == directory.escrow.key_id for k in held):
        found = ", ".join(k.key_id for k in held) or "no escrow key"
        raise BadInput(f"escrow-file: {file} holds {found}, not this hub's escrow key "
                       f"{directory.escrow.key_id} (published in its directory): wrong escrow "
                       "key / 托管密钥文件不是本中枢的托管密钥")
    return chain


def _check_institution(hub: Hub, code: str, directory: Directory) -> str:
    """The institution's current key id; refusals for a closed one or no current key."""
    from hub.admin import institution
    from schemas.reference import closed
    from sync.crypto import UnknownKey

    if closed(institution(hub, code)):
        raise BadInput(f"institution: {code} is closed (撤并): its cases were handed over; "
                       "re-wrap them for the institution that holds them now / 该机构已撤并")
    try:
        return directory.encryption_key(code).key_id
    except UnknownKey:
        raise BadInput(
            f"institution: {code} has no current key registered yet: enroll the new laptop "
            "(`hub device enroll`, `node init`) and register its keys (`hub device keys`) "
            "first; the cases are wrapped for the key that is current / 该机构尚未登记新密钥"
        ) from None


def open_cases(hub: Hub, code: str) -> list[str]:
    """Case ids of the cases ``code`` holds now that are not finished (the oversight's
    facts, folded up to the feed's end, as hub.closing's refusal reads them): the open
    ones, and answered consultations, which the station's own re-wrap keeps too
    (node/rewrap.py: the visitor may come back and apply, 10.1.2)."""
    from hub.oversight import Oversight

    ov = Oversight(hub)
    try:
        ov.catch_up(force=True)
        rows = ov.facts.reader().execute(
            "SELECT case_id FROM facts WHERE institution = ? AND finished_on IS NULL "
            "ORDER BY case_no", (code,)).fetchall()
    finally:
        ov.facts.close()
    return [str(r[0]) for r in rows]


def case_ids(hub: Hub, refs: Sequence[str]) -> list[str]:
    """Each of ``refs`` as a case id: a case number (what the forms and the case page show)
    is looked up in the oversight's facts; anything else is taken as a case id."""
    from hub.oversight import Oversight

    ov = Oversight(hub)
    try:
        ov.catch_up(force=True)
        reader = ov.facts.reader()
        out = []
        for ref in refs:
            row = reader.execute("SELECT case_id FROM facts WHERE case_no = ?",
                                 (ref,)).fetchone()
            out.append(str(row[0]) if row else ref)
    finally:
        ov.facts.close()
    return list(dict.fromkeys(out))


def _keyring(hub: Hub, case: str, code: str) -> dict[str, Any]:
    """The keyring of ``case`` (a case id), refused unless it names ``code`` as recipient."""
    try:
        ring: dict[str, Any] = hub.stores.main.get(f"keyring:{case}")
    except NotFound:
        raise BadInput(f"cases: {case} is neither a case number nor a case id this hub "
                       "holds a keyring of") from None
    if not any(r.get("institution") == code for r in ring.get("recipients", ())):
        holders = ", ".join(str(r.get("institution")) for r in ring.get("recipients", ())
                            if r.get("role") != "escrow")
        raise BadInput(f"cases: {case} is not a case of {code} (its key is held by {holders}) "
                       "/ 该案件不属于此机构")
    return ring


def _covered(ring: Mapping[str, Any], code: str, key_id: str) -> bool:
    """Every generation already wrapped for the current key: the station opens it."""
    return all(any(w.get("institution") == code and w.get("key_id") == key_id
                   for w in gen.get("wraps", ())) for gen in ring.get("data_keys", ()))


def _rewrap_one(hub: Hub, case: str, code: str, chain: Keychain, note: str,
                directories: DirectoryCache, attempts: int = 5) -> dict[str, Any] | None:
    """Re-wrap one case's keyring (None when it needed none) and record the access."""
    from hub.sealing import next_clock
    from schemas import build
    from sync.crypto import rewrap, sign_document, unlock_case_key

    signer = hub.keys.signer
    for _ in range(attempts):
        directory = directories.get()  # verified again only when a new one is published
        ring = _keyring(hub, case, code)
        active = directory.encryption_key(code).key_id
        if _covered(ring, code, active):
            return None
        # Wraps the lost laptop signed were checked when the hub took them (allow_revoked).
        key = unlock_case_key(ring, chain, directory, active_only=False, allow_revoked=True)
        new, key = rewrap(ring, key, directory, signer)
        try:
            hub.stores.main.put(new)
        except Conflict:  # a station changed the keyring meanwhile: again over the new one
            continue
        opened = len(key.key_ids) - 1  # the generations the escrow key opened
        event = build.make_event(
            "access", case_id=case, clock=next_clock(hub, None), at=_now(),
            institution=hub.identity["city"], purpose="supervision", fields_read=[],
            private={"note": note})
        hub.stores.main.put(sign_document(key.seal(event), signer))
        unopened = len(ring.get("data_keys", ())) - opened
        return {"current": key.current, "generations": opened, "unopened": unopened,
                "access_event": event["_id"]}
    raise Conflict(f"keyring:{case} kept changing; it was not re-wrapped")


def rewrap_cases(hub: Hub, code: str, escrow_file: str | Path, *, reason: str, by: str,
                 cases: Sequence[str] = (), ask: Ask | None = None) -> dict[str, Any]:
    """Re-wrap the open cases of ``code`` (or ``cases``) for its current key with the escrow
    key of ``escrow_file``; the ``escrow_use`` record (stored first, then completed)."""
    from hub.signatures import DirectoryCache
    from sync.crypto import CryptoError, UnknownKey

    reason, by = (reason or "").strip(), (by or "").strip()
    if not reason or len(reason) > REASON_MAX:
        raise BadInput(f"reason: required, why the escrow key is used (1–{REASON_MAX} "
                       "characters): it is kept with the record supervisors read / 必须说明理由")
    if not by or len(by) > 100:
        raise BadInput("by: required, who runs this (a name or staff id, at most 100 "
                       "characters) / 必须写明操作人")
    directories = DirectoryCache(hub.stores)
    directory = directories.get()
    current = _check_institution(hub, code, directory)
    chain = open_escrow(hub, escrow_file, directory, ask)
    wanted = case_ids(hub, cases) if cases else open_cases(hub, code)
    for case in wanted:
        _keyring(hub, case, code)  # every case named is refused before any is opened
    stamp = _now()
    record: dict[str, Any] = {
        # UTC to the microsecond first: the records sort oldest first (``uses``)
        "_id": f"{USE_PREFIX}{dt.datetime.now(dt.UTC):%Y%m%dT%H%M%S%fZ}-{os.urandom(3).hex()}",
        "type": "escrow_use",
        "institution": code, "by": by, "os_user": os_user(), "host": socket.gethostname(),
        "reason": reason, "started_at": stamp, "finished_at": None,
        "escrow_key": directory.escrow.key_id, "institution_key": current,
        "cases": wanted, "rewrapped": [], "unchanged": [], "skipped": {}}
    hub.stores.private.put(record)  # the use is on record before any case key is opened
    record = hub.stores.private.get(record["_id"])
    note = (f"托管密钥恢复 / escrow key re-wrap for {code} by {by} "
            f"({record['os_user']}@{record['host']}): {reason}")
    details: dict[str, Any] = {}
    for case in wanted:
        try:
            done = _rewrap_one(hub, case, code, chain, note, directories)
        except (CryptoError, UnknownKey, Conflict, BadInput) as exc:
            record["skipped"][case] = getattr(exc, "reason", str(exc))
            continue
        if done is None:
            record["unchanged"].append(case)
        else:
            record["rewrapped"].append(case)
            details[case] = done
    record["finished_at"] = _now()
    hub.stores.private.put(record)
    # The devices' views answer from the scope index, which a writer brings up to date
    # with its own writes (hub/index.py): else a station's next pull could miss the new
    # keyring while another process indexed (as hub.bundles does before its export).
    hub.indexer.catch_up()
    return {"ok": not record["skipped"], **{k: v for k, v in record.items() if k != "_rev"},
            "details": details}


def os_user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no passwd entry (a container): the uid says who
        return f"uid {os.getuid()}"


def uses(hub: Hub, code: str | None = None) -> list[dict[str, Any]]:
    """Every ``escrow_use`` record, oldest first (of ``code`` only, when given)."""
    rows = hub.stores.private.all_docs(startkey=USE_PREFIX, endkey=USE_PREFIX + "\ufff0",
                                       include_docs=True, offset=False)["rows"]
    docs = [{k: v for k, v in r["doc"].items() if k != "_rev"} for r in rows if r.get("doc")]
    return [d for d in docs if code is None or d.get("institution") == code]


def uses_of_case(hub: Hub, case_id: str) -> list[dict[str, Any]]:
    """The uses that named ``case_id``, each with what it did to it (the case page's
    "escrow key uses": supervisors read who, when and why, which the access event on the
    case keeps sealed)."""
    out = []
    for use in uses(hub):
        if case_id not in use.get("cases", ()):
            continue
        outcome = ("re-wrapped" if case_id in use.get("rewrapped", ()) else
                   "unchanged" if case_id in use.get("unchanged", ()) else
                   f"skipped: {use['skipped'][case_id]}" if case_id in use.get("skipped", {})
                   else "did not finish")
        out.append({**use, "outcome": outcome})
    return out


__all__ = ["USE_PREFIX", "open_cases", "open_escrow", "os_user", "rewrap_cases", "uses",
           "uses_of_case"]
