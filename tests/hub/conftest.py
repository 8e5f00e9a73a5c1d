"""An in-process hub on the embedded store with three enrolled stations.

Stations talk to their device view (:class:`hub.replication.ScopedStore`) directly,
without HTTP, so these tests stay fast; ``tests/e2e/test_hub_*.py`` run the same paths
through a real ``bangban hub serve`` process.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

CITY, TOWN, VILLAGE_A, VILLAGE_B = "410600", "410602101", "410602101201", "410602101202"


@dataclass
class World:
    hub: Any
    folder: Path
    nodes: dict[str, Any] = field(default_factory=dict)

    def node(self, code: str) -> Any:
        return self.nodes[code]

    def sync(self, *codes: str) -> None:
        for code in codes or tuple(self.nodes):
            self.nodes[code].sync()

    def pull_list(self, code: str) -> None:
        """Station ``code`` pulls the 清单 just written: the hub judges by it what the station
        states after that pull (hub.transitions.pulled_after). The sessions' times are whole
        seconds: the pull starts in a second after the write's, the steps after its end."""
        import time

        time.sleep(1.1)
        self.nodes[code].sync()
        time.sleep(1.1)

    def refused(self, doc: dict[str, Any], code: str = VILLAGE_A) -> str:
        """Station ``code`` syncs and the hub refuses ``doc`` alone, per document (CouchDB's
        ``forbidden``), storing nothing of it: the refusal's reason."""
        from sync.errors import NotFound

        result = self.nodes[code].sync()
        with pytest.raises(NotFound):
            self.hub.stores.main.get(doc["_id"])
        (failure,) = [f for f in result["failures"] if f["id"] == doc["_id"]]
        assert failure["error"] == "forbidden"
        return str(failure["reason"])

    def round(self) -> None:
        from hub.workers import Workers

        self.sync()
        Workers(self.hub).run_once()
        self.sync()


def make_world(folder: Path, *, workers: bool = True,
               max_document_bytes: int = 100_000, couchdb_url: str = "",
               extra: dict[str, Any] | None = None) -> World:
    from hub import admin
    from hub.auth import Device
    from hub.core import Hub
    from hub.settings import Settings
    from ops.demo_node import SimNode
    from schemas import sample

    config: dict[str, Any] = {"hub_dir": str(folder / "hub"), "scrypt_n": 1024,
                              "max_document_bytes": max_document_bytes, **(extra or {})}
    if couchdb_url:  # the hub on CouchDB (PouchDB Server in tests), databases of its own
        import uuid

        config |= {"couchdb_url": couchdb_url, "db_prefix": "w" + uuid.uuid4().hex[:10]}
    settings = Settings.load(config, environ={})
    hub = Hub(settings)
    admin.init(hub, city=CITY, name="鹤壁市政务服务中心")
    admin.import_institutions(hub, [i for i in sample.institutions()
                                    if i["code"] in (TOWN, VILLAGE_A, VILLAGE_B, "410602")])
    admin.import_catalog(hub, sample.catalog()[:5])
    world = World(hub, folder)
    for code in (TOWN, VILLAGE_A, VILLAGE_B):
        enr = admin.enroll_device(hub, institution_code=code, short="A1")
        node = SimNode(folder / code, enr)
        node.adopt_institution_key()
        admin.register_keys(hub, enr["device_id"], node.public_entries())
        node._remote = hub.view(Device(enr["device_id"], code, {}))
        world.nodes[code] = node
    world.sync()
    return world


@contextmanager
def open_world(folder: Path, **kw: Any) -> Iterator[World]:
    """:func:`make_world`, closed again afterwards."""
    w = make_world(folder, **kw)
    try:
        yield w
    finally:
        for node in w.nodes.values():
            node.store.close()
        w.hub.close()


def device_client(world: World, code: str = VILLAGE_A) -> tuple[Any, dict[str, str]]:
    """A test client of the hub app and station ``code``'s HTTP Basic header: what another
    CouchDB client sends with a device's id and secret (issue 6)."""
    import base64

    from hub.app import create_app

    node = world.node(code)
    token = base64.b64encode(f"{node.device_id}:{node.secret}".encode()).decode()
    return create_app(hub=world.hub).test_client(), {"Authorization": f"Basic {token}"}


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    """One world per test module (each test opens its own cases, so they do not meet)."""
    with open_world(tmp_path_factory.mktemp("world")) as w:
        yield w


@pytest.fixture
def hub_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """A hub folder made by `bangban hub init` (embedded store), for the commands' tests."""
    from ops.cli import main

    monkeypatch.setenv("BANGBAN_SCRYPT_N", "1024")
    monkeypatch.delenv("BANGBAN_COUCHDB_URL", raising=False)
    folder = tmp_path / "hub"
    assert main(["hub", "--hub-dir", str(folder), "init", "--public-url",
                 "http://hub.example:8840"]) == 0
    return str(folder)


def serving_hub(tmp_path: Path, env: dict[str, str]) -> Any:
    """A small hub in ``tmp_path / "hub"`` under a started `hub serve` (an
    ``ops.hubprocess.HubProcess``: stop it)."""
    from ops.bench.hubnet import build_hub
    from ops.hubprocess import HubProcess

    hub, _ = build_hub(tmp_path / "hub", 1, 1)
    hub.close()
    proc = HubProcess(tmp_path / "hub", env=env)
    proc.start()
    return proc


def kill_when_ready(script: str, *args: str, ready: Path) -> int:
    """Run ``python -c script *args`` from this tree until it writes the file ``ready``,
    then SIGKILL it (the power cut, the OOM killer) and reap it; its pid."""
    import os
    import signal
    import subprocess
    import sys
    import time

    root = Path(__file__).resolve().parents[2]
    proc = subprocess.Popen([sys.executable, "-c", script, *args], cwd=root,
                            env={**os.environ, "PYTHONPATH": str(root)})
    try:
        for _ in range(600):
            if ready.exists() or proc.poll() is not None:
                break
            time.sleep(0.05)
        assert ready.exists(), f"{ready.name} never written: {proc.poll()=}"
        os.kill(proc.pid, signal.SIGKILL)
    finally:
        proc.kill()
        proc.wait()
    return proc.pid
