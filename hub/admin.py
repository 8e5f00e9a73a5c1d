"""What the hub's administrator does (the `bangban hub …` commands), as functions.

Reference data written here — institutions, devices, the catalog (清单, 6.2.4),
calendars, and the root-signed directory republished after each key change
(:mod:`hub.directory`) — flows down to every device read-only (scope ``all``). Device enrollment follows design.md §5:

1. ``enroll_device`` makes the device id and a random secret; the hub keeps only
   the secret's salted scrypt hash (:mod:`hub.auth`).
2. The node makes its own keys (``bangban node init``) and registers the public
   halves: ``POST /_hub/keys`` with its Basic credentials and the body of
   ``NodeKeys.public_entries()`` (``{"device_id", "institution", "device_key",
   "institution_key"}``), or the administrator runs ``bangban hub device keys FILE``.
3. :func:`register_keys` puts them in the device and institution records and
   publishes a new directory version signed by the root key (or, root offline, by the
   key the root delegated: :mod:`hub.offline`); nodes verify it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from hub.auth import CRED_PREFIX, hash_secret, new_secret
from hub.directory import directory_version
from hub.directory import publish_directory as publish_directory  # the admin's step too
from hub.errors import AlreadyExists, BadInput, UnknownDevice, UnknownInstitution
from hub.rotation import begin_key_rotation as begin_key_rotation  # the admin's command
from hub.rotation import check_new_key, complete, rotation_hint
from schemas.errors import SchemaError
from schemas.ids import SHORT_RE, device_id, institution_tier
from schemas.reference import closed
from schemas.registry import validate
from schemas.vocab import SCHEMA_VERSION
from schemas.written import WRITTEN, stamp
from sync.crypto import (
    check_public_key,
    key_entry,
    sign_document,
)
from sync.errors import Conflict, NotFound, SyncError

if TYPE_CHECKING:
    from hub.core import Hub
    from hub.offline import OfflineRoot

HUB_SHORT = "HB"  # as schemas.sample_cases names the hub device


def now() -> str:
    return dt.datetime.now(dt.UTC).astimezone().isoformat(timespec="seconds")


def _checked(doc: Mapping[str, Any]) -> dict[str, Any]:
    try:
        validate(doc)
    except SchemaError as exc:
        raise BadInput(exc.reason) from exc
    return dict(doc)


def put_reference(hub: Hub, doc: Mapping[str, Any], *, sign: bool = True) -> dict[str, Any]:
    """Create or replace a reference document (signed by the hub device; schemas.written)."""
    main = hub.stores.main
    body = {k: v for k, v in doc.items() if k not in ("_rev", "sig", WRITTEN)}
    _checked(body)
    for _ in range(5):
        try:
            current = main.get(body["_id"])
            body["_rev"] = current["_rev"]
        except NotFound:
            current = {}
            body.pop("_rev", None)
        body[WRITTEN] = stamp(current, hub.identity["device_id"])
        out = sign_document(body, hub.keys.signer) if sign else body
        try:
            main.put(out)
        except Conflict:
            continue
        hub.stores.forget_reference()  # this process sees it at once, not within max_age
        return out
    raise AlreadyExists(f"{body['_id']} kept changing")


# -- init -----------------------------------------------------------------------
def init(hub: Hub, *, city: str, name: str,
         offline_root: OfflineRoot | None = None) -> dict[str, Any]:
    """Create the databases, the hub's keys and identity, the city institution, directory v1.

    With ``offline_root`` (opt-in, design.md §5) the root key is written only to that
    file and the hub signs directories with a delegated online key (:mod:`hub.offline`).
    """
    from hub import keys as hub_keys

    try:
        tier = institution_tier(city)
    except SchemaError:
        tier = None
    if tier != "city":
        raise BadInput(f"--city {city}: a city code is 6 digits ending in 00 (4.3)")
    if hub.stores.exists() and hub.initialised():
        raise AlreadyExists(f"the hub in {hub.settings.hub_dir} is already initialised")
    # never replace a root key nodes pin; name where the store's settings were set
    hub_keys.refuse_existing(hub.settings.hub_dir, hub.stores.named_by)
    hub_device = device_id(city, HUB_SHORT)
    if offline_root is None:
        chain, escrow = hub_keys.create(hub.settings.hub_dir, hub_device)
        root = chain.active("root").key
        extra: dict[str, Any] = {}
    else:
        chain, escrow, root = offline_root.create_keys(hub.settings.hub_dir, hub_device)
        # devices still pin the root's public key; only its private half left the hub
        extra = {"root_offline": True}
    # The bundle key's public half is published in every directory (design.md §4 bundles).
    bundle, _ = hub_keys.ensure_bundle_key(hub.settings.hub_dir)
    hub.create_identity(city=city, device_id=hub_device, root_keys=[root.public_b64],
                        escrow=key_entry(escrow), bundle=key_entry(bundle), **extra)
    hub.reset_keys()
    put_reference(hub, {"_id": f"institution:{city}", "type": "institution",
                        "schema_version": SCHEMA_VERSION, "code": city, "name": name,
                        "tier": "city", "public_keys": [], "active": True})
    dev_key = chain.active("device", hub_device).key
    put_reference(hub, {"_id": f"device:{hub_device}", "type": "device",
                        "schema_version": SCHEMA_VERSION, "device_id": hub_device,
                        "institution": city, "short": HUB_SHORT, "label": "hub",
                        "public_keys": [key_entry(dev_key, created_at=now())],
                        "enrolled_at": now()})
    publish_directory(hub)
    hub.indexer.catch_up()
    return hub.identity


def _pk(entry: Mapping[str, Any]) -> dict[str, Any]:
    """A public key entry in schemas' ``PublicKey`` shape (what F's directory reads)."""
    return {"kid": str(entry["kid"]), "alg": str(entry["alg"]), "key": str(entry["key"]),
            "created_at": now()}


# -- institutions ------------------------------------------------------------------
def add_institution(hub: Hub, *, code: str, name: str, parent: str | None = None,
                    region: str | None = None) -> dict[str, Any]:
    try:
        tier = institution_tier(code)
    except SchemaError as exc:
        raise BadInput(exc.reason) from exc
    if parent is None and tier != "city":
        parent = {"village": code[:9], "town": code[:6]}.get(tier) or hub.identity["city"]
    if parent is not None:
        above = institution(hub, parent).get("tier")
        # The standard's three tiers (4.3): a station answers to its town, a town to its
        # county; the scopes follow the parent chain (hub.scope.ancestors), so a village
        # hung under its county would never reach its town's coordinators.
        wanted = {"village": "town", "town": "county", "county": "city"}.get(tier)
        if wanted and above != wanted:
            raise BadInput(f"--parent {parent}: a {tier}'s parent is a {wanted}, "
                           f"{parent} is a {above}")
    try:
        existing = hub.stores.main.get(f"institution:{code}")
        raise AlreadyExists(f"institution {code} exists ({existing.get('name')})")
    except NotFound:
        pass
    doc: dict[str, Any] = {"_id": f"institution:{code}", "type": "institution",
                           "schema_version": SCHEMA_VERSION, "code": code, "name": name,
                           "tier": tier, "public_keys": [], "active": True}
    if parent:
        doc["parent"] = parent
    if region:
        doc["region"] = region
    out = put_reference(hub, doc)
    publish_directory(hub)
    return out


def import_institutions(hub: Hub, docs: Iterable[Mapping[str, Any]]) -> int:
    """Add (or update) many institutions at once, e.g. ``schemas.sample.institutions()``;
    public keys already registered are kept."""
    n = 0
    for doc in docs:
        body = dict(doc)
        try:
            current = hub.stores.main.get(str(body["_id"]))
            body["public_keys"] = current.get("public_keys", [])
        except NotFound:
            pass
        put_reference(hub, body)
        n += 1
    publish_directory(hub)
    return n


def institution(hub: Hub, code: str) -> dict[str, Any]:
    try:
        return hub.stores.main.get(f"institution:{code}")
    except NotFound:
        raise UnknownInstitution(f"no institution {code}: add it with "
                                 "`bangban hub institution add`") from None


# -- devices ---------------------------------------------------------------------------
def enroll_device(hub: Hub, *, institution_code: str, short: str | None = None,
                  label: str | None = None, staff: str | None = None) -> dict[str, Any]:
    """A new device of ``institution_code``: returns the enrollment (secret shown once).
    ``staff``: a laptop of one person, whose roster id (8.1.2) the node records its steps
    under unless another member on duty is chosen at the window (node/window.py)."""
    inst = institution(hub, institution_code)
    if closed(inst):  # hub.closing: merged, or its code changed
        raise BadInput(f"--institution {institution_code}: closed (撤并, `hub institution "
                       "close`): enroll the laptop at the institution that took its cases / "
                       "该机构已撤并")
    if staff is not None and staff not in {m.get("id") for m in inst.get("staff") or []}:
        raise BadInput(f"--staff {staff!r}: not on the roster of {institution_code} (add it "
                       "with `bangban hub institution staff`) / 名单中没有该人员")
    left = next((m["left"] for m in inst.get("staff") or []
                 if m.get("id") == staff and m.get("left")), None)
    if left:  # a laptop for someone who left would record every step under their id
        raise BadInput(f"--staff {staff!r}: left {institution_code} on {left} / 该人员已离职")
    private = hub.stores.private
    if short is None:
        n = 1
        while True:
            short = f"D{n}"
            try:
                private.get(CRED_PREFIX + device_id(institution_code, short))
                n += 1
            except NotFound:
                break
    if not SHORT_RE.match(short):
        raise BadInput(f"--short {short!r}: 2-4 upper-case letters/digits, starting with a letter")
    dev = device_id(institution_code, short)
    if dev == hub.identity.get("device_id"):
        # The hub's device has no credential to collide with; enrolling its id would replace
        # its record and keys, the signer stations trust for bundle files (design.md §5).
        raise AlreadyExists(f"device {dev} is the hub's own device")
    secret = new_secret()
    try:
        private.put({"_id": CRED_PREFIX + dev, "type": "credential", "device_id": dev,
                     "institution": institution_code, "secret_hash": hash_secret(secret),
                     "revoked": False,
                     "enrolled_at": now()})
    except Conflict:
        raise AlreadyExists(f"device {dev} is already enrolled") from None
    put_reference(hub, {"_id": f"device:{dev}", "type": "device",
                        "schema_version": SCHEMA_VERSION, "device_id": dev,
                        "institution": institution_code, "short": short,
                        "label": label or dev, "public_keys": [], "enrolled_at": now()})
    enrollment = {"hub_url": hub.settings.url, "db_url": hub.db_url, "device_id": dev,
                  "secret": secret, "institution": institution_code,
                  "root_keys": list(hub.identity["root_keys"])}
    if staff is not None:
        enrollment["staff"] = staff  # `node init --enrollment-json` keeps it (node/cli.py)
    return enrollment


def revoke_device(hub: Hub, dev: str, *, in_hand: bool = False) -> dict[str, Any]:
    """Refuse the device from its next contact (401 + wipe) and revoke its keys.

    The institution's key, shared by the station's laptops, is not rotated here: the hub
    cannot make the new key (design.md §5). The result's ``hint`` says what to run
    (:mod:`hub.rotation`): rotate, unless the laptop is ``in_hand`` (broken or retired,
    never out of the operator's control)."""
    private = hub.stores.private
    try:
        cred = private.get(CRED_PREFIX + dev)
    except NotFound:
        raise UnknownDevice(f"no device {dev}") from None
    if cred.get("revoked"):  # keep the first time: signatures are judged against it
        raise AlreadyExists(f"device {dev} was revoked already ({cred.get('revoked_at')})")
    cred["revoked"] = True
    cred["revoked_at"] = now()
    private.put(cred)
    doc = hub.stores.main.get(f"device:{dev}")
    doc["revoked_at"] = cred["revoked_at"]
    for key in doc.get("public_keys", []):
        key.setdefault("revoked_at", cred["revoked_at"])
    put_reference(hub, doc)
    publish_directory(hub)
    return {**cred, "hint": rotation_hint(str(doc["institution"]), in_hand=in_hand)}


def register_keys(hub: Hub, dev: str, entries: Mapping[str, Any], *,
                  publish: bool = True) -> dict[str, Any]:
    """Record a node's public keys (``NodeKeys.public_entries()``) and republish the directory
    (``publish=False`` when registering many at once: call :func:`publish_directory` after)."""
    if entries.get("device_id") not in (None, dev):
        raise BadInput(f"device_id: {entries.get('device_id')!r} is not {dev}")
    try:
        dev_doc = hub.stores.main.get(f"device:{dev}")
    except NotFound:
        raise UnknownDevice(f"no device {dev}: enroll it with `bangban hub device enroll`") from None
    inst_doc = institution(hub, dev_doc["institution"])
    dkey, ikey = entries.get("device_key"), entries.get("institution_key")
    if not isinstance(dkey, Mapping) or dkey.get("alg") != "ed25519" or "key" not in dkey:
        raise BadInput("device_key: an ed25519 key entry {kid, alg, key} is required")
    try:  # one bad key in the directory makes every device's signature check fail
        check_public_key(dkey, "device_key", "ed25519")
        if isinstance(ikey, Mapping):
            check_public_key(ikey, "institution_key", "x25519")
    except SyncError as exc:
        raise BadInput(exc.reason) from exc
    if dev_doc.get("revoked_at"):
        raise BadInput(f"device {dev} is revoked")
    changed = False
    keys = [k for k in dev_doc.get("public_keys", []) if not k.get("revoked_at")]
    if not any(k["kid"] == dkey["kid"] for k in keys):
        if keys:
            raise AlreadyExists(f"device {dev} already has key {keys[-1]['kid']}")
        dev_doc["public_keys"] = [*dev_doc.get("public_keys", []), _pk(dkey)]
        put_reference(hub, dev_doc)
        changed = True
    if isinstance(ikey, Mapping):
        if ikey.get("alg") != "x25519" or "key" not in ikey:
            raise BadInput("institution_key: an x25519 key entry {kid, alg, key} is required")
        active = [k for k in inst_doc.get("public_keys", []) if not k.get("revoked_at")]
        if not any(k["kid"] == ikey["kid"] for k in active):
            check_new_key(hub, inst_doc, ikey)
            if active:
                raise AlreadyExists(
                    f"institution {inst_doc['code']} already has key {active[-1]['kid']}: import "
                    "the institution's keychain from one of its nodes instead of a new key (a "
                    "new key after a lost laptop: `bangban hub institution rotate-key "
                    f"{inst_doc['code']}` first, then this again)")
            entry = _pk(ikey)
            inst_doc["public_keys"] = [*inst_doc.get("public_keys", []), entry]
            put_reference(hub, inst_doc)
            # after `institution rotate-key`: this is the awaited key (hub.rotation)
            complete(hub, str(inst_doc["code"]), str(entry["kid"]), str(entry["created_at"]))
            changed = True
    if changed and publish:
        publish_directory(hub)
    return {"ok": True, "device_id": dev, "directory_version": directory_version(hub)}


# -- catalog and calendar ----------------------------------------------------------------------
def import_catalog(hub: Hub, items: Iterable[Mapping[str, Any]],
                   where: Sequence[str] = ()) -> int:
    """The catalog (清单, 6.2.4), all or none: :func:`hub.catalog.import_catalog`."""
    from hub.catalog import import_catalog as import_all

    return import_all(hub, items, where)


def set_calendar(hub: Hub, *, year: int, holidays: list[str], workdays: list[str],
                 source: str | None = None) -> dict[str, Any]:
    """The year's holidays and make-up workdays; they replace chinesecalendar's for that year.
    A calendar without holidays is refused: stored, it would silently count the Spring
    Festival and National Day as working days (it wins over chinesecalendar)."""
    if not holidays:
        raise BadInput(f"--holidays: none given for {year}; a year's calendar lists its "
                       "public holidays (the State Council's notice)")
    doc: dict[str, Any] = {"_id": f"calendar:{year}", "type": "calendar",
                           "schema_version": SCHEMA_VERSION, "year": year,
                           "holidays": sorted(holidays), "workdays": sorted(workdays),
                           "updated_at": now()}
    if source:
        doc["source"] = source
    return put_reference(hub, doc)
