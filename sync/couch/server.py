"""A :class:`sync.store.StoreServer` for a CouchDB-API server reached through ``ibmcloudant``."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import requests

from sync import errors
from sync.couch._transport import DEFAULT_TIMEOUT, Transport, TransportStats
from sync.couch.store import CouchStore
from sync.store import JSON, StoreServer

#: CouchDB's database name rule (CouchDB docs, "PUT /{db}").
DB_NAME = re.compile(r"^[a-z][a-z0-9_$()+/-]*$")


def check_db_name(name: Any) -> str:
    if not isinstance(name, str) or not DB_NAME.match(name) or len(name) > 238:
        raise errors.BadRequest(
            f"Name: {name!r}. Only lowercase characters (a-z), digits (0-9), and any of the "
            "characters _, $, (, ), +, -, and / are allowed. Must begin with a letter.",
            error="illegal_database_name",
        )
    return name


class CouchServer(StoreServer):
    """All databases of one CouchDB-API server.

    ``url`` is ``http(s)://[user:password@]host:port``; credentials become a
    ``BasicAuthenticator``. ``timeout`` is seconds or ``(connect, read)``;
    ``gzip`` compresses request bodies; ``session`` lets a caller supply the
    ``requests.Session`` (connection pool) the SDK uses; ``on_error`` sees every error
    before it is raised (:attr:`Transport.on_error`).
    """

    def __init__(
        self,
        url: str,
        *,
        timeout: float | tuple[float, float] = DEFAULT_TIMEOUT,
        gzip: bool = False,
        session: requests.Session | None = None,
        on_error: Callable[[errors.SyncError], errors.SyncError] | None = None,
    ) -> None:
        self.transport = Transport(url, timeout=timeout, gzip=gzip, session=session,
                                   on_error=on_error)
        self.client = self.transport.client
        self.url = self.transport.service_url

    @property
    def stats(self) -> TransportStats:
        """Requests and body bytes sent/received by this server and its stores."""
        return self.transport.stats

    def __repr__(self) -> str:
        return f"CouchServer({self.url!r})"

    def info(self) -> JSON:
        return dict(self.transport.call(self.client.get_server_information))

    def all_dbs(self) -> list[str]:
        return list(self.transport.call(self.client.get_all_dbs))

    def create_db(self, name: str, *, exist_ok: bool = False) -> CouchStore:
        check_db_name(name)
        try:
            self.transport.call(self.client.put_database, name)
        except errors.PreconditionFailed:
            if not exist_ok:
                raise
        return CouchStore(self.transport, name)

    def delete_db(self, name: str) -> None:
        check_db_name(name)
        self.transport.call(self.client.delete_database, name)

    def db(self, name: str) -> CouchStore:
        check_db_name(name)
        try:
            self.transport.call(self.client.head_database, name)
        except errors.SyncError as exc:
            if exc.status == 404:
                raise errors.NotFound(f"Database does not exist: {name}",
                                      error="not_found") from exc
            raise
        return CouchStore(self.transport, name)

    def close(self) -> None:
        self.transport.close()
