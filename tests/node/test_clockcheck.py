"""The laptop's clock against the hub's (node/clockcheck.py, design.md §6): measured from
the hub's ``Date`` header, also on a 401; shown on every page while it is off."""

from __future__ import annotations

import threading
import time
import urllib.request
from collections.abc import Iterator
from email.utils import formatdate
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from node.clockcheck import measure_offset, offset_text

DAY = 86400.0


def _hub(date: str | float | None, status: int = 200) -> Any:
    """A hub whose ``Date`` header is ``date``, or, for a number, its clock that many seconds
    off ours, read when it answers as a real hub's is. (A Date fixed when the test started
    was seconds old by the time a loaded CI machine had started a node and asked: the
    measured offset missed its 3-second margin though nothing was wrong.)"""

    def header() -> str:
        if isinstance(date, float | int):
            return formatdate(time.time() + date, usegmt=True)
        return date or ""

    class Hub(BaseHTTPRequestHandler):
        def date_time_string(self, timestamp: float | None = None) -> str:
            return header()

        def do_GET(self) -> None:
            self.send_response_only(status)
            if date:
                self.send_header("Date", header())
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"{}")

        def log_message(self, *args: Any) -> None:
            pass

    return Hub


@pytest.fixture
def serve() -> Iterator[Any]:
    servers: list[ThreadingHTTPServer] = []

    def start(handler: Any) -> urllib.request.Request:
        server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        return urllib.request.Request(f"http://127.0.0.1:{server.server_port}/db")

    yield start
    for s in servers:
        s.shutdown()
        s.server_close()


def test_a_laptop_three_days_behind_is_measured(serve: Any) -> None:
    req = serve(_hub(3 * DAY))
    offset = measure_offset(req, timeout=5)
    assert offset is not None and abs(offset + 3 * DAY) < 3  # behind: negative
    assert offset_text(offset) == "慢 3 天" and offset_text(offset, en=True) == "3 days slow"


def test_a_refusal_still_tells_the_hubs_time(serve: Any) -> None:
    req = serve(_hub(-600.0, status=401))
    offset = measure_offset(req, timeout=5)
    assert offset is not None and abs(offset - 600) < 3
    assert offset_text(offset) == "快 10 分钟"


def test_no_answer_or_no_date_is_no_measurement(serve: Any) -> None:
    assert measure_offset(serve(_hub(None)), timeout=5) is None
    assert measure_offset(serve(_hub("not a date")), timeout=5) is None
    assert measure_offset(urllib.request.Request("http://127.0.0.1:9/db"), timeout=2) is None


def test_a_laptop_asleep_during_the_request_measures_nothing(serve: Any) -> None:
    """The lid shut (or the node stopped) between the request and its answer: the round
    trip took an hour of this laptop's clock, whose middle is half an hour from the
    hub's answer, and a right clock was measured 30 minutes fast (every page warned). A
    round trip longer than the request's own timeout was stalled: it says nothing."""
    req = serve(_hub(0.001))  # a hub on time (0.0 would send no Date)
    start = time.time()
    ticks = iter([start, start + 3600])
    assert measure_offset(req, timeout=5, now=lambda: next(ticks)) is None
    ticks = iter([start, start + 1])  # a slow answer within the timeout still counts
    offset = measure_offset(req, timeout=5, now=lambda: next(ticks))
    assert offset is not None and abs(offset) < 3


def test_every_page_warns_while_the_clock_is_off(unlocked: Any, app: Any) -> None:
    state = app.extensions["bangban_node"].syncer.state
    assert 'id="clock-warning"' not in unlocked.get("/").text  # never checked: no warning
    state.clock_offset = -2.5 * 3600
    page = unlocked.get("/").text
    assert 'id="clock-warning"' in page and "本机时钟比平台慢 2.5 小时" in page
    assert "本机时钟比平台慢 2.5 小时" in unlocked.get("/sync/").text
    state.clock_offset = 30.0  # within clock_warn_seconds (120)
    assert 'id="clock-warning"' not in unlocked.get("/").text
    assert "准确" in unlocked.get("/sync/").text
    assert unlocked.get("/api/sync").get_json()["clock_offset"] == 30.0


def test_a_sync_round_checks_the_clock_once_in_a_while(
        serve: Any, tmp_path: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    from node.core import Node
    from node.settings import load
    from sync.sqlite import SQLiteStore
    from tests.node.conftest import PASSPHRASE, make_node_dir

    url = serve(_hub(DAY)).full_url
    folder = make_node_dir(tmp_path / "node", db_url=url)
    # the syncer closes its remote after each round: a store of its own each time
    monkeypatch.setattr("sync.open.open_db",
                        lambda url, **kw: SQLiteStore(str(tmp_path / "hub.sqlite")))
    node = Node(load({"node_dir": str(folder), "sync_timeout": 5.0, "sync_interval": 0}))
    try:
        node.unlock(PASSPHRASE)
        node.syncer.sync_once()
        st = node.syncer.state
        assert st.clock_offset is not None and abs(st.clock_offset + DAY) < 3
        checked = st.clock_checked
        st.clock_offset = 0.0
        node.syncer.sync_once()  # within CHECK_EVERY: not asked again
        assert st.clock_offset == 0.0 and st.clock_checked == checked
        assert node.syncer.check_clock(force=True) is not None and st.clock_offset < -DAY + 3
    finally:
        node.close()


def test_offline_a_clock_earlier_than_the_last_good_sync_is_warned_of(
        unlocked: Any, app: Any) -> None:
    """The laptop restarted offline with its clock set back (a reset CMOS battery, a clock
    set by hand): no hub to ask, so no offset, and no page warned while the station recorded
    its morning a day early. Its own last good sync, later than now, proves the clock
    went back."""
    import datetime as dt

    state = app.extensions["bangban_node"].syncer.state
    state.status, state.clock_offset = "offline", None
    state.last_ok = (dt.datetime.now(dt.UTC) - dt.timedelta(minutes=5)).isoformat()
    assert 'id="clock-warning"' not in unlocked.get("/").text  # after it: nothing to say
    state.last_ok = (dt.datetime.now(dt.UTC) + dt.timedelta(days=1)).isoformat()
    page = unlocked.get("/").text
    assert 'id="clock-warning"' in page and "本机时钟早于上次成功同步的时间" in page
