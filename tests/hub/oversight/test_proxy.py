"""A hub behind a reverse proxy (``proxy_hops``), and the public complaints' hourly bound
over all addresses (``public_complaints_all_per_hour``).

Behind nginx every request comes from the proxy's address: without ``proxy_hops`` one
visitor's wrong passwords used up the per-address count of every supervisor, and one
visitor's complaints the count of the whole public. With it, the address the proxy states
in X-Forwarded-For is counted, and an address a client wrote in front of it is not."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from hub.oversight import public_complaints as pc
from tests.hub.conftest import VILLAGE_A
from tests.hub.oversight.conftest import make_hub


@pytest.fixture(autouse=True)
def _no_padding(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(pc, "_sleep", lambda s: None)  # the answer's 1 s (pc.ANSWER_SECONDS)


def _app(tmp_path: Path, **options: Any) -> Any:
    from hub.app import create_app

    hub = make_hub(tmp_path, login_address_failures=5, **options)
    return create_app(hub=hub)


def _client(app: Any, forwarded: str | None) -> Any:
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = "127.0.0.1"  # the proxy, on the hub's machine
    if forwarded is not None:
        client.environ_base["HTTP_X_FORWARDED_FOR"] = forwarded
    return client


def _wrong_login(client: Any, login: str) -> int:
    page = client.get("/oversight/login")
    token = re.search(r'name="csrf" value="([^"]+)"', page.text).group(1)  # type: ignore[union-attr]
    return int(client.post("/oversight/login", data={"login": login, "password": "nope",
                                                     "csrf": token}).status_code)


def _complain(client: Any, case: str) -> Any:
    page = client.get(f"/oversight/public/{VILLAGE_A}/complaint")
    token = re.search(r'name="csrf" value="([^"]+)"', page.text).group(1)  # type: ignore[union-attr]
    return client.post(f"/oversight/public/{VILLAGE_A}/complaint",
                       data={"case": case, "category": "attitude", "text": "态度生硬",
                             "contact": "139 0000 1234", "csrf": token})


def _spray(app: Any, forwarded: str) -> None:
    """Five wrong passwords from one visitor, each for another login (the address's bound)."""
    client = _client(app, forwarded)
    for i in range(5):
        assert _wrong_login(client, f"guess-{i}") == 401


def test_behind_a_proxy_each_visitor_has_their_own_count(tmp_path: Path) -> None:
    app = _app(tmp_path, proxy_hops=1)
    try:
        _spray(app, "10.1.0.1")
        assert _wrong_login(_client(app, "10.1.0.1"), "guess-x") == 429
        # another visitor through the same proxy is not held for the first one's guesses
        assert _wrong_login(_client(app, "10.1.0.2"), "guess-x") == 401
        # an address the client wrote in front of the proxy's is not believed: the proxy
        # appends the real one, which is the one counted
        assert _wrong_login(_client(app, "10.1.0.2, 10.1.0.1"), "guess-y") == 429
    finally:
        app.extensions["bangban_hub"].close()


def test_without_proxy_hops_the_header_is_not_read(tmp_path: Path) -> None:
    """The default: a client reaching the hub directly could write any X-Forwarded-For and
    so escape the per-address bound; it is ignored."""
    app = _app(tmp_path)
    try:
        _spray(app, "10.1.0.1")
        assert _wrong_login(_client(app, "10.1.0.2"), "guess-x") == 429
    finally:
        app.extensions["bangban_hub"].close()


def test_complaints_of_many_addresses_are_bounded_in_an_hour(tmp_path: Path) -> None:
    """A crowd of addresses, each within its own 5: past the hour's bound over all of them
    the page says to phone (503), for a real number as for an invented one, and stores
    nothing more."""
    app = _app(tmp_path, proxy_hops=1, public_complaints_all_per_hour=3)
    hub = app.extensions["bangban_hub"]
    try:
        for i in range(3):
            assert _complain(_client(app, f"10.2.0.{i}"), f"NO-SUCH-{i}").status_code == 303
        stored = len(pc._records(hub))
        refused = _complain(_client(app, "10.2.0.9"), "NO-SUCH-9")
        assert refused.status_code == 503 and "已达上限" in refused.text
        assert len(pc._records(hub)) == stored == 3
    finally:
        hub.close()


def test_the_bounds_are_settings_checked_at_start(tmp_path: Path) -> None:
    from hub.errors import ConfigError
    from hub.settings import Settings

    for name, bad in (("PROXY_HOPS", "9"), ("PUBLIC_COMPLAINTS_ALL_PER_HOUR", "0")):
        with pytest.raises(ConfigError, match=f"BANGBAN_{name}"):
            Settings.load({"hub_dir": str(tmp_path / "h")}, environ={f"BANGBAN_{name}": bad})


def test_under_hub_serve_the_address_the_proxy_states_reaches_the_app(tmp_path: Path) -> None:
    """Through the gateway's own server (waitress, as `hub serve` runs it), not the test
    client: waitress dropped the X-Forwarded-For of a peer it did not trust before the app
    saw it, so behind nginx every visitor still had the proxy's address. Only that header is
    believed: an X-Forwarded-Proto a client writes still never reaches the app."""
    import http.client
    import threading

    from flask import request

    from hub.serve import gateway_server

    app = _app(tmp_path, proxy_hops=1)
    seen: list[tuple[str | None, str | None]] = []
    app.before_request(lambda: seen.append(
        (request.remote_addr, request.headers.get("X-Forwarded-Proto"))))
    socket_map: dict[Any, Any] = {}
    server = gateway_server(app.extensions["bangban_hub"].settings, app, map=socket_map,
                            host="127.0.0.1", port=0)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        for forwarded in ("10.1.0.1", "10.9.9.9, 10.1.0.2"):
            conn = http.client.HTTPConnection("127.0.0.1", int(server.effective_port),
                                              timeout=30)
            conn.request("GET", "/oversight/login", headers={
                "X-Forwarded-For": forwarded, "X-Forwarded-Proto": "https"})
            assert conn.getresponse().status == 200
            conn.close()
        assert seen == [("10.1.0.1", None), ("10.1.0.2", None)]
    finally:
        server.trigger.pull_trigger(lambda: [c.close() for c in list(socket_map.values())])
        thread.join(10)
        server.task_dispatcher.shutdown(timeout=5)
        app.extensions["bangban_hub"].close()
