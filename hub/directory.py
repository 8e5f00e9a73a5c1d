"""The root-signed directory (design.md §5): every institution's and device's public keys,
the escrow and bundle keys, and which device is the hub; built from the reference records
:mod:`hub.admin` writes, signed by the root (or the key the offline root delegated,
:mod:`hub.offline`), stored as the ``directory`` document every device pulls and verifies.

Split from :mod:`hub.admin`, which publishes a new version after each change of a record
the directory is built from (an institution, a device, a key).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

from hub.errors import AlreadyExists
from schemas.written import WRITTEN, stamp
from sync.crypto import build_directory, sign_directory
from sync.errors import Conflict, NotFound

if TYPE_CHECKING:
    from hub.core import Hub


def directory_version(hub: Hub) -> int:
    """The version of the directory published last (0: none yet)."""
    try:
        return int(hub.stores.main.get("directory").get("version", 0))
    except NotFound:
        return 0


def _own_device(hub: Hub, devices: Iterable[Mapping[str, Any]]) -> str | None:
    """The hub's device id for the directory's ``hub`` member, or ``None`` if its device
    record is missing (never after `hub init`): nodes refuse a directory whose ``hub`` is not
    listed, so an unlisted one would stop every directory update (design.md §5)."""
    own = hub.identity.get("device_id")
    return own if any(d.get("device_id") == own for d in devices) else None


def publish_directory(hub: Hub) -> dict[str, Any]:
    """Build the directory from the institution and device records, sign, store.

    Signed by the root if the hub holds it (default), else by the online
    directory-signing key, carrying the root's delegation (root offline, design.md §5;
    :class:`hub.errors.DelegationExpired` once it has expired).
    """
    from hub.offline import directory_key

    key, delegation = directory_key(hub)
    main = hub.stores.main
    insts = main.all_docs(startkey="institution:", endkey="institution:\ufff0",
                          include_docs=True, offset=False)["rows"]
    devs = main.all_docs(startkey="device:", endkey="device:\ufff0", include_docs=True, offset=False)["rows"]
    institutions = [r["doc"] for r in insts]
    devices = [r["doc"] for r in devs]
    for _ in range(5):
        try:
            current = main.get("directory")
        except NotFound:
            current = None
        version = int(current["version"]) + 1 if current else 1
        # ``bundle`` is absent from the identity of a hub initialised before the bundle key
        # (until `bangban hub bundle key`): its directories go out without one, as before.
        # ``hub`` names this hub's own device, the only signer stations accept hub-made
        # bundle files from (design.md §4, §5); signed with the rest, not left to a name.
        # ``written``: which directory the hub wrote last, even after a restore (schemas.written).
        doc = sign_directory({**build_directory(version=version, institutions=institutions,
                                                devices=devices, escrow=hub.identity["escrow"],
                                                bundle=hub.identity.get("bundle"),
                                                hub=_own_device(hub, devices)),
                              WRITTEN: stamp(current, hub.identity["device_id"])}, key, delegation)
        if current:
            doc["_rev"] = current["_rev"]
        try:
            main.put(doc)
            return doc
        except Conflict:
            continue
    raise AlreadyExists("the directory kept changing")
