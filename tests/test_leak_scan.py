"""Leak scan (issue 5, design §5; standard 7.2.2.2, 7.3.2.4): no plaintext personal data at rest.

Sample cases (schemas.sample people, schemas.build documents) are sealed, signed and
stored through the public APIs: written to a node's SQLite file, replicated to the
hub's embedded SQLite store and to a CouchDB-API server (PouchDB Server with a data
directory) with :func:`sync.replicate.replicate`. Then the raw bytes of every file
are searched for every sample name, ID number, phone and address, in UTF-8 and
JSON-escaped form: zero hits. A control store per backend holds other sample people
in clear and must be found by the same scan, so the zero is meaningful.
"""

from __future__ import annotations

import base64
import random
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from ops import pouchdb_server
from schemas import sample
from schemas.build import handover_fields, institution_path, make_case, make_event
from schemas.hlc import HLC
from schemas.ids import case_no
from sync.crypto import (
    DeviceSigner,
    EncryptionKeyPair,
    Keychain,
    SigningKeyPair,
    add_recipient,
    build_directory,
    key_entry,
    new_keyring,
    open_private,
    sign_directory,
    sign_document,
    unlock_case_key,
    verify_directory,
    verify_document,
)
from sync.crypto.access import Actor
from sync.open import open_db, open_server
from sync.replicate import replicate
from sync.store import DocumentStore
from tests.leakscan import assert_no_leak, assert_scan_finds, sensitive_values

N_CASES = 24
AT = "2026-11-20T09:30:00+08:00"
FAST_SCRYPT = {"n": 2**12, "r": 8, "p": 1}  # at-rest format is the same; cost measured in bench


@dataclass
class Fleet:
    """One village station and its town, with keys and the signed directory."""

    village: str
    town: str
    parents: dict[str, str | None]
    directory_doc: dict[str, Any]
    root: SigningKeyPair
    chains: dict[str, Keychain]
    signers: dict[str, DeviceSigner]
    escrow: EncryptionKeyPair

    @property
    def directory(self):  # type: ignore[no-untyped-def]
        return verify_directory(self.directory_doc, self.root.public_b64)


def make_fleet() -> Fleet:
    insts = sample.institutions()
    village = next(i for i in insts if i["tier"] == "village")
    town = next(i for i in insts if i["code"] == village["parent"])
    devices = sample.devices([village, town])
    root, escrow = SigningKeyPair.generate(), EncryptionKeyPair.generate()
    chains: dict[str, Keychain] = {}
    signers: dict[str, DeviceSigner] = {}
    for inst, dev in zip((village, town), devices, strict=True):
        inst_key, dev_key = EncryptionKeyPair.generate(), SigningKeyPair.generate()
        inst["public_keys"] = [key_entry(inst_key, created_at=AT)]
        dev["public_keys"] = [key_entry(dev_key, created_at=AT)]
        chain = Keychain()
        chain.add("institution", inst["code"], inst_key)
        chain.add("device", dev["device_id"], dev_key)
        chains[inst["code"]] = chain
        signers[inst["code"]] = DeviceSigner(dev["device_id"], dev_key)
    # the directory is built from the reference documents themselves
    doc = sign_directory(build_directory(version=1, institutions=insts, devices=devices,
                                         escrow=key_entry(escrow)), root)
    return Fleet(village["code"], town["code"], {i["code"]: i.get("parent") for i in insts}, doc,
                 root, chains, signers, escrow)


@dataclass
class Batch:
    stored: list[dict[str, Any]] = field(default_factory=list)  # sealed, signed: what is written
    privates: list[dict[str, Any]] = field(default_factory=list)  # what must never be readable
    open_docs: list[dict[str, Any]] = field(default_factory=list)  # the open form (controls only)


def scan_bytes(person: dict[str, Any]) -> bytes:
    """A fake scanned ID card: some image-ish bytes with the person's data written in."""
    text = f"姓名 {person['applicant_name']} 公民身份号码 {person['id_number']} 电话 {person['phone']}"
    return b"\xff\xd8\xff\xe0JFIF" + text.encode("utf-8") * 4 + bytes(range(256)) * 8


