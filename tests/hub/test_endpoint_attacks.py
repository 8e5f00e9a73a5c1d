"""What fuzzing the device endpoint found (test_device_view_fuzz.py), one test per finding,
each through the hub app as one enrolled village device (issue 6: bad input gets its 4xx,
never a 5xx, and nothing is stored; a device holds no more of the gateway than its share)."""

from __future__ import annotations

import gzip
import json
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from wsgiref.util import is_hop_by_hop

import pytest

from tests.hub.conftest import VILLAGE_A, VILLAGE_B, World, device_client, open_world

#: The longest wait of a device's feed in these tests (seconds), the largest request body.
WAIT, MAX_REQUEST = 0.3, 100_000


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    with open_world(Path(tmp_path_factory.mktemp("attacks")),
                    extra={"longpoll_timeout": WAIT, "max_request_bytes": MAX_REQUEST,
                           "feeds_per_device": 1}) as w:
        w.node(VILLAGE_A).new_case()
        w.sync()
        yield w


@pytest.fixture(scope="module")
def device(world: World) -> Any:
    """A test client and the village device's Basic header."""
    return device_client(world)


def _get(world: World, device: Any, path: str) -> Any:
    client, auth = device
    # buffered: read to its end and closed, as a server closes it (a waiting feed's slot)
    return client.get(f"/{world.hub.stores.prefix}/{path}", headers=auth, buffered=True)


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


def test_a_gzip_body_over_the_limit_once_decoded_is_a_413_a_server_can_send(world: World,
                                                                          device: Any) -> None:
    """The core's 413 carried ``Connection: close``, a hop-by-hop header no WSGI application
    may send (PEP 3333): waitress, under `hub serve`, answered it with a 500."""
    client, auth = device
    before = world.hub.stores.main.info()["update_seq"]
    bomb = gzip.compress(json.dumps({"docs": [{"_id": "x", "pad": " " * MAX_REQUEST}]}).encode())
    assert len(bomb) < MAX_REQUEST
    resp = client.post(f"/{world.hub.stores.prefix}/_bulk_docs", data=bomb, headers={
        **auth, "Content-Type": "application/json", "Content-Encoding": "gzip"})
    assert resp.status_code == 413 and resp.get_json()["error"] == "too_large"
    assert not [k for k in resp.headers.keys() if is_hop_by_hop(k)], resp.headers
    assert world.hub.stores.main.info()["update_seq"] == before


@pytest.mark.parametrize("kind", [[], {"a": 1}, ["device"]])
def test_a_document_whose_type_is_not_text_is_refused_by_name(world: World, device: Any,
                                                              kind: Any) -> None:
    """The reference-data check ran before the schema and looked ``type`` up in a set: a
    list or an object there was a TypeError, a 500."""
    client, auth = device
    before = world.hub.stores.main.info()["update_seq"]
    resp = client.post(f"/{world.hub.stores.prefix}/_bulk_docs", headers=auth,
                       json={"docs": [{"_id": "device:410600-HB", "type": kind}]})
    assert resp.status_code == 201, resp.data
    [row] = resp.get_json()
    assert row["error"] == "forbidden" and row["id"] == "device:410600-HB", row
    assert world.hub.stores.main.info()["update_seq"] == before


def test_a_device_holds_at_most_its_share_of_waiting_feeds(world: World, device: Any) -> None:
    """Each waiting feed holds a request thread: 40 of one device's held every thread of
    `hub serve --processes 2` (16 each), and every station's request waited 30 s. Beyond
    ``feeds_per_device`` (1 here) a feed is answered at once, as a normal feed."""
    client, auth = device
    url = f"/{world.hub.stores.prefix}/_changes?feed=continuous&since=now"
    first = client.get(url, headers=auth, buffered=False)  # its stream still open
    assert world.hub.feed_slots.held(world.node(VILLAGE_A).device_id) == 1
    second = client.get(url, headers=auth, buffered=True).get_json()
    assert second["results"] == [] and "last_seq" in second  # a normal feed's one object
    assert b"last_seq" in first.get_data()  # the stream, one row per line, to its end
    first.close()
    assert world.hub.feed_slots.held(world.node(VILLAGE_A).device_id) == 0
    third = client.get(url, headers=auth, buffered=True).get_data()
    assert b'"results"' not in third and b"last_seq" in third  # a stream again


def test_all_docs_keys_answer_names_only_the_keys_asked(world: World, device: Any,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    """PouchDB Server answered ``keys: [""]`` with the first document of the database under
    its own key, and the view echoed that key in its not_found row: another institution's
    case id (fuzzing on PouchDB Server). The answer is built from the keys asked for."""
    main = world.hub.stores.main
    other = "case:" + world.node(VILLAGE_B).new_case()
    real = main.all_docs

    def pouchdb_like(**kw: Any) -> Any:
        answer = real(**kw)
        if kw.get("keys") == [""]:
            answer["rows"] = [{"key": other, "id": other, "value": {"rev": "1-x"}}]
        return answer

    monkeypatch.setattr(main, "all_docs", pouchdb_like)
    client, auth = device
    resp = client.post(f"/{world.hub.stores.prefix}/_all_docs", headers=auth,
                       json={"keys": [""]})
    assert resp.get_json()["rows"] == [{"key": "", "error": "not_found"}]
