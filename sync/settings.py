"""Settings declared once, with default and help text (Datasette style), shared by hub and node.

An application lists its :class:`Setting` entries once; :func:`resolve` reads them from,
in increasing precedence, the defaults, ``DIR/settings.json`` (written by ``init``), the
environment (``BANGBAN_<NAME>``) and the ``config`` mapping given to ``create_app``.
Flask-free: ``sync`` is below ``hub`` and ``node``.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sync.errors import BadRequest, SyncError

ENV_PREFIX = "BANGBAN_"


class SettingError(SyncError):
    """A setting has a value of the wrong type, an unknown name, or a broken settings.json."""

    status = 400
    error = "bad_setting"


@dataclass(frozen=True)
class Setting:
    """One setting: its name (lower case), default and help text."""

    name: str
    default: Any
    help: str
    #: Smallest and largest value of a number (None: unbounded). A port of 99999 or no
    #: worker threads passed the type check and failed much later (a traceback from
    #: ``bind``, a gateway that never answered): refused here, named.
    low: float | None = None
    high: float | None = None

    @property
    def env(self) -> str:
        return ENV_PREFIX + self.name.upper()

    def coerce(self, value: Any) -> Any:
        """Read strings (environment, JSON) as the default's type, within its bounds."""
        value = self._typed(value)
        if isinstance(value, (int, float)) and not isinstance(value, bool) and (
                (self.low is not None and value < self.low)
                or (self.high is not None and value > self.high)):
            bounds = (f"from {self.low:g} to {self.high:g}" if self.low is not None
                      and self.high is not None else f"at least {self.low:g}"
                      if self.low is not None else f"at most {self.high:g}")
            raise SettingError(f"{self.env}: must be {bounds}, got {value!r}")
        return value

    def _typed(self, value: Any) -> Any:
        kind = type(self.default)
        if kind in (int, float) and (isinstance(value, bool) or (
                kind is int and isinstance(value, float) and not value.is_integer())):
            # int() and float() would quietly read settings.json's ``true`` as 1 and ``5.5``
            # as 5: a period of "true" days, a port rounded down. Refused, named.
            what = "a whole number" if kind is int else "a number"
            raise SettingError(f"{self.env}: expected {what}, got {json.dumps(value)}")
        if value is None or isinstance(value, kind) or self.default is None:
            return value
        if kind is bool:
            text = str(value).lower()
            if text in ("1", "true", "yes", "on"):
                return True
            if text in ("0", "false", "no", "off", ""):
                return False
            raise SettingError(f"{self.env}: expected a boolean, got {value!r}")
        try:
            return kind(value)
        except (TypeError, ValueError) as exc:
            raise SettingError(f"{self.env}: expected {kind.__name__}, got {value!r}") from exc


class Settings(Mapping[str, Any]):
    """Resolved settings; read as attributes (``settings.hub_dir``) or as a mapping."""

    def __init__(self, values: Mapping[str, Any], origins: Mapping[str, str] | None = None):
        self._values = dict(values)
        self._origins = dict(origins or {})

    def origin(self, name: str) -> str:
        """Where setting ``name`` came from, in the words an operator edits it by (see
        :func:`resolve`): an error naming ``BANGBAN_COUCHDB_URL`` for a URL that was in
        settings.json sent the operator to a variable that was not set."""
        return self._origins.get(name) or (f"{name} left at its default "
                                           f"({ENV_PREFIX}{name.upper()} not set)")

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


def resolve(declared: Sequence[Setting], *, dir_setting: str, what: str,
            config: Mapping[str, Any] | None = None,
            environ: Mapping[str, str] | None = None,
            origins: dict[str, str] | None = None) -> dict[str, Any]:
    """Every declared setting's value: defaults < DIR/settings.json < environment < config.

    ``dir_setting`` names the setting holding the folder whose ``settings.json`` is read;
    ``what`` ("hub", "node") goes into error messages. ``origins``, when given, gets where
    each setting not left at its default came from (:meth:`Settings.origin`).
    """
    origins = {} if origins is None else origins
    env = os.environ if environ is None else environ
    by_name = {s.name: s for s in declared}
    config = dict(config or {})
    unknown = set(config) - set(by_name)
    if unknown:
        raise SettingError(f"unknown {what} settings: {', '.join(sorted(unknown))}")
    values = {s.name: s.default for s in declared}
    folder = config.get(dir_setting) or env.get(by_name[dir_setting].env) or values[dir_setting]
    stored = Path(folder) / "settings.json"
    if stored.exists():
        try:
            saved = json.loads(stored.read_text(encoding="utf-8"))
        except ValueError as exc:
            raise SettingError(f"{stored}: not valid JSON ({exc})") from exc
        if not isinstance(saved, dict):
            raise SettingError(f"{stored}: must hold a JSON object, not {type(saved).__name__}")
        values.update({k: v for k, v in saved.items() if k in by_name})
        origins.update({k: f"{k} in {stored}" for k in saved if k in by_name})
        for key in sorted(set(saved) - set(by_name)):
            _warn_once(stored, key, by_name, what)
    for s in declared:
        if s.env in env:
            values[s.name] = env[s.env]
            origins[s.name] = f"{s.env} in the environment"
    values.update(config)
    origins.update({k: f"{k} given to the {what} (--{k.replace('_', '-')})"
                    for k in config})
    values[dir_setting] = str(folder)
    return {s.name: s.coerce(values[s.name]) for s in declared}