def sample_cases(fleet: Fleet, seed: int, n: int = N_CASES) -> Batch:
    """``n`` cases of the village, each with header, consultation, application, a scanned
    material, an access event, and for every other case a hand-up to the town."""
    rng = random.Random(seed)
    catalog = sample.catalog()
    signer = fleet.signers[fleet.village]
    dev = signer.device_id
    directory = fleet.directory
    batch = Batch()
    wall = 1_763_600_000_000 + seed * 10_000_000
    for i in range(n):
        person = sample.person(rng) if i % 5 else sample.enterprise(rng)
        clocks = iter(HLC(wall + i * 1000 + k, 0, dev) for k in range(20))
        header = make_case(
            clock=next(clocks), case_no=case_no(fleet.village, 2026, dev.split("-")[1], i + 1 + seed),
            institution=fleet.village, path=institution_path(fleet.village, fleet.parents),
            device=dev, opened_at=AT, service_type="proxy", mode="nearby",
            focus_area="livelihood", applicant_kind="person" if i % 5 else "enterprise",
            private=person, service_item=catalog[i % len(catalog)]["code"], staff="staff-01")
        case_id = header["case_id"]
        common = {"case_id": case_id, "at": AT, "institution": fleet.village, "staff": "staff-01"}
        events = [
            make_event("consultation", clock=next(clocks), channel="window", answered=True,
                       private={"name": person["applicant_name"], "contact": person["phone"],
                                "question": f"{person['applicant_name']}（{person['id_number']}）"
                                            f"咨询，住址{person['address']}"}, **common),
            make_event("application", clock=next(clocks), channel="offline", mode="nearby",
                       service_item=header["service_item"],
                       private={"note": f"联系电话 {person['phone']}"}, **common),
        ]
        scan_event = make_event("material_received", clock=next(clocks), materials=["ID"],
                                attachments=["scan-1.jpg"], private={}, **common)
        if i % 2 == 0:
            events.append(make_event("hand_up", clock=next(clocks),
                                     **handover_fields(fleet.village, fleet.town, "beyond_authority"),
                                     private={"note": f"申请人{person['applicant_name']}需上级协调"},
                                     **common))
        ring, case_key = new_keyring(case_id, fleet.village, directory, signer)
        if i % 2 == 0:
            ring = add_recipient(ring, case_key, fleet.town, directory, signer)
        sealed_scan = case_key.seal_attachment(scan_bytes(person), scan_event["_id"], "scan-1.jpg")
        scan_event_sealed = case_key.seal(scan_event)
        scan_event_sealed["_attachments"] = {"scan-1.jpg": {
            "content_type": "application/octet-stream", "data": base64.b64encode(sealed_scan).decode()}}
        stored = [ring, case_key.seal(header)]
        stored += [sign_document(case_key.seal(e), signer) for e in events]
        stored.append(sign_document(scan_event_sealed, signer))
        # reading the case writes an access event, which is stored with the rest
        actor = Actor("staff-01", fleet.village, signer,
                      clock=lambda c=clocks: next(c))  # type: ignore[misc]
        open_private(stored[1], case_key, purpose="handling", on_access=stored.append, actor=actor,
                     note=f"为{person['applicant_name']}打印委托书")
        batch.stored += stored
        batch.privates += [person, *(e["private"] for e in events)]
        batch.open_docs += [header, *events]
    return batch


# -- fixtures ----------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def fleet() -> Fleet:
    return make_fleet()


@pytest.fixture(scope="module")
def batch(fleet: Fleet) -> Batch:
    return sample_cases(fleet, seed=1)


@pytest.fixture(scope="module")
def secrets(batch: Batch) -> set[str]:
    values = sensitive_values(batch.privates)
    assert len(values) >= 3 * N_CASES  # names, ID numbers, phones, addresses of every case
    return values


@pytest.fixture(scope="module")
def control(fleet: Fleet, batch: Batch) -> tuple[list[dict[str, Any]], set[str]]:
    """Other sample people stored in clear (never done by the app): what the scan must find."""
    ctl = sample_cases(fleet, seed=2, n=6)
    values = sensitive_values(ctl.privates)
    assert values.isdisjoint(sensitive_values(batch.privates))
    return ctl.open_docs, values


@pytest.fixture(scope="module")
def node_dir(tmp_path_factory: pytest.TempPathFactory, fleet: Fleet, batch: Batch) -> Path:
    """The node: sealed documents and the passphrase-locked keychain in one SQLite file."""
    path = tmp_path_factory.mktemp("node")
    node = open_db(path / "node.sqlite", create=True)
    try:
        results = node.bulk_docs(batch.stored)
        assert not [r for r in results if "error" in r], results[:3]
        node.put_local({"_id": "_local/keychain",
                        "keychain": fleet.chains[fleet.village].lock("村站口令", **FAST_SCRYPT)})
    finally:
        node.close()
    return path


