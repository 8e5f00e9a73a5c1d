"""``bangban hub doctor``: each check reports ok/warn/fail with a hint; exit 0/1/2."""

from __future__ import annotations

import datetime as dt
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from hub import doctor
from tests.hub.conftest import VILLAGE_A, World

ROOT = Path(__file__).resolve().parents[2]


def _by_name(checks: list[doctor.Check]) -> dict[str, doctor.Check]:
    return {c.name: c for c in checks}


def test_a_healthy_hub(world: World) -> None:
    checks = _by_name(doctor.run(world.hub))
    for name in ("identity", "store", "keys", "bundle key", "directory", "scope indexer",
                 "devices", "disk"):
        assert checks[name].status == "ok", checks[name]
    assert "3 devices enrolled" in checks["store"].detail
    # `hub init` leaves the escrow key in the folder for the operator to carry away
    assert checks["escrow key"].status == "warn" and "offline" in checks["escrow key"].hint
    assert doctor.exit_status(list(checks.values())) == 1


def test_lag_and_silent_devices_are_reported(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    a = world.node(VILLAGE_A)
    a.new_case()
    a.sync()  # pushed; the hub's workers have not run
    monkeypatch.setattr(doctor, "LAG_WARN", 1)
    checks = _by_name(doctor.run(world.hub))
    assert checks["conflict resolver"].status == "warn"
    assert "changes behind" in checks["conflict resolver"].detail
    later = dt.datetime.now(dt.UTC) + dt.timedelta(days=doctor.SILENT_DAYS + 1)
    silent = doctor.check_devices(world.hub, now=later)
    assert silent.status == "warn" and a.device_id in silent.detail and "bundle" in silent.hint


def test_the_receipt_times_fold_is_watched_on_its_own_feed(
        world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    """design.md §6: oversight's device clocks come from P-receipts, a feed of its own; a
    fold that stopped must show, even when the main feed's followers are current."""
    from hub.oversight import Oversight

    a = world.node(VILLAGE_A)
    a.new_case()
    a.sync()  # the hub received events: receipts written
    oversight = Oversight(world.hub)
    oversight.materializer.catch_up()  # the case facts are current, the receipts are not
    monkeypatch.setattr(doctor, "LAG_WARN", 1)
    checks = _by_name(doctor.run(world.hub))
    assert checks["receipt times"].status == "warn"
    assert "behind the receipts feed" in checks["receipt times"].detail
    oversight.clocks.catch_up()
    checks = _by_name(doctor.run(world.hub))
    assert checks["receipt times"].status == "ok", checks["receipt times"]
    assert checks["receipt times"].detail.startswith("0 changes")
    oversight.facts.close()


def test_an_expired_delegation_fails(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    from hub import offline

    monkeypatch.setattr(type(world.hub.keys), "has_root", property(lambda self: False))
    info = {"days_left": -1.0, "expired": True, "not_after": "2026-01-01T00:00:00+00:00"}
    monkeypatch.setattr(offline, "info", lambda hub: info)
    check = doctor.check_directory(world.hub)
    assert check.status == "fail" and "delegation install" in check.hint
    monkeypatch.setitem(info, "expired", False)
    monkeypatch.setitem(info, "days_left", 10.0)
    assert doctor.check_directory(world.hub).status == "warn"


def test_keys_that_do_not_unlock_fail(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BANGBAN_HUB_KEY_PASSPHRASE", "wrong passphrase")
    world.hub.reset_keys()
    try:
        checks = _by_name(doctor.run(world.hub))
        assert checks["keys"].status == "fail"
        assert doctor.exit_status(list(checks.values())) == 2
    finally:
        monkeypatch.delenv("BANGBAN_HUB_KEY_PASSPHRASE")
        world.hub.reset_keys()


def _cli(*args: str) -> Any:
    return subprocess.run([sys.executable, "-m", "ops.cli", "hub", *args], cwd=ROOT,
                          capture_output=True, text=True, timeout=120)


def test_the_command_never_creates_a_missing_folder(tmp_path: Path) -> None:
    missing = tmp_path / "no-hub"
    res = _cli("--hub-dir", str(missing), "doctor")
    assert res.returncode == 2 and "no hub folder" in res.stdout
    assert not missing.exists()


def test_the_command_on_a_real_folder(world: World) -> None:
    res = _cli("--hub-dir", str(world.hub.settings.hub_dir), "doctor", "--json")
    assert res.returncode == 1, res.stderr  # the escrow key warning
    assert '"name": "keys"' in res.stdout


def test_keys_without_a_store_never_advise_hub_init(world: World, tmp_path: Path) -> None:
    """A hub folder whose store is gone (or a wrong BANGBAN_DB_PREFIX): `hub init` would mint
    a new root key that no station trusts; the doctor points at the store and at restore."""
    from hub.core import Hub
    from hub.settings import Settings

    hub = Hub(Settings.load({"hub_dir": str(world.hub.settings.hub_dir),
                             "db_prefix": "elsewhere"}, environ={}))
    try:
        checks = doctor.run(hub)
    finally:
        hub.close()
    assert [c.name for c in checks] == ["store", "disk"]  # nothing else can be read
    store = checks[0]
    assert store.status == "fail" and "elsewhere" in store.detail
    assert "hub restore" in store.hint and "not `hub init`" in store.hint


def test_an_unreachable_couchdb_is_the_store_that_fails(tmp_path: Path) -> None:
    res = _cli("--hub-dir", str(tmp_path), "doctor", "--json")
    assert res.returncode == 2
    (tmp_path / "settings.json").write_text(
        '{"couchdb_url": "http://bangban:s3cret@127.0.0.1:9"}', encoding="utf-8")
    res = _cli("--hub-dir", str(tmp_path), "doctor")
    assert res.returncode == 2, res.stderr
    first = res.stdout.splitlines()[0]
    assert first.startswith("FAIL  store") and "CouchDB at 127.0.0.1:9" in first
    assert "s3cret" not in res.stdout and "BANGBAN_COUCHDB_URL" not in res.stdout  # set in
    assert f"couchdb_url in {tmp_path / 'settings.json'}" in res.stdout  # settings.json


def test_a_couchdb_url_without_credentials_is_named_once(tmp_path: Path) -> None:
    """Without ``USER:PASSWORD@`` the doctor's "CouchDB at http://HOST" did not match the
    store's "CouchDB at HOST …" reason, and the line said the address twice."""
    (tmp_path / "settings.json").write_text('{"couchdb_url": "http://127.0.0.1:9"}',
                                            encoding="utf-8")
    res = _cli("--hub-dir", str(tmp_path), "doctor")
    assert res.returncode == 2, res.stderr
    first = res.stdout.splitlines()[0]
    assert first.startswith("FAIL  store") and first.count("127.0.0.1:9") == 1, first
    # the URL is in settings.json: named there, not as a variable that was never set
    assert (f"CouchDB at 127.0.0.1:9 (couchdb_url in {tmp_path / 'settings.json'}): "
            "connection refused") in first, first
    assert "BANGBAN_COUCHDB_URL" not in first
    hint = res.stdout.splitlines()[1]  # what to do names that place too
    assert "→" in hint and f"couchdb_url in {tmp_path / 'settings.json'} right" in hint, hint


def test_a_wrong_key_passphrase_says_which_one(world: World,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BANGBAN_HUB_KEY_PASSPHRASE", "wrong passphrase")
    world.hub.reset_keys()
    try:
        check = _by_name(doctor.run(world.hub))["keys"]
        assert "BANGBAN_HUB_KEY_PASSPHRASE" in check.hint and "keys/passphrase" in check.hint
    finally:
        monkeypatch.delenv("BANGBAN_HUB_KEY_PASSPHRASE")
        world.hub.reset_keys()


def test_next_years_calendar_is_due_in_november(world: World) -> None:
    """chinesecalendar stops at 2026: without a hub calendar, 2027's deadlines count
    Monday–Friday (estimated); the operator hears of it before the year turns."""
    from hub import admin

    assert doctor.check_calendar(world.hub, dt.date(2026, 6, 1)).status == "ok"
    late = doctor.check_calendar(world.hub, dt.date(2026, 11, 26))
    assert late.status == "warn" and "2027" in late.detail and "calendar set --year 2027" in late.hint
    admin.set_calendar(world.hub, year=2027, holidays=["2027-01-01"], workdays=[])
    assert doctor.check_calendar(world.hub, dt.date(2026, 11, 26)).status == "ok"
    assert doctor.check_calendar(world.hub, dt.date(2027, 12, 1)).status == "warn"  # 2028


def test_a_provisional_calendar_is_no_calendar_to_the_doctor(world: World) -> None:
    """`hub init --sample-reference` stores 2027's provisional calendar (元旦, 劳动节,
    国庆节 alone): the doctor said "working days known for 2026, 2027", and the operator
    never set the Spring Festival the State Council published in November."""
    from hub import admin
    from schemas import sample

    provisional = sample.calendar_doc(2027)
    admin.set_calendar(world.hub, year=2027, holidays=provisional["holidays"],
                       workdays=provisional["workdays"], source=provisional["source"])
    check = doctor.check_calendar(world.hub, dt.date(2026, 11, 26))
    assert check.status == "warn" and "2027" in check.detail and "provisional" in check.detail
    assert "calendar set --year 2027" in check.hint
    admin.set_calendar(world.hub, year=2027, holidays=[*provisional["holidays"], "2027-02-08"],
                       workdays=[], source="国务院办公厅关于2027年部分节假日安排的通知")
    assert doctor.check_calendar(world.hub, dt.date(2026, 11, 26)).status == "ok"


def test_a_store_that_fails_on_a_full_disk_shows_the_disk(world: World,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    from sync.errors import ServiceUnavailable

    def full(*args: Any, **kw: Any) -> Any:
        raise ServiceUnavailable("sqlite: disk I/O error")

    monkeypatch.setattr(type(world.hub.stores.main), "info", full)
    monkeypatch.setattr(doctor, "DISK_WARN_BYTES", 2**62)  # this disk counts as full
    checks = _by_name(doctor.run(world.hub))
    assert checks["store"].status == "fail" and "CouchDB" not in checks["store"].hint
    assert "disk" in checks["store"].hint and checks["disk"].status == "warn"


def test_keys_of_another_hub_fail(world: World, tmp_path: Path) -> None:
    """A restore into a folder holding another hub's keys/: they unlock, but sign nothing
    a station accepts."""
    import shutil

    from hub import admin
    from hub.core import Hub
    from hub.settings import Settings

    other = Hub(Settings.load({"hub_dir": str(tmp_path / "other"), "scrypt_n": 1024}, environ={}))
    try:
        admin.init(other, city="410600", name="x")
    finally:
        other.close()
    keys = Path(world.hub.settings.hub_dir) / "keys"
    shutil.move(str(keys), str(tmp_path / "ours"))
    shutil.copytree(tmp_path / "other" / "keys", keys)
    world.hub.reset_keys()
    try:
        check = _by_name(doctor.run(world.hub))["keys"]
        assert check.status == "fail" and "another hub" in check.detail
    finally:
        shutil.rmtree(keys)
        shutil.move(str(tmp_path / "ours"), str(keys))
        world.hub.reset_keys()


class _StandIn:
    """A server on a port: a hub's gateway as a probe sees it (``/_hub/health`` and the
    welcome's uuid), or anything else (``health=False``: 404 there, as CouchDB answers)."""

    def __init__(self, uuid: str, health: bool = True, health_status: int = 200) -> None:
        import http.server
        import json
        import threading

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                found = {"/_hub/health": {"ok": True}, "/": {"couchdb": "Welcome", "uuid": uuid}}
                body = found.get(self.path) if health or self.path == "/" else None
                data = json.dumps(body or {"error": "not_found"}).encode()
                status = health_status if self.path == "/_hub/health" and body else 200
                self.send_response(status if body else 404)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = http.server.HTTPServer(("127.0.0.1", 0), Handler)  # bound: held
        self.port = self.server.server_port
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def _probe(port: int, uuid: str, host: str = "127.0.0.1") -> doctor.Check:
    from types import SimpleNamespace

    return doctor.check_gateway(SimpleNamespace(  # type: ignore[arg-type]
        settings=SimpleNamespace(hub_host=host, hub_port=port), identity={"uuid": uuid}))


def test_the_gateway_is_probed_like_a_load_balancer_would() -> None:
    """Every other check reads the store: with `hub serve` down they all looked fine."""
    import socket

    with socket.socket() as s:  # bound, never listening: refused, and nobody else's port
        s.bind(("127.0.0.1", 0))
        down = _probe(s.getsockname()[1], "a" * 32)
    assert down.status == "warn" and "hub serve" in down.hint
    server = _StandIn("a" * 32)
    try:
        up = _probe(server.port, "a" * 32, host="0.0.0.0")
        assert up.status == "ok", up
    finally:
        server.close()


def test_another_server_on_the_port_is_not_this_hub(world: World) -> None:
    """The gateway check said OK when any server answered {"ok": true} on the port: another
    hub (a test install, the old one after a move) or a CouchDB. It now compares the uuid
    the server's welcome gives with this hub's identity, and says who answers."""
    import threading

    from werkzeug.serving import make_server

    from hub.app import create_app

    ours = str(world.hub.identity["uuid"])
    port_of = "another server answers on port {}"
    other_hub = _StandIn("b" * 32)  # a hub's gateway, of another hub
    couch = _StandIn("c" * 32, health=False)  # CouchDB: a welcome, no /_hub/health
    real = make_server("127.0.0.1", 0, create_app(hub=world.hub), threaded=True)
    threading.Thread(target=real.serve_forever, daemon=True).start()
    try:
        check = _probe(other_hub.port, ours)
        assert check.status == "fail" and port_of.format(other_hub.port) in check.detail
        assert "b" * 32 in check.detail and "BANGBAN_HUB_PORT" in check.hint
        check = _probe(couch.port, ours)
        assert check.status == "fail" and port_of.format(couch.port) in check.detail
        assert "HTTP 404" in check.detail
        # this hub's own gateway is recognised; seen from a second hub's folder it is not
        check = _probe(real.server_port, ours)
        assert check.status == "ok" and ours in check.detail, check
        check = _probe(real.server_port, "d" * 32)
        assert check.status == "fail" and port_of.format(real.server_port) in check.detail
    finally:
        real.shutdown()
        real.server_close()
        other_hub.close()
        couch.close()


def test_this_hub_failing_is_a_warning_not_another_server() -> None:
    """A 5xx from /_hub/health (the hub's store down) was reported as "another server
    answers on the port": the operator looks for an intruder while the hub needs its
    store. The welcome's uuid tells them apart."""
    ours = "e" * 32
    failing = _StandIn(ours, health_status=503)
    stranger = _StandIn("f" * 32, health_status=503)
    try:
        check = _probe(failing.port, ours)
        assert check.status == "warn" and "this hub answers HTTP 503" in check.detail, check
        assert "another server" not in check.detail
        check = _probe(stranger.port, ours)
        assert check.status == "fail" and "another server answers" in check.detail, check
    finally:
        failing.close()
        stranger.close()


def test_a_settings_failure_says_what_to_do(tmp_path: Path, monkeypatch: Any) -> None:
    """Both said only "see docs/operations.md"."""
    from hub.cli import cmd_doctor

    class Args:
        hub_dir, json = str(tmp_path / "no-hub"), True

    monkeypatch.delenv("BANGBAN_HUB_PORT", raising=False)
    out = _doctor_json(cmd_doctor, Args)
    assert "hub init" in out["settings"]["hint"] and "BANGBAN_HUB_DIR" in out["settings"]["hint"]
    monkeypatch.setenv("BANGBAN_HUB_PORT", "abc")
    out = _doctor_json(cmd_doctor, Args)
    assert "BANGBAN_HUB_PORT" in out["settings"]["detail"]
    assert "/etc/bangban/hub.env" in out["settings"]["hint"]


def _doctor_json(cmd: Any, args: Any) -> dict[str, Any]:
    import contextlib
    import io
    import json

    buf = io.StringIO()
    with contextlib.redirect_stdout(buf):
        assert cmd(args) == 2
    return {c["name"]: c for c in json.loads(buf.getvalue())}


def test_a_lost_private_database_points_to_the_backup(tmp_path: Path) -> None:
    """The main database there, `P-hub` gone (deleted by hand, a half-copied CouchDB): the
    doctor said "no hub database bangban-hub …; `bangban hub init` only to start a new hub"
    with the hint for a CouchDB that does not run, on an embedded store."""
    from hub import admin
    from hub.core import Hub
    from hub.settings import Settings

    config = {"hub_dir": str(tmp_path / "hub"), "scrypt_n": 1024}
    hub = Hub(Settings.load(config, environ={}))
    admin.init(hub, city="410600", name="鹤壁市政务服务中心")
    hub.close()
    (tmp_path / "hub" / "db" / "bangban-hub.sqlite").unlink()
    hub = Hub(Settings.load(config, environ={}))
    try:
        store = doctor.run(hub)[0]
    finally:
        hub.close()
    assert store.name == "store" and store.status == "fail"
    assert "bangban-hub" in store.detail and "hub restore" in store.hint, store
    assert "CouchDB" not in store.hint


def test_receipts_waiting_in_the_gateway_are_shown(world: World,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    """Receipts whose write failed after their batch was stored wait in the gateway's
    memory (hub.receipts), where the doctor, another process, could not see them: the hub
    doctor said all was well while a restart would lose their receipt times. The running
    hub's /_hub/health reports its count now, and the gateway check warns with it (one
    gateway's of N with --processes N), until the next receipt written takes them."""
    import threading

    from werkzeug.serving import make_server

    from hub.app import create_app
    from hub.receipts import waiting_receipts
    from tests.diskfull import full_disk
    from tests.hub.conftest import VILLAGE_B

    a, b = world.node(VILLAGE_A), world.node(VILLAGE_B)
    b.new_case()
    world.sync(VILLAGE_B)  # P-receipts exists (it is made on first use)
    stores, ours = world.hub.stores, str(world.hub.identity["uuid"])
    real = make_server("127.0.0.1", 0, create_app(hub=world.hub), threaded=True)
    threading.Thread(target=real.serve_forever, daemon=True).start()
    try:
        assert _probe(real.server_port, ours).status == "ok"
        a.new_case()
        with full_disk(stores.receipts):
            assert a.sync()["refused"] == 0
        waiting = waiting_receipts(stores)
        assert waiting >= 1
        check = _probe(real.server_port, ours)
        assert check.status == "warn" and ours in check.detail, check
        assert f"{waiting} receipt(s) of stored batches wait in its memory" in check.detail
        assert "Do not restart" in check.hint and "free the disk" in check.hint
        monkeypatch.setitem(world.hub.settings._values, "hub_processes", 3)
        check = _probe(real.server_port, ours)
        assert "wait in the gateway that answered (one of 3; each keeps its own)" in check.detail
        b.new_case()
        world.sync(VILLAGE_B)  # room again: the next receipt takes those that waited
        assert waiting_receipts(stores) == 0
        assert _probe(real.server_port, ours).status == "ok"
    finally:
        real.shutdown()
        real.server_close()
