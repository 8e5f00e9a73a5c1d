"""End-to-end: ``bangban hub serve --processes 2``, devices pushing at once over keep-alive.

The two gateway processes share the scope indexer's feed position (hub.index_cursor) and
spread the connections between them (hub.balance): every document is accepted, indexed
exactly once, and a device reads its own writes on a new connection right after its push,
whichever gateway answers it.
"""

from __future__ import annotations

import concurrent.futures as cf
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import requests

pytestmark = pytest.mark.e2e


@pytest.fixture(params=["embedded", "couchdb"])
def backend(request: pytest.FixtureRequest) -> Iterator[str]:
    yield request.getfixturevalue("couchdb_url") if request.param == "couchdb" else ""


def test_devices_pushing_through_two_gateways_read_their_writes_indexed_once(
        tmp_path: Path, backend: str) -> None:
    from hub.core import Hub
    from hub.settings import Settings
    from ops.bench.hubnet import build_hub, directory_of
    from ops.hubprocess import HubProcess

    hub, stations = build_hub(tmp_path / "hub", 2, 2, couchdb_url=backend)
    directory = directory_of(hub)
    prefix = hub.stores.prefix
    hub.close()
    pushes = [(st, [d for i in range(3) for d in st.case(directory, i + 1)]) for st in stations]
    # No workers: every row must be indexed by the gateway that wrote it, before it answered
    # (the workers would index too, and write coordination boards of their own meanwhile).
    proc = HubProcess(tmp_path / "hub", env={"BANGBAN_HUB_PROCESSES": "2",
                                             "BANGBAN_WORKERS": "false"})
    url = proc.start()
    db = url + urlsplit(stations[0].enr["db_url"]).path

    def push_then_read(item: tuple[Any, list[dict[str, Any]]]) -> set[str]:
        st, docs = item
        auth = (st.device_id, st.enr["secret"])
        with requests.Session() as s:
            for i in range(0, len(docs), 10):
                r = s.post(db + "/_bulk_docs", auth=auth, timeout=60,
                           data=json.dumps({"docs": docs[i:i + 10], "new_edits": False}),
                           headers={"Content-Type": "application/json"})
                assert r.status_code == 201 and r.json() == [], r.text[:300]
        # A new connection, answered by either gateway, at once after the push.
        feed = requests.get(db + "/_changes", auth=auth, timeout=60).json()
        return {row["id"] for row in feed["results"]}

    try:
        with cf.ThreadPoolExecutor(len(pushes)) as pool:
            seen = list(pool.map(push_then_read, pushes))
    finally:
        proc.stop()
    for (_, docs), ids in zip(pushes, seen, strict=True):
        assert {d["_id"] for d in docs} <= ids
    check = Hub(Settings.load({"hub_dir": str(tmp_path / "hub")}))
    try:
        for st, docs in pushes:
            rows = check.stores.scope(st.institution).all_docs(
                keys=[d["_id"] for d in docs], include_docs=True)["rows"]
            # no entry was written twice (a second write of a changed entry makes a 2-)
            assert all(r["doc"]["_rev"].startswith("1-") for r in rows), rows[:2]
        assert check.indexer.catch_up() == 0  # nothing left over for a later pass
        assert (tmp_path / "hub" / f"scope-indexer-{prefix}.cursor").exists()
    finally:
        check.close()


def test_gateways_end_with_the_hub_process_even_when_it_is_killed(tmp_path: Path) -> None:
    """``kill -9`` of ``hub serve`` (an OOM kill, a hard stop) must not leave forked gateways
    serving the port with the old code: they get SIGTERM when their parent dies
    (PR_SET_PDEATHSIG), and a restarted hub finds the port free."""
    import os
    import signal
    import time

    from ops.bench.harness import process_tree
    from tests.hub.conftest import serving_hub

    proc = serving_hub(tmp_path, {"BANGBAN_HUB_PROCESSES": "2", "BANGBAN_WORKERS": "false"})
    try:
        assert proc.proc is not None
        children = [p for p in process_tree(proc.proc.pid) if p != proc.proc.pid]
        assert children, "no forked gateway"
        os.kill(proc.proc.pid, signal.SIGKILL)
        proc.proc.wait(timeout=10)
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and any(_alive(p) for p in children):
            time.sleep(0.2)
        assert not any(_alive(p) for p in children), children
    finally:
        proc.stop()


def _alive(pid: int) -> bool:
    """A process that exists and is not a zombie."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as fh:
            return fh.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False
