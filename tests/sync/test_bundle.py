"""Bundle files (design.md §4): format round trip, tamper detection, the hub's bundle key (and
old escrow-sealed files), the two bundle stores."""

from __future__ import annotations

import base64
import copy
import json
from pathlib import Path

import pytest

from sync.bundle import (
    BUNDLE_DOMAIN,
    ESCROW,
    _seal,
    dumps,
    loads,
    open_bundle,
    seal_bundle,
    verify_bundle,
)
from sync.bundle_stores import BundleSource, CollectingTarget, collect
from sync.crypto import BadSignature, EncryptionKeyPair, MalformedEnvelope, UnknownKey
from sync.crypto.sign import signing_payload
from sync.errors import MethodNotAllowed
from sync.open import open_db
from sync.replicate import replicate
from tests.sync.crypto.world import CITY, VILLAGE_A, VILLAGE_B, make_world
from tests.sync.crypto.world import TOWN as TOWN_CODE

DOCS = [{"_id": "case:x", "_rev": "1-aa", "_revisions": {"start": 1, "ids": ["aa"]},
         "type": "case", "note": "村"},
        {"_id": "event:x:1", "_rev": "1-bb", "_revisions": {"start": 1, "ids": ["bb"]},
         "type": "event", "_attachments": {"scan": {"content_type": "application/octet-stream",
                                                    "data": base64.b64encode(b"\0" * 99).decode()}}}]


def _sealed(world=None, docs=DOCS):
    world = world or make_world()
    directory = world.directory()
    st = world[VILLAGE_A]
    return world, directory, seal_bundle(docs, signer=st.signer, institution=VILLAGE_A,
                                         directory=directory)


def test_round_trip_through_the_file_bytes():
    world, directory, env = _sealed()
    header, docs = open_bundle(loads(dumps(env)), directory, world.bundle)
    assert docs == DOCS
    assert (header.device, header.institution, header.count) == (
        world[VILLAGE_A].device_id, VILLAGE_A, 2)
    assert "村" not in dumps(env).decode() and "case:x" not in dumps(env).decode()


@pytest.mark.parametrize("field", ["created_at", "count", "institution", "ct"])
def test_any_altered_field_refuses_the_whole_bundle(field):
    world, directory, env = _sealed()
    bad = copy.deepcopy(env)
    if field == "ct":
        ct = bad["payload"]["ct"]
        bad["payload"]["ct"] = ct[:40] + ("A" if ct[40] != "A" else "B") + ct[41:]
    elif field == "count":
        bad["count"] = 3
    elif field == "institution":
        bad["institution"] = VILLAGE_B
    else:
        bad["created_at"] = "2020-01-01T00:00:00+00:00"
    with pytest.raises((BadSignature, UnknownKey)) as err:
        open_bundle(loads(dumps(bad)), directory, world.bundle)
    assert "sig" in err.value.reason or "institution" in err.value.reason


def test_a_bundle_for_another_hub_names_the_key():
    world, directory, env = _sealed()
    assert env["payload"]["recipient"] == "bundle"
    assert env["payload"]["key_id"] == world.bundle.key_id
    with pytest.raises(UnknownKey, match=f"payload.key_id: sealed for bundle key "
                       f"{world.bundle.key_id}"):
        open_bundle(env, directory, EncryptionKeyPair.generate())
    # Nor does the escrow key open it: it is not sealed for the escrow key any more (§5).
    with pytest.raises(UnknownKey, match="payload.key_id"):
        open_bundle(env, directory, world.escrow)


def test_no_bundle_key_in_the_directory_refuses_rather_than_using_escrow():
    world = make_world()
    world.with_bundle = False
    directory = world.directory()
    st = world[VILLAGE_A]
    with pytest.raises(UnknownKey, match="no bundle key"):
        seal_bundle(DOCS, signer=st.signer, institution=VILLAGE_A, directory=directory)


