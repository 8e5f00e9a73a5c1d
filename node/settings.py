"""The node's settings, declared once (Datasette style) with default and help text.

Sources, later ones win: defaults < ``DIR/settings.json`` (written by ``bangban node
init``) < environment ``BANGBAN_<NAME>`` < the ``config`` mapping given to
:func:`node.app.create_app`. ``bangban node serve --help-settings`` prints this table.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from node.errors import ConfigError

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
        """Read strings (environment, JSON) as the default's type."""
        kind = type(self.default)
        if value is None or isinstance(value, kind) or self.default is None:
            return value
        if kind is bool:
            text = str(value).lower()
            if text in ("1", "true", "yes", "on"):
                return True
            if text in ("0", "false", "no", "off", ""):
                return False
            raise ConfigError(f"{self.env}: expected a boolean, got {value!r}")
        try:
            return kind(value)
        except (TypeError, ValueError) as exc:
            raise ConfigError(f"{self.env}: expected {kind.__name__}, got {value!r}") from exc


SETTINGS: tuple[Setting, ...] = (
    Setting("node_dir", "node-data", "Folder of this node: enrollment, keys, the local store "
            "(store.sqlite) and the search index (index.sqlite)."),
    Setting("node_host", "127.0.0.1", "Address the web UI listens on (loopback only by default: "
            "the laptop's user is the only client)."),
    Setting("node_port", 8470, "Port of the web UI."),
    Setting("locale", "zh_CN", "Default UI language (zh_CN or en); a user can switch per session."),
    Setting("sync_interval", 30.0, "Seconds between background sync rounds of `node serve` "
            "(0 = no background sync; `bangban node sync` still works)."),
    Setting("sync_timeout", 20.0, "Seconds before a silent hub connection counts as dead."),
    Setting("page_size", 50, "Cases per page in lists and search results."),
    Setting("passphrase", "", "Passphrase that unlocks the keys at start (scripts and demos "
            "only; people type it into the unlock page). Prefer BANGBAN_PASSPHRASE_FILE."),
    Setting("passphrase_file", "", "File whose first line is the passphrase (scripts, demos)."),
    Setting("secret_key", "", "Flask session key; empty = random per process (sessions end "
            "when the node restarts, which re-locks the keys anyway)."),
    Setting("max_upload_bytes", 20_971_520, "Largest scanned file accepted (bytes)."),
    Setting("font_path", "", "TTF/TTC with Chinese glyphs embedded in printed forms; empty = "
            "the first of the known Debian fonts, else reportlab's STSong-Light CID font."),
    Setting("idle_lock_minutes", 30, "Minutes without a request after which the keys are "
            "dropped from memory and the unlock page is shown again (0 = never)."),
)

_BY_NAME = {s.name: s for s in SETTINGS}


class Settings(Mapping[str, Any]):
    """Resolved settings; read as attributes (``settings.node_dir``) or as a mapping."""

    def __init__(self, values: Mapping[str, Any]):
        self._values = dict(values)

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
    def dir(self) -> Path:
        return Path(self.node_dir)

    def read_passphrase(self) -> str:
        """The scripted passphrase, if any (file wins over the plain setting)."""
        if self.passphrase_file:
            text = Path(self.passphrase_file).read_text(encoding="utf-8")
            return text.splitlines()[0] if text else ""
        return str(self.passphrase or "")


def load(config: Mapping[str, Any] | None = None, env: Mapping[str, str] | None = None) -> Settings:
    """Resolve every setting from defaults, settings.json, environment and ``config``."""
    env = os.environ if env is None else env
    config = dict(config or {})
    unknown = set(config) - set(_BY_NAME)
    if unknown:
        raise ConfigError(f"unknown node settings: {', '.join(sorted(unknown))}")
    values = {s.name: s.default for s in SETTINGS}
    node_dir = config.get("node_dir") or env.get(_BY_NAME["node_dir"].env) or values["node_dir"]
    path = Path(node_dir) / "settings.json"
    if path.exists():
        try:
            stored = json.loads(path.read_text(encoding="utf-8"))
        except ValueError as exc:
            raise ConfigError(f"{path}: not valid JSON ({exc})") from exc
        values.update({k: v for k, v in stored.items() if k in _BY_NAME})
    for s in SETTINGS:
        if s.env in env:
            values[s.name] = env[s.env]
    values.update(config)
    values["node_dir"] = str(node_dir)
    return Settings({s.name: s.coerce(values[s.name]) for s in SETTINGS})


def help_table() -> str:
    """The settings as a Markdown table (for --help-settings and the docs)."""
    rows = ["| variable | default | meaning |", "| --- | --- | --- |"]
    rows += [f"| `{s.env}` | `{s.default!r}` | {s.help} |" for s in SETTINGS]
    return "\n".join(rows)
