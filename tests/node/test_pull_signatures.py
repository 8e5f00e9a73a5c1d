"""A node checks the device signature of every document it pulls (design.md §5: the hub holds
no device key, so a compromised hub must not be able to slip a forged event into a station).

The real :class:`node.syncer.Syncer` pulls from a "hub" that is a local SQLite store
(``sync.open.open_db`` is patched); the directory cases drive :class:`node.pull.VerifyingTarget`
with the replicator directly, the hub's feed being a :class:`sync.bundle_stores.BundleSource`
so that the newer directory is *not* in the batch and must be fetched.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest

from node.core import Node
from node.settings import load
from sync.bundle_stores import BundleSource
from sync.crypto import (
    DeviceSigner,
    EncryptionKeyPair,
    SigningKeyPair,
    build_directory,
    key_entry,
    sign_delegation,
    sign_directory,
    sign_document,
)
from sync.errors import SyncError, TransportError
from sync.replicate import ReplicationOptions, replicate
from sync.sqlite import SQLiteStore
from tests.node.conftest import PASSPHRASE, TOWN, VILLAGE, make_node_dir

ROOT = SigningKeyPair.generate()
TOWN_KEY, VILLAGE_KEY = EncryptionKeyPair.generate(), EncryptionKeyPair.generate()
D1, D2 = f"{TOWN}-A1", f"{TOWN}-A2"  # D2: a laptop enrolled after the node's last sync
KEYS = {D1: SigningKeyPair.generate(), D2: SigningKeyPair.generate()}
FAST = ReplicationOptions(max_attempts=2, backoff_base=0.01, backoff_cap=0.01)


def directory(version: int, devices: list[str], node: Node, *,
              delegated_until: dt.datetime | None = None) -> dict[str, Any]:
    """Signed by ROOT, or (``delegated_until``) by an online key ROOT delegated until then,
    the directory dated a day before that end."""
    own = node.keys.public_entries()
    doc = build_directory(
        issued_at=None if delegated_until is None else
        (delegated_until - dt.timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%SZ"),
        version=version,
        institutions=[{"code": TOWN, "tier": "town", "parent": None, "name": "",
                       "public_keys": [key_entry(TOWN_KEY)]},
                      {"code": VILLAGE, "tier": "village", "parent": TOWN, "name": "",
                       "public_keys": [key_entry(VILLAGE_KEY)]}],
        devices=[{"device_id": own["device_id"], "institution": VILLAGE,
                  "public_keys": [own["device_key"]]}]
        + [{"device_id": d, "institution": TOWN, "public_keys": [key_entry(KEYS[d])]}
           for d in devices],
        escrow=key_entry(TOWN_KEY))
    if delegated_until is None:
        return sign_directory(doc, ROOT)
    online = SigningKeyPair.generate()
    deleg = sign_delegation(online, ROOT, days=30, serial=1,
                            issued_at=delegated_until - dt.timedelta(days=30))
    return sign_directory(doc, online, deleg)


def event(n: int, device: str, *, key: SigningKeyPair | None = None,
          recorder: str | None = None) -> dict[str, Any]:
    """An event of ``recorder`` (default: ``device``), signed as ``device``."""
    doc = {"_id": f"event:C{n}:0001", "type": "event", "case_id": f"C{n}",
           "event_type": "complete", "institution": TOWN, "device": recorder or device}
    return sign_document(doc, DeviceSigner(device, key or KEYS[device]))


def with_rev(doc: dict[str, Any], rev: str = "1-abc") -> dict[str, Any]:
    return {**doc, "_rev": rev, "_revisions": {"start": 1, "ids": [rev.split("-", 1)[1]]}}


@pytest.fixture
def node(tmp_path: Path) -> Any:
    folder = make_node_dir(tmp_path / "node", root_keys=[ROOT.public_b64])
    n = Node(load({"node_dir": str(folder), "sync_timeout": 2.0, "sync_interval": 0}))
    n.unlock(PASSPHRASE)
    yield n
    n.close()


def stored(store: Any, docid: str) -> bool:
    return bool(store.revs_diff({docid: ["1-abc"]}) == {})


def test_a_forged_event_is_refused_and_the_rest_of_the_batch_stored(
        node: Node, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    hub = SQLiteStore(str(tmp_path / "hub.sqlite"))
    hub.put(directory(2, [D1, D2], node))
    good, by_new_laptop = event(1, D1), event(2, D2)
    other_key = event(3, D1, key=KEYS[D2])  # a sig by a key that is not D1's
    altered = {**event(4, D1), "event_type": "hand_down"}  # a field changed after signing
    unsigned = {"_id": "event:C5:0001", "type": "event", "case_id": "C5"}
    docs = [good, by_new_laptop, other_key, altered, unsigned]
    hub.bulk_docs([with_rev(d) for d in docs], new_edits=False)
    monkeypatch.setattr("sync.open.open_db", lambda url, **kw: hub)

    node.syncer.sync_once()

    for doc in (good, by_new_laptop):
        assert stored(node.store, doc["_id"])
    for doc in (other_key, altered, unsigned):
        assert not stored(node.store, doc["_id"])
    st = node.syncer.state
    assert {r["id"] for r in st.pull_refused} == {other_key["_id"], altered["_id"],
                                                 unsigned["_id"]}
    assert all(r["error"] == "forbidden" and "signature" in r["reason"] for r in st.pull_refused)
    assert st.status == "ok" and st.last_error is not None
    assert "平台发来的记录未通过签名校验，已拒收" in st.last_error and "(+2)" in st.last_error
    assert st.pulled >= 3  # the directory and the two good events


def test_an_event_naming_another_recorder_than_its_signer_is_refused(
        node: Node, tmp_path: Path) -> None:
    """A compromised hub signs with its own device key (it has one: terminations, complaint
    intake): an event so signed that names a station's laptop as its recorder put words in
    that laptop's mouth."""
    from node.verify import check_documents
    from sync.crypto import verify_directory

    held = verify_directory(directory(2, [D1, D2], node), [ROOT.public_b64])
    honest, posing = with_rev(event(1, D1)), with_rev(event(2, D1, recorder=D2))
    accepted, refused = check_documents([honest, posing], held, [ROOT.public_b64])
    assert [d["_id"] for d in accepted] == [honest["_id"]]
    assert [r["id"] for r in refused] == [posing["_id"]]
    assert D2 in refused[0]["reason"] and "recorder" in refused[0]["reason"]


