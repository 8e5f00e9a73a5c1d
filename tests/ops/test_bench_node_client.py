"""The node benchmark's HTTP client gets the pages it times (an unlocked node answers only a
client with its own session: node.sessions): before, every timed request of `python -m
ops.bench node` would have been a 401 refusal, timed as if it were a page."""

from __future__ import annotations

import json
import urllib.error
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from werkzeug.serving import make_server

from ops.bench import bench_node
from tests.node.conftest import PASSPHRASE, make_node_dir, serving


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[str, Any]]:
    from node.app import create_app

    app = create_app({"node_dir": str(make_node_dir(tmp_path / "node")), "sync_interval": 0})
    node = app.extensions["bangban_node"]
    node.unlock(PASSPHRASE)  # as `node serve --passphrase-file` does at start
    try:
        with serving(make_server("127.0.0.1", 0, app, threaded=True)) as url:
            yield url, node
    finally:
        node.close()


def test_the_bench_client_enters_the_passphrase_and_keeps_its_cookie(
        served: tuple[str, Any]) -> None:
    base, node = served
    with pytest.raises(urllib.error.HTTPError) as refused:  # the scripted unlock is no session
        bench_node._get(base + "/api/cases")
    assert refused.value.code == 401
    bench_node._open_session(base, PASSPHRASE)
    _, body = bench_node._get(base + "/api/cases")
    assert json.loads(body)["rows"] == []
    _, page = bench_node._get(base + "/cases/")
    assert b'role="search"' in page  # the list page itself, not the unlock page
    assert len(node.sessions) == 1
