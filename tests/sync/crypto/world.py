"""A small key world for the crypto tests and the leak scan.

A municipal root and escrow key, the hub's bundle key, three institutions (two villages under one town)
each with one device, their keychains, and the root-signed directory.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sync.crypto import (
    ESCROW,
    Actor,
    DeviceSigner,
    Directory,
    EncryptionKeyPair,
    Keychain,
    SigningKeyPair,
    build_directory,
    key_entry,
    sign_directory,
    verify_directory,
)

TOWN = "410621100"
VILLAGE_A = "410621100201"
VILLAGE_B = "410621100202"
REVOKED_AT = "2026-11-20T09:00:00+08:00"


@dataclass
class Station:
    code: str
    tier: str
    parent: str | None
    inst_key: EncryptionKeyPair
    device_id: str
    device_key: SigningKeyPair
    keychain: Keychain = field(default_factory=Keychain)
    old_keys: list[EncryptionKeyPair] = field(default_factory=list)

    @property
    def signer(self) -> DeviceSigner:
        return DeviceSigner(self.device_id, self.device_key)

    def actor(self, staff: str = "staff-01") -> Actor:
        return Actor(staff=staff, institution=self.code, signer=self.signer)


@dataclass
class World:
    root: SigningKeyPair
    escrow: EncryptionKeyPair
    stations: dict[str, Station]
    version: int = 0
    revoked_devices: set[str] = field(default_factory=set)
    bundle: EncryptionKeyPair = field(default_factory=EncryptionKeyPair.generate)
    #: False: directories as published before the hub had a bundle key
    with_bundle: bool = True
    #: the directory's ``hub`` member (the hub's device id); None: left out, as published
    #: before the member existed
    hub: str | None = None

    def __getitem__(self, code: str) -> Station:
        return self.stations[code]

    def directory_doc(self) -> dict:
        self.version += 1
        institutions = [{"code": s.code, "tier": s.tier, "parent": s.parent, "name": s.code,
                         "public_keys": [key_entry(k, revoked_at=REVOKED_AT) for k in s.old_keys]
                         + [key_entry(s.inst_key)]} for s in self.stations.values()]
        devices = [{"device_id": s.device_id, "institution": s.code,
                    "public_keys": [key_entry(s.device_key)],
                    "revoked_at": REVOKED_AT if s.device_id in self.revoked_devices else None}
                   for s in self.stations.values()]
        doc = build_directory(version=self.version, institutions=institutions, devices=devices,
                              escrow=key_entry(self.escrow),
                              bundle=key_entry(self.bundle) if self.with_bundle else None,
                              hub=self.hub)
        return sign_directory(doc, self.root)

    def directory(self) -> Directory:
        return verify_directory(self.directory_doc(), self.root.public_b64)

    def escrow_keychain(self) -> Keychain:
        chain = Keychain()
        chain.add("escrow", ESCROW, self.escrow)
        return chain

    def rotate(self, code: str) -> EncryptionKeyPair:
        """Give ``code`` a new institution key; the old one is kept in its keychain as retired."""
        st = self.stations[code]
        old = st.inst_key
        st.old_keys.append(old)
        st.inst_key = EncryptionKeyPair.generate()
        st.keychain.retire(old.key_id)
        st.keychain.add("institution", code, st.inst_key)
        return old


CITY = "410600"


def add_hub(world: World, *, short: str = "HB", named: bool = True) -> Station:
    """Give ``world`` the city institution and the hub's own device ``{CITY}-{short}``;
    ``named``: the directory's ``hub`` member names it (False: published before it existed)."""
    hub = Station(CITY, "city", None, EncryptionKeyPair.generate(), f"{CITY}-{short}",
                  SigningKeyPair.generate())
    world.stations[CITY] = hub
    world.hub = hub.device_id if named else None
    return hub


def make_world() -> World:
    stations = {}
    for code, tier, parent, short in ((TOWN, "town", "410621", "T1"),
                                      (VILLAGE_A, "village", TOWN, "A1"),
                                      (VILLAGE_B, "village", TOWN, "B1")):
        st = Station(code, tier, parent, EncryptionKeyPair.generate(), f"{code}-{short}",
                     SigningKeyPair.generate())
        st.keychain.add("institution", code, st.inst_key)
        st.keychain.add("device", st.device_id, st.device_key)
        stations[code] = st
    return World(SigningKeyPair.generate(), EncryptionKeyPair.generate(), stations)
