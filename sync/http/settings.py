"""Settings of the CouchDB HTTP API, declared once with defaults and help text.

Each can be set from the environment as ``BANGBAN_<NAME upper-cased>`` (house
rule: settings declared once, env prefix ``BANGBAN_``).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from typing import Any

ENV_PREFIX = "BANGBAN_"


def _setting(default: Any, help: str) -> Any:
    return field(default=default, metadata={"help": help})


@dataclass(frozen=True)
class HTTPSettings:
    """Knobs of :class:`sync.http.CouchApp`."""

    max_http_request_size: int = _setting(
        64 * 1024 * 1024,
        "Largest request body accepted, in bytes, after gzip decoding; larger bodies get "
        "413 too_large (CouchDB's [chttpd] max_http_request_size, 4 GB there; 64 MB here "
        "because a village laptop holds the body in memory).",
    )
    gzip_min_size: int = _setting(
        1024,
        "Responses at least this large are gzip-compressed when the client's Accept-Encoding "
        "allows it (saves bandwidth on poor village links); 0 disables compression.",
    )
    changes_timeout: float = _setting(
        60.0,
        "Longest wait of a longpoll/continuous _changes feed without heartbeat, in seconds: "
        "the default when the client gives no timeout and the cap when it gives a longer "
        "one (CouchDB's [chttpd] changes_timeout, 60 000 ms).",
    )
    changes_timeout_max: float = _setting(
        3600.0,
        "Longest life of a _changes feed with heartbeat, in seconds (CouchDB keeps those "
        "open forever; we end them so a request thread is never held forever).",
    )
    cors_origins: tuple[str, ...] = _setting(
        (),
        "Origins allowed by CORS (comma-separated in the environment; '*' for any); "
        "empty disables CORS headers. Needed only by PouchDB running in a browser.",
    )
    server_uuid: str = _setting(
        "",
        "The server's uuid in GET / (PouchDB uses it in replication ids, so it must be "
        "stable across restarts); empty means: ask the StoreServer, else derive one.",
    )

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, **overrides: Any) -> HTTPSettings:
        """Defaults, then ``BANGBAN_*`` variables, then explicit ``overrides``."""
        env = os.environ if environ is None else environ
        values: dict[str, Any] = {}
        for f in fields(cls):
            raw = env.get(ENV_PREFIX + f.name.upper())
            if raw is None:
                continue
            if f.type in ("int", int):
                values[f.name] = int(raw)
            elif f.type in ("float", float):
                values[f.name] = float(raw)
            elif f.name == "cors_origins":
                values[f.name] = tuple(o.strip() for o in raw.split(",") if o.strip())
            else:
                values[f.name] = raw
        return replace(cls(**values), **overrides)

    @classmethod
    def describe(cls) -> list[tuple[str, Any, str]]:
        """``(env name, default, help)`` for each setting, for docs and ``--help``."""
        return [(ENV_PREFIX + f.name.upper(), f.default, f.metadata["help"]) for f in fields(cls)]
