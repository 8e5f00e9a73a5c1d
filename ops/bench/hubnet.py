"""A city's hub network for the hub benchmarks: institutions, enrolled devices, their documents.

``build_hub`` initialises a hub folder (embedded store, or CouchDB with ``couchdb_url``) with
villages of enrolled devices; each :class:`Station` writes sealed, signed case documents
exactly as a node does (a keyring, a case header, eight events), with replicator revisions.
"""

from __future__ import annotations

import hashlib
import json
import time
from pathlib import Path
from typing import Any

CITY, COUNTY = "410600", "410602"


def _rev(doc: dict[str, Any]) -> dict[str, Any]:
    body = json.dumps(doc, sort_keys=True).encode()
    h = hashlib.md5(body, usedforsecurity=False).hexdigest()
    return {**doc, "_rev": f"1-{h}", "_revisions": {"start": 1, "ids": [h]}}


class Station:
    """A device's keys and the documents it writes (sealed and signed)."""

    def __init__(self, enrollment: dict[str, Any], inst_key: Any):
        from sync.crypto import DeviceSigner, Keychain, SigningKeyPair

        self.enr = enrollment
        self.device_id = enrollment["device_id"]
        self.institution = enrollment["institution"]
        self.signing = SigningKeyPair.generate()
        self.signer = DeviceSigner(self.device_id, self.signing)
        self.keychain = Keychain()
        self.keychain.add("institution", self.institution, inst_key)
        self.t = int(time.time() * 1000) - 10**7

    def entries(self, inst_key: Any) -> dict[str, Any]:
        from sync.crypto import key_entry

        return {"device_id": self.device_id, "device_key": key_entry(self.signing),
                "institution_key": key_entry(inst_key)}

    def case(self, directory: Any, serial: int) -> list[dict[str, Any]]:
        """A keyring, a case header and 8 events: 10 documents."""
        from schemas import build
        from schemas.hlc import HLC, pack
        from schemas.ids import case_no
        from sync.crypto import new_keyring, sign_document

        def clock() -> HLC:
            self.t += 1
            return HLC(self.t, 0, self.device_id)

        c = clock()
        case_id = pack(c)
        ring, key = new_keyring(case_id, self.institution, directory, self.signer)
        at = "2026-03-02T09:00:00+08:00"
        header = build.make_case(
            clock=c, case_no=case_no(self.institution, 2026, self.device_id[-2:], serial),
            institution=self.institution, path=[CITY, COUNTY, self.institution[:9],
                                                self.institution],
            device=self.device_id, opened_at=at, service_type="proxy", mode="nearby",
            focus_area="livelihood", applicant_kind="person",
            private={"applicant_name": "张三", "id_number": "410602195001010011",
                     "phone": "13800000000"})
        docs = [ring, sign_document(key.seal(header), self.signer)]
        steps: list[tuple[str, dict[str, Any], dict[str, Any]]] = [
            ("consultation", {"channel": "window", "answered": True}, {"question": "如何办理？"}),
            ("entrustment", {"channel": "offline", "service_item": "MS-001", "mode": "nearby",
                             "ledger_no": f"L{serial}", "period_end": "2026-12-31"},
             {"scope": "代为提交材料", "applicant_signature": "sig.png"}),
            ("acceptance", {"zone": "assisted_zone", "time_limit_days": 10}, {}),
        ]
        steps += [("work_log", {"kind": "tracking"}, {"text": "跟踪办理进度"})] * 5
        base = None
        for etype, fields, private in steps:
            ev = build.make_event(etype, case_id=case_id, clock=clock(), at=at,
                                  institution=self.institution, base_hlc=base,
                                  private=private, **fields)
            base = ev["hlc"]
            docs.append(sign_document(key.seal(ev), self.signer))
        return [_rev(d) for d in docs]


def _institutions(villages: int) -> list[dict[str, Any]]:
    from schemas.vocab import SCHEMA_VERSION

    def inst(code: str, tier: str, parent: str) -> dict[str, Any]:
        return {"_id": f"institution:{code}", "type": "institution",
                "schema_version": SCHEMA_VERSION, "code": code, "name": f"站 {code}",
                "tier": tier, "parent": parent, "public_keys": [], "active": True}

    out = [inst(COUNTY, "county", CITY)]
    towns = (villages + 19) // 20
    for t in range(towns):
        town = f"{COUNTY}{101 + t:03d}"
        out.append(inst(town, "town", COUNTY))
        for v in range(min(20, villages - t * 20)):
            out.append(inst(f"{town}{201 + v:03d}", "village", town))
    return out


def build_hub(folder: Path, villages: int, per_village: int, *, couchdb_url: str = ""
              ) -> tuple[Any, list[Station]]:
    """An initialised hub with ``villages * per_village`` enrolled devices and their keys."""
    from hub import admin
    from hub.core import Hub
    from hub.settings import Settings
    from sync.crypto import EncryptionKeyPair

    settings = Settings.load({"hub_dir": str(folder), "scrypt_n": 1024, "couchdb_url": couchdb_url,
                              "db_prefix": f"b{int(time.time() * 1000) % 10**8}"}, environ={})
    settings.save()
    hub = Hub(settings)
    admin.init(hub, city=CITY, name="鹤壁市政务服务中心")
    insts = _institutions(villages)
    admin.import_institutions(hub, insts)
    stations = []
    for inst in insts:
        if inst["tier"] != "village":
            continue
        key = EncryptionKeyPair.generate()
        for n in range(per_village):
            enr = admin.enroll_device(hub, institution_code=inst["code"], short=f"A{n + 1}")
            st = Station(enr, key)
            admin.register_keys(hub, st.device_id, st.entries(key), publish=False)
            stations.append(st)
    admin.publish_directory(hub)
    hub.indexer.catch_up()
    return hub, stations


def directory_of(hub: Any) -> Any:
    from hub.signatures import DirectoryCache

    return DirectoryCache(hub.stores).get()