def test_an_old_escrow_sealed_bundle_still_opens_with_the_escrow_key():
    world = make_world()
    world.with_bundle = False
    directory = world.directory()  # as published before the hub had a bundle key
    st = world[VILLAGE_A]
    env = _seal(DOCS, signer=st.signer, institution=VILLAGE_A, recipient=ESCROW,
                entry=directory.escrow, created_at=None)
    assert env["payload"]["recipient"] == "escrow"
    world.with_bundle = True  # the hub has published its bundle key since
    header, docs = open_bundle(loads(dumps(env)), world.directory(), world.escrow)
    assert docs == DOCS and header.recipient == "escrow"
    with pytest.raises(UnknownKey, match="payload.key_id"):
        open_bundle(env, world.directory(), world.bundle)
    # The recipient is signed: relabelling an escrow-sealed file as a bundle one is refused.
    relabelled = copy.deepcopy(env)
    relabelled["payload"]["recipient"] = "bundle"
    with pytest.raises(BadSignature):
        open_bundle(relabelled, world.directory(), world.escrow)
    unknown = copy.deepcopy(env)
    unknown["payload"]["recipient"] = "root"
    with pytest.raises(MalformedEnvelope, match="payload.recipient"):
        loads(dumps(unknown))


def test_no_private_key_bytes_in_the_file():
    world, _directory, env = _sealed()
    data = dumps(env)
    for pair in (world.bundle, world.escrow):
        raw = pair._private_bytes()
        for form in (raw, base64.b64encode(raw), base64.urlsafe_b64encode(raw).rstrip(b"="),
                     raw.hex().encode()):
            assert form not in data


def test_revoked_or_unknown_device_and_a_signature_of_another_device():
    world, directory, env = _sealed()
    world.revoked_devices.add(world[VILLAGE_A].device_id)
    with pytest.raises(UnknownKey, match="revoked"):
        verify_bundle(env, world.directory())
    world.revoked_devices.clear()
    # Re-signed by village B's device while still naming A's: refused, naming sig.device.
    forged = {k: v for k, v in env.items() if k != "sig"}
    forged["sig"] = world[VILLAGE_B].signer.signature(
        BUNDLE_DOMAIN + json.dumps(forged).encode())
    with pytest.raises(BadSignature, match="sig.device"):
        verify_bundle(forged, directory)
    renamed = {**env, "device": "410699999999-Z9"}
    with pytest.raises(BadSignature, match="sig.device"):
        verify_bundle(renamed, directory)


def test_bundle_signature_has_its_own_domain():
    world, directory, env = _sealed()
    # The same signature value is not a document signature over the same fields.
    as_doc = {**{k: v for k, v in env.items() if k != "sig"}, "_id": "x", "sig": env["sig"]}
    from sync.crypto import verify_document

    with pytest.raises(BadSignature):
        verify_document(as_doc, directory)
    assert not signing_payload(as_doc).startswith(BUNDLE_DOMAIN)


def test_malformed_files_name_the_field():
    with pytest.raises(MalformedEnvelope, match="kind"):
        loads(b'{"kind": "other"}')
    with pytest.raises(MalformedEnvelope, match="JSON"):
        loads(b"\x00garbage")
    world, directory, env = _sealed()
    del env["payload"]["wrap"]
    with pytest.raises(MalformedEnvelope, match="payload.wrap"):
        loads(dumps(env))


def test_stores_carry_conflicts_deletions_and_attachments(tmp_path: Path):
    src = open_db(str(tmp_path / "src.sqlite"), create=True)
    dst = open_db(str(tmp_path / "dst.sqlite"), create=True)
    try:
        src.put({"_id": "a", "v": 1})
        rev = src.put({"_id": "b", "v": 1})["rev"]
        src.delete("b", rev)
        src.put({"_id": "c", "_attachments": {"f": {"content_type": "application/octet-stream",
                                                    "data": base64.b64encode(b"xyz").decode()}}})
        src.bulk_docs([{"_id": "a", "_rev": "2-zz", "_revisions": {"start": 2, "ids": [
            "zz", src.get("a")["_rev"].split("-")[1]]}, "v": 9}], new_edits=False)
        src.put({"_id": "a", "_rev": src.get("a")["_rev"], "v": 2})  # a second leaf
        docs = collect(src)
        world, directory, env = _sealed(docs=docs)
        _header, opened = open_bundle(env, directory, world.bundle)
        result = replicate(BundleSource(opened), dst)
        assert result.doc_write_failures == 0
        for docid in ("a", "b", "c"):
            assert ({leaf["ok"]["_rev"] for leaf in dst.open_revs(docid, "all")}
                    == {leaf["ok"]["_rev"] for leaf in src.open_revs(docid, "all")})
        assert dst.get_attachment("c", "f")[0] == b"xyz"
        assert replicate(BundleSource(opened), dst).docs_written == 0  # already there
    finally:
        src.close()
        dst.close()


