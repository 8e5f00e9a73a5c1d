"""End-to-end: a real ``bangban hub serve`` process and three stations replicating through it.

The same tests run with the hub on the embedded store and on CouchDB (PouchDB Server),
issue 6 "Must show". Stations are :class:`ops.demo_node.SimNode` (real local SQLite
stores, E's documents, F's sealing and signatures, D's replicator over HTTP).
"""

from __future__ import annotations

import base64
import json
import subprocess
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from ops.demo import TOWN, VILLAGE_A, VILLAGE_B, DemoNetwork

pytestmark = pytest.mark.e2e
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module", params=["embedded", "couchdb"])
def net(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
        ) -> Iterator[DemoNetwork]:
    couchdb_url = request.getfixturevalue("couchdb_url") if request.param == "couchdb" else ""
    folder = tmp_path_factory.mktemp(f"hubnet-{request.param}")
    network = DemoNetwork(folder, couchdb_url=couchdb_url,
                          db_prefix=f"h{uuid.uuid4().hex[:10]}")
    from hub.settings import Settings

    Settings.load({"hub_dir": str(folder / "hub")}).save(
        max_request_bytes=2_000_000, max_document_bytes=200_000)
    try:
        network.start()
        yield network
    finally:
        network.stop()


def hub_store(net: DemoNetwork) -> Any:
    """The hub's main database, opened from the test process (read-mostly)."""
    from hub.core import Hub
    from hub.settings import Settings

    return Hub(Settings.load({"hub_dir": str(net.hub_dir)}))


def request(net: DemoNetwork, method: str, path: str, body: Any = None, *,
            code: str = VILLAGE_A, auth: str | None = None, raw: bytes | None = None,
            headers: dict[str, str] | None = None) -> tuple[int, Any]:
    enr = net.enrollments[code]
    if auth is None:
        auth = "Basic " + base64.b64encode(f"{enr['device_id']}:{enr['secret']}".encode()).decode()
    data = raw if raw is not None else (json.dumps(body).encode() if body is not None else None)
    hdrs = {"Content-Type": "application/json", **(headers or {})}
    if auth:
        hdrs["Authorization"] = auth
    req = urllib.request.Request(net.hub.url + path, data=data, method=method, headers=hdrs)
    try:
        with urllib.request.urlopen(req, timeout=60) as resp:
            return resp.status, json.loads(resp.read() or b"null")
    except urllib.error.HTTPError as exc:
        payload = exc.read()
        try:
            return exc.code, json.loads(payload or b"null")
        except ValueError:
            return exc.code, payload


def db(net: DemoNetwork) -> str:
    return "/" + net.db_prefix


def ids_in_view(net: DemoNetwork, code: str) -> set[str]:
    status, body = request(net, "GET", db(net) + "/_changes?style=all_docs&limit=100000",
                           code=code)
    assert status == 200
    return {row["id"] for row in body["results"]}


# -- scope and routing -------------------------------------------------------------------------
def test_a_device_enrolled_at_the_running_demo_is_told_its_hub_url(net: DemoNetwork) -> None:
    """`hub device enroll` against the demo's hub folder printed http://127.0.0.1:8840, the
    default port, while the demo's hub listened on a port chosen at its start."""
    from hub.settings import Settings

    settings = Settings.load({"hub_dir": str(net.hub_dir)})
    assert settings.url == net.hub.url
    assert settings.max_request_bytes == 2_000_000  # what was saved before is kept


