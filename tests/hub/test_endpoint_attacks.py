"""What fuzzing the device endpoint found (test_device_view_fuzz.py), one test per finding,
each through the hub app as one enrolled village device (issue 6: bad input gets its 4xx,
never a 5xx, and nothing is stored; a device holds no more of the gateway than its share)."""

from __future__ import annotations

import base64
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.hub.conftest import VILLAGE_A, World, open_world

#: The longest wait of a device's feed in these tests (seconds).
WAIT = 0.3


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    with open_world(Path(tmp_path_factory.mktemp("attacks")),
                    extra={"longpoll_timeout": WAIT}) as w:
        w.node(VILLAGE_A).new_case()
        w.sync()
        yield w


@pytest.fixture(scope="module")
def device(world: World) -> Any:
    """A test client and the village device's Basic header."""
    from hub.app import create_app

    node = world.node(VILLAGE_A)
    token = base64.b64encode(f"{node.device_id}:{node.secret}".encode()).decode()
    return create_app(hub=world.hub).test_client(), {"Authorization": f"Basic {token}"}


def _get(world: World, device: Any, path: str) -> Any:
    client, auth = device
    return client.get(f"/{world.hub.stores.prefix}/{path}", headers=auth)


@pytest.mark.parametrize("feed", ["feed=continuous", "feed=longpoll&heartbeat=50",
                                  "feed=continuous&heartbeat=50"])
def test_a_feed_with_a_heartbeat_ends_at_the_devices_longpoll_timeout(world: World,
                                                                     device: Any,
                                                                     feed: str) -> None:
    """A heartbeat (or continuous) feed ran for sync.http's changes_timeout_max, an hour:
    `hub_threads` of them from one device's credentials held every request thread of a
    gateway, and every other station waited. It ends like a longpoll now."""
    done: list[bytes] = []

    def read() -> None:
        done.append(_get(world, device, f"_changes?{feed}&since=now").get_data())

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    reader.join(60)  # generous: the feed ends after WAIT seconds
    assert done and b"last_seq" in done[0], "the feed is still open"


@pytest.mark.parametrize("query", ["feed=continuous&timeout=10&descending=true",
                                   "feed=longpoll&heartbeat=50&filter=_selector&selector={}",
                                   "feed=continuous&timeout=10&since=garbage"])
def test_a_refused_argument_of_a_streamed_feed_is_a_400(world: World, device: Any,
                                                        query: str) -> None:
    """The device view refuses these at its first read, which ran after the 200 went out."""
    resp = _get(world, device, f"_changes?{query}")
    assert resp.status_code == 400 and resp.get_json()["error"] == "bad_request", resp.data


def test_a_since_beyond_64_bits_reads_nothing(world: World, device: Any) -> None:
    big = "9" * 20  # past every seq of the institution's index and of the reference one
    resp = _get(world, device, f"_changes?since={big}~{big}")
    assert resp.status_code == 200 and resp.get_json()["results"] == [], resp.data
