"""10.1.1: a consultation answered on the spot is done, not open for good. It leaves the
home tiles and the open list; one awaiting its reply (10.1.1.3) stays on them; an index
written by a release before ``consulted`` is refolded when the node is unlocked."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

from node.app import create_app
from node.core import INDEX
from tests.node.conftest import PASSPHRASE


def _consult(client: Any, name: str, answered: bool) -> str:
    body = {"applicant_name": name, "question": "办理需要哪些材料？", "answered": answered,
            "outcome": "已一次性告知" if answered else ""}
    resp = client.post("/api/consultations", json=body)
    assert resp.status_code in (200, 201), resp.json
    return str(resp.json["case_id"])


def _open(client: Any) -> tuple[int, set[str]]:
    count = client.get("/api/counts").json["open"]
    rows = client.get("/api/cases", query_string={"view": "open"}).json["rows"]
    return int(count), {r["case_id"] for r in rows}


def test_an_answered_consultation_is_not_open_one_awaiting_a_reply_is(client: Any) -> None:
    assert client.post("/api/unlock", json={"passphrase": PASSPHRASE}).status_code == 200
    done = _consult(client, "张三", answered=True)
    waiting = _consult(client, "李四", answered=False)
    node = client.application.extensions["bangban_node"]
    assert node.index.get(done)["status"] == "consulted"
    assert node.index.get(waiting)["status"] == "consulting"
    assert _open(client) == (1, {waiting})
    # the reply (10.1.1.3) clears the last pending consultation: the case leaves the list
    hlc = client.get(f"/api/cases/{waiting}").json["state"]["pending_replies"]
    resp = client.post(f"/api/cases/{waiting}/events/reply",
                       json={"consultation": next(iter(hlc)), "channel": "phone",
                             "answer": "已电话答复"})
    assert resp.status_code in (200, 201), resp.json
    assert node.index.get(waiting)["status"] == "consulted"
    assert _open(client) == (0, set())
    # the visitor comes back and applies: open again
    resp = client.post(f"/api/cases/{done}/events/application",
                       json={"channel": "offline", "service_item": "MS-004", "mode": "nearby"})
    assert resp.status_code in (200, 201), resp.json
    assert _open(client) == (1, {done})


def test_an_index_of_the_old_fold_is_refolded_at_unlock(app: Any, node_dir: Path) -> None:
    client = app.test_client()
    assert client.post("/api/unlock", json={"passphrase": PASSPHRASE}).status_code == 200
    done = _consult(client, "王五", answered=True)
    waiting = _consult(client, "赵六", answered=False)
    app.extensions["bangban_node"].close()
    # as the release before ``consulted`` left the file: every consultation-only case open
    # (its rows and tile counts, kept by the triggers) and no fold version
    db = sqlite3.connect(node_dir / INDEX, isolation_level=None)
    db.execute("UPDATE cases SET status = 'consulting', closed = 0")
    db.execute("DELETE FROM meta WHERE k IN ('fold', 'store_seq')")
    db.close()
    again = create_app({"node_dir": str(node_dir), "sync_interval": 0, "secret_key": "test",
                        "TESTING": True})
    try:
        client = again.test_client()
        node = again.extensions["bangban_node"]
        assert node.index.get(done)["status"] == "consulting"  # stale until the keys open
        assert client.post("/api/unlock", json={"passphrase": PASSPHRASE}).status_code == 200
        assert node.index.get(done)["status"] == "consulted"
        assert _open(client) == (1, {waiting})
        assert node.index.get_meta("fold") != ""
    finally:
        again.extensions["bangban_node"].close()
