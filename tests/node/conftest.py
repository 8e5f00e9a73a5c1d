"""Fixtures for the node: an enrolled node folder with fast test keys, its app and client."""

from __future__ import annotations

import contextlib
import json
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from node.app import create_app
from node.core import ENROLLMENT, KEYCHAIN
from node.keys import NodeKeys

VILLAGE = "410621100201"
TOWN = "410621100"
DEVICE = f"{VILLAGE}-A1"
PASSPHRASE = "测试口令 correct horse"


def make_node_dir(path: Path, device_id: str = DEVICE, **extra: Any) -> Path:
    institution = device_id.split("-")[0]
    enrollment = {"hub_url": "http://127.0.0.1:9", "device_id": device_id, "secret": "s3cret",
                  "institution": institution, "db_url": f"http://127.0.0.1:9/db/{device_id}",
                  "institution_name": "测试村便民服务站", "root_keys": [], **extra}
    path.mkdir(parents=True, exist_ok=True)
    NodeKeys.create(path / KEYCHAIN, PASSPHRASE, enrollment, scrypt_n=2**12)
    (path / ENROLLMENT).write_text(json.dumps(enrollment, ensure_ascii=False), encoding="utf-8")
    return path


@pytest.fixture
def node_dir(tmp_path: Path) -> Path:
    return make_node_dir(tmp_path / "node", institution_path=["410600", "410621", TOWN, VILLAGE])


@contextlib.contextmanager
def opened(node_dir: Path) -> Iterator[Any]:
    """The node app on ``node_dir`` (no sync loop), its node closed at the end: the ``app``
    fixture's, and a test's reopening of the same folder (an upgrade, a restart)."""
    app = create_app({"node_dir": str(node_dir), "sync_interval": 0, "secret_key": "test",
                      "TESTING": True})
    try:
        yield app
    finally:
        app.extensions["bangban_node"].close()


@pytest.fixture
def app(node_dir: Path) -> Iterator[Any]:
    with opened(node_dir) as app:
        yield app


@pytest.fixture
def client(app: Any) -> Any:
    return app.test_client()


def csrf(client: Any) -> str:
    with client.session_transaction() as sess:
        sess.setdefault("csrf", "test-csrf")
        return str(sess["csrf"])


@pytest.fixture
def unlocked(client: Any) -> Any:
    token = csrf(client)
    resp = client.post("/unlock", data={"passphrase": PASSPHRASE, "csrf": token})
    assert resp.status_code == 302, resp.data
    return client


@contextlib.contextmanager
def serving(server: Any) -> Iterator[str]:
    """Run a loopback HTTP server (``serve_forever``/``shutdown``) in a thread; its URL."""
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def base(app: Any) -> Iterator[str]:
    """The ``app`` served on loopback in this process (threaded), for a real browser: its URL."""
    from werkzeug.serving import make_server

    with serving(make_server("127.0.0.1", 0, app, threaded=True)) as url:
        yield url


def answering(status: int, body: dict[str, Any]) -> Any:
    """An HTTP handler class that answers every request with ``status`` and JSON ``body``
    (a hub that refuses or revokes the device)."""
    from http.server import BaseHTTPRequestHandler

    data = json.dumps(body).encode()

    class Answer(BaseHTTPRequestHandler):
        def _answer(self) -> None:
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        do_GET = do_POST = do_PUT = do_HEAD = _answer

        def log_message(self, *args: Any) -> None:
            pass

    return Answer