def test_village_cases_reach_hub_and_town_once_handed_up_never_village_b(net: DemoNetwork) -> None:
    a, b, town = net.nodes[VILLAGE_A], net.nodes[VILLAGE_B], net.nodes[TOWN]
    own = a.new_case()
    handed = a.new_case()
    other = b.new_case()
    a.hand_up(handed, TOWN)
    net.round()
    hub = hub_store(net)
    try:
        stored = {r["id"] for r in hub.stores.main.all_docs()["rows"]}
        # design §6: the hub recorded when it received each event, and from whom
        receipts = [r["doc"] for r in
                    hub.stores.receipts.changes(include_docs=True)["results"]]
    finally:
        hub.close()
    received = {e[0]: r["device"] for r in receipts for e in r["events"]}
    assert {r["id"] for r in a.store.all_docs(startkey=f"event:{own}:",
                                              endkey=f"event:{own}:\ufff0")["rows"]} <= set(received)
    assert {received[i] for i in received if own in i} == {a.device_id}
    for case_id in (own, handed, other):
        assert f"case:{case_id}" in stored and f"keyring:{case_id}" in stored
    assert handed in town.cases()
    assert own not in town.cases() and other not in town.cases()
    assert own not in b.cases() and handed not in b.cases()
    b_view = ids_in_view(net, VILLAGE_B)
    assert not any(own in i or handed in i for i in b_view)
    town_view = ids_in_view(net, TOWN)
    assert f"case:{handed}" in town_view and f"case:{own}" not in town_view
    # every event of the handed-up case, written before the hand-up, reached the town
    a_events = {r["id"] for r in a.store.all_docs(startkey=f"event:{handed}:",
                                                  endkey=f"event:{handed}:\ufff0")["rows"]}
    assert a_events and a_events <= town_view
    # the town may now write to the case; village B may not read it
    status, _ = request(net, "GET", f"{db(net)}/case:{handed}", code=VILLAGE_B)
    assert status == 404
    # design §5: the town sees the cleartext of its villages' open cases on the hub's
    # coordination board (the handed-up case is the town's own now); village B never does
    board = town.store.get(f"board:{VILLAGE_A}")
    on_board = {row["case"] for row in board["cases"]}
    assert own in on_board and handed not in on_board and other not in on_board
    assert f"board:{VILLAGE_A}" not in b_view
    status, _ = request(net, "GET", f"{db(net)}/board:{VILLAGE_A}", code=VILLAGE_B)
    assert status == 404


# -- refusals per document ---------------------------------------------------------------------
def _event(node: Any, case_id: str, event_type: str, private: Any = None, *,
           sealer: Any = None, **fields: Any) -> dict[str, Any]:
    from schemas import build

    key = (sealer or node).case_key(case_id)
    ev = build.make_event(event_type, case_id=case_id, clock=node.clock(), at=node.now(),
                          institution=node.institution, base_hlc=(sealer or node).last_event(case_id),
                          private=private or {}, **fields)
    return dict(key.seal(ev))


def test_bad_documents_are_refused_one_by_one_and_not_stored(net: DemoNetwork) -> None:
    from sync.crypto import sign_document

    a, b = net.nodes[VILLAGE_A], net.nodes[VILLAGE_B]
    mine, theirs = a.new_case(), b.new_case()
    net.round()
    log = {"kind": "contact", "private": {"text": "电话联系申请人"}}
    unsigned = _event(a, mine, "work_log", **log)
    tampered = sign_document(_event(a, mine, "work_log", **log), a.signer)
    tampered["staff"] = "someone-else"
    by_other = sign_document(_event(a, mine, "work_log", **log), b.signer)
    out_of_scope = sign_document(_event(a, theirs, "work_log", sealer=b, **log), a.signer)
    illegal = sign_document(_event(a, mine, "archived", archive_no="GD-1"), a.signer)
    unknown = sign_document({"_id": f"event:{mine}:x", "type": "gossip", "schema_version": 1},
                            a.signer)
    reference = sign_document({"_id": "service_item:FAKE", "type": "service_item"}, a.signer)
    good = sign_document(_event(a, mine, "work_log", **log), a.signer)
    docs = [unsigned, tampered, by_other, out_of_scope, illegal, unknown, reference, good]
    status, rows = request(net, "POST", db(net) + "/_bulk_docs", {"docs": docs})
    assert status == 201
    assert [r.get("error") for r in rows] == ["forbidden"] * 7 + [None]
    reasons = [r["reason"] for r in rows[:7]]
    assert "not signed" in reasons[0]
    assert "does not verify" in reasons[1]
    assert "signed by" in reasons[2]
    assert reasons[3].startswith("scope:")
    assert reasons[4].startswith("transition:")
    assert "gossip" in reasons[5]
    assert "read-only" in reasons[6]
    hub = hub_store(net)
    try:
        found = hub.stores.main.all_docs(keys=[d["_id"] for d in docs])["rows"]
    finally:
        hub.close()
    stored = {r["key"] for r in found if "error" not in r}
    assert stored == {good["_id"]}
    # with new_edits=false (the replicator's way) the refusals are reported the same way
    replay = [{**unsigned, "_rev": "1-" + "a" * 32}, {**out_of_scope, "_rev": "1-" + "b" * 32}]
    status, rows = request(net, "POST", db(net) + "/_bulk_docs",
                           {"docs": replay, "new_edits": False})
    assert status == 201 and [r["error"] for r in rows] == ["forbidden", "forbidden"]


