"""The oversight pages against an insider at the hub (7.2.2.2; design.md §5): markup in a
roster name, pages left in an office computer's browser cache, passwords sprayed over every
login, and which logins exist told by how fast a wrong one is refused."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from hub.oversight.supervisors import add_supervisor, authenticate
from tests.hub.oversight.conftest import make_hub
from tests.hub.oversight.scenario import AS_OF, V1, scenario, stored_histories
from tests.hub.oversight.test_web import login

Q = f"from=2026-02&to=2026-03&as_of={AS_OF}"
SCRIPT = '<img src=x onerror="alert(1)">'


@pytest.fixture(scope="module")
def app(tmp_path_factory: Any) -> Iterator[Any]:
    from hub.app import create_app
    from hub.staff import set_staff

    hub = make_hub(tmp_path_factory.mktemp("insider"))
    hub.stores.main.bulk_docs([d for h in stored_histories(scenario()) for d in h])
    set_staff(hub, V1, "s1", name=f"蒋{SCRIPT}", role="proxy")
    add_supervisor(hub, "city", "city-pass-1", institution="410600", name="市")
    for i in range(4):
        add_supervisor(hub, f"town{i}", "town-pass-1", institution="410602101")
    yield create_app(hub=hub)
    hub.close()


def test_a_roster_name_with_markup_is_text_on_the_staff_page(app: Any) -> None:
    """The staff page's rows are built in Python (views._tbody); the roster's name column
    went out unescaped, a script in every supervisor's browser."""
    client, _ = login(app, "city", "city-pass-1")
    page = client.get(f"/oversight/staff?{Q}&scope=410602").text
    assert "蒋&lt;img src=x" in page
    assert SCRIPT not in page and "<img" not in page


def test_a_supervisors_pages_are_not_kept_in_the_browser_cache(app: Any) -> None:
    client, _ = login(app, "city", "city-pass-1")
    for path in ("/oversight/", f"/oversight/staff?{Q}", f"/oversight/complaints?{Q}",
                 f"/oversight/export.csv?{Q}&by=staff", f"/oversight/cases/overdue?{Q}"):
        r = client.get(path)
        assert r.status_code == 200, path
        assert r.headers.get("Cache-Control") == "no-store", path
    # the public disclosure page (8.1.2) holds nothing of a supervisor's: cacheable
    assert "no-store" not in (client.get("/oversight/public/410602101").headers
                              .get("Cache-Control") or "")


def test_one_address_spraying_passwords_over_every_login_is_stopped(app: Any) -> None:
    """Four wrong passwords on each of five logins from one address: below each login's
    own limit (5), yet twenty guesses; the address's next try waits, on any login, while
    the supervisor at another desk still logs in."""
    for user in ("city", "town0", "town1", "town2", "town3"):
        for guess in ("12345678", "password", "abcd1234", "88888888"):
            assert login(app, user, guess, address="10.7.7.7")[1].status_code == 401
    _c, blocked = login(app, "city", "city-pass-1", address="10.7.7.7")
    assert blocked.status_code == 429 and "分钟后再试" in blocked.text
    _c, ok = login(app, "city", "city-pass-1", address="10.6.6.6")
    assert ok.status_code == 302


def test_login_throttle_counts_an_address_over_all_logins(tmp_path: Path) -> None:
    from hub.oversight.throttle import LoginThrottle

    now = [1000.0]
    t = LoginThrottle(tmp_path / "logins.sqlite", max_failures=3, window=60,
                      clock=lambda: now[0], max_address_failures=4)
    for user in ("a", "b", "c", "d"):
        assert t.wait_seconds(user, "ip") == 0
        t.failed(user, "ip")
    assert t.wait_seconds("e", "ip") == 60 and t.wait_seconds("e", "other") == 0
    now[0] += 30
    assert t.wait_seconds("a", "ip") == 30
    now[0] += 30.5
    assert t.wait_seconds("e", "ip") == 0  # the oldest failure left the window