def test_the_ends_refuse_what_makes_no_sense():
    source, target = BundleSource(DOCS), CollectingTarget()
    with pytest.raises(MethodNotAllowed):
        source.revs_diff({"case:x": ["1-aa"]})
    with pytest.raises(MethodNotAllowed):
        source.bulk_docs(DOCS)
    with pytest.raises(MethodNotAllowed):
        target.bulk_docs(DOCS, new_edits=True)
    assert target.revs_diff({"a": ["1-x"]}) == {"a": {"missing": ["1-x"]}}
    feed = source.changes(since=1, limit=5)
    assert [r["seq"] for r in feed["results"]] == [2] and feed["pending"] == 0
    assert source.put_local({"_id": "_local/k", "x": 1})["rev"] == "0-1"
    assert source.get_local("k")["x"] == 1


# -- hub → station: sealed for the institution, signed by the hub (design.md §4, §5) -------


def _hub_world(*, short: str = "HB", named: bool = True):
    """The crypto world plus the city institution and the hub's own ``410600-HB`` device,
    named by the directory's ``hub`` member (``named=False``: a directory from before it)."""
    from tests.sync.crypto.world import add_hub

    world = make_world()
    add_hub(world, short=short, named=named)
    return world, world.directory()


def test_institution_sealed_round_trip_opens_with_a_retired_key_too():
    from sync.bundle import INSTITUTION, hub_device, open_for_institution, seal_for_institution

    world, directory = _hub_world()
    assert hub_device(directory) == f"{CITY}-HB"
    env = seal_for_institution(DOCS, signer=world[CITY].signer, institution=VILLAGE_A,
                               directory=directory)
    assert env["institution"] == CITY and env["payload"]["to"] == VILLAGE_A
    st = world[VILLAGE_A]
    header, docs = open_for_institution(loads(dumps(env)), directory, VILLAGE_A, [st.inst_key])
    assert docs == DOCS and header.recipient == INSTITUTION and header.to == VILLAGE_A
    assert header.key_id == st.inst_key.key_id and header.device == f"{CITY}-HB"
    old = world.rotate(VILLAGE_A)  # sealed before the rotation: the retired key still opens
    assert open_for_institution(env, world.directory(), VILLAGE_A,
                                [old, world[VILLAGE_A].inst_key])[1] == DOCS
    with pytest.raises(UnknownKey, match=f"institution key {env['payload']['key_id']}"):
        open_for_institution(env, world.directory(), VILLAGE_A, [world[VILLAGE_A].inst_key])
    # The hub's own import refuses it by name instead of trying its bundle key.
    with pytest.raises(UnknownKey, match="a bundle for the station of"):
        open_bundle(env, directory, world.bundle)


def test_a_bundle_for_another_institution_is_refused_naming_the_key():
    from sync.bundle import open_for_institution, seal_for_institution

    world, directory = _hub_world()
    env = seal_for_institution(DOCS, signer=world[CITY].signer, institution=VILLAGE_B,
                               directory=directory)
    key_id = world[VILLAGE_B].inst_key.key_id
    with pytest.raises(UnknownKey, match=f"institution {VILLAGE_B} \\(key {key_id}\\)"):
        open_for_institution(env, directory, VILLAGE_A, [world[VILLAGE_A].inst_key])
    # Re-addressing the file to A breaks the signature (``to`` is signed).
    env["payload"]["to"] = VILLAGE_A
    with pytest.raises(BadSignature):
        open_for_institution(env, directory, VILLAGE_A, [world[VILLAGE_A].inst_key])


def test_a_tampered_byte_is_refused_before_decryption(monkeypatch: pytest.MonkeyPatch):
    from sync import bundle
    from sync.bundle import open_for_institution, seal_for_institution

    world, directory = _hub_world()
    env = seal_for_institution(DOCS, signer=world[CITY].signer, institution=VILLAGE_A,
                               directory=directory)
    ct = env["payload"]["ct"]
    env["payload"]["ct"] = ct[:50] + ("A" if ct[50] != "A" else "B") + ct[51:]

    def never(*args, **kw):
        raise AssertionError("decrypted before the signature was checked")

    monkeypatch.setattr(bundle, "_decrypt", never)
    monkeypatch.setattr(bundle, "unwrap_key", never)
    with pytest.raises(BadSignature, match="bundle sig"):
        open_for_institution(env, directory, VILLAGE_A, [world[VILLAGE_A].inst_key])


