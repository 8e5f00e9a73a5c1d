"""What the clerk is told about sync with the hub down (design §4: offline first): in words,
that work goes on here and uploads by itself; and the count of what waits for upload and
the last good sync survive a restart of the laptop (before: after a restart offline the page
said "never synced" and "0 waiting", although nothing had been pushed)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask_babel import Babel

from node.core import Node
from node.errors import SyncFailed
from node.settings import load
from tests.node.conftest import PASSPHRASE, make_node_dir


def _dir(path: Path) -> Path:  # a hub URL where nothing listens
    return make_node_dir(path, db_url="http://127.0.0.1:9/bangban")


def _node(folder: Path) -> Node:
    node = Node(load({"node_dir": str(folder), "sync_timeout": 2.0, "sync_interval": 0}))
    node.unlock(PASSPHRASE)
    return node


def _consult(node: Node) -> str:
    cw = node.casework
    case_id = cw.open_case(service_type="assist", mode="nearby", focus_area="livelihood",
                           applicant_kind="person", private={"applicant_name": "赵六"})
    cw.record(case_id, "consultation", {"channel": "window", "answered": True},
              {"name": "赵六", "question": "怎么办？"})
    return case_id


def _done(monkeypatch: pytest.MonkeyPatch) -> type:
    """Every round the hub accepts whole (no network in a unit test); the result's class."""

    class Done:
        docs_written = 0
        failures: list[Any] = []

        def summary(self) -> dict[str, Any]:
            return {}

    class Remote:
        def close(self) -> None:
            pass

    monkeypatch.setattr("sync.replicate.replicate", lambda src, dst, opts: Done())
    monkeypatch.setattr("sync.open.open_db", lambda url, timeout=None: Remote())
    return Done


def _label(node: Node) -> str:
    app = Flask("t")
    app.config["BABEL_DEFAULT_LOCALE"] = "zh_CN"
    Babel(app)
    with app.test_request_context():
        return node.syncer.state.label()


def test_hub_down_is_said_in_words_with_the_automatic_retry(tmp_path: Path) -> None:
    node = _node(_dir(tmp_path / "n"))
    _consult(node)
    with pytest.raises(SyncFailed):
        node.syncer.sync_once()
    st = node.syncer.state
    assert st.last_error and "无法连接平台" in st.last_error and " / " in st.last_error
    assert "HTTPConnectionPool" not in st.last_error  # no library text for the clerk
    label = _label(node)
    assert "离线" in label and "自动重试" in label and "待上传" in label
    node.close()