def test_bad_input_gets_the_right_4xx_and_nothing_is_stored(net: DemoNetwork) -> None:
    from sync.crypto import sign_document

    a = net.nodes[VILLAGE_A]
    case_id = a.new_case()
    net.round()
    path = db(net)
    # malformed JSON
    status, body = request(net, "POST", path + "/_bulk_docs", raw=b'{"docs": [')
    assert status == 400 and body["error"] == "bad_request"
    # a body over max_request_bytes
    status, body = request(net, "POST", path + "/_bulk_docs", raw=b"x" * 2_500_000)
    assert status == 413
    # a document over max_document_bytes: refused alone
    big = sign_document({**_event(a, case_id, "work_log", kind="contact", private={"text": "x"}),
                         "padding": "x" * 250_000}, a.signer)
    status, rows = request(net, "POST", path + "/_bulk_docs", {"docs": [big]})
    assert status == 201 and rows[0]["error"] == "forbidden" and "too large" in rows[0]["reason"]
    # wrong, missing and malformed credentials
    for auth in ("Basic " + base64.b64encode(b"410602101201-A1:wrong").decode(), "",
                 "Basic !!!", "Bearer abc"):
        status, body = request(net, "GET", path, auth=auth)
        assert status == 401 and body["error"] == "unauthorized"
    # replays: an event is immutable; a stale header revision is a conflict
    ev_id = a.store.all_docs(startkey=f"event:{case_id}:", endkey=f"event:{case_id}:\ufff0",
                             limit=1)["rows"][0]["id"]
    event = a.store.get(ev_id)
    status, body = request(net, "PUT", f"{path}/{ev_id}", {**event, "staff": "x"})
    assert status == 403
    status, rows = request(net, "POST", path + "/_bulk_docs", {"docs": [event], "new_edits": False})
    assert status == 201 and rows == []  # the same revision again: nothing to do (CouchDB)
    header = a.store.get(f"case:{case_id}")
    status, _ = request(net, "PUT", f"{path}/case:{case_id}", {**header, "_rev": "1-" + "0" * 32})
    assert status == 409
    # unknown document type, non-object documents, reserved ids
    status, rows = request(net, "POST", path + "/_bulk_docs",
                           {"docs": [{"_id": "thing:1", "type": "thing"}, {"_id": "_design/x"}]})
    assert status == 201 and all(r["error"] == "forbidden" for r in rows)
    status, _ = request(net, "POST", path + "/_bulk_docs", {"docs": [1, "x"]})
    assert 400 <= status < 500
    status, _ = request(net, "PUT", path)  # devices cannot create databases
    assert 400 <= status < 500
    status, _ = request(net, "DELETE", path)
    assert 400 <= status < 500
    status, _ = request(net, "GET", path + "/_changes?since=garbage")
    assert 400 <= status < 500
    hub = hub_store(net)
    try:
        assert {"thing:1", "_design/x"}.isdisjoint(
            r["key"] for r in hub.stores.main.all_docs(keys=["thing:1", "_design/x"])["rows"]
            if "error" not in r)
        assert hub.stores.main.get(ev_id)["_rev"] == event["_rev"]
    finally:
        hub.close()


