"""The checks of ``bangban hub doctor`` (:mod:`hub.doctor`) that look past the store's
own state: whether this hub's gateway answers (and what it holds in memory), which
devices have gone silent, and whether the working-day calendar reaches far enough.

Receipts waiting (hub.receipts): a receipt whose write failed after its batch was stored
waits in the memory of the gateway process that took the batch, not in any file the
doctor could read (a full disk is the usual cause, when no file can be written either).
So the doctor asks the running hub: ``/_hub/health`` reports the answering gateway's
count and how many gateways run. With ``--processes N`` each gateway keeps its own, and
the answer is one gateway's (the doctor says so); a stop of ``hub serve`` writes them if
it can, and loses them if it cannot (the log says each).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from typing import TYPE_CHECKING, Any

from schemas.state import local_today
from sync.errors import NotFound

if TYPE_CHECKING:
    from hub.core import Hub

__all__ = ["CALENDAR_WARN_MONTH", "GATEWAY_TIMEOUT", "SILENT_DAYS", "Check", "check_backups",
           "check_calendar", "check_devices", "check_gateway"]

#: A device that has not moved documents for this many days is listed.
SILENT_DAYS = 7
#: From this month on, next year's holiday calendar is due (deadlines set now reach into it).
CALENDAR_WARN_MONTH = 11
#: Seconds the gateway check waits for ``/_hub/health``.
GATEWAY_TIMEOUT = 3.0

@dataclass
class Check:
    name: str
    status: str  # ok | warn | fail
    detail: str
    hint: str = ""


def _last_moved(body: dict[str, Any]) -> dt.datetime | None:
    history = body.get("history") or []
    try:
        return parsedate_to_datetime(str(history[0]["end_time"])) if history else None
    except (KeyError, TypeError, ValueError):
        return None


def check_devices(hub: Hub, now: dt.datetime | None = None) -> Check:
    """Devices whose last replication checkpoint (pushed or pulled documents) is old."""
    now = now or dt.datetime.now(dt.UTC)
    private = hub.stores.private
    creds = private.all_docs(startkey="cred:", endkey="cred:\ufff0", include_docs=True,
                             offset=False)["rows"]
    active = {r["id"][5:] for r in creds if r.get("doc") and not r["doc"].get("revoked")}
    active.discard(str(hub.identity.get("device_id", "")))
    last: dict[str, dt.datetime] = {}
    for row in private.all_docs(startkey="local:", endkey="local:\ufff0", include_docs=True,
                                offset=False)["rows"]:
        doc = row.get("doc") or {}
        when = _last_moved(doc.get("body") or {})
        device = str(doc.get("device", ""))
        if when is not None and (device not in last or when > last[device]):
            last[device] = when
    cutoff = now - dt.timedelta(days=SILENT_DAYS)
    silent = sorted(d for d in active if d not in last or last[d] < cutoff)
    if not silent:
        return Check("devices", "ok", f"{len(active)} active, each replicated within "
                                      f"{SILENT_DAYS} days")
    shown = ", ".join(f"{d} ({last[d].date().isoformat() if d in last else 'never'})"
                      for d in silent[:10])
    more = f" and {len(silent) - 10} more" if len(silent) > 10 else ""
    return Check("devices", "warn", f"{len(silent)} of {len(active)} active devices have not "
                 f"replicated for {SILENT_DAYS} days: {shown}{more}",
                 "call the stations: a laptop off the network for long needs a bundle file "
                 "(`bangban hub bundle export --device ID`), a lost one `hub device revoke`")


def _get_json(url: str) -> Any:
    import json
    import urllib.request

    with urllib.request.urlopen(url, timeout=GATEWAY_TIMEOUT) as resp:
        return json.loads(resp.read() or b"{}")


def _uuid(base: str) -> str | None:
    """The server uuid of the welcome (``GET /``) at ``base``, if it gives one."""
    try:
        uuid = _get_json(base + "/").get("uuid")
    except (OSError, ValueError, AttributeError):
        return None
    return str(uuid) if uuid else None


#: What to do about receipts waiting in a gateway (hub.receipts).
RECEIPTS_HINT = ("free the disk (see `disk`) or bring the receipts database back: they are "
                 "written with the next receipt a station's upload makes. Do not restart "
                 "`hub serve` until then: a stop writes them if it can and loses their "
                 "receipt times if it cannot (the log names each); the events are stored")


def check_gateway(hub: Hub) -> Check:
    """Whether `hub serve` answers on this machine (``GET /_hub/health``, as a probe would):
    the other checks read the store and would look the same with the gateway down. What
    answers must be *this* hub: another hub, or a CouchDB, on the port answers too, so the
    uuid of its welcome (``GET /``, CouchDB's server uuid: the hub serves its identity's)
    is compared with the one in this hub's store."""
    import urllib.error

    host = str(hub.settings.hub_host)
    host = "127.0.0.1" if host in ("", "0.0.0.0") else "[::1]" if host == "::" else host
    port = hub.settings.hub_port
    base = f"http://{host}:{port}"
    url = f"{base}/_hub/health"
    other = (f"another server answers on port {port}", "find it (`ss -ltnp 'sport = :"
             f"{port}'`) and stop it, or give this hub another port (BANGBAN_HUB_PORT); "
             "stations that reach it are not talking to this hub")
    ours = str(hub.identity.get("uuid") or "")
    try:
        body = _get_json(url)
    except urllib.error.HTTPError as exc:
        if exc.code >= 500 and _uuid(base) == ours:  # this hub, failing (its store?)
            return Check("gateway", "warn", f"this hub answers HTTP {exc.code} at {url}",
                         "see its log (`journalctl -u bangban-hub`); stations retry and "
                         "work offline meanwhile")
        # it answers, but has no /_hub/health (404 from CouchDB), or is another hub
        return Check("gateway", "fail", f"{other[0]}: {url} gives HTTP {exc.code}", other[1])
    except ValueError:  # it answers, not with JSON
        return Check("gateway", "fail", f"{other[0]}: {url} is not JSON", other[1])
    except OSError as exc:  # refused, timed out
        return Check("gateway", "warn", f"no answer at {url} ({getattr(exc, 'reason', exc)})",
                     "is `bangban hub serve` running (`systemctl status bangban-hub`, "
                     "`journalctl -u bangban-hub`)? Stations retry and work offline meanwhile")
    if not isinstance(body, dict) or not body.get("ok"):
        return Check("gateway", "warn", f"{url} answers {body}", "see its log")
    theirs = _uuid(base)
    if theirs != ours:
        return Check("gateway", "fail", f"{other[0]}: its uuid {theirs or '(none)'} is not "
                     f"this hub's ({ours})", other[1])
    answering = f"this hub (uuid {ours}) answering at {url}"
    waiting = body.get("receipts_waiting")
    if isinstance(waiting, int) and waiting > 0:
        gateways = body.get("gateways")
        which = (f"the gateway that answered (one of {gateways}; each keeps its own)"
                 if isinstance(gateways, int) and gateways > 1 else "its memory")
        return Check("gateway", "warn", f"{answering}; {waiting} receipt(s) of stored batches "
                     f"wait in {which}: their write to the receipts database failed",
                     RECEIPTS_HINT)
    return Check("gateway", "ok", answering)