def test_pending_and_last_sync_survive_a_restart(tmp_path: Path,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    folder = _dir(tmp_path / "n")
    node = _node(folder)
    _consult(node)
    node.close()
    node = _node(folder)  # restarted, still offline: nothing was ever pushed
    assert node.syncer.state.pending >= 3  # keyring, header, consultation
    assert "待上传" in _label(node)

    _done(monkeypatch)
    node.syncer.sync_once()
    node.syncer.sync_once()  # the state is updated in place, round after round
    assert node.syncer.state.status == "ok"
    assert node.syncer.state.pending == 0 and node.syncer.state.last_ok
    last_ok = node.syncer.state.last_ok
    node.close()
    node = _node(folder)
    assert node.syncer.state.pending == 0 and node.syncer.state.last_ok == last_ok
    _consult(node)
    node.close()
    node = _node(folder)
    assert node.syncer.state.pending >= 3 and node.syncer.state.last_ok == last_ok
    node.close()


def test_the_cases_waiting_for_upload_are_listed_until_pushed(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The case list's 待上传 view and badge read the index's ``pending``, which nothing
    ever set: the view was always empty. A local write marks its case; a push clears it."""
    node = _node(_dir(tmp_path / "n"))
    case_id = _consult(node)
    assert node.index.pending_ids() == {case_id}
    assert [r["case_id"] for r in node.index.search(view="pending").rows] == [case_id]
    _done(monkeypatch)
    node.syncer.sync_once()
    row = node.index.get(case_id)
    assert node.index.pending_ids() == set() and row is not None and row["pending"] == 0
    node.close()


def test_a_hub_that_refuses_the_device_is_said_in_words(tmp_path: Path) -> None:
    """A 401 without the wipe instruction (a wrong secret): the sync page said only
    'hub refused the device: …' in English."""
    from http.server import ThreadingHTTPServer

    from tests.node.conftest import answering, serving

    Refused = answering(401, {"error": "unauthorized", "reason": "Name or password is incorrect."})
    with serving(ThreadingHTTPServer(("127.0.0.1", 0), Refused)) as url:
        node = _node(make_node_dir(tmp_path / "n", db_url=f"{url}/bangban"))
        with pytest.raises(SyncFailed):
            node.syncer.sync_once()
    st = node.syncer.state
    assert st.status == "error" and st.last_error and "平台拒绝了本设备" in st.last_error
    node.close()


def _round_against(folder: Path, status: int, body: dict[str, Any]) -> tuple[Node, Any]:
    """A failed round against a hub address answering ``status`` and ``body`` to
    everything; the node and its sync state."""
    from http.server import ThreadingHTTPServer

    from tests.node.conftest import answering, serving

    with serving(ThreadingHTTPServer(("127.0.0.1", 0), answering(status, body))) as url:
        node = _node(make_node_dir(folder, db_url=f"{url}/bangban"))
        with pytest.raises(SyncFailed):
            node.syncer.sync_once()
    return node, node.syncer.state


def test_a_hub_whose_database_is_down_is_not_said_unreachable(tmp_path: Path) -> None:
    """The hub answers 503 while its CouchDB is down (hub.app.STORE_DOWN): the page said
    "the network is down or the hub is not running", and the station looked at its network
    instead of calling the hub's operator."""
    node, st = _round_against(tmp_path / "n", 503, {
        "error": "service_unavailable", "reason": "the hub's database does not answer"})
    assert st.status == "offline" and st.last_error, st
    assert "数据库暂不可用" in st.last_error and "operator" in st.last_error
    assert "网络中断" not in st.last_error and "自动上传" in st.last_error
    assert _label(node).startswith("平台出错") and "离线" not in _label(node)
    node.close()


def test_a_hub_without_the_laptops_database_is_not_said_unreachable(tmp_path: Path) -> None:
    """404 for the enrollment's db_url (a hub restored under another name, a proxy path):
    the page said "the network is down or the hub is not running"."""
    node, st = _round_against(tmp_path / "n", 404, {
        "error": "not_found", "reason": "Database does not exist."})
    assert st.last_error and "db_url" in st.last_error and "网络中断" not in st.last_error
    node.close()


def test_the_retry_after_an_offline_round_still_says_offline_and_what_waits(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """On a bad link every request of a round hangs until sync_timeout: the badge said
    "同步中" (syncing) for most of the day, never that the hub was out of reach nor how many
    changes were still on this laptop only."""
    node = _node(_dir(tmp_path / "n"))
    _consult(node)
    with pytest.raises(SyncFailed):
        node.syncer.sync_once()
    seen: list[str] = []

    def hanging(url: str, timeout: float | None = None) -> Any:
        seen.append(_label(node))  # the next round is running, the link still dead
        raise TimeoutError("timed out")

    monkeypatch.setattr("sync.open.open_db", hanging)
    with pytest.raises(SyncFailed):
        node.syncer.sync_once()
    assert node.syncer.state.pending >= 3
    assert len(seen) == 1 and "离线" in seen[0] and "待上传" in seen[0], seen
    node.close()


def test_sync_now_leaves_the_round_to_the_background_loop(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """On a bad link "立即同步" ran the round in the clerk's request: the page hung for
    sync_timeout (20 s) per request, longer behind a round already running. With the
    background loop running, the button wakes it and the page answers at once."""
    import threading

    from node.app import create_app
    from node.syncer import wait_for
    from tests.node.conftest import csrf

    app = create_app({"node_dir": str(_dir(tmp_path / "n")), "sync_interval": 3600,
                      "sync_timeout": 2.0, "secret_key": "t", "TESTING": True})
    client = app.test_client()
    node = app.extensions["bangban_node"]
    try:
        assert client.post("/unlock", data={"passphrase": PASSPHRASE,
                                            "csrf": csrf(client)}).status_code == 302
        assert wait_for(lambda: node.syncer.state.rounds + (node.syncer.state.status
                                                            == "offline") > 0, 30)
        rounds_by: list[str] = []

        def hub(url: str, timeout: float | None = None) -> Any:
            rounds_by.append(threading.current_thread().name)
            raise TimeoutError("timed out")

        monkeypatch.setattr("sync.open.open_db", hub)
        r = client.post("/sync/now", data={"csrf": csrf(client)})
        assert r.status_code == 302
        assert wait_for(lambda: bool(rounds_by), 30)
        assert rounds_by == ["bangban-node-sync"], rounds_by
    finally:
        node.close()


def test_a_hub_that_swallows_packets_is_said_offline_at_the_first_timeout(
        tmp_path: Path) -> None:
    # A dead link whose TCP still "works" (a radio dead zone, a black-holed route): each
    # attempt waits for the timeout. Before: the badge said "syncing" through all the
    # round's attempts (a minute and more at the default timeout), round after round.
    import socket
    import threading

    from ops.pouchdb_server import reserve_port

    hole = reserve_port()
    hole.listen(16)
    accepted: list[socket.socket] = []
    stop = threading.Event()

    def swallow() -> None:
        # The first request (the HEAD that opens the hub's database) is answered: the
        # link dies after the round has begun, and every later request is swallowed.
        hole.settimeout(0.05)
        while not stop.is_set():
            try:
                conn = hole.accept()[0]
            except OSError:
                continue
            accepted.append(conn)
            if len(accepted) == 1:
                conn.settimeout(10)
                conn.recv(65536)
                conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n")

    taker = threading.Thread(target=swallow, daemon=True)
    taker.start()
    port = hole.getsockname()[1]
    folder = make_node_dir(tmp_path / "n", db_url=f"http://127.0.0.1:{port}/bangban")
    node = _node(folder)
    seen: list[int] = []

    def sync() -> None:
        with pytest.raises(SyncFailed):
            node.syncer.sync_once()

    rounds = threading.Thread(target=sync)
    rounds.start()
    try:
        while rounds.is_alive() and not seen:
            if node.syncer.state.status == "offline":
                seen.append(len(accepted))  # connections tried when the badge turned
            stop.wait(0.01)
        rounds.join(60)
        assert seen, "the badge never said offline while the round was retrying"
        assert seen[0] < 3  # at the first failed attempt, not after the last (3)
        assert "无法连接平台" in str(node.syncer.state.last_error)
        assert node.syncer.state.status == "offline"
    finally:
        stop.set()
        taker.join(5)
        for conn in accepted:
            conn.close()
        hole.close()
        node.close()


def test_the_badge_is_syncing_again_once_an_upload_gets_through(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # A link cut every ~200 kB: a retry says offline, the next upload gets through; the
    # badge must not keep the offline words while the scan goes up (bad-link e2e run).
    from types import SimpleNamespace

    from sync.errors import TransportError

    done = _done(monkeypatch)()
    node = _node(_dir(tmp_path / "n"))
    st = node.syncer.state
    seen: list[tuple[str, str | None]] = []

    def cut_once(src: Any, dst: Any, opts: Any) -> Any:
        opts.on_retry(TransportError("connection reset"), 1, 0.0)
        seen.append((st.status, st.last_error))
        opts.progress(SimpleNamespace(docs_written=3, docs_read=3, pending=5))
        seen.append((st.status, st.last_error))
        return done

    monkeypatch.setattr("sync.replicate.replicate", cut_once)
    node.syncer.sync_once()
    assert seen[0][0] == "offline" and "无法连接平台" in str(seen[0][1])
    assert seen[1] == ("running", None)
    assert st.status == "ok" and st.docs_done == 3
    node.close()


def test_one_break_after_documents_went_through_is_not_offline(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # A 5 MB scan on a link cut every ~200 kB: a break per few uploads; the badge flipped
    # to "offline" at each one while the scan went up. Twice in a row is offline.
    from types import SimpleNamespace

    from sync.errors import TransportError

    done = _done(monkeypatch)()
    node = _node(_dir(tmp_path / "n"))
    st = node.syncer.state
    seen: list[str] = []

    def cut(src: Any, dst: Any, opts: Any) -> Any:
        opts.progress(SimpleNamespace(docs_written=3, docs_read=3, pending=5))
        opts.on_retry(TransportError("connection reset"), 1, 0.0)
        seen.append(st.status)
        opts.on_retry(TransportError("connection reset"), 2, 0.0)
        seen.append(st.status)
        return done

    monkeypatch.setattr("sync.replicate.replicate", cut)
    node.syncer.sync_once()
    assert seen[:2] == ["running", "offline"]
    node.close()


def test_offline_stays_offline_while_the_next_round_tries_to_reach_the_hub(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Each round opens the hub's database first; on a link that swallows packets that waits
    # for the timeout (20 s), and the badge said "syncing" that long every round.
    from sync.errors import TransportError

    node = _node(_dir(tmp_path / "n"))
    seen: list[str] = []

    def hole(url: str, timeout: Any = None) -> Any:
        seen.append(node.syncer.state.status)
        raise TransportError("ReadTimeout: Read timed out.")

    monkeypatch.setattr("sync.open.open_db", hole)
    for _ in range(2):
        with pytest.raises(SyncFailed):
            node.syncer.sync_once()
    assert seen == ["running", "offline"] and node.syncer.state.status == "offline"
    done = _done(monkeypatch)  # the link is back: the round says running once the hub answers
    assert done and node.syncer.sync_once() == {"push": {}, "pull": {}}
    assert node.syncer.state.status == "ok"
    node.close()


@pytest.mark.parametrize("answer", [401, 503])
def test_the_link_coming_back_starts_a_round_within_seconds(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, answer: int) -> None:
    """After an offline round the loop waited out the whole interval (30 s by default, plus
    a timeout) before it tried again, although the clerk was told uploads go "by themselves
    when the link is back". It now checks every few seconds whether the hub answers and
    starts a round as soon as it does; the interval here is an hour, so only that check
    can start the second round. A 503 is a hub too busy for the round: the stations do not
    all come back at it (the round's own retries back off)."""
    import http.server
    import threading

    from node.syncer import wait_for
    from ops.pouchdb_server import reserve_port

    hole = reserve_port()  # bound, not listening: connections are refused (hub down)
    port = int(hole.getsockname()[1])
    folder = make_node_dir(tmp_path / "n", db_url=f"http://127.0.0.1:{port}/bangban")
    node = Node(load({"node_dir": str(folder), "sync_timeout": 2.0, "sync_interval": 3600,
                      "sync_probe_interval": 0.2}))
    node.unlock(PASSPHRASE)
    up = threading.Event()
    _done(monkeypatch)  # a round the hub accepts whole once it is reached

    class Remote:
        def close(self) -> None:
            pass

    def open_db(url: str, timeout: float | None = None) -> Any:
        if not up.is_set():  # the hub down: the round fails as on a refused connection
            raise ConnectionRefusedError("refused")
        return Remote()

    monkeypatch.setattr("sync.open.open_db", open_db)
    server: http.server.HTTPServer | None = None
    try:
        node.syncer.start_background()
        assert wait_for(lambda: node.syncer.state.status == "offline", 30)
        assert node.syncer.state.rounds == 0

        class Hub(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                self.send_response(answer)  # a 401: wrong credentials, still the hub
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        hole.close()
        server = http.server.HTTPServer(("127.0.0.1", port), Hub)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        up.set()
        if answer == 503:
            assert not wait_for(lambda: node.syncer.state.rounds >= 1, 3)
            return
        assert wait_for(lambda: node.syncer.state.rounds >= 1, 15), node.syncer.state
        assert node.syncer.state.status == "ok"
    finally:
        node.syncer.stop()
        if server is not None:
            server.shutdown()
            server.server_close()
        hole.close()
        node.close()


def test_an_unexpected_error_in_the_loop_is_said_in_words_and_logged(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture) -> None:
    """A round failing on an error no round expects (here the case index's file closed
    under it) showed the clerk ``ProgrammingError('Cannot operate on a closed database.')``
    on the sync page. It says now, in both languages, that the round failed, that
    nothing is lost, that it retries and whom to call; the error goes to the log."""
    from node.syncer import wait_for

    node = Node(load({"node_dir": str(_dir(tmp_path / "n")), "sync_timeout": 2.0,
                      "sync_interval": 3600, "sync_probe_interval": 0}))
    node.unlock(PASSPHRASE)
    _done(monkeypatch)
    node.index.close()  # any read of it raises sqlite3.ProgrammingError
    try:
        node.syncer.start_background()
        assert wait_for(lambda: node.syncer.state.status == "error", 30)
        err = str(node.syncer.state.last_error)
        assert "意外错误" in err and "没有丢失" in err and "自动重试" in err and "联系管理员" in err
        assert "unexpected error" in err and "nothing is lost" in err and "call the operator" in err
        assert "（ProgrammingError）" in err and "closed database" not in err
        assert "ProgrammingError(" not in err
        assert wait_for(lambda: any(r.exc_info and "closed database" in str(r.exc_info[1])
                                    for r in caplog.records if r.name == "bangban.node"), 5)
        assert _label(node).startswith("同步出错，自动重试")
    finally:
        node.syncer.stop()
        node.store.close()
