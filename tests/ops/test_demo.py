"""``bangban demo --dir DIR`` wipes DIR first: only a folder a demo made, or an empty one."""

from __future__ import annotations

from pathlib import Path

import pytest

from ops import demo
from ops.cli import main


def test_a_folder_the_demo_did_not_make_is_never_wiped(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    hub = tmp_path / "bangban-hub"  # say, --dir /var/lib/bangban-hub by mistake
    (hub / "keys").mkdir(parents=True)
    (hub / "keys" / "hub.keychain.json").write_text("{}", encoding="utf-8")
    assert main(["demo", "--dir", str(hub), "--once"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and f"--dir {hub}" in err
    assert (hub / "keys" / "hub.keychain.json").exists()


def test_what_may_be_wiped(tmp_path: Path) -> None:
    assert demo._wipe_refused(tmp_path / "new") is None
    assert demo._wipe_refused(tmp_path) is None  # empty
    (tmp_path / "notes.txt").write_text("x", encoding="utf-8")
    assert demo._wipe_refused(tmp_path) is not None
    (tmp_path / demo.MARKER).touch()
    assert demo._wipe_refused(tmp_path) is None
    old = tmp_path / "old-demo"  # made before the marker existed
    old.mkdir()
    (old / "devices.json").write_text("{}", encoding="utf-8")
    assert demo._wipe_refused(old) is None


class _Started(Exception):
    pass


def _port_held_from_others(cmd: list[str]) -> bool:
    """Could another program bind the ``--port`` of ``cmd`` right now?"""
    import socket

    port = int(cmd[cmd.index("--port") + 1])
    with socket.socket() as other:
        try:
            other.bind(("127.0.0.1", port))
        except OSError:
            return True
    return False


def test_a_real_node_s_port_is_held_until_the_node_listens(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """`bangban demo` picked a "free" port for each real node and closed it; until the node
    bound it another process on the machine could be given it (the node then did not start)."""
    from ops import demo_station

    seen: list[bool] = []

    def popen(cmd: list[str], **kw: object) -> None:
        seen.append(_port_held_from_others(cmd))
        raise _Started

    monkeypatch.setattr(demo_station.subprocess, "Popen", popen)
    station = demo_station.RealStation(tmp_path / "node", {"device_id": "410602101201-A1"}, env={})
    with pytest.raises(_Started):
        station.serve()
    assert seen == [True]


def test_pouchdb_server_s_port_is_held_until_it_answers(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from ops import pouchdb_server

    seen: list[bool] = []

    def popen(cmd: list[str], **kw: object) -> None:
        seen.append(_port_held_from_others(cmd))
        raise _Started

    monkeypatch.setattr(pouchdb_server, "BIN", Path(__file__))  # installed or not
    monkeypatch.setattr(pouchdb_server.tempfile, "mkdtemp", lambda prefix: str(tmp_path))
    monkeypatch.setattr(pouchdb_server.subprocess, "Popen", popen)
    with pytest.raises(_Started):
        pouchdb_server.start()
    assert seen == [True]


def test_a_hub_that_does_not_answer_does_not_end_the_running_demo(tmp_path: Path) -> None:
    """Trying the stations offline (the hub paused) ended `bangban demo`: the round's health
    request timed out, and the demo stopped the hub and every station's UI with it."""
    net = demo.DemoNetwork(tmp_path, real_nodes=True)
    net.hub.url = "http://127.0.0.1:9"

    def health() -> dict[str, object]:
        raise TimeoutError("timed out")

    net.hub.health = health  # type: ignore[method-assign]
    line = demo.round_line(net)
    assert "does not answer" in line and "timed out" in line and net.hub.url in line


@pytest.mark.couchdb
def test_a_couchdb_holding_a_hub_already_is_said_without_a_traceback(
        tmp_path: Path, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    """`bangban demo --couchdb-url` on a CouchDB whose `bangban` databases hold a hub ended
    in a traceback ("AlreadyExists: the hub in DIR/hub is already initialised"), and the
    prefix could not be changed (BANGBAN_DB_PREFIX was ignored)."""
    from hub import admin
    from hub.core import Hub
    from hub.settings import Settings
    from ops import pouchdb_server

    monkeypatch.delenv("BANGBAN_DB_PREFIX", raising=False)
    server = pouchdb_server.start()  # its own: the demo's default prefix must be taken
    try:
        hub = Hub(Settings.load({"hub_dir": str(tmp_path / "real"), "scrypt_n": 1024,
                                 "couchdb_url": server.url}, environ={}))
        try:
            admin.init(hub, city="410600", name="鹤壁市政务服务中心")
        finally:
            hub.close()
        demo_run = ["demo", "--dir", str(tmp_path / "demo"), "--once", "--nodes", "sim",
                    "--couchdb-url", server.url]
        assert main(demo_run) == 2
        err = capsys.readouterr().err
        assert "BANGBAN_DB_PREFIX" in err and "Traceback" not in err
        assert pouchdb_server.ADMIN_PASSWORD not in err
    finally:
        server.stop()


def _hub_databases(url: str, prefix: str) -> list[str]:
    from sync.open import open_server

    server = open_server(url)
    try:
        return sorted(n for n in server.all_dbs() if n == prefix or n.startswith(prefix + "-"))
    finally:
        server.close()


@pytest.mark.couchdb
@pytest.mark.parametrize("ending", ["--once", "Ctrl-C"])
def test_the_demo_deletes_the_couchdb_databases_it_made_and_no_others(
        tmp_path: Path, couchdb_url: str, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str], ending: str) -> None:
    """Each `bangban demo --couchdb-url` left its hub's databases behind (a whole hub), and
    the next run under the same prefix was refused."""
    import uuid

    from sync.open import open_server

    prefix = "d" + uuid.uuid4().hex[:10]
    monkeypatch.setenv("BANGBAN_DB_PREFIX", prefix)
    theirs = f"{prefix}-scope-410602101201"  # there before: the demo writes in it, keeps it
    server = open_server(couchdb_url)
    try:
        server.create_db(theirs)
        run = ["demo", "--dir", str(tmp_path / "demo"), "--nodes", "sim", "--couchdb-url",
               couchdb_url]
        if ending == "--once":
            run.append("--once")
        else:  # Ctrl-C (or SIGTERM) while it syncs every --interval
            def ctrl_c(net: object) -> str:
                raise KeyboardInterrupt

            monkeypatch.setattr(demo, "round_line", ctrl_c)
            run += ["--interval", "0"]
        assert main(run) == 0, capsys.readouterr().err
        assert _hub_databases(couchdb_url, prefix) == [theirs]
        assert "deleted the" in capsys.readouterr().err
    finally:
        server.delete_db(theirs)
        server.close()


@pytest.mark.couchdb
def test_the_demo_with_keep_leaves_its_couchdb_databases(
        tmp_path: Path, couchdb_url: str, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    import uuid

    from sync.open import open_server

    prefix = "k" + uuid.uuid4().hex[:10]
    monkeypatch.setenv("BANGBAN_DB_PREFIX", prefix)
    try:
        assert main(["demo", "--dir", str(tmp_path / "demo"), "--nodes", "sim", "--once",
                     "--keep", "--couchdb-url", couchdb_url]) == 0
        kept = _hub_databases(couchdb_url, prefix)
        assert {prefix, f"{prefix}-hub", f"{prefix}-receipts"} <= set(kept), kept
        assert f"stay (--keep): {prefix}," in capsys.readouterr().err
    finally:
        server = open_server(couchdb_url)
        for name in _hub_databases(couchdb_url, prefix):
            server.delete_db(name)
        server.close()


def test_a_demo_station_whose_secret_starts_with_a_dash_is_initialised(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A device secret is base64url (hub.auth.new_secret), so one in 64 starts with '-';
    the demo passed it as ``--secret VALUE`` and argparse took it for an option: `bangban
    node init` failed with "argument --secret: expected one argument" and the demo with it
    (a CI rehearsal's test_a_terminated_demo_stops_its_servers)."""
    from ops import demo_station
    from ops.cli import build_parser

    seen: list[list[str]] = []

    def run(cmd: list[str], **kw: object) -> None:
        seen.append(cmd)
        raise _Started

    monkeypatch.setattr(demo_station.subprocess, "run", run)
    secret = "-Zk3" + "a" * 39
    station = demo_station.RealStation(
        tmp_path / "node", {"device_id": "410602101201-A1", "secret": secret,
                            "hub_url": "http://127.0.0.1:9", "db_url": "http://127.0.0.1:9/db"},
        env={})
    with pytest.raises(_Started):
        station.init()
    args = build_parser().parse_args(seen[0][seen[0].index("ops.cli") + 1:])
    assert args.secret == secret
