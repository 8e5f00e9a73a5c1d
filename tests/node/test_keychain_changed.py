"""`bangban node keys rotate` (or `import`) run while `bangban node serve` is running: the
app's keys in memory lacked the institution's new key, so the next case it opened was
wrapped for the new key, its consultation then failed ("the case key does not open") and
a case without its first record was left behind. The app now locks when keychain.json
changes under it; unlocking again reads the new keychain."""

from __future__ import annotations

from typing import Any

from ops.cli import main
from tests.node.conftest import PASSPHRASE
from tests.node.test_key_rotation import Station, cheap_scrypt, station  # noqa: F401
from tests.node.test_keys_transfer import keys_of

CONSULTATION = {"applicant_name": "赵二", "question": "如何办理？", "service_type": "assist",
                "answered": True, "outcome": "已当场答复"}


def _cases(at: Station) -> set[str]:
    with at.opened() as node:
        return {r["id"] for r in node.store.all_docs(startkey="case:", endkey="case:\ufff0")["rows"]}


def test_a_rotation_beside_the_running_app_locks_it_until_unlocked_again(
        station: Station) -> None:  # noqa: F811 (the fixture imported above)
    from schemas.sample import catalog
    from sync.crypto import key_entry

    body = {**CONSULTATION, "service_item": catalog()[0]["code"]}
    k1 = keys_of(station.folder).institution_key
    station.publish([key_entry(k1)])
    client: Any = station.client()  # the clerk's app, unlocked
    assert client.post("/api/consultations", json=body).status_code == 201
    assert main(["node", "keys", "rotate", "--dir", str(station.folder),
                 "--passphrase-file", str(station.pwfile)]) == 0  # beside the running app
    k2 = keys_of(station.folder).institution_key
    station.publish([key_entry(k1, revoked_at="2026-11-26T07:00:00+08:00"), key_entry(k2)])
    before = _cases(station)
    resp = client.post("/api/consultations", json=body)
    assert resp.status_code == 423, resp.json  # locked: no case opened with the old keys
    assert _cases(station) == before
    assert client.post("/api/unlock", json={"passphrase": PASSPHRASE}).status_code == 200
    resp = client.post("/api/consultations", json=body)
    assert resp.status_code == 201, resp.json
    assert client.get(f"/api/cases/{resp.json['case_id']}").json["private"]["applicant_name"] == "赵二"
