"""10.1.1: a consultation answered on the spot is done, not open for good. It leaves the
home tiles and the open list; one awaiting its reply (10.1.1.3) stays on them; an index
written by a release before ``consulted`` is refolded when the node is unlocked. A clerk
tells the two apart: 咨询待答复 / 咨询已答复 on the list and the case page, the list narrowed
to either (the filter kept on the next page); the JSON API refuses a status it does not
know instead of listing nothing."""

from __future__ import annotations

import re
import sqlite3
from pathlib import Path
from typing import Any

from node.core import INDEX
from tests.node.conftest import PASSPHRASE, csrf, opened


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
    with opened(node_dir) as again:
        client = again.test_client()
        node = again.extensions["bangban_node"]
        assert node.index.get(done)["status"] == "consulting"  # stale until the keys open
        assert client.post("/api/unlock", json={"passphrase": PASSPHRASE}).status_code == 200
        assert node.index.get(done)["status"] == "consulted"
        assert _open(client) == (1, {waiting})
        assert node.index.get_meta("fold") != ""


def test_the_list_and_the_case_page_tell_a_reply_due_from_an_answered_one(
        unlocked: Any) -> None:
    done = _consult(unlocked, "张三", answered=True)
    waiting = _consult(unlocked, "李四", answered=False)
    page = unlocked.get("/cases/").text
    badges = dict(re.findall(r'<span class="badge (consult\w+)">([^<]+)</span>', page))
    assert badges == {"consulting": "咨询待答复", "consulted": "咨询已答复"}
    assert re.search(r'id="case-status" data-status="consulting">咨询待答复<',
                     unlocked.get(f"/cases/{waiting}").text)
    assert re.search(r'id="case-status" data-status="consulted">咨询已答复<',
                     unlocked.get(f"/cases/{done}").text)


def test_the_list_is_narrowed_to_a_status_and_stays_so_on_the_next_page(
        unlocked: Any) -> None:
    waiting = {_consult(unlocked, f"等待{i}", answered=False) for i in range(3)}
    _consult(unlocked, "已答", answered=True)
    page = unlocked.get("/cases/").text
    assert '<select id="status" name="status">' in page
    assert '<option value="consulting" >咨询待答复</option>' in page
    resp = unlocked.post("/cases/", data={"csrf": csrf(unlocked), "q": "",
                                          "status": "consulting"})
    assert resp.status_code == 302 and "status=consulting" in resp.location
    node = unlocked.application.extensions["bangban_node"]
    node.settings.page_size = 2
    first = unlocked.get(resp.location).text
    assert '<option value="consulting" selected>' in first
    shown = set(re.findall(r'href="/cases/([^"/?]+)"', first))
    nxt = re.search(r'href="([^"]*after=[^"]*)"', first)
    assert nxt is not None and "status=consulting" in nxt.group(1)
    second = unlocked.get(nxt.group(1).replace("&amp;", "&")).text
    shown |= set(re.findall(r'href="/cases/([^"/?]+)"', second))
    assert shown == waiting  # not the answered one on the second page


def test_the_api_refuses_an_unknown_status_naming_the_field(unlocked: Any) -> None:
    _consult(unlocked, "王五", answered=False)
    rows = unlocked.get("/api/cases", query_string={"status": "consulting"}).json["rows"]
    assert [r["status"] for r in rows] == ["consulting"]
    resp = unlocked.get("/api/cases", query_string={"status": "consultation"})
    assert resp.status_code == 400
    assert "status" in resp.json["fields"] and "consulted" in resp.json["reason"]


def test_a_consultation_answered_on_the_spot_records_its_outcome(client: Any) -> None:
    """10.1.1.2 / 10.2.1.1: the consultation record holds name, contact, question and
    处理结果. One answered on the spot was saved with an empty 答复结果: the record said what
    was asked and nothing of what the applicant was told. One awaiting its reply (10.1.1.3)
    gets its outcome from the reply, and is saved without."""
    assert client.post("/api/unlock", json={"passphrase": PASSPHRASE}).status_code == 200
    body = {"applicant_name": "钱七", "question": "办理需要哪些材料？", "answered": True}
    for outcome in ("", "   "):
        resp = client.post("/api/consultations", json={**body, "outcome": outcome})
        assert resp.status_code == 400, resp.json
        assert "10.1.1.2" in resp.json["fields"]["outcome"]
    assert client.get("/api/cases").json["rows"] == []  # refused input wrote nothing
    assert client.post("/api/consultations", json={**body, "outcome": "已一次性告知"}) \
        .status_code in (200, 201)
    assert client.post("/api/consultations", json={**body, "answered": False}) \
        .status_code in (200, 201)
