"""What each kind of client is told when the hub's CouchDB stops under a running hub.

A real PouchDB Server of the test's own is stopped under the hub: a supervisor's browser
gets a page of the dashboard (not the stations' JSON), a station the generic 503 (never
CouchDB's address, which goes to the log), the health probe the kind of failure; each
with ``Retry-After``."""

from __future__ import annotations

import base64
import logging
import re
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from hub.core import Hub
from ops import pouchdb_server

VILLAGE_A = "410602101201"
HTML = {"Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"}


@dataclass
class Outage:
    hub: Hub
    server: pouchdb_server.PouchDBServer
    enrollment: dict[str, Any]
    client: Any
    stopped: bool = False

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.server.port}"

    def stop_couchdb(self) -> None:
        self.server.stop()
        self.stopped = True

    def login(self) -> dict[str, str]:
        e = self.enrollment
        token = base64.b64encode(f"{e['device_id']}:{e['secret']}".encode()).decode()
        return {"Authorization": f"Basic {token}"}


@pytest.fixture
def outage(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Outage]:
    """A hub on a PouchDB Server of its own (stopped by the test), one station enrolled."""
    from hub import admin, app
    from hub.settings import Settings
    from schemas import sample

    server = pouchdb_server.start()
    hub, state = None, None
    try:
        hub = Hub(Settings.load({"hub_dir": str(tmp_path / "hub"), "couchdb_url": server.url,
                                 "scrypt_n": 1024, "db_prefix": "p" + uuid.uuid4().hex[:10]},
                                environ={}))
        admin.init(hub, city="410600", name="鹤壁市政务服务中心")
        admin.import_institutions(hub, [i for i in sample.institutions()
                                        if i["code"] in ("410602", "410602101", VILLAGE_A)])
        enrollment = admin.enroll_device(hub, institution_code=VILLAGE_A, short="A1")
        monkeypatch.setattr(app, "_last_logged", [float("-inf"), 0])  # this test's first line
        state = Outage(hub, server, enrollment, app.create_app(hub=hub).test_client())
        yield state
    finally:
        if hub is not None:
            hub.close()
        if state is None or not state.stopped:
            server.stop()


def _logged(caplog: pytest.LogCaptureFixture) -> str:
    return "\n".join(r.getMessage() for r in caplog.records if r.name.startswith("bangban.hub"))


@pytest.mark.couchdb
def test_a_supervisors_browser_gets_a_page_saying_the_database_does_not_answer(
        outage: Outage, caplog: pytest.LogCaptureFixture) -> None:
    """The dashboard opened in a browser during an outage showed the stations' raw JSON."""
    caplog.set_level(logging.WARNING)
    outage.stop_couchdb()
    page = outage.client.get("/oversight/", headers=HTML)
    assert page.status_code == 503 and page.content_type.startswith("text/html")
    assert page.headers["Retry-After"].isdigit()
    text = page.get_data(as_text=True)
    assert '<html lang="zh-CN">' in text and "oversight.css" in text  # the pages' own frame
    for said in ("数据库暂时没有响应", "不会丢失", "恢复响应后", "运维人员", "call the hub's operator"):
        assert said in text, said
    assert outage.address not in text and "not-saved" not in text
    assert outage.address in _logged(caplog)  # the cause is the operator's, in the log
    # a form sent meanwhile (a supervisor logging in) is said not to be saved
    form = outage.client.get("/oversight/login", headers=HTML).get_data(as_text=True)
    csrf = re.search(r'name="csrf" value="([^"]+)"', form)
    assert csrf, form
    sent = outage.client.post("/oversight/login", headers=HTML, data={
        "csrf": csrf[1], "login": "city", "password": "demo-city-2026"})
    assert sent.status_code == 503 and 'id="not-saved"' in sent.get_data(as_text=True)
    # the public disclosure page (8.1.2, anyone) has no operator to call
    public = outage.client.get(f"/oversight/public/{VILLAGE_A}", headers=HTML)
    assert public.status_code == 503 and "不会丢失" in public.get_data(as_text=True)
    assert "运维人员" not in public.get_data(as_text=True)
    # by route, not by Accept: the stations' endpoint keeps its JSON for a browser too
    sync = outage.client.get(f"/{outage.hub.stores.prefix}", headers={**HTML, **outage.login()})
    assert sync.status_code == 503 and sync.get_json()["error"] == "service_unavailable"