def test_revoked_device_gets_401_with_wipe_instruction(net: DemoNetwork) -> None:
    from hub import admin

    hub = hub_store(net)
    try:
        enr = admin.enroll_device(hub, institution_code=VILLAGE_B)
        auth = "Basic " + base64.b64encode(f"{enr['device_id']}:{enr['secret']}".encode()).decode()
        status, _ = request(net, "GET", db(net), auth=auth)
        assert status == 200
        admin.revoke_device(hub, enr["device_id"])
    finally:
        hub.close()
    status, body = request(net, "GET", db(net) + "/_changes", auth=auth)
    assert status == 401
    assert body == {"error": "unauthorized", "reason": "device revoked", "bangban_wipe": True}


# -- conflicts ------------------------------------------------------------------------------------
def test_offline_edits_on_village_and_town_converge_after_one_round(net: DemoNetwork) -> None:
    a, town = net.nodes[VILLAGE_A], net.nodes[TOWN]
    case_id = a.new_case()
    a.hand_up(case_id, TOWN)
    net.round()
    assert case_id in town.cases()
    town.edit_header(case_id, labels=["town"], mode="door")
    a.edit_header(case_id, staff="staff-201-7", mode="online")
    net.round()
    hub = hub_store(net)
    try:
        at_hub = hub.stores.main.get(f"case:{case_id}", conflicts=True)
    finally:
        hub.close()
    views = [n.store.get(f"case:{case_id}", conflicts=True) for n in (a, town)] + [at_hub]
    assert all("_conflicts" not in v for v in views)
    assert len({v["_rev"] for v in views}) == 1
    merged = at_hub
    assert merged["labels"] == ["town"] and merged["staff"] == "staff-201-7"
    # one "mode" won; the other value is kept in history: nothing lost (design.md §3)
    assert merged["mode"] in ("door", "online")
    lost = {"door", "online"} - {merged["mode"]}
    assert any(h["field"] == "mode" and h["value"] in lost for h in merged["history"])
    assert merged["sig"]["device"].endswith("-HB")  # the hub wrote the resolution


def test_hub_terminates_cases_past_the_resumption_deadline(net: DemoNetwork) -> None:
    from sync.crypto import verify_document

    a = net.nodes[VILLAGE_A]
    (case_id,) = a.sample_cases(1, town=TOWN, seed=7, scenarios=("proxy_suspended_expired",))
    net.round()
    rows = a.store.all_docs(startkey=f"event:{case_id}:", endkey=f"event:{case_id}:\ufff0",
                            include_docs=True)["rows"]
    terminations = [r["doc"] for r in rows if r["doc"]["event_type"] == "termination"]
    assert len(terminations) == 1
    term = terminations[0]
    assert term["reason"] == "resumption_deadline_passed"
    assert verify_document(term, a.directory()).device_id.endswith("-HB")
    key = a.case_key(case_id)  # the village can open what the hub sealed for it
    assert term["sealed"]["kid"] in key.key_ids
    assert key._open(term)["reasons"].startswith("超过续办期限")


# -- PouchDB's replicator ------------------------------------------------------------------------
def test_pouchdb_replicator_receives_exactly_the_devices_view(net: DemoNetwork) -> None:
    b = net.nodes[VILLAGE_B]
    b.new_case()
    net.round()
    # --setup: PouchDB's own start on a plain URL (GET /db/ first), as an integrator's
    # `new PouchDB(url)`: that GET was a 404, and the replication never started
    out = subprocess.run(
        ["node", str(ROOT / "ops/pouchdb/replicate.js"), b.db_url, "memory:view", "--dump",
         "--setup"],
        capture_output=True, text=True, timeout=120, cwd=ROOT / "ops/pouchdb")
    assert out.returncode == 0, out.stderr
    result = json.loads(out.stdout.strip().splitlines()[-1])
    dumped = {d.get("id") or d.get("_id") for d in _dump_docs(result["dump"])}
    local = {r["id"] for r in b.store.all_docs()["rows"]}
    assert dumped == local == ids_in_view(net, VILLAGE_B)
    assert result["doc_write_failures"] == 0


def _dump_docs(dump: Any) -> list[dict[str, Any]]:
    if isinstance(dump, dict):
        return [{"id": k} for k in dump]
    return [d if isinstance(d, dict) else {"id": d} for d in dump]