def test_an_unknown_login_costs_a_password_check_too(tmp_path: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    """A wrong password costs one scrypt run; an unknown login was refused at once, so the
    answer's speed told a stranger which logins exist."""
    hub = make_hub(tmp_path)
    try:
        add_supervisor(hub, "city", "city-pass-1", institution="410600")
        runs: list[int] = []
        real = hashlib.scrypt

        def counted(*args: Any, **kw: Any) -> bytes:
            runs.append(int(kw.get("n", 0)))
            return real(*args, **kw)

        monkeypatch.setattr(hashlib, "scrypt", counted)
        assert authenticate(hub, "city", "wrong-pass") is None
        known = list(runs)
        runs.clear()
        assert authenticate(hub, "nobody", "wrong-pass") is None
        assert runs == known and len(runs) == 1
    finally:
        hub.close()


def test_the_address_limit_is_a_setting_for_a_hub_behind_a_proxy(tmp_path: Path) -> None:
    """Behind a TLS proxy every supervisor comes from the proxy's address: the limit over
    all logins is raised there (BANGBAN_LOGIN_ADDRESS_FAILURES), and a value out of its
    bounds stops the hub at start, named."""
    from hub.errors import ConfigError
    from hub.oversight import oversight_for
    from hub.settings import Settings

    hub = make_hub(tmp_path, login_address_failures=500)
    try:
        from hub.app import create_app

        assert oversight_for(create_app(hub=hub)).login_throttle.max_address_failures == 500
    finally:
        hub.close()
    with pytest.raises(ConfigError, match="BANGBAN_LOGIN_ADDRESS_FAILURES"):
        Settings.load({"hub_dir": str(tmp_path / "h2")},
                      environ={"BANGBAN_LOGIN_ADDRESS_FAILURES": "0"})


def test_no_oversight_page_goes_in_another_pages_frame(app: Any) -> None:
    """The login cookie is SameSite=Lax: a page of another host of the same site framed the
    logged-in dashboard under its own buttons (clickjacking a complaint's handling)."""
    client, _ = login(app, "city", "city-pass-1")
    for path in ("/oversight/login", "/oversight/", f"/oversight/complaints?{Q}"):
        r = client.get(path)
        assert r.status_code == 200, path
        assert r.headers.get("X-Frame-Options") == "DENY", path
        assert "frame-ancestors 'none'" in r.headers.get("Content-Security-Policy", ""), path


def test_a_login_cookie_copied_before_the_logout_opens_nothing_after(app: Any) -> None:
    """退出 must end the login on the hub: the cookie is signed, not stored, and a copy of
    it taken before the logout (a shared office computer's cookie store, a proxy's log)
    kept opening every page of a county for the rest of its 12 hours."""
    import re

    client, _ = login(app, "city", "city-pass-1")
    copied = client.get_cookie("bangban_oversight").value
    page = client.get("/oversight/").text
    token = re.search(r'name="csrf" value="([^"]+)"', page).group(1)  # type: ignore[union-attr]
    assert client.post("/oversight/logout", data={"csrf": token}).status_code == 302
    thief = app.test_client()
    thief.set_cookie("bangban_oversight", copied)
    resp = thief.get("/oversight/")
    assert resp.status_code == 302 and "/oversight/login" in resp.headers["Location"]
    # another login of the same supervisor (another browser) is not ended with it
    other, _ = login(app, "city", "city-pass-1")
    assert other.get("/oversight/").status_code == 200


def test_no_script_runs_on_an_oversight_page_and_no_address_leaves_it(app: Any) -> None:
    """The pages have no script: a station's markup that ever escaped the templates must
    not run either (CSP script-src 'none', the complaint box's count by a nonce; forms post
    only to the hub); a page's address
    names a case or a scope and goes to no other site in a Referer; no answer of the hub's
    origin (the replication API's JSON too) is sniffed into a page."""
    client, _ = login(app, "city", "city-pass-1")
    for path in ("/oversight/login", "/oversight/", f"/oversight/staff?{Q}",
                 "/oversight/public/410602101", "/oversight/public/410602101/complaint"):
        r = client.get(path)
        assert r.status_code == 200, path
        policy = {d.split()[0]: d.split()[1:] for d in
                  r.headers["Content-Security-Policy"].split("; ")}
        # the complaint box's count (static/count.js) runs by this answer's nonce alone
        script = policy["script-src"]
        assert script == ["'none'"] or path.endswith("/complaint") and len(script) == 1 \
            and script[0].startswith("'nonce-") and len(script[0]) > 20, (path, script)
        assert policy["object-src"] == ["'none'"], path
        assert policy["form-action"] == ["'self'"] and policy["base-uri"] == ["'none'"], path
        assert r.headers.get("Referrer-Policy") == "same-origin", path
        assert r.headers.get("X-Content-Type-Options") == "nosniff", path
    api = app.test_client().get("/bangban/_all_docs")
    assert api.headers.get("X-Content-Type-Options") == "nosniff"