#: (file, key) already warned about in this process: settings are resolved more than once.
_WARNED: set[tuple[str, str]] = set()


def _warn_once(stored: Path, key: str, by_name: Mapping[str, Setting], what: str) -> None:
    """One line on stderr for a key of ``stored`` that is no setting of this version (a
    typo, a setting a later version added or renamed): it was dropped without a word, as
    a misspelt environment variable was (ops.envcheck). A warning, not a refusal: a
    folder's settings.json outlives the version that wrote it."""
    import difflib
    import sys

    if (str(stored), key) in _WARNED:
        return
    _WARNED.add((str(stored), key))
    near = difflib.get_close_matches(key, list(by_name), n=1, cutoff=0.75)
    hint = f" (did you mean {near[0]}?)" if near else ""
    print(f"bangban: warning: {stored}: {key} is not a {what} setting of this version and is "
          f"ignored{hint}; `bangban {what} --help` lists them", file=sys.stderr, flush=True)


def describe(declared: Sequence[Setting]) -> str:
    """Help text listing every setting (a ``--help`` epilog)."""
    rows = [f"  {s.env:<32} {s.help} (default: {s.default!r})" for s in declared]
    return "settings (environment variables):\n" + "\n".join(rows)


def help_table(declared: Sequence[Setting]) -> str:
    """The settings as a Markdown table (``--help-settings`` and the docs)."""
    rows = ["| variable | default | meaning |", "| --- | --- | --- |"]
    rows += [f"| `{s.env}` | `{s.default!r}` | {s.help} |" for s in declared]
    return "\n".join(rows)


def read_json_file(path: str | Path, what: str, kind: type = dict) -> Any:
    """An operator's JSON file (an enrollment, public keys, a catalog) as ``kind``, or one
    :class:`~sync.errors.BadRequest` naming the argument, the file and the rule: a
    missing file, broken JSON or the wrong shape must not end a command in a traceback."""
    try:
        # utf-8-sig: a file saved by Windows Notepad or Excel starts with a BOM (RFC 8259
        # §8.1 lets a parser ignore it); json.loads refused it as "not valid JSON"
        data = json.loads(Path(path).read_text(encoding="utf-8-sig"))
    except OSError as exc:
        raise BadRequest(f"{what}: cannot read {path} ({exc.strerror or exc})") from exc
    except UnicodeDecodeError as exc:  # a GBK file: "not valid JSON" sent the officer to
        # look for a syntax error in a file that has none
        raise BadRequest(f"{what}: {path} is not UTF-8 text (byte {exc.object[exc.start]:#04x} "
                         f"at offset {exc.start}); save it as UTF-8 (Excel's and Notepad's GBK/ANSI "
                         "is not read) / 文件须为 UTF-8 编码（GBK 不可读），请另存为 UTF-8") from exc
    except ValueError as exc:  # JSONDecodeError
        raise BadRequest(f"{what}: {path} is not valid JSON ({exc})") from exc
    if not isinstance(data, kind):
        shape = "a JSON object" if kind is dict else "a JSON list" if kind is list else kind.__name__
        raise BadRequest(f"{what}: {path} must hold {shape}, not {type(data).__name__}")
    return data


def folder_uid(folder: str | os.PathLike[str]) -> int:
    """The uid owning ``folder`` (what :func:`foreign_owner` compares with root)."""
    return Path(folder).stat().st_uid


def foreign_owner(folder: str | os.PathLike[str]) -> str | None:
    """The name of the user owning ``folder`` when this process runs as root and the folder
    is another user's (a service's, a clerk's), else None.

    What a command makes there as root (a restored store, a new database, SQLite's -wal
    beside a store its owner had closed) is root's, 0600 (``ops.cli`` sets umask 077), and
    the owner's service cannot open it at its next start. The CLIs refuse such commands."""
    import pwd

    if os.geteuid() != 0:
        return None
    try:
        owner = folder_uid(folder)
    except OSError:  # no folder yet: what makes it, makes it root's on purpose
        return None
    if owner == 0:
        return None
    try:
        return pwd.getpwuid(owner).pw_name
    except KeyError:  # no such user here (a volume mounted into a container): no service
        return None   # of this machine runs as it


def absent_folder(folder: str | os.PathLike[str], what: str, flags: str,
                  advice: str) -> str | None:
    """The refusal, in English, of a command given a ``what`` folder (``"hub folder"``)
    that does not exist, or None when it does: opening the store there made it, so a
    mistyped ``flags`` (``--dir or BANGBAN_NODE_DIR``) was a new empty folder and the
    command then spoke of that one (not initialised, not enrolled). ``advice``: where the
    right folder is, or the command that starts a new one. Each CLI raises it as its own
    package's refusal (hub.cli, node.cli); the commands that make their folder skip it."""
    if Path(folder).is_dir():
        return None
    return f"no {what} at {folder} ({flags}): {advice}; nothing was made"