class Hub(SQLiteStore):
    """The hub's device view for the directory fetch: ``down`` makes it unreachable."""

    down = 0  # how many more fetches fail

    def get(self, docid: str, **kwargs: Any) -> dict[str, Any]:
        if self.down:
            self.down -= 1
            raise TransportError("connection reset")
        return super().get(docid, **kwargs)


def setup_stores(node: Node, tmp_path: Path) -> tuple[Hub, Any]:
    from node.pull import VerifyingTarget

    node.store.put(directory(1, [D1], node))  # the node's last sync: before D2 was enrolled
    hub = Hub(str(tmp_path / "hub.sqlite"))
    hub.put(directory(2, [D1, D2], node))
    return hub, VerifyingTarget(node.store, hub, [ROOT.public_b64])


def test_a_laptop_enrolled_since_the_last_sync_is_checked_against_the_hubs_directory(
        node: Node, tmp_path: Path) -> None:
    hub, target = setup_stores(node, tmp_path)
    docs = [with_rev(event(1, D1)), with_rev(event(2, D2)), with_rev(event(3, D2))]
    res = replicate(BundleSource(docs), target, FAST)
    assert res.failures == [] and res.docs_written == 3
    assert target.directory_fetches == 1  # once for the batch, not per document
    assert all(stored(node.store, d["_id"]) for d in docs)
    # A device unknown to the hub's directory as well is refused.
    stranger = with_rev(sign_document({"_id": "event:C9:0001", "type": "event"},
                                      DeviceSigner(f"{TOWN}-Z9", SigningKeyPair.generate())))
    refused = target.bulk_docs([stranger], new_edits=False)
    assert [r["error"] for r in refused] == ["forbidden"] and not stored(node.store, "event:C9:0001")


def test_a_failed_directory_fetch_retries_the_batch_and_refuses_nothing(
        node: Node, tmp_path: Path) -> None:
    hub, target = setup_stores(node, tmp_path)
    docs = [with_rev(event(1, D1)), with_rev(event(2, D2))]
    hub.down = 10
    with pytest.raises(SyncError):
        replicate(BundleSource(docs), target, FAST)
    # nothing refused, nothing lost: the event of the device the hub's directory could not
    # vouch for is not stored; the upload was halved (sync/replicate: a broken write is
    # split), so the event of the device already known may be
    assert not stored(node.store, docs[1]["_id"])
    already = int(bool(stored(node.store, docs[0]["_id"])))
    hub.down = 1  # one broken fetch: the replicator's retry of the batch gets through
    res = replicate(BundleSource(docs), target, FAST)
    assert res.failures == [] and res.docs_written == 2 - already
    assert all(stored(node.store, d["_id"]) for d in docs)


def test_an_unsigned_body_at_a_signed_documents_id_is_refused(node: Node) -> None:
    """Keyrings pass unsigned (their wraps are signed one by one): a "keyring" at an event's
    or case header's id let a compromised hub replace a signed document with anything."""
    from node.verify import check_documents
    from sync.crypto import verify_directory

    held = verify_directory(directory(2, [D1], node), [ROOT.public_b64])
    ring = {"type": "keyring", "case_id": "C7", "current": "k", "data_keys": []}
    docs = [with_rev({"_id": docid, **ring}) for docid in
            ("keyring:C7", "event:C7:0001", "case:C7", "notice:C7")]
    accepted, refused = check_documents(docs, held, [ROOT.public_b64])
    assert [d["_id"] for d in accepted] == ["keyring:C7"]
    assert {r["id"] for r in refused} == {"event:C7:0001", "case:C7", "notice:C7"}


def test_a_directory_arriving_after_its_delegation_ended_is_refused(node: Node) -> None:
    """A directory signed by the hub's online key is dated by that key itself: once the key
    was taken, directories dated "before the delegation ended" verified for ever (adding a
    device of the taker's), and the delegation's end limited nothing."""
    from node.verify import check_documents
    from sync.crypto import DIRECTORY_ID, verify_directory

    held = verify_directory(directory(1, [D1], node), [ROOT.public_b64])
    now = dt.datetime.now(dt.UTC)
    for until, ok in ((now + dt.timedelta(days=3), True), (now - dt.timedelta(days=3), False)):
        carried = with_rev(directory(2, [D1, D2], node, delegated_until=until))
        by_d2 = with_rev(event(2, D2))
        accepted, refused = check_documents([carried, by_d2], held, [ROOT.public_b64])
        if ok:
            assert [d["_id"] for d in accepted] == [DIRECTORY_ID, by_d2["_id"]], refused
        else:
            assert accepted == [] and "delegation.not_after" in refused[0]["reason"], refused
            assert refused[1]["id"] == by_d2["_id"]  # its signer is in no directory held
