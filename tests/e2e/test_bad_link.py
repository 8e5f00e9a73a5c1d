"""A village laptop's bad day on the link, end to end (design.md §4: "everything must work
with the network down and sync by itself when it returns"): real ``hub serve`` and
``node serve`` processes, :class:`ops.netproxy.NetProxy` between them, the clerk's work
through the node's API and forms while the link is bad or down.

Each scenario ends when the hub holds exactly the node's documents at the node's
revisions, without conflicts, and the node's sync state says so by itself (no restart,
no "sync now"): status ``ok``, nothing pending, ``last_ok`` after the link came back.
Deadlines are generous (a loaded 2-core machine); what is asserted is the outcome.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import pytest

from tests.e2e.linknet import LinkNet, wait_until

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def net(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LinkNet]:
    link = LinkNet(tmp_path_factory.mktemp("badlink"), sync_timeout=10.0)
    try:
        link.start()
        wait_until(lambda: link.sync_state()["last_ok"], 120, "the first sync")
        yield link
    finally:
        link.close()


def _at(stamp: str | None) -> dt.datetime:
    assert stamp, "no last sync"
    return dt.datetime.fromisoformat(stamp)


def _settled(net: LinkNet, since: dt.datetime) -> dict[str, Any]:
    """The node's own word, once it has caught up: ok, nothing pending, a fresh last sync."""
    def ok() -> dict[str, Any] | None:
        st = net.sync_state()
        good = st["status"] == "ok" and st["pending"] == 0 and _at(st["last_ok"]) >= since
        return st if good else None
    state: dict[str, Any] = wait_until(ok, 120, "the node to say it has synced")
    return state


def test_a_scan_goes_up_a_slow_link_cut_every_200kb_by_itself(net: LinkNet) -> None:
    # 256 kbit/s, 300 ms RTT, every connection cut after 200 kB. Before: 256 KiB chunks
    # (~350 kB of JSON each) and a first upload of 25 of them never got through, round
    # after round; the scan never reached the hub.
    case_id = net.accepted_case("李四")
    wait_until(net.converged, 120, "the case before the scan")
    net.proxy.set(bandwidth=32_000, latency=0.15, cut_after=200_000)
    net.proxy.reset_stats()
    start = dt.datetime.now().astimezone().replace(microsecond=0)
    size = 450_000
    net.scan(case_id, size)
    wait_until(net.converged, 240, "the scan at the hub through the cut link")
    state = _settled(net, start)
    stats = net.proxy.stats
    assert stats.cuts >= 2, stats  # the link did break, and the upload went on
    # What was re-sent is bounded: the sealed scan as base64 is ~4/3 of it.
    assert stats.bytes_up <= 2 * size * 4 // 3, stats
    assert state["last_error"] is None
    net.proxy.set(bandwidth=None, latency=0.0, cut_after=None)


def test_link_black_holed_then_refused_then_back(net: LinkNet) -> None:
    net.proxy.set(black_hole=True)
    case_id = net.accepted_case("赵六")  # the clerk works on: saved on the laptop
    wait_until(lambda: net.sync_state()["last_error"], 120, "the node to notice")
    net.refuse()
    net.step(case_id, "work_log", kind="tracking", private={"text": "电话联系申请人"})
    state = wait_until(lambda: (s := net.sync_state())["status"] == "offline" and s,
                       120, "the badge to say offline")
    assert state["pending"] >= 4 and not net.converged()
    back = dt.datetime.now().astimezone().replace(microsecond=0)
    net.reconnect()
    wait_until(net.converged, 120, "the hub to hold the node's documents")
    _settled(net, back)


def test_the_node_notices_the_link_back_long_before_its_next_round(
        tmp_path_factory: pytest.TempPathFactory) -> None:
    """Rounds an hour apart: once a round found the hub gone, the node looks for it every
    second or so (BANGBAN_SYNC_PROBE_INTERVAL) and uploads as soon as it answers. Before,
    the work recorded meanwhile waited for the next round: up to the interval (30 s by
    default, an hour here) after the link was back."""
    link = LinkNet(tmp_path_factory.mktemp("probe"), sync_timeout=5.0, sync_interval=3600.0)
    link.env["BANGBAN_SYNC_PROBE_INTERVAL"] = "1"
    try:
        link.start()
        wait_until(lambda: link.sync_state()["last_ok"], 120, "the first sync")
        link.refuse()
        case_id = link.accepted_case("钱七")  # saved on the laptop
        r = link.http.post(link.url + "/api/sync", timeout=120)  # the clerk's "sync now"
        assert r.status_code >= 400 and link.sync_state()["status"] == "offline", r.text
        assert not link.converged()
        back = dt.datetime.now().astimezone().replace(microsecond=0)
        link.reconnect()
        wait_until(link.converged, 60, "the case at the hub without waiting for the hour")
        _settled(link, back)
        assert link.hub_docs([f"case:{case_id}"])
    finally:
        link.close()


def test_half_an_answer_then_silence_for_ever_is_timed_out_and_resumed(net: LinkNet) -> None:
    """Every connection goes silent after its first 2 kB, never closed (the proxy's
    ``hang_after``): no request of a round may wait for ever. The node says offline, with
    the scan waiting, and uploads it by itself once the link carries whole answers."""
    case_id = net.accepted_case("孙八")
    wait_until(net.converged, 120, "the case before the link hangs")
    net.proxy.set(hang_after=2000)
    net.proxy.reset_stats()
    net.scan(case_id, 150_000)  # 2 chunks and their event: no upload fits in 2 kB
    state = wait_until(lambda: (s := net.sync_state())["status"] == "offline" and s,
                       120, "the node to give up the hung requests")
    assert net.proxy.stats.hangs >= 1 and state["pending"] >= 3, (net.proxy.stats, state)
    assert "无法连接平台" in state["last_error"] and not net.converged()
    back = dt.datetime.now().astimezone().replace(microsecond=0)
    net.proxy.set(hang_after=None)
    wait_until(net.converged, 120, "the scan at the hub once answers come whole")
    _settled(net, back)
