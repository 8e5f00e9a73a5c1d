"""Oversight and supervision at the hub (issue 8; DB4106/T 101—2023 clauses 5, 8.1.2, 11).

Public API:

* :data:`blueprint` and :func:`init_app` — the dashboard under ``/oversight/``
  (registered by :func:`hub.app.create_app`), the public disclosure pages under
  ``/oversight/public/<code>`` (8.1.2, no login);
* :func:`oversight_for` — the app's :class:`Oversight` (fact store and materializer);
* :func:`hub.oversight.supervisors.add_supervisor` — create a supervisor login;
* :mod:`hub.oversight.facts`, :mod:`hub.oversight.indicators` — the indicators' pure
  definitions and their queries; :mod:`hub.oversight.materialize` — the incremental
  materialization driven by the changes feed.
"""

from __future__ import annotations

import datetime as dt
import secrets
import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from flask import Flask

from hub.oversight.boards import BoardPublisher
from hub.oversight.clocks import ClockFold
from hub.oversight.materialize import FactStore, Materializer
from hub.oversight.supervisors import Supervisor, add_supervisor, authenticate
from hub.oversight.throttle import FILE as LOGINS_FILE
from hub.oversight.throttle import LoginThrottle

if TYPE_CHECKING:
    from hub.core import Hub

FACTS_FILE = "oversight.sqlite"
#: How long a supervisor's login lasts.
SESSION_LIFETIME = dt.timedelta(hours=12)
CATCH_UP_SECONDS = 1.0  # a page read folds what changed since, at most this often
#: A page read folds at most this many feed batches (500 changes each), so a page stays
#: fast after a large import; the rest is folded by later reads or `hub oversight refresh`.
PAGE_BATCHES = 4
#: Feed batches the workers' pass folds at most (the rest in the next passes).
WORK_BATCHES = 20


def stale_fold(path: str | Path) -> int | None:
    """The fold version of the file at ``path`` when an older (or newer) version of
    Bangban folded it (:data:`hub.oversight.materialize.FOLD_VERSION`), else None (no file,
    or folded by this version). Read only: the doctor asks too, and must not change it."""
    import sqlite3

    from hub.oversight.materialize import FOLD_VERSION

    path = Path(path)
    if not path.exists():
        return None
    db = sqlite3.connect(path)
    try:
        version = int(db.execute("PRAGMA user_version").fetchone()[0])
    finally:
        db.close()
    return None if version == FOLD_VERSION else version


def discard_if_stale(path: str | Path) -> bool:
    """Delete the file (with its WAL) when an older fold made it (:func:`stale_fold`); it is
    a derived cache, folded again from the feed. Call it before any process opens the file
    (`hub serve` does, before it forks its gateways); True when it was discarded."""
    if stale_fold(path) is None:
        return False
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    return True


