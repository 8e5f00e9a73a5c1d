"""``bangban hub doctor``: what an operator checks at 2 a.m., in one command.

Every check reads the hub folder and its store (no running gateway needed) and answers
``ok``, ``warn`` or ``fail`` with one line of detail and, when not ``ok``, what to do
(docs/operations.md has the longer runbook). The exit status follows the monitoring-plugin
convention (0 ok, 1 warn, 2 fail), so the same command serves cron and Nagios-style probes.

What it looks at: the identity, the store (reachable, how many documents), the hub's keys
(they sign 10.2.5.2 terminations, directories and coordination boards), the bundle key, an
escrow private key left on the server (design.md §5 wants it offline), the directory and,
with the root offline, the days left on the root's delegation; how far behind the main
feed the scope indexer, the workers and the oversight facts are; devices that have not
replicated for a week; and free disk space in the hub folder. The gateway, devices and
calendar checks live in :mod:`hub.doctor_checks` (this module was at 399 lines).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING, Any

from hub.doctor_checks import (
    CALENDAR_WARN_MONTH,
    GATEWAY_TIMEOUT,
    SILENT_DAYS,
    Check,
    check_backups,
    check_calendar,
    check_devices,
    check_gateway,
    check_restore,
)
from hub.errors import ConfigError, NotInitialized
from hub.storage import store_server
from sync.store import DocumentStore

if TYPE_CHECKING:
    from hub.core import Hub
    from hub.settings import Settings

__all__ = ["CALENDAR_WARN_MONTH", "CHECKS", "GATEWAY_TIMEOUT", "SILENT_DAYS", "Check",
           "as_json", "check_calendar", "check_devices", "check_gateway", "exit_status",
           "render", "run"]

#: How many feed rows a lag count reads at most (a lag beyond it is "more than").
LAG_CAP = 10_000
#: A lag beyond this many changes is worth a warning (workers fold ~1,000 cases/s).
LAG_WARN = 5_000
#: Free space below either of these is a warning (the embedded store and backups grow).
DISK_WARN_BYTES = 2 * 1024**3
DISK_WARN_SHARE = 0.10
#: Days left on the root's delegation below which renewal is due (hub root delegate).
DELEGATION_WARN_DAYS = 30


#: CouchDB (connect, read) seconds for the doctor's reads. The client's default read wait
#: (120 s, for a big ``_bulk_docs`` of a push) made the operator's first look at a CouchDB
#: that hangs (a stopped VM, a disk stalled) print nothing for minutes: each read waited it
#: out. What the doctor reads answers in well under a second on a CouchDB that works.
STORE_TIMEOUT = (5.0, 20.0)


def open_hub(settings: Settings) -> Hub:
    """The hub to check, its CouchDB reads bounded by :data:`STORE_TIMEOUT`."""
    from hub.core import Hub
    from hub.storage import HubStores

    return Hub(settings, HubStores.from_settings(settings, timeout=STORE_TIMEOUT))


def _lag(db: DocumentStore, since: Any) -> int:
    return len(db.changes(since=since, limit=LAG_CAP)["results"])


def _lag_text(n: int) -> str:
    return f"more than {LAG_CAP:,}" if n >= LAG_CAP else f"{n:,}"


#: What to do when a check raises, by check name (docs/operations.md has the long form).
KEY_HINT = ("the keychains open with $BANGBAN_HUB_KEY_PASSPHRASE when it is set (for the "
            "service: /etc/bangban/hub.env), else with HUB_DIR/keys/passphrase: give the one "
            "`hub init` locked them with, or restore HUB_DIR/keys from the file backup")
HINTS = {
    # {url_from}: where the URL was set (hub.settings.Settings.origin), the place to edit
    "store": "is CouchDB running and is {url_from} right (`systemctl status couchdb`, "
             "ops/couchdb/README.md)? Is its disk full?",
    "store login": "the CouchDB account's password changed? Put the right URL in "
                   "{url_from}, then restart the hub (`systemctl restart bangban-hub`)",
    "embedded store": "is the disk full (see `disk` below), or HUB_DIR/db not readable and "
                      "writable by the user running this?",
    "keys": KEY_HINT, "bundle key": KEY_HINT, "directory": KEY_HINT,
}


def _no_hub(hub: Hub, name: str, detail: str) -> Check:
    """The store holds no hub: a new folder, or keys whose store is lost or not the one named
    (where each setting naming it was set: :attr:`hub.storage.HubStores.named_by`)."""
    from hub.keys import KEYCHAIN

    keys = Path(hub.settings.hub_dir) / "keys" / KEYCHAIN
    if keys.exists():
        return Check(name, "fail", f"{detail}, yet {keys} exists",
                     f"check {hub.stores.named_by}, else load the last backup"
                     " (`bangban hub restore DIR`); not `hub init`: stations pin "
                     "this hub's root key")
    return Check(name, "fail", f"{detail}: the hub is not initialised",
                 "run `bangban hub init --city CODE`")


def check_identity(hub: Hub) -> Check:
    try:
        ident = hub.identity
    except NotInitialized:
        ident = {}
    if not ident:
        return _no_hub(hub, "identity", "the store holds no hub identity")
    return Check("identity", "ok", f"city {ident.get('city')}, hub device {ident.get('device_id')}")


def check_store(hub: Hub) -> Check:
    url = str(hub.settings.couchdb_url or "")  # named as hub.storage names it in its errors
    where = (f"CouchDB at {store_server(url)}" if url
             else f"embedded SQLite in {hub.settings.hub_dir}/db")
    try:
        info = hub.stores.main.info()
    except NotInitialized:
        return _no_hub(hub, "store", f"{where}: no hub databases (prefix {hub.stores.prefix})")
    except Exception as exc:  # unreachable, refused, unreadable: say where, never the password
        reason = getattr(exc, "reason", None) or f"{type(exc).__name__}: {exc}"
        detail = reason if reason.startswith(where) else f"{where}: {reason}"
        refused = getattr(exc, "error", None) == "store_unauthorized"  # hub.storage
        return Check("store", "fail", detail, HINTS[
            "store login" if refused else "store" if url else "embedded store"].format(
                url_from=hub.settings.origin("couchdb_url")))
    try:
        creds = hub.stores.private.all_docs(startkey="cred:", endkey="cred:\ufff0",
                                            offset=False)
    except NotInitialized:  # the main database is there, the hub's private one is not
        return _no_hub(hub, "store", f"{where}: no database {hub.stores.prefix}-hub (device "
                                     "logins, routes, checkpoints)")
    return Check("store", "ok", f"{where}: {info.get('doc_count', 0):,} documents, "
                                f"{len(creds['rows'])} devices enrolled")


def check_keys(hub: Hub) -> Check:
    from hub.keys import KeysDoNotOpen, own_key_id

    try:
        kid = own_key_id(hub)  # raises when the keychain or its passphrase is missing
    except KeysDoNotOpen:
        raise  # KEY_HINT (run)
    except ConfigError as exc:  # another hub's keys/
        return Check("keys", "fail", exc.reason, "put back the keys/ folder of the hub this "
                     "store (or backup) came from")
    return Check("keys", "ok", f"hub device key {kid} unlocks")


def check_bundle_key(hub: Hub) -> Check:
    from hub import keys as hub_keys

    if hub_keys.load_bundle_key(hub.settings.hub_dir) is None:
        return Check("bundle key", "warn", "no bundle key: stations cannot export USB bundles",
                     "run `bangban hub bundle key`")
    return Check("bundle key", "ok", "present")


def check_escrow_offline(hub: Hub) -> Check:
    path = Path(hub.settings.hub_dir) / "keys" / "escrow-OFFLINE.json"
    if path.exists():
        return Check("escrow key", "warn", f"{path} is on the server: it opens every case key",
                     "copy it to offline media (two copies), then delete it here (design.md §5)")
    return Check("escrow key", "ok", "not on this server")


def check_directory(hub: Hub) -> Check:
    from hub.signatures import DirectoryCache

    directory = DirectoryCache(hub.stores, max_age=0.0).get()  # verified under the root keys
    detail = f"version {directory.version}, {len(directory.devices)} devices"
    if not hub.keys.has_root:  # root offline: directories are signed under a delegation
        from hub import offline

        info = offline.info(hub)
        days = float(info["days_left"])
        detail += f"; root delegation until {info['not_after']} ({days:.0f} days left)"
        if info["expired"]:
            return Check("directory", "fail", detail, "stations refuse new directories: renew "
                         "with `bangban hub root delegate` where the root is, then "
                         "`bangban hub delegation install`")
        if days < DELEGATION_WARN_DAYS:
            return Check("directory", "warn", detail, "renew the delegation soon "
                         "(`bangban hub root delegate`, then `hub delegation install`)")
    return Check("directory", "ok", detail)


def check_lags(hub: Hub) -> list[Check]:
    from hub.oversight import FACTS_FILE, stale_fold
    from hub.oversight.clocks import CHECKPOINT as CLOCKS
    from hub.oversight.materialize import FOLD_VERSION, FactStore
    from hub.workers.deadlines import CHECKPOINT as DEADLINES
    from hub.workers.feed import FeedFollower
    from hub.workers.resolver import CHECKPOINT as RESOLVER

    out = []
    followers: list[tuple[str, Callable[[], Any], str]] = [
        ("scope indexer", hub.indexer.checkpoint, "main"),
        ("conflict resolver", FeedFollower(hub.stores, RESOLVER).checkpoint, "main"),
        ("deadline watcher", FeedFollower(hub.stores, DEADLINES).checkpoint, "main")]
    facts_path = Path(hub.settings.hub_dir) / FACTS_FILE
    stale = stale_fold(facts_path)
    facts = FactStore(facts_path) if facts_path.exists() and stale is None else None
    if facts is not None:
        followers.append(("oversight facts", lambda: facts.meta("checkpoint", 0), "main"))
        # design.md §6: the device-clock table and the late-receipt list are only as fresh
        # as this fold of P-receipts, which follows its own feed
        followers.append(("receipt times", lambda: facts.meta(CLOCKS, 0), "receipts"))
    for name, checkpoint, feed in followers:
        # the receipts database is read only when its fold exists (it is created on use)
        n = _lag(hub.stores.receipts if feed == "receipts" else hub.stores.main, checkpoint())
        status = "warn" if n >= LAG_WARN else "ok"
        out.append(Check(name, status, f"{_lag_text(n)} changes behind the {feed} feed",
                         "is `bangban hub serve` running with workers? its log says why a "
                         "pass fails; they run at a lower CPU priority (BANGBAN_WORKER_NICE): "
                         "a machine busy all the time leaves them behind" if status != "ok"
                         else ""))
    if stale is not None:
        # an upgrade that changed the fold: its counts are the old version's until `hub
        # serve` starts, discards the file and folds the feed again (hub.serve), and it
        # says nothing of its lag (the old checkpoint read "0 behind")
        out.append(Check("oversight facts", "warn",
                         f"{FACTS_FILE} was folded by another version (fold {stale}; this "
                         f"version folds {FOLD_VERSION}): the dashboards show the old counts",
                         "restart `bangban hub serve` (systemctl restart bangban-hub): at "
                         "its start it folds the feed again, once (docs/operations.md)"))
    if facts is not None:
        dirty = len(facts.board_marks())
        out.append(Check("coordination boards", "ok", f"{dirty} waiting to be rebuilt"))
        facts.close()
    return out


def check_disk(hub: Hub) -> Check:
    from hub.diskfull import DISK_FULL_BYTES, FULL_HINT, disk_usage, human

    folder, usage = disk_usage(hub.settings)  # a full disk said "warn  0.0 GiB free of 0.0 GiB"
    detail = f"{human(usage.free)} free of {human(usage.total)} at {folder}"
    if usage.free < DISK_FULL_BYTES:
        return Check("disk", "fail", f"full: {detail}", FULL_HINT)
    if usage.free < DISK_WARN_BYTES or usage.free < DISK_WARN_SHARE * usage.total:
        return Check("disk", "warn", detail, "free space or move HUB_DIR (the embedded store, "
                     "oversight facts and backups grow with every case)")
    return Check("disk", "ok", detail)


CHECKS: tuple[Callable[[Hub], Check | list[Check]], ...] = (
    check_store, check_restore, check_identity, check_keys, check_bundle_key, check_escrow_offline,
    check_directory, check_gateway, check_lags, check_devices, check_calendar, check_disk,
    check_backups)


def run(hub: Hub) -> list[Check]:
    """Every check; one that raises is a ``fail`` carrying the error's reason."""
    out: list[Check] = []
    for check in CHECKS:
        name = check.__name__.removeprefix("check_").replace("_", " ")
        try:
            result = check(hub)
        except Exception as exc:  # a check must report, not crash the doctor
            reason = (getattr(exc, "detail", None) or getattr(exc, "reason", None)
                      or f"{type(exc).__name__}: {exc}")
            out.append(Check(name, "fail", str(reason), HINTS.get(name, "see docs/operations.md")))
            if check in (check_store, check_identity):
                break  # nothing else can be read without the store of an initialised hub
            continue
        out.extend(result if isinstance(result, list) else [result])
        if check in (check_store, check_identity) and out[-1].status == "fail":
            break
    if out and out[-1].name in ("store", "identity") and out[-1].status == "fail":
        out.append(_disk_or_fail(hub))  # needs no store, and a full disk is a likely cause
    return out


def _disk_or_fail(hub: Hub) -> Check:
    try:
        return check_disk(hub)
    except OSError as exc:
        return Check("disk", "fail", f"{hub.settings.hub_dir}: {exc.strerror or exc}")


def exit_status(checks: list[Check]) -> int:
    """0 all ok, 1 a warning, 2 a failure (monitoring-plugin convention)."""
    states = {c.status for c in checks}
    return 2 if "fail" in states else 1 if "warn" in states else 0


def as_json(checks: list[Check]) -> list[dict[str, str]]:
    return [asdict(c) for c in checks]


def render(checks: list[Check]) -> str:
    marks = {"ok": "OK  ", "warn": "WARN", "fail": "FAIL"}
    lines = []
    for c in checks:
        lines.append(f"{marks[c.status]}  {c.name:<20} {c.detail}")
        if c.hint:
            lines.append(f"      {'':<20} → {c.hint}")
    return "\n".join(lines)
