"""The node's settings, declared once (Datasette style) with default and help text.

Sources, later ones win: defaults < ``DIR/settings.json`` (the operator's, optional: ``bangban node
init`` writes none) < environment ``BANGBAN_<NAME>`` < the ``config`` mapping given to
:func:`node.app.create_app`. ``bangban node serve --help-settings`` prints this table.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from node.errors import ConfigError
from sync import settings as _settings
from sync.settings import Setting

SETTINGS: tuple[Setting, ...] = (
    Setting("node_dir", "node-data", "Folder of this node: enrollment, keys, the local store "
            "(store.sqlite) and the search index (index.sqlite)."),
    Setting("node_host", "127.0.0.1", "Address the web UI listens on (loopback only by default: "
            "the laptop's user is the only client)."),
    Setting("node_port", 8470, "Port of the web UI.", 0, 65535),
    Setting("locale", "zh_CN", "Default UI language (zh_CN or en); a user can switch per session."),
    Setting("sync_interval", 30.0, "Seconds between background sync rounds of `node serve` "
            "(0 = no background sync; `bangban node sync` still works).", 0),
    Setting("sync_timeout", 20.0, "Seconds before a silent hub connection counts as dead.",
            0.1),
    Setting("sync_probe_interval", 5.0, "While the hub is unreachable, about this many "
            "seconds (jittered) between checks whether it answers again: one small GET with "
            "a short timeout; a round starts as soon as it does (0 = wait for the next "
            "round).", 0),
    Setting("clock_warn_seconds", 120, "Every page warns the clerk while this laptop's clock "
            "differs from the hub's by more than this many seconds (checked during sync; "
            "recorded times come from this clock, design.md §6)."),
    Setting("page_size", 50, "Cases per page in lists and search results.", 1),
    Setting("passphrase", "", "Passphrase that unlocks the keys at start (scripts and demos "
            "only; people type it into the unlock page). Prefer BANGBAN_PASSPHRASE_FILE."),
    Setting("passphrase_file", "", "File whose first line is the passphrase (scripts, demos)."),
    Setting("transfer_passphrase", "", "Passphrase of an institution key file (`node keys "
            "export`, `node init --institution-keys`) for scripts; people type it. Not the "
            "daily passphrase."),
    Setting("transfer_passphrase_file", "", "File whose first line is the transfer passphrase."),
    Setting("new_passphrase", "", "The new daily passphrase of `node keys passphrase` for "
            "scripts; people type it. Prefer BANGBAN_NEW_PASSPHRASE_FILE."),
    Setting("new_passphrase_file", "", "File whose first line is the new daily passphrase."),
    Setting("secret_key", "", "Flask session key; empty = random per process (sessions end "
            "when the node restarts, which re-locks the keys anyway)."),
    Setting("max_upload_bytes", 20_971_520, "Largest scanned file accepted (bytes)."),
    Setting("font_path", "", "TTF/TTC with Chinese glyphs embedded in printed forms; empty = "
            "the first of the known Debian fonts, else reportlab's STSong-Light CID font."),
    Setting("idle_lock_minutes", 30, "Minutes without a request from the clerk (the sync "
            "badge's poll does not count) after which the keys are dropped from memory and "
            "open pages go to the unlock page (0 = never).", 0),
    Setting("compact_hours", 24.0, "Hours between two compactions of the local store, looked "
            "at after each pull: replaced revisions' bodies (a town's boards, rewritten by the "
            "hub every few minutes) are dropped, leaves are kept; 0 = never.", 0),
)



class Settings(_settings.Settings):
    """Resolved settings; read as attributes (``settings.node_dir``) or as a mapping."""

    @property
    def dir(self) -> Path:
        return Path(self.node_dir)

    def read_passphrase(self) -> str:
        """The scripted passphrase, if any (file wins over the plain setting)."""
        return _scripted(self.passphrase_file, self.passphrase)

    def read_transfer_passphrase(self) -> str:
        """The scripted passphrase of an institution key file, if any (file wins)."""
        return _scripted(self.transfer_passphrase_file, self.transfer_passphrase)

    def read_new_passphrase(self) -> str:
        """The scripted new daily passphrase of `node keys passphrase`, if any (file wins)."""
        return _scripted(self.new_passphrase_file, self.new_passphrase)


def _scripted(file: str, plain: str) -> str:
    if file:
        try:
            text = Path(file).read_text(encoding="utf-8")
        except (OSError, ValueError) as exc:
            raise ConfigError(f"passphrase file: cannot read {file} "
                              f"({getattr(exc, 'strerror', None) or exc})") from exc
        return text.splitlines()[0] if text else ""
    return str(plain or "")


def load(config: Mapping[str, Any] | None = None, env: Mapping[str, str] | None = None) -> Settings:
    """Resolve every setting from defaults, settings.json, environment and ``config``."""
    try:
        return Settings(_settings.resolve(SETTINGS, dir_setting="node_dir", what="node",
                                          config=config, environ=env))
    except _settings.SettingError as exc:
        raise ConfigError(exc.reason) from exc


def help_table() -> str:
    """The settings as a Markdown table (for --help-settings and the docs)."""
    return _settings.help_table(SETTINGS)


def describe() -> str:
    """Every setting with its environment variable and default (``bangban node --help``)."""
    return _settings.describe(SETTINGS)
