"""A minimal field node for the demo, the hub's end-to-end tests and its benchmark.

It does what a Bangban node does on the wire, with the real pieces: a local
SQLite store (engineer A), cases built by E's builders, sealed and signed with
F's crypto (case key wrapped for the institution and escrow, every document
signed by the device key), keys registered at the hub, and D's replicator pulling
from and pushing to the hub's replication endpoint (B's CouchDB client store
over HTTP, credentials in the URL). The full field app is ``node/`` (engineer H).
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import random
import time
import urllib.error
import urllib.request
from collections.abc import Mapping
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit, urlunsplit

from schemas import build, sample
from schemas.hlc import HLC, pack, tick
from schemas.ids import case_no
from sync.crypto import (
    DeviceSigner,
    Directory,
    EncryptionKeyPair,
    Keychain,
    SigningKeyPair,
    add_recipient,
    key_entry,
    new_keyring,
    sign_document,
    unlock_case_key,
    verify_directory,
)
from sync.open import open_db
from sync.store import DocumentStore

TZ = dt.timezone(dt.timedelta(hours=8))


def with_credentials(url: str, user: str, password: str) -> str:
    parts = urlsplit(url)
    netloc = f"{quote(user, safe='')}:{quote(password, safe='')}@{parts.hostname}"
    if parts.port:
        netloc += f":{parts.port}"
    return urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))


class SimNode:
    """One enrolled device with its local store."""

    def __init__(self, folder: Path, enrollment: Mapping[str, Any], *, seed: int = 0):
        self.folder = Path(folder)
        self.folder.mkdir(parents=True, exist_ok=True)
        self.enrollment = dict(enrollment)
        self.device_id = str(enrollment["device_id"])
        self.institution = str(enrollment["institution"])
        self.secret = str(enrollment["secret"])
        self.store = open_db(str(self.folder / "store.sqlite"), create=True)
        self.signing = SigningKeyPair.generate()
        self.signer = DeviceSigner(self.device_id, self.signing)
        self.keychain = Keychain()
        self.keychain.add("device", self.device_id, self.signing)
        self.rng = random.Random(seed)
        self.last: HLC | None = None
        self.serial = 0
        self._remote: DocumentStore | None = None

    # -- keys and enrollment ------------------------------------------------------------
    def adopt_institution_key(self, key: EncryptionKeyPair | None = None) -> EncryptionKeyPair:
        key = key or EncryptionKeyPair.generate()
        self.keychain.add("institution", self.institution, key)
        return key

    def public_entries(self) -> dict[str, Any]:
        return {"device_id": self.device_id, "institution": self.institution,
                "device_key": key_entry(self.signing),
                "institution_key": key_entry(self.keychain.active("institution").key)}

    def _auth(self) -> str:
        return "Basic " + base64.b64encode(f"{self.device_id}:{self.secret}".encode()).decode()

    def register_keys(self) -> dict[str, Any]:
        req = urllib.request.Request(
            str(self.enrollment["hub_url"]) + "/_hub/keys",
            data=json.dumps(self.public_entries()).encode(), method="POST",
            headers={"Authorization": self._auth(), "Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(req, timeout=30) as resp:
                return dict(json.loads(resp.read()))
        except urllib.error.HTTPError as exc:
            raise RuntimeError(f"key registration refused: {exc.code} {exc.read()!r}") from exc

    @property
    def db_url(self) -> str:
        return with_credentials(str(self.enrollment["db_url"]), self.device_id, self.secret)

    @property
    def remote(self) -> DocumentStore:
        if self._remote is None:
            self._remote = open_db(self.db_url)
        return self._remote

    def directory(self) -> Directory:
        return verify_directory(self.store.get("directory"), list(self.enrollment["root_keys"]))

    # -- sync -------------------------------------------------------------------------------
    def sync(self) -> dict[str, Any]:
        """One round: pull from the hub, then push local changes."""
        from sync.replicate import replicate

        pull = replicate(self.remote, self.store)
        push = replicate(self.store, self.remote)
        return {"pulled": pull.docs_written, "pushed": push.docs_written,
                "refused": push.doc_write_failures}

    # -- casework -----------------------------------------------------------------------------
    def clock(self) -> HLC:
        self.last = tick(int(time.time() * 1000), self.last, self.device_id)
        return self.last

    @staticmethod
    def now() -> str:
        return dt.datetime.now(TZ).isoformat(timespec="seconds")

    def _seal_sign(self, doc: Mapping[str, Any], case_key: Any) -> dict[str, Any]:
        return sign_document(case_key.seal(doc), self.signer)

    def case_key(self, case_id: str) -> Any:
        ring = self.store.get(f"keyring:{case_id}")
        return unlock_case_key(ring, self.keychain, self.directory())

    def path(self) -> list[str]:
        code = self.institution
        return [p for p in (code[:4] + "00", code[:6], code[:9], code) if len(p) <= len(code)][
            : {6: 2, 9: 3, 12: 4}[len(code)]]

    def new_case(self, *, events: int = 2) -> str:
        """A case opened here: keyring, sealed header, ``events`` sealed events (signed)."""
        directory = self.directory()
        clock = self.clock()
        case_id = pack(clock)
        ring, case_key = new_keyring(case_id, self.institution, directory, self.signer)
        self.serial += 1
        person = sample.person(self.rng, area=self.institution[:6])
        header = build.make_case(
            clock=clock, case_no=case_no(self.institution, 2026, self.device_id.split("-")[1],
                                         self.serial),
            institution=self.institution, path=self.path(), device=self.device_id,
            opened_at=self.now(), service_type="proxy", mode="nearby", focus_area="livelihood",
            applicant_kind="person", private={k: v for k, v in person.items()
                                              if k in ("applicant_name", "id_number", "phone",
                                                       "address")},
            service_item=None)
        docs = [ring, self._seal_sign(header, case_key)]
        item = sample.catalog()[0]["code"]
        steps: list[tuple[str, dict[str, Any], dict[str, Any] | None]] = [("consultation", {"channel": "window", "answered": True,
                                   "service_item": item},
                  {"name": person.get("applicant_name"), "question": "如何办理？"}),
                 ("entrustment", {"channel": "offline", "service_item": item, "mode": "nearby",
                                  "ledger_no": f"L{self.serial:05d}",
                                  "period_end": "2026-12-31"},
                  {"scope": "代为提交材料", "applicant_signature": "sig.png"}),
                 ("acceptance", {"zone": "assisted_zone", "time_limit_days": 10}, None)]
        base = None
        for event_type, fields, private in steps[:events]:
            ev = build.make_event(event_type, case_id=case_id, clock=self.clock(), at=self.now(),
                                  institution=self.institution, base_hlc=base,
                                  private=private, **fields)
            base = ev["hlc"]
            docs.append(self._seal_sign(ev, case_key))
        for doc in docs:
            self.store.put(doc)
        return case_id

    def hand_up(self, case_id: str, to: str) -> None:
        """Wrap the case key for ``to`` (the sending node's job) and record the hand-up."""
        directory = self.directory()
        ring = self.store.get(f"keyring:{case_id}")
        case_key = unlock_case_key(ring, self.keychain, directory)
        ring2 = add_recipient(ring, case_key, to, directory, self.signer)
        ring2["_rev"] = ring["_rev"]
        self.store.put(ring2)
        ev = build.make_event("hand_up", case_id=case_id, clock=self.clock(), at=self.now(),
                              institution=self.institution, private={},
                              **build.handover_fields(self.institution, to, "needs_coordination"))
        self.store.put(self._seal_sign(ev, case_key))

    def edit_header(self, case_id: str, **changes: Any) -> None:
        doc = self.store.get(f"case:{case_id}")
        edited = build.set_fields({k: v for k, v in doc.items() if k != "sig"}, changes,
                                  self.clock())
        self.store.put(sign_document(edited, self.signer))

    def cases(self) -> list[str]:
        res = self.store.all_docs(startkey="case:", endkey="case:\ufff0")
        return [r["id"][5:] for r in res["rows"]]