def _replicate_to(node_dir: Path, target: DocumentStore) -> None:
    node = open_db(node_dir / "node.sqlite")
    try:
        result = replicate(node, target)
        assert result.doc_write_failures == 0 and result.docs_written > 0
    finally:
        node.close()


def _store_control(store: DocumentStore, docs: list[dict[str, Any]]) -> None:
    try:
        store.bulk_docs(docs)
    finally:
        store.close()


def _private_key_forms(fleet: Fleet) -> set[str]:
    held = fleet.chains[fleet.village].keys
    return {base64.urlsafe_b64encode(k.key._private_bytes()).decode().rstrip("=") for k in held} | \
           {base64.b64encode(k.key._private_bytes()).decode().rstrip("=") for k in held} | \
           {k.key._private_bytes().hex() for k in held}


# -- the scans -----------------------------------------------------------------------------------

def test_node_sqlite_file_holds_no_plaintext(node_dir: Path, fleet: Fleet, secrets: set[str],
                                             control, tmp_path: Path) -> None:
    assert_no_leak([node_dir], secrets)
    assert_no_leak([node_dir], _private_key_forms(fleet))  # the keychain is locked at rest
    docs, values = control
    _store_control(open_db(tmp_path / "control.sqlite", create=True), docs)
    assert_scan_finds([tmp_path], values)


def test_hub_embedded_store_holds_no_plaintext(node_dir: Path, fleet: Fleet, secrets: set[str],
                                               control, tmp_path: Path) -> None:
    (tmp_path / "hub").mkdir()
    hub = open_server(tmp_path / "hub").create_db("cases")
    try:
        _replicate_to(node_dir, hub)
        _check_replicated(hub, fleet)
    finally:
        hub.close()
    assert_no_leak([tmp_path / "hub"], secrets)
    docs, values = control
    (tmp_path / "control").mkdir()
    _store_control(open_server(tmp_path / "control").create_db("control"), docs)
    assert_scan_finds([tmp_path / "control"], values)


@pytest.fixture
def couch_on_disk() -> Iterator[pouchdb_server.PouchDBServer]:
    server = pouchdb_server.start(in_memory=False)
    try:
        yield server
    finally:
        server.stop()


@pytest.mark.couchdb
def test_hub_couchdb_store_holds_no_plaintext(couch_on_disk: pouchdb_server.PouchDBServer,
                                              node_dir: Path, fleet: Fleet, secrets: set[str],
                                              control) -> None:
    hub = open_db(f"{couch_on_disk.url}/cases", create=True)
    try:
        _replicate_to(node_dir, hub)
        _check_replicated(hub, fleet)
    finally:
        hub.close()
    docs, values = control
    _store_control(open_db(f"{couch_on_disk.url}/control", create=True), docs)
    data = couch_on_disk.workdir / "data"
    everything_but_control = [p for p in couch_on_disk.workdir.iterdir() if p != data] + \
                             [p for p in data.iterdir() if p.name != "control"]
    assert (data / "cases").is_dir()
    assert_no_leak(everything_but_control, secrets)
    assert_scan_finds([data / "control"], values)


def _check_replicated(hub: DocumentStore, fleet: Fleet) -> None:
    """What reached the hub is what the node wrote: signatures verify, the town opens handed cases."""
    rows = hub.all_docs(include_docs=True)["rows"]
    docs = [r["doc"] for r in rows]
    directory = fleet.directory
    events = [d for d in docs if d["type"] == "event"]
    assert len(events) >= 4 * N_CASES
    for event in events:
        assert verify_document(event, directory).institution == fleet.village
    rings = [d for d in docs if d["type"] == "keyring"]
    handed = [r for r in rings if any(x["institution"] == fleet.town for x in r["recipients"])]
    assert len(rings) == N_CASES and len(handed) == N_CASES // 2
    town_key = unlock_case_key(handed[0], fleet.chains[fleet.town], directory)
    header = next(d for d in docs if d["_id"] == f"case:{town_key.case_id}")
    log: list[dict[str, Any]] = []
    private = open_private(header, town_key, purpose="handling", on_access=log.append,
                           actor=Actor("staff-09", fleet.town, fleet.signers[fleet.town]))
    assert private["applicant_name"] and len(log) == 1
