"""The unlocked node serves only the browser that entered the passphrase (7.2.2, design.md
§5): before, once the clerk unlocked, any local process that passed the host and
Fetch-Metadata checks read every case in clear (``curl http://127.0.0.1:8470/api/cases/…``
by another OS user of the laptop)."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest

from node.app import OPEN_ENDPOINTS
from schemas.sample import catalog
from tests.node.conftest import PASSPHRASE, csrf
from tests.node.test_casework_flow import scan_received
from tests.node.test_clerk_day import _case_id, _consult, _step

NAME, PHONE = "赵秀英", "13912345678"


def _scanned_case(c: Any) -> dict[str, str]:
    """A case with a name, a phone and a sealed scan: sample values for every route."""
    case_id = _case_id(_consult(c, applicant_name=NAME, phone=PHONE))
    item = catalog()[0]
    assert _step(c, case_id, "application", channel="offline", mode="nearby",
                 service_item=item["code"]).status_code == 302
    assert _step(c, case_id, "acceptance", zone="assisted_zone",
                 time_limit_days="5").status_code == 302
    scan = f"%PDF-1.4\n% {NAME} {PHONE}\n%%EOF\n".encode()
    received = scan_received(c, case_id, item, scan)
    return {"case_id": case_id, "event_type": "entrustment", "letter": "N",
            "doc_id": received["_id"], "name": next(iter(received["_attachments"])),
            "filename": "bangban.js"}


def _get_routes(app: Any, sample: dict[str, str]) -> list[tuple[str, str]]:
    """(endpoint, URL) of every GET route of the app, its ids filled from ``sample``."""
    urls = app.url_map.bind("localhost")
    out = []
    for rule in app.url_map.iter_rules():
        if "GET" in (rule.methods or ()):
            out.append((rule.endpoint, urls.build(rule.endpoint, {a: sample[a]
                                                                  for a in rule.arguments})))
    return out


def _shut_out(resp: Any, endpoint: str) -> bool:
    """The unlock page (pages) or a 401 naming the rule (API), never an answer."""
    if resp.status_code == 302:
        return "/unlock" in resp.headers["Location"]
    body = resp.get_json(silent=True) or {}
    return resp.status_code == 401 and body.get("error") == "no_session"


def _api_unlock(c: Any, passphrase: str = PASSPHRASE) -> Any:
    return c.post("/api/unlock", json={"passphrase": passphrase})


def test_a_second_client_reads_no_case_until_it_enters_the_passphrase(
        app: Any, unlocked: Any) -> None:
    sample = _scanned_case(unlocked)
    routes = _get_routes(app, sample)
    assert {"api.case", "cases.detail", "handling.attachment", "forms.pdf"} <= {
        e for e, _ in routes}
    # the clerk's browser reads the case
    assert NAME in unlocked.get(f"/api/cases/{sample['case_id']}").text
    other = app.test_client()  # another OS user's curl: no cookie
    for endpoint, url in routes:
        resp = other.get(url)
        for secret in (NAME, PHONE):  # (its id comes back in a redirect's next=)
            assert secret not in resp.text, (url, resp.status_code)
        if endpoint not in OPEN_ENDPOINTS:
            assert _shut_out(resp, endpoint), (url, resp.status_code, resp.text[:300])
    assert other.get("/api/status").get_json()["session"] is False
    # a wrong passphrase gets no session either
    assert _api_unlock(other, "wrong passphrase").status_code == 401
    assert _shut_out(other.get(f"/api/cases/{sample['case_id']}"), "api.case")
    # with the passphrase it gets in, while the clerk's session goes on
    assert _api_unlock(other).status_code == 200
    assert NAME in other.get(f"/api/cases/{sample['case_id']}").text
    assert other.get("/api/status").get_json()["session"] is True
    assert NAME in unlocked.get(f"/cases/{sample['case_id']}").text
    # a lock (by either) ends both sessions; a new unlock by one does not bring back the other
    assert other.post("/api/lock").status_code == 200
    for c in (unlocked, other):
        assert c.get(f"/api/cases/{sample['case_id']}").status_code == 423
        assert "/unlock" in c.get(f"/cases/{sample['case_id']}").headers["Location"]
    assert _api_unlock(other).status_code == 200
    assert _shut_out(unlocked.get(f"/api/cases/{sample['case_id']}"), "api.case")
    assert "/unlock" in unlocked.get("/").headers["Location"]


def test_the_session_cookie_is_httponly_strict_and_ends_with_the_browser(client: Any) -> None:
    resp = client.post("/api/unlock", json={"passphrase": PASSPHRASE},
                       base_url="http://127.0.0.1:8471")
    cookie = resp.headers["Set-Cookie"]
    name, _, rest = cookie.partition("=")
    assert name == "bangban_node_8471"  # one cookie per node's port: two nodes on a laptop
    token = rest.split(";")[0]
    assert len(token) >= 43  # secrets.token_urlsafe(32)
    attrs = {a.strip().split("=")[0].lower(): a.strip() for a in rest.split(";")[1:]}
    assert "httponly" in attrs and attrs["samesite"] == "SameSite=Strict"
    assert attrs["path"] == "Path=/"
    assert "max-age" not in attrs and "expires" not in attrs  # a browser-session cookie
    # the form unlocks the same way
    form = client.post("/unlock", data={"passphrase": PASSPHRASE, "csrf": csrf(client)})
    assert form.status_code == 302 and "HttpOnly" in form.headers["Set-Cookie"]


def test_sessions_are_bounded_the_oldest_dropped(app: Any) -> None:
    node = app.extensions["bangban_node"]
    clients = [app.test_client() for _ in range(node.sessions.limit + 1)]
    for c in clients:
        assert _api_unlock(c).status_code == 200
    assert len(node.sessions) == node.sessions.limit
    assert _shut_out(clients[0].get("/api/cases"), "api.cases")
    assert all(c.get("/api/cases").status_code == 200 for c in clients[1:])


def test_an_idle_lock_ends_the_sessions_and_a_cookieless_request_is_no_activity(
        app: Any, unlocked: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """Another client's requests (refused) must not keep the clerk's keys open (7.2.2.2)."""
    from node import core

    node = app.extensions["bangban_node"]
    start = core.time.monotonic()
    now = {"t": start + 20 * 60}
    monkeypatch.setattr(core, "time", SimpleNamespace(monotonic=lambda: now["t"]))
    other = app.test_client()
    assert _shut_out(other.get("/api/cases"), "api.cases")
    now["t"] = start + 31 * 60  # 31 minutes after the clerk's last request
    assert other.get("/api/status").get_json()["unlocked"] is False  # the idle lock fell
    assert len(node.sessions) == 0
    assert unlocked.get("/api/cases").status_code == 423


def test_the_badge_poll_sends_a_page_without_a_session_to_the_unlock_page(
        app: Any, unlocked: Any) -> None:
    other = app.test_client()
    assert unlocked.get("/sync/status.json").get_json()["locked"] is False
    assert other.get("/sync/status.json").get_json()["locked"] is True
    page = other.get("/unlock").text  # no menu and no polling badge on its unlock page
    assert 'id="sync-badge"' not in page and 'href="/cases/"' not in page
    assert 'id="sync-badge"' in unlocked.get("/").text


def test_a_wipe_ends_every_session(app: Any, unlocked: Any) -> None:
    node = app.extensions["bangban_node"]
    assert len(node.sessions) == 1
    node.wipe()
    assert len(node.sessions) == 0 and not node.unlocked
    assert unlocked.get("/api/cases").status_code == 423


def test_guessing_the_passphrase_is_slowed_after_five_wrong_tries(app: Any, unlocked: Any) -> None:
    """The session keeps another OS user out only if the passphrase cannot be guessed at
    scrypt speed: after 5 wrong ones in a row, each try waits (30 s, doubling to 15 min), the
    right passphrase too; a success clears the count."""
    from node.sessions import UnlockThrottle

    node = app.extensions["bangban_node"]
    now = [100.0]
    node.unlock_throttle = UnlockThrottle(clock=lambda: now[0])
    other = app.test_client()
    for _ in range(5):  # a clerk's typos: never held up
        assert _api_unlock(other, "wrong passphrase").status_code == 401
    assert _api_unlock(other, "wrong again").status_code == 401  # the 6th: from now on, wait
    held = _api_unlock(other)
    assert held.status_code == 429 and held.get_json()["error"] == "too_many_attempts"
    assert "1 分钟后再试" in held.get_json()["reason"]
    form = other.post("/unlock", data={"passphrase": PASSPHRASE, "csrf": csrf(other)})
    assert form.status_code == 429 and "分钟后再试" in form.text
    now[0] += 31
    assert _api_unlock(other, "still wrong").status_code == 401
    assert _api_unlock(other).status_code == 429  # 60 s now
    now[0] += 61
    assert _api_unlock(other).status_code == 200  # the right one, once the wait is over
    assert _api_unlock(app.test_client(), "one typo").status_code == 401  # count cleared
    assert _api_unlock(app.test_client()).status_code == 200


def test_unlock_waits_double_and_stop_at_the_cap() -> None:
    from node.sessions import UnlockThrottle

    now = [0.0]
    t = UnlockThrottle(free=2, first_wait=30, max_wait=100, clock=lambda: now[0])
    t.failed()
    t.failed()
    assert t.wait_seconds() == 0
    waits = []
    for _ in range(4):
        t.failed()
        waits.append(t.wait_seconds())
    assert waits == [30, 60, 100, 100]
    t.succeeded()
    assert t.wait_seconds() == 0
