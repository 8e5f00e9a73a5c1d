"""The :class:`sync.store.StoreServer` one authenticated device sees: one database.

The hub serves its main database under one name (``db_prefix``, e.g. ``/bangban``)
to every device; what is inside depends on the credentials (a per-device view, as
Cloudant Envoy does). Creating or deleting databases is refused.
"""

from __future__ import annotations

from typing import Any

from sync.errors import Forbidden, NotFound, PreconditionFailed
from sync.store import JSON, DocumentStore, StoreServer


class DeviceServer(StoreServer):
    """A server holding exactly one database: the device's view."""

    def __init__(self, view: DocumentStore, *, uuid: str, vendor: str = "Bangban hub"):
        self.view = view
        self.uuid = uuid
        self.vendor = vendor

    def all_dbs(self) -> list[str]:
        return [self.view.name]

    def create_db(self, name: str, *, exist_ok: bool = False) -> DocumentStore:
        if name == self.view.name:
            if exist_ok:
                return self.view
            raise PreconditionFailed("The database could not be created, the file already "
                                     "exists.")
        raise Forbidden("devices cannot create databases on the hub")

    def delete_db(self, name: str) -> None:
        raise Forbidden("devices cannot delete databases on the hub")

    def db(self, name: str) -> DocumentStore:
        if name != self.view.name:
            raise NotFound("Database does not exist.", error="not_found")
        return self.view

    def info(self) -> JSON:
        info: dict[str, Any] = {"couchdb": "Welcome", "version": "3.3.3", "uuid": self.uuid,
                                "features": [], "vendor": {"name": self.vendor}}
        return info


class AnonymousServer(StoreServer):
    """What a request without credentials sees: the welcome, nothing else."""

    def __init__(self, *, uuid: str, vendor: str = "Bangban hub"):
        self.uuid = uuid
        self.vendor = vendor

    def _refuse(self) -> Any:
        from sync.errors import Unauthorized

        raise Unauthorized("authentication required: HTTP Basic with device id and secret")

    def all_dbs(self) -> list[str]:
        return self._refuse()  # type: ignore[no-any-return]

    def create_db(self, name: str, *, exist_ok: bool = False) -> DocumentStore:
        return self._refuse()  # type: ignore[no-any-return]

    def delete_db(self, name: str) -> None:
        self._refuse()

    def db(self, name: str) -> DocumentStore:
        return self._refuse()  # type: ignore[no-any-return]

    def info(self) -> JSON:
        return {"couchdb": "Welcome", "version": "3.3.3", "uuid": self.uuid, "features": [],
                "vendor": {"name": self.vendor}}