@pytest.mark.couchdb
def test_a_station_is_not_told_couchdbs_address(
        outage: Outage, monkeypatch: pytest.MonkeyPatch,
        caplog: pytest.LogCaptureFixture) -> None:
    """CouchDB stopping between a station's login (its record read) and its request's own
    reads: the 503 the CouchDB API answered named CouchDB's host and port to the station
    ("CouchDB at 127.0.0.1:5984 (BANGBAN_COUCHDB_URL): connection refused"), and the hub's
    log had a traceback for it."""
    caplog.set_level(logging.WARNING)
    record = outage.hub.auth.record

    def then_couchdb_stops(device_id: str) -> Any:
        found = record(device_id)
        outage.stop_couchdb()
        return found

    monkeypatch.setattr(outage.hub.auth, "record", then_couchdb_stops)
    changes = outage.client.get(f"/{outage.hub.stores.prefix}/_changes?since=0",
                                headers=outage.login())
    body = changes.get_data(as_text=True)
    assert changes.status_code == 503, body
    assert changes.get_json()["error"] == "service_unavailable"
    assert "retry later" in changes.get_json()["reason"]
    assert outage.address not in body and "BANGBAN_COUCHDB_URL" not in body
    assert changes.headers["Retry-After"].isdigit()
    # the log has the cause, in one line: no traceback (the indexing before the read
    # logged one per request of every station)
    logged = _logged(caplog)
    assert outage.address in logged and logged.count("\n") == 0, logged
    assert all(r.exc_info is None for r in caplog.records), caplog.text


@pytest.mark.couchdb
def test_a_waiting_feed_whose_couchdb_stops_is_one_line_in_the_log(
        outage: Outage, caplog: pytest.LogCaptureFixture) -> None:
    """CouchDB stopping while a station's longpoll waits, its 200 and heartbeats sent:
    the error left the stream into the WSGI server, a traceback for every waiting station,
    and the device API's hook (the one line) never heard of it (sync.http.routing)."""
    caplog.set_level(logging.WARNING)
    feed = outage.client.get(f"/{outage.hub.stores.prefix}/_changes?feed=longpoll"
                             "&since=now&heartbeat=100&timeout=10000", headers=outage.login(),
                             buffered=False)
    assert feed.status_code == 200
    outage.stop_couchdb()
    body = b"".join(feed.response)  # the rest of the wait, until the store fails
    feed.close()
    assert b"last_seq" not in body and outage.address.encode() not in body
    logged = _logged(caplog)
    assert outage.address in logged and logged.count("\n") == 0, logged
    assert all(r.exc_info is None for r in caplog.records), caplog.text


@pytest.mark.couchdb
def test_the_health_probe_names_the_kind_of_failure_not_the_address(
        outage: Outage) -> None:
    """Monitoring could not tell CouchDB down from its password changed without the log."""
    outage.stop_couchdb()
    health = outage.client.get("/_hub/health")
    assert health.status_code == 503 and health.headers["Retry-After"].isdigit()
    assert health.get_json()["store"] == "unreachable"
    assert outage.address not in health.get_data(as_text=True)


@pytest.mark.couchdb
def test_the_health_probe_reads_the_store_while_the_workers_are_busy(
        outage: Outage) -> None:
    """Found at a 2 a.m. run with PouchDB Server stopped mid-pass: the workers' pass hung on
    it (busy), and the probe, which asked only whether work was pending, answered 200 ok
    while every station's push failed (docs/operations.md, "First look")."""
    outage.hub.workers_busy = True  # a pass running, as in the workers' process
    outage.stop_couchdb()
    health = outage.client.get("/_hub/health")
    assert health.status_code == 503, health.get_json()
    assert health.get_json()["store"] == "unreachable"


def test_the_kinds_of_failure() -> None:
    from hub.storage import couchdb_errors, store_cause
    from sync.errors import SyncError, TransportError

    said = couchdb_errors("http://admin:pw@couch.internal:5984")
    assert store_cause(said(TransportError("cannot reach couch.internal:5984: timed out"))) \
        == "unreachable"
    assert store_cause(said(SyncError("HTTP 401", status=401, error="unauthorized"))) \
        == "credentials_refused"
    assert store_cause(said(SyncError("disk full", status=500))) == "failing"
