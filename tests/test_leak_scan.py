"""Leak scan (issue 5, design §5; standard 7.2.2.2, 7.3.2.4): no plaintext personal data at rest.

Sample cases (schemas.sample.case_histories: every scenario of the process) are sealed, signed and
stored through the public APIs: written to a node's SQLite file, replicated to the
hub's embedded SQLite store and to a CouchDB-API server (PouchDB Server with a data
directory) with :func:`sync.replicate.replicate`. Then the raw bytes of every file
are searched for every sample name, ID number, phone and address, in UTF-8 and
JSON-escaped form: zero hits. A control store per backend holds other sample people
in clear and must be found by the same scan, so the zero is meaningful.
"""

from __future__ import annotations

import base64
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from ops import pouchdb_server
from schemas import sample
from schemas.sample_cases import HUB_SHORT, case_histories
from sync.crypto import (
    DeviceSigner,
    EncryptionKeyPair,
    Keychain,
    SigningKeyPair,
    add_recipient,
    build_directory,
    key_entry,
    keyring_id,
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

N_CASES = 30  # three rounds of schemas.sample_cases.SCENARIOS
AT = "2026-11-20T09:30:00+08:00"
FAST_SCRYPT = {"n": 2**12, "r": 8, "p": 1}  # at-rest format is the same; cost measured in bench


@dataclass
class Fleet:
    """Every sample institution with its keys, one device each (and the hub's), the directory."""

    directory_doc: dict[str, Any]
    root: SigningKeyPair
    chains: dict[str, Keychain]  # institution code -> its node's keychain
    signers: dict[str, DeviceSigner]  # device id -> signer
    escrow: EncryptionKeyPair

    @property
    def directory(self):  # type: ignore[no-untyped-def]
        return verify_directory(self.directory_doc, self.root.public_b64)


def make_fleet() -> Fleet:
    insts = sample.institutions()
    city = next(i for i in insts if i["tier"] == "city")
    devices = sample.devices(insts)
    hub_device = {**devices[0], "_id": f"device:{city['code']}-{HUB_SHORT}",
                  "device_id": f"{city['code']}-{HUB_SHORT}", "institution": city["code"],
                  "short": HUB_SHORT}
    devices.append(hub_device)
    root, escrow = SigningKeyPair.generate(), EncryptionKeyPair.generate()
    chains: dict[str, Keychain] = {}
    signers: dict[str, DeviceSigner] = {}
    for inst in insts:
        inst_key = EncryptionKeyPair.generate()
        inst["public_keys"] = [key_entry(inst_key, created_at=AT)]
        chains[inst["code"]] = Keychain()
        chains[inst["code"]].add("institution", inst["code"], inst_key)
    for dev in devices:
        dev_key = SigningKeyPair.generate()
        dev["public_keys"] = [key_entry(dev_key, created_at=AT)]
        signers[dev["device_id"]] = DeviceSigner(dev["device_id"], dev_key)
        chains[dev["institution"]].add("device", dev["device_id"], dev_key)
    # the directory is built from the reference documents themselves
    doc = sign_directory(build_directory(version=1, institutions=insts, devices=devices,
                                         escrow=key_entry(escrow)), root)
    return Fleet(doc, root, chains, signers, escrow)


@dataclass
class Batch:
    stored: list[dict[str, Any]] = field(default_factory=list)  # sealed, signed: what is written
    privates: list[dict[str, Any]] = field(default_factory=list)  # what must never be readable
    open_docs: list[dict[str, Any]] = field(default_factory=list)  # the open form (controls only)
    villages: set[str] = field(default_factory=set)
    handed: dict[str, str] = field(default_factory=dict)  # case id -> town it was handed to


def image_bytes(applicant: dict[str, Any], what: str) -> bytes:
    """A fake scan or signature image with the applicant's data written into it."""
    text = f"{what} 姓名 {applicant['applicant_name']} 证件号码 {applicant.get('id_number')} " \
           f"电话 {applicant.get('phone')}"
    return b"\x89PNG\r\n\x1a\n" + text.encode("utf-8") * 4 + bytes(range(256)) * 8


def _attach(doc: dict[str, Any], name: str, blob: bytes) -> None:
    doc.setdefault("_attachments", {})[name] = {
        "content_type": "application/octet-stream", "data": base64.b64encode(blob).decode()}


def sample_cases(fleet: Fleet, seed: int, n: int = N_CASES) -> Batch:
    """``schemas.sample.case_histories`` sealed and signed as the nodes do it: one keyring per
    case (owner + escrow; the town added on hand-up), every event signed by its device, the
    applicant's signature images and an ID-card scan sealed as attachments, and one access
    event per case (reading the header to print a form)."""
    directory = fleet.directory
    batch = Batch()
    for history in case_histories(seed=seed, n=n):
        header, events = history[0], history[1:]
        applicant = header["private"]
        owner = header["institution"]
        batch.villages.add(owner)
        owner_signer = fleet.signers[header["device"]]
        ring, case_key = new_keyring(header["case_id"], owner, directory, owner_signer)
        stored: list[dict[str, Any]] = [case_key.seal(header)]
        for event in events:
            sealed = case_key.seal(event)
            names = [v for k, v in event["private"].items() if k == "applicant_signature" and v]
            if event["event_type"] in ("entrustment", "application"):
                names.append("id-card-scan.png")
            for name in names:
                _attach(sealed, name, case_key.seal_attachment(image_bytes(applicant, name),
                                                               sealed["_id"], name))
            stored.append(sign_document(sealed, fleet.signers[event["device"]]))
            if event["event_type"] == "hand_up":
                ring = add_recipient(ring, case_key, event["to_institution"], directory,
                                     fleet.signers[event["device"]])
                batch.handed[header["case_id"]] = event["to_institution"]
        actor = Actor(header.get("staff") or "staff-01", owner, owner_signer)
        open_private(stored[0], case_key, purpose="printing", on_access=stored.append, actor=actor,
                     note=f"为{applicant['applicant_name']}打印委托书")
        batch.stored += [ring, *stored]
        batch.privates += [d["private"] for d in history]
        batch.open_docs += history
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
    assert any(len(v) == 18 for v in values) and any(len(v) == 11 and v.isdigit() for v in values)
    return values


@pytest.fixture(scope="module")
def control(fleet: Fleet, batch: Batch) -> tuple[list[dict[str, Any]], set[str]]:
    """Other sample people stored in clear (never done by the app): what the scan must find."""
    ctl = sample_cases(fleet, seed=2, n=6)
    return ctl.open_docs, sensitive_values(ctl.privates)


@pytest.fixture(scope="module")
def node_dir(tmp_path_factory: pytest.TempPathFactory, fleet: Fleet, batch: Batch) -> Path:
    """The node: sealed documents and the passphrase-locked keychain in one SQLite file."""
    path = tmp_path_factory.mktemp("node")
    node = open_db(path / "node.sqlite", create=True)
    try:
        results = node.bulk_docs(batch.stored)
        assert not [r for r in results if "error" in r], results[:3]
        for code in sorted(batch.villages):  # (one node per station in life; one file here)
            node.put_local({"_id": f"_local/keychain-{code}",
                            "keychain": fleet.chains[code].lock("村站口令", **FAST_SCRYPT)})
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


def _private_key_forms(fleet: Fleet, codes: set[str]) -> set[str]:
    held = [k for code in codes for k in fleet.chains[code].keys]
    return {base64.urlsafe_b64encode(k.key._private_bytes()).decode().rstrip("=") for k in held} | \
           {base64.b64encode(k.key._private_bytes()).decode().rstrip("=") for k in held} | \
           {k.key._private_bytes().hex() for k in held}


# -- the scans -----------------------------------------------------------------------------------

def test_node_sqlite_file_holds_no_plaintext(node_dir: Path, fleet: Fleet, batch: Batch,
                                             secrets: set[str], control, tmp_path: Path) -> None:
    assert_no_leak([node_dir], secrets)
    assert_no_leak([node_dir], _private_key_forms(fleet, batch.villages))  # keychains locked at rest
    docs, values = control
    _store_control(open_db(tmp_path / "control.sqlite", create=True), docs)
    assert_scan_finds([tmp_path], values)


def test_hub_embedded_store_holds_no_plaintext(node_dir: Path, fleet: Fleet, batch: Batch,
                                               secrets: set[str], control, tmp_path: Path) -> None:
    (tmp_path / "hub").mkdir()
    hub = open_server(tmp_path / "hub").create_db("cases")
    try:
        _replicate_to(node_dir, hub)
        _check_replicated(hub, fleet, batch)
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
                                              node_dir: Path, fleet: Fleet, batch: Batch,
                                              secrets: set[str], control) -> None:
    hub = open_db(f"{couch_on_disk.url}/cases", create=True)
    try:
        _replicate_to(node_dir, hub)
        _check_replicated(hub, fleet, batch)
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


def _check_replicated(hub: DocumentStore, fleet: Fleet, batch: Batch) -> None:
    """What reached the hub is what the nodes wrote: every signature verifies (attachments now
    stubs), and a town opens a case handed up to it."""
    rows = hub.all_docs(include_docs=True)["rows"]
    docs = {r["id"]: r["doc"] for r in rows}
    assert len(docs) == len(batch.stored)
    directory = fleet.directory
    events = [d for d in docs.values() if d["type"] == "event"]
    assert sum(1 for d in events if d.get("_attachments")) >= N_CASES // 2
    for event in events:
        verify_document(event, directory)
    assert batch.handed, "the sample has no hand-up"
    case_id, town = next(iter(batch.handed.items()))
    town_key = unlock_case_key(docs[keyring_id(case_id)], fleet.chains[town], directory)
    log: list[dict[str, Any]] = []
    town_signer = next(s for d, s in fleet.signers.items() if d.startswith(f"{town}-"))
    private = open_private(docs[f"case:{case_id}"], town_key, purpose="handling",
                          on_access=log.append, actor=Actor("staff-09", town, town_signer))
    assert private["applicant_name"] and len(log) == 1