def test_a_bundle_signed_by_a_station_device_is_refused():
    """Any enrolled, non-revoked laptop can sign a well-formed bundle; a station accepts only
    the hub's (a neighbour's laptop must not feed it documents)."""
    from sync.bundle import INSTITUTION, open_for_institution

    world, directory = _hub_world()
    town = world[TOWN_CODE]
    entry = directory.encryption_key(VILLAGE_A)
    env = _seal(DOCS, signer=town.signer, institution=TOWN_CODE, recipient=INSTITUTION,
                entry=entry, created_at=None, to=VILLAGE_A)
    verify_bundle(env, directory)  # a valid signature of an enrolled device …
    with pytest.raises(BadSignature, match="not by the hub's device"):
        open_for_institution(env, directory, VILLAGE_A, [world[VILLAGE_A].inst_key])
    # … and an old directory (no hub member) without the hub's device refuses every one.
    del world.stations[CITY]
    world.hub = None
    with pytest.raises(UnknownKey, match="no single hub device"):
        open_for_institution(env, world.directory(), VILLAGE_A, [world[VILLAGE_A].inst_key])


def test_the_directory_names_the_hub_device_and_old_ones_fall_back():
    """``hub_device`` takes the signed ``hub`` member; only a directory published before the
    member existed falls back to the ``{city}-HB`` naming convention (design.md §5)."""
    from sync.bundle import hub_device, open_for_institution, seal_for_institution

    world, directory = _hub_world(short="H2")  # named, though not by the convention
    assert directory.hub == hub_device(directory) == f"{CITY}-H2"
    env = seal_for_institution(DOCS, signer=world[CITY].signer, institution=VILLAGE_A,
                               directory=directory)
    assert open_for_institution(env, directory, VILLAGE_A, [world[VILLAGE_A].inst_key])[1] == DOCS
    world.hub = None  # the same device, unnamed: the convention finds no HB device
    with pytest.raises(UnknownKey, match="no hub member and no single hub device"):
        hub_device(world.directory())
    world, old = _hub_world(named=False)
    assert old.hub is None and hub_device(old) == f"{CITY}-HB"
    env = seal_for_institution(DOCS, signer=world[CITY].signer, institution=VILLAGE_A,
                               directory=old)
    assert open_for_institution(env, old, VILLAGE_A, [world[VILLAGE_A].inst_key])[1] == DOCS


def test_a_station_device_dressed_as_the_hub_is_refused():
    """Enrollment names a device ``{institution}-{short}`` and refuses the hub's own id, so a
    station's laptop can at most look like the hub by its short name ``HB``; the directory
    names the real hub, and that laptop's (validly signed) bundle is refused."""
    from sync.bundle import INSTITUTION, hub_device, open_for_institution

    world, _ = _hub_world()
    lookalike = world[VILLAGE_B]
    lookalike.device_id = f"{VILLAGE_B}-HB"
    directory = world.directory()
    assert hub_device(directory) == f"{CITY}-HB" and lookalike.device_id in directory.devices
    env = _seal(DOCS, signer=lookalike.signer, institution=VILLAGE_B, recipient=INSTITUTION,
                entry=directory.encryption_key(VILLAGE_A), created_at=None, to=VILLAGE_A)
    verify_bundle(env, directory)
    with pytest.raises(BadSignature, match=f"signed by '{VILLAGE_B}-HB', not by the hub's"):
        open_for_institution(env, directory, VILLAGE_A, [world[VILLAGE_A].inst_key])


def test_an_institution_bundle_must_name_its_institution():
    from sync.bundle import seal_for_institution

    world, directory = _hub_world()
    env = seal_for_institution(DOCS, signer=world[CITY].signer, institution=VILLAGE_A,
                               directory=directory)
    del env["payload"]["to"]
    with pytest.raises(MalformedEnvelope, match="payload.to"):
        loads(dumps(env))
