"""The hub's settings, declared once (Datasette style) with default and help text.

Every setting can come from the environment as ``BANGBAN_<NAME>`` (upper case), from a
``settings.json`` in the hub directory written by ``bangban hub init``, or from the
``config`` mapping given to :func:`hub.app.create_app`; later sources win in that order:
defaults < settings.json < environment < config.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from hub.errors import ConfigError
from sync import settings as _settings
from sync.settings import Setting

SETTINGS: tuple[Setting, ...] = (
    Setting("hub_dir", "hub-data", "Folder of the hub: settings.json, keys, the embedded store."),
    Setting("couchdb_url", "", "Apache CouchDB URL (with admin credentials) holding the hub's "
            "databases; empty = the embedded SQLite store in HUB_DIR/db."),
    Setting("db_prefix", "bangban", "Prefix of the hub's database names in the store."),
    Setting("hub_host", "127.0.0.1", "Address `bangban hub serve` listens on."),
    Setting("hub_port", 8840, "Port `bangban hub serve` listens on.", 0, 65535),
    Setting("hub_threads", 16, "Worker threads per gateway process: requests served at "
            "once, each longpoll `_changes` holding one while it waits (idle keep-alive "
            "connections hold none).", 1),
    Setting("hub_connection_limit", 2000, "Open client connections per gateway process "
            "(more wait in the listen backlog).", 1),
    Setting("store_wait", 60.0, "Seconds `bangban hub serve` waits for its store (CouchDB "
            "not answering yet, as at boot) before it exits 2, saying so every few seconds; "
            "0 = exit at once. CouchDB refusing the hub's user name or password is never "
            "waited for.", 0),
    Setting("hub_processes", 1, "Gateway processes `bangban hub serve` pre-forks on one "
            "socket (validation is CPU-bound; one process uses one core).", 1),
    Setting("public_url", "", "The hub's URL as devices reach it (printed at enrollment); "
            "default http://HUB_HOST:HUB_PORT. An https URL also marks the oversight login "
            "cookie Secure."),
    Setting("max_document_bytes", 1_048_576, "Largest accepted document (JSON bytes), "
            "attachments included; larger ones are refused one by one with `forbidden`.", 1),
    Setting("max_request_bytes", 67_108_864, "Largest accepted request body (413 beyond).", 1),
    Setting("changes_limit", 1000, "Largest batch a device's `_changes` returns at once.", 1),
    Setting("longpoll_timeout", 30.0, "Longest wait (s) of a device's longpoll `_changes`.", 0),
    Setting("feeds_per_device", 2, "Waiting `_changes` feeds (longpoll, continuous) one "
            "device holds at once in a gateway process; more are answered at once as normal "
            "feeds. Each holds one of `hub_threads` while it waits, and a replicator runs "
            "one: without a bound one device's credentials held every thread.", 1),
    Setting("cors_origins", "", "Web origins (comma-separated; '*' for any) whose pages may "
            "replicate a device's view from a browser (PouchDB in a web page; CouchDB's "
            "[cors]): answered CORS preflights and headers. Empty = none, no CORS headers."),
    Setting("workers", True, "Run the workers (indexer, conflict resolver, router, deadline "
            "watcher, oversight facts, boards) in a process of their own under `hub serve`."),
    Setting("worker_interval", 2.0, "Seconds between worker passes when the feed is idle.", 0),
    # Background work gives way to the stations' requests (hub.workers.process): the
    # kernel's nice value, added to the hub's own (0 to 19, as `nice` takes).
    Setting("worker_nice", 10, "CPU priority of the workers' process under `hub serve`, "
            "added to the hub's (0 = as the gateways; 19 = only when the cores are idle): a "
            "burst of pushes goes first, the workers catch up after.", 0, 19),
    Setting("compact_hours", 24.0, "Hours between two compactions of each of the embedded "
            "store's databases by the workers (hub/compaction.py: replaced revisions' bodies, "
            "a device's checkpoint after every batch, dropped); 0 = never. CouchDB compacts "
            "itself.", 0),
    Setting("board_interval", 30.0, "Shortest time (s) between two rewrites of one "
            "institution's coordination board (`board:CODE`, the open cases its town and "
            "county see): a busy station's board is rewritten at most this often, not per step."),
    # 5 c) and 11.1: complaints are handled in time, the standard names no period: a local
    # policy. Bounded so a typo (0: every complaint late at once; 500) stops the hub at start.
    Setting("complaint_working_days", 5, "Working days from receipt within which a "
            "complaint counts as handled in time, 1 to 60 (5 c; the standard names no period, "
            "this is local policy). Shown on the oversight pages and report; a change "
            "refolds every complaint's due date on the next fold.", 1, 60),
    # The runbook has a station type its paper ledger's open cases in on its first day
    # (docs/operations.md "Going live"); 补录 long after is a way to back-date a step.
    Setting("paper_entry_days", 7, "Days after a device's first sync within which its "
            "补录 (paper cases brought in with their paper dates, schemas/paper.py) is "
            "expected, 0 to 366; a 补录 step typed later is flagged on /oversight/paper "
            "for the supervisor to check against the station's paper ledger.", 0, 366),
    Setting("auth_cache_seconds", 300.0, "How long a verified device secret is remembered "
            "(the revocation flag is still read on every request)."),
    Setting("login_address_failures", 20, "Wrong oversight passwords one client address may "
            "send in 15 minutes over all logins together (a password sprayed over every "
            "supervisor's login), 5 to 10000; each login has its own 5 as well. Behind a proxy "
            "set `proxy_hops`, or every supervisor shares the proxy's address.", 5, 10000),
    # Behind nginx or another reverse proxy every request comes from the proxy's address:
    # one visitor's wrong passwords or complaints would then use up everyone's (the two
    # per-address limits above). The proxy states the client in X-Forwarded-For; a client
    # can write that header too, so only the hops the operator vouches for are believed.
    Setting("proxy_hops", 0, "Reverse proxies in front of the hub that append the client's "
            "address to X-Forwarded-For (nginx: `proxy_set_header X-Forwarded-For "
            "$proxy_add_x_forwarded_for`), 0 to 5; the per-address limits of oversight "
            "logins and public complaints then count the address that many hops back. 0 = "
            "read no X-Forwarded-For (a client could write any address there).", 0, 5),
    # 11.1 online complaints on the public page (hub.oversight.public_complaints): no login,
    # so each address is held to this many in an hour; a probe of case numbers gets as few.
    Setting("public_complaints_per_hour", 5, "Complaints one client address may file on the "
            "public complaint page (/oversight/public/CODE/complaint) in an hour, 1 to 1000; "
            "behind a proxy set `proxy_hops`, or every visitor shares the proxy's address.",
            1, 1000),
    # The per-address count does not stop many addresses (a botnet, a crowd told to complain
    # about invented numbers): each filing is a record, and a real number's a sealed event the
    # station must handle (5 c). Past this the page asks the public to phone instead.
    Setting("public_complaints_all_per_hour", 200, "Complaints the public page takes in an "
            "hour from all addresses together, 1 to 100000; beyond it the form says to phone "
            "the institution (503) until the hour's oldest filing leaves the count.", 1, 100000),
    Setting("scrypt_n", 16384, "scrypt cost N for supervisors' passwords (r=8, p=1); device "
            "secrets are 256 random bits and need no slow hash (hub.auth)."),
    Setting("hub_key_passphrase", "", "Passphrase of the hub's keychains in HUB_DIR/keys; "
            "empty = the random one `hub init` wrote to HUB_DIR/keys/passphrase. Environment "
            "only (never saved in settings.json)."),
    Setting("root_passphrase", "", "Passphrase of the offline root keychain (`hub init "
            "--offline-root`, `hub root delegate`) for scripts; else --root-passphrase-file, "
            "else asked. Environment only (never saved in settings.json)."),
    Setting("hub_profile", "", "Folder where each gateway of `hub serve` writes its cProfile "
            "when it stops; empty = no profiling."),
)

#: Secrets: read from the environment, never written to settings.json by :meth:`Settings.save`.
SECRETS = frozenset({"hub_key_passphrase", "root_passphrase"})

_BY_NAME = {s.name: s for s in SETTINGS}


class Settings(_settings.Settings):
    """Resolved settings; read as attributes (``settings.hub_dir``) or as a mapping."""

    @classmethod
    def load(cls, config: Mapping[str, Any] | None = None,
             environ: Mapping[str, str] | None = None) -> Settings:
        origins: dict[str, str] = {}
        try:
            return cls(_settings.resolve(SETTINGS, dir_setting="hub_dir", what="hub",
                                         config=config, environ=environ, origins=origins),
                       origins)
        except _settings.SettingError as exc:
            raise ConfigError(exc.reason) from exc

    @property
    def path(self) -> Path:
        return Path(self._values["hub_dir"])

    @property
    def url(self) -> str:
        """The hub's public base URL."""
        return (self.public_url or f"http://{self.hub_host}:{self.hub_port}").rstrip("/")

    def loopback_note(self) -> str | None:
        """A warning when devices are told a loopback URL (no ``public_url``): fine for a
        demo on one machine, unreachable from a village laptop."""
        host = (urlsplit(self.url).hostname or "").lower()
        if host in ("127.0.0.1", "::1", "localhost") or host.startswith("127."):
            return (f"warning: devices are told {self.url}, a loopback address other machines "
                    "cannot reach; set the hub's public URL (`hub init --public-url`, or "
                    "BANGBAN_PUBLIC_URL) and enroll again")
        return None

    def save(self, keys: Iterable[str] | None = None, **changes: Any) -> None:
        """Persist non-default values (plus ``changes``; only ``keys`` if given) to
        HUB_DIR/settings.json; the secrets never."""
        self._values.update(changes)
        saving = {k for k in self._values if k != "hub_dir" and k not in SECRETS
                  and (keys is None or k in keys)}
        path = self.path / "settings.json"
        # What the file holds beyond what is saved now stays: a key of a later version or
        # one the operator wrote by hand (warned about at every load, sync.settings), and
        # with ``keys`` the settings not named (`hub init` in a folder whose settings.json
        # was written first kept only its own flags, and dropped the operator's).
        out = {k: v for k, v in _saved(path).items() if k not in saving}
        out.update({k: v for k, v in self._values.items()
                    if k in saving and v != _BY_NAME[k].default})
        self.path.mkdir(parents=True, exist_ok=True)
        # 0600 from creation: it may hold the CouchDB admin URL with its password
        # (ops/couchdb/README.md), and `hub init` runs outside the service's UMask.
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        os.fchmod(fd, 0o600)  # an older file may have been made world-readable
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(json.dumps(out, indent=2, sort_keys=True))


def _saved(path: Path) -> dict[str, Any]:
    """What ``path`` holds now (nothing when absent or unreadable: load has said why)."""
    try:
        saved = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return saved if isinstance(saved, dict) else {}


def env_name(name: str) -> str:
    """The environment variable of a declared setting (for code that runs without a hub)."""
    return _BY_NAME[name].env


def describe() -> str:
    """Help text listing every setting (``bangban hub serve --help`` epilog)."""
    return _settings.describe(SETTINGS)
