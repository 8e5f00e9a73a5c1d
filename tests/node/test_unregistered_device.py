"""A laptop whose device key the hub's directory lacks (`hub device keys` not run for it
yet, docs/operations.md "A new station") must not open a case: the header and keyring were
written, the consultation then failed ("the case key does not open"), and the hub refused
the orphan header on push (unknown signer) and was never sent it again."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tests.node.conftest import DEVICE, VILLAGE
from tests.node.test_key_rotation import Station, cheap_scrypt  # noqa: F401 (autouse fixture)
from tests.node.test_keys_transfer import keys_of


def _publish_without_this_laptop(station: Station) -> None:
    """The hub's directory as a second laptop pulls it before its keys are registered:
    its institution and key are there (taken from the first laptop), the device is not."""
    from sync.crypto import build_directory, key_entry, sign_directory

    inst = keys_of(station.folder).institution_key
    doc = sign_directory(build_directory(
        version=1, escrow=key_entry(station.escrow), bundle=key_entry(station.bundle),
        institutions=[{"code": VILLAGE, "tier": "village", "parent": "410621101", "name": "村",
                       "public_keys": [key_entry(inst)]}],
        devices=[]), station.root)
    with station.opened() as node:
        node.store.put(doc)


def _cases(station: Station) -> list[str]:
    with station.opened() as node:
        rows = node.store.all_docs(startkey="case:", endkey="case:\ufff0")["rows"]
        return [r["id"] for r in rows]


def test_an_unregistered_laptop_opens_no_case(tmp_path: Path) -> None:
    from schemas.sample import catalog

    station = Station(tmp_path / "second")
    try:
        _publish_without_this_laptop(station)
        client: Any = station.client()
        resp = client.post("/api/consultations", json={
            "applicant_name": "赵二", "phone": "13600001111", "question": "如何办理？",
            "service_item": catalog()[0]["code"], "service_type": "assist", "answered": True,
            "outcome": "已当场答复"})
        assert resp.status_code == 403, resp.json
        assert resp.json["error"] == "device_not_registered"
        assert "bangban hub device keys" in resp.json["reason"] and DEVICE in resp.json["reason"]
        assert _cases(station) == []  # no header left behind, no case number used
    finally:
        station.close()


def test_a_registered_laptop_still_opens_cases(tmp_path: Path) -> None:
    from schemas.sample import catalog

    station = Station(tmp_path / "first")
    try:
        inst = keys_of(station.folder).institution_key
        from sync.crypto import key_entry

        station.publish([key_entry(inst)])
        client: Any = station.client()
        resp = client.post("/api/consultations", json={
            "applicant_name": "赵二", "question": "如何办理？",
            "service_item": catalog()[0]["code"], "service_type": "assist", "answered": True,
            "outcome": "已当场答复"})
        assert resp.status_code == 201, resp.json
        assert len(_cases(station)) == 1
    finally:
        station.close()