class Oversight:
    """Per app: the fact store (``HUB_DIR/oversight.sqlite``) and its materializer."""

    def __init__(self, hub: Hub, path: str | Path | None = None):
        self.hub = hub
        folder = Path(hub.settings.hub_dir)
        folder.mkdir(parents=True, exist_ok=True)
        self.facts = FactStore(path or folder / FACTS_FILE)
        self._materializer: Materializer | None = None
        self._last = 0.0
        self._lock = threading.Lock()
        self._boards: BoardPublisher | None = None
        self._clocks: ClockFold | None = None
        self.login_throttle = LoginThrottle(
            folder / LOGINS_FILE,
            max_address_failures=int(hub.settings.login_address_failures))

    @property
    def materializer(self) -> Materializer:
        if self._materializer is None:
            hub_devices: list[str] = []
            if self.hub.initialised():
                hub_devices.append(str(self.hub.identity.get("device_id", "")))
            self._materializer = Materializer(self.hub.stores, self.facts,
                                              complaint_days=self.complaint_days,
                                              hub_devices=hub_devices)
        return self._materializer

    @property
    def complaint_days(self) -> int:
        """Working days a complaint has (5 c names none: the hub setting
        ``complaint_working_days``); the pages show this value, the one the facts use."""
        return int(self.hub.settings.complaint_working_days)

    @property
    def clocks(self) -> ClockFold:
        """Folds the hub's receipt times (design.md §6) into the same file."""
        if self._clocks is None:
            self._clocks = ClockFold(self.hub.stores, self.facts)
        return self._clocks

    def catch_up(self, *, force: bool = False) -> int:
        with self._lock:
            if not force and time.monotonic() - self._last < CATCH_UP_SECONDS:
                return 0
            self._last = time.monotonic()
        folded = self.materializer.catch_up(None if force else PAGE_BATCHES)
        self.clocks.catch_up(None if force else PAGE_BATCHES)
        return folded

    @property
    def boards(self) -> BoardPublisher:
        """Publishes the coordination boards (design.md §5) from these facts."""
        if self._boards is None:
            self._boards = BoardPublisher(self.hub, self.facts, self.institutions,
                                          interval=float(self.hub.settings.board_interval))
        return self._boards

    def work(self) -> dict[str, int]:
        """The workers' pass (``hub serve``): fold what changed, then rebuild the boards
        of the institutions whose cases changed."""
        # Not the page reads' once-a-second throttle: a pass must fold what it was woken
        # for, or the boards it then builds miss the change (at most WORK_BATCHES feed
        # batches, so a large import does not hold the other workers up).
        with self._lock:
            self._last = time.monotonic()
        self.materializer.catch_up(WORK_BATCHES)
        self.clocks.catch_up(WORK_BATCHES)
        self.boards.run_once()
        return {"boards_published": self.boards.published}

    @property
    def behind(self) -> bool:
        return self.materializer.behind

    def institutions(self) -> dict[str, dict[str, Any]]:
        """code -> institution document (the hub stores' copy, read at most once a minute)."""
        return self.hub.stores.institutions()


def _secret_key(hub: Hub) -> str:
    path = Path(hub.settings.hub_dir) / "oversight-secret"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_hex(32), "utf-8")
        path.chmod(0o600)
    return path.read_text("utf-8").strip()


def init_app(app: Flask) -> None:
    from hub.oversight.views import blueprint

    hub = app.extensions["bangban_hub"]
    if not app.secret_key:
        app.secret_key = _secret_key(hub)
    # Not Flask's "session": cookies ignore the port, so a node UI on the same host (the
    # demo, a supervisor's own laptop) overwrote the supervisor's login and vice versa.
    # (setdefault did nothing here: Flask's defaults are already in app.config.)
    # Secure when the hub is reached over https (public_url, behind a TLS proxy): the
    # login cookie was sent again on any plain-http request to the same host, readable on
    # the wire (a supervisor sees the cases of a whole county, 7.2.2.2).
    https = str(hub.settings.public_url).lower().startswith("https://")
    for key, ours, flasks in (("SESSION_COOKIE_NAME", "bangban_oversight", "session"),
                              ("SESSION_COOKIE_HTTPONLY", True, True),
                              ("SESSION_COOKIE_SAMESITE", "Lax", None),
                              ("SESSION_COOKIE_SECURE", https, False),
                              # a signed cookie cannot be recalled: it lasts a working day,
                              # not Flask's 31 days (a session left on a shared computer)
                              ("PERMANENT_SESSION_LIFETIME", SESSION_LIFETIME,
                               dt.timedelta(days=31))):
        if app.config.get(key, flasks) == flasks:
            app.config[key] = ours
    app.extensions["bangban_oversight"] = Oversight(hub)
    app.register_blueprint(blueprint)


def oversight_for(app: Flask) -> Oversight:
    return app.extensions["bangban_oversight"]  # type: ignore[no-any-return]


def __getattr__(name: str) -> Any:
    if name == "blueprint":  # lazy: the views import Flask templates only when used
        from hub.oversight.views import blueprint

        return blueprint
    raise AttributeError(name)


__all__ = ["BoardPublisher", "ClockFold", "FactStore", "Materializer", "Oversight", "Supervisor", "add_supervisor",
           "authenticate", "discard_if_stale", "init_app", "oversight_for", "stale_fold"]