def check_restore(hub: Hub) -> list[Check]:
    """A restore that has not finished (hub.backup.UNFINISHED): the store holds part of a
    backup and looks whole to every other check once the identity is back."""
    from hub.backup import unfinished_note

    note = unfinished_note(hub.settings.hub_dir)
    return [Check("restore", "fail", note, "`hub serve` refuses to start on this store "
                  "until the restore has finished")] if note else []


def check_backups(hub: Hub) -> list[Check]:
    """Each `hub backup` killed before it finished (hub.backup_partial): a folder without a
    manifest that no restore takes and that looked like a backup on the medium."""
    from hub.backup_partial import found

    return [Check("backup", "warn", p.note(), "take a new backup (`bangban hub backup DIR`) "
                  f"if none since, and delete that folder (rm -r {p.folder})")
            for p in found(hub.settings.hub_dir)]


def check_calendar(hub: Hub, today: dt.date | None = None) -> Check:
    """This year's working-day calendar and, from November, next year's: a year with no hub
    ``calendar`` document beyond chinesecalendar's data counts Monday–Friday only, and every
    deadline in it is flagged estimated (schemas/workdays.py)."""
    from schemas.workdays import CHINESECALENDAR_YEARS, PROVISIONAL

    today = today or local_today()
    years = [today.year] + ([today.year + 1] if today.month >= CALENDAR_WARN_MONTH else [])
    missing, provisional = [], []
    for year in years:
        try:
            doc = hub.stores.main.get(f"calendar:{year}")
        except NotFound:
            if year not in CHINESECALENDAR_YEARS:
                missing.append(year)
            continue
        if str(doc.get("source") or "").startswith(PROVISIONAL):
            # `hub init --sample-reference`'s: 元旦, 劳动节, 国庆节 alone (schemas.sample),
            # no Spring Festival; it was "known" here while the forms counted 春节 as work
            provisional.append(year)
    if missing or provisional:
        detail = "; ".join(
            ([f"no working-day calendar for {', '.join(map(str, missing))} (chinesecalendar's "
              f"data ends in {max(CHINESECALENDAR_YEARS)}): its deadlines count "
              "Monday–Friday"] if missing else [])
            + ([f"the calendar of {', '.join(map(str, provisional))} is provisional "
                "(fixed-date holidays only, no Spring Festival)"] if provisional else []))
        return Check("calendar", "warn", f"{detail}, marked estimated",
                     f"`bangban hub calendar set --year {(missing + provisional)[0]} "
                     "--holidays … --workdays …` from the State Council's holiday notice")
    return Check("calendar", "ok", f"working days known for {', '.join(map(str, years))}")
