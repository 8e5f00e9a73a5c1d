"""The hub's settings, declared once (Datasette style) with default and help text.

Every setting can come from the environment as ``BANGBAN_<NAME>`` (upper case), from a
``settings.json`` in the hub directory written by ``bangban hub init``, or from the
``config`` mapping given to :func:`hub.app.create_app`; later sources win in that order:
defaults < settings.json < environment < config.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hub.errors import ConfigError

ENV_PREFIX = "BANGBAN_"


@dataclass(frozen=True)
class Setting:
    """One setting: its name (lower case), default and help text."""

    name: str
    default: Any
    help: str

    @property
    def env(self) -> str:
        return ENV_PREFIX + self.name.upper()

    def coerce(self, value: Any) -> Any:
        """Read strings from the environment as the default's type."""
        kind = type(self.default)
        if value is None or isinstance(value, kind) or self.default is None:
            return value
        if kind is bool:
            if isinstance(value, str):
                if value.lower() in ("1", "true", "yes", "on"):
                    return True
                if value.lower() in ("0", "false", "no", "off", ""):
                    return False
            raise ConfigError(f"{self.env}: expected a boolean, got {value!r}")
        try:
            return kind(value)
        except (TypeError, ValueError) as exc:
            raise ConfigError(f"{self.env}: expected {kind.__name__}, got {value!r}") from exc


SETTINGS: tuple[Setting, ...] = (
    Setting("hub_dir", "hub-data", "Folder of the hub: settings.json, keys, the embedded store."),
    Setting("couchdb_url", "", "Apache CouchDB URL (with admin credentials) holding the hub's "
            "databases; empty = the embedded SQLite store in HUB_DIR/db."),
    Setting("db_prefix", "bangban", "Prefix of the hub's database names in the store."),
    Setting("hub_host", "127.0.0.1", "Address `bangban hub serve` listens on."),
    Setting("hub_port", 8840, "Port `bangban hub serve` listens on."),
    Setting("hub_processes", 1, "Gateway processes `bangban hub serve` pre-forks on one "
            "socket (validation is CPU-bound; one process uses one core)."),
    Setting("public_url", "", "The hub's URL as devices reach it (printed at enrollment); "
            "default http://HUB_HOST:HUB_PORT."),
    Setting("max_document_bytes", 1_048_576, "Largest accepted document (JSON bytes), "
            "attachments included; larger ones are refused one by one with `forbidden`."),
    Setting("max_request_bytes", 67_108_864, "Largest accepted request body (413 beyond)."),
    Setting("changes_limit", 1000, "Largest batch a device's `_changes` returns at once."),
    Setting("longpoll_timeout", 30.0, "Longest wait (s) of a device's longpoll `_changes`."),
    Setting("workers", True, "Run the workers (indexer, conflict resolver, router, deadline "
            "watcher) in a background thread of `hub serve`."),
    Setting("worker_interval", 2.0, "Seconds between worker passes when the feed is idle."),
    Setting("auth_cache_seconds", 300.0, "How long a verified device secret is remembered "
            "(the revocation flag is still read on every request)."),
    Setting("scrypt_n", 16384, "scrypt cost N for device secrets (r=8, p=1)."),
)

_BY_NAME = {s.name: s for s in SETTINGS}


class Settings(Mapping[str, Any]):
    """Resolved settings; read as attributes (``settings.hub_dir``) or as a mapping."""

    def __init__(self, values: Mapping[str, Any]):
        self._values = dict(values)

    @classmethod
    def load(cls, config: Mapping[str, Any] | None = None,
             environ: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if environ is None else environ
        config = dict(config or {})
        unknown = set(config) - set(_BY_NAME)
        if unknown:
            raise ConfigError(f"unknown hub settings: {', '.join(sorted(unknown))}")
        values = {s.name: s.default for s in SETTINGS}
        hub_dir = config.get("hub_dir") or env.get(_BY_NAME["hub_dir"].env) or values["hub_dir"]
        stored = Path(hub_dir) / "settings.json"
        if stored.exists():
            try:
                saved = json.loads(stored.read_text("utf-8"))
            except ValueError as exc:
                raise ConfigError(f"{stored}: not valid JSON ({exc})") from exc
            values.update({k: _BY_NAME[k].coerce(v) for k, v in saved.items() if k in _BY_NAME})
        for s in SETTINGS:
            if s.env in env:
                values[s.name] = s.coerce(env[s.env])
        for k, v in config.items():
            values[k] = _BY_NAME[k].coerce(v)
        values["hub_dir"] = str(hub_dir)
        return cls(values)

    def __getattr__(self, name: str) -> Any:
        try:
            return self._values[name]
        except KeyError:
            raise AttributeError(name) from None

    def __getitem__(self, key: str) -> Any:
        return self._values[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._values)

    def __len__(self) -> int:
        return len(self._values)

    @property
    def path(self) -> Path:
        return Path(self._values["hub_dir"])

    @property
    def url(self) -> str:
        """The hub's public base URL."""
        return (self.public_url or f"http://{self.hub_host}:{self.hub_port}").rstrip("/")

    def save(self, **changes: Any) -> None:
        """Persist non-default values (plus ``changes``) to HUB_DIR/settings.json."""
        self._values.update(changes)
        out = {k: v for k, v in self._values.items()
               if k != "hub_dir" and v != _BY_NAME[k].default}
        self.path.mkdir(parents=True, exist_ok=True)
        (self.path / "settings.json").write_text(json.dumps(out, indent=2, sort_keys=True), "utf-8")


def describe() -> str:
    """Help text listing every setting (``bangban hub serve --help`` epilog)."""
    rows = [f"  {s.env:<32} {s.help} (default: {s.default!r})" for s in SETTINGS]
    return "settings (environment variables):\n" + "\n".join(rows)
