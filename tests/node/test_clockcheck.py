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


def _node(serve: Any, tmp_path: Any, monkeypatch: pytest.MonkeyPatch, hub_off: float) -> Any:
    """A node syncing with a hub whose clock is ``hub_off`` seconds off ours."""
    from node.core import Node
    from node.settings import load
    from sync.sqlite import SQLiteStore
    from tests.node.conftest import make_node_dir

    url = serve(_hub(hub_off)).full_url
    folder = tmp_path / "node"
    if not folder.exists():
        make_node_dir(folder, db_url=url)
    monkeypatch.setattr("sync.open.open_db",
                        lambda url, **kw: SQLiteStore(str(tmp_path / "hub.sqlite")))
    return Node(load({"node_dir": str(folder), "sync_timeout": 5.0, "sync_interval": 0}))


def test_a_clock_put_right_after_the_warning_is_not_said_to_be_reset(
        serve: Any, tmp_path: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """A village laptop a year ahead synced (its last good sync stamped a year ahead, and
    warned "快 365 天"); the clerk put its clock right and the laptop restarted offline.
    Every page then said her right clock was earlier than the last sync, "may have been
    reset", until the network came back: the last sync is read in the hub's time."""
    import datetime as dt
    import functools

    import node.clockcheck
    from tests.node.conftest import PASSPHRASE

    year = 365 * DAY
    ahead = functools.partial(node.clockcheck.measure_offset, now=lambda: time.time() + year)
    monkeypatch.setattr("node.clockcheck.measure_offset", ahead)
    monkeypatch.setattr("node.syncer._now", lambda: (dt.datetime.now(dt.UTC) + dt.timedelta(
        seconds=year)).isoformat(timespec="seconds"))
    first = _node(serve, tmp_path, monkeypatch, 1e-3)  # (0: no Date header at all)
    try:
        first.unlock(PASSPHRASE)
        first.syncer.sync_once()
        assert "快 365 天" in str(first.syncer.state.clock_warning(120))
    finally:
        first.close()
    monkeypatch.undo()  # the clock put right; restarted with the hub out of reach
    again = _node(serve, tmp_path, monkeypatch, 1e-3)
    try:
        again.unlock(PASSPHRASE)
        st = again.syncer.state
        # stamped in the laptop's time, a year ahead (not by the year's number: UTC's year
        # is not the local one on New Year's morning, and 365 days is no year in a leap one)
        assert st.last_ok and dt.datetime.fromisoformat(st.last_ok) > \
            dt.datetime.now(dt.UTC) + dt.timedelta(days=364)
        assert st.clock_offset is None and st.clock_warning(120) is None
        # a clock set back behind the hub's time of that sync is still warned of
        st.last_ok_offset = (st.last_ok_offset or 0.0) - 2 * DAY
        assert "本机时钟早于上次成功同步的时间" in str(st.clock_warning(120))
    finally:
        again.close()


def test_a_clock_set_since_the_last_check_is_checked_again_at_once(
        serve: Any, tmp_path: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """The offset is measured once in ``CHECK_EVERY``: a clock the clerk put right after
    the warning kept it on every page for ten more minutes (and the last sync was stamped
    with the stale offset). The wall clock moved against the monotonic one: asked again."""
    from tests.node.conftest import PASSPHRASE

    n = _node(serve, tmp_path, monkeypatch, -DAY)
    try:
        n.unlock(PASSPHRASE)
        n.syncer.sync_once()
        st = n.syncer.state
        assert st.clock_offset is not None and abs(st.clock_offset - DAY) < 3
        st.clock_offset = 0.0
        n.syncer.sync_once()  # within CHECK_EVERY, the clock unchanged: not asked again
        assert st.clock_offset == 0.0
        st.clock_checked_wall -= 3600  # as if the wall clock was set an hour on since
        n.syncer.sync_once()
        assert abs(st.clock_offset - DAY) < 3
    finally:
        n.close()
