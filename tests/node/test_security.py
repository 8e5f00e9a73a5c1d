"""The node's web UI against a hostile link or page (security audit): what a clerk's
browser can be made to do by a URL it was sent."""

from __future__ import annotations

from typing import Any
from urllib.parse import urljoin, urlsplit

import pytest

from .conftest import PASSPHRASE, csrf

BASE = "http://127.0.0.1:8470/unlock"
#: ``next=`` values a browser follows to another host (WHATWG URL: tabs and newlines are
#: dropped, a backslash is a slash).
OFFSITE = ["//evil.test", "/\t/evil.test", "/\n/evil.test", "/\\evil.test", "/\\/evil.test",
           "https://evil.test/", "/\r/evil.test"]


def _browser_target(location: str) -> str:
    """The host a browser goes to for ``Location: location`` (what it strips first)."""
    cleaned = location.replace("\t", "").replace("\n", "").replace("\r", "").replace("\\", "/")
    return urlsplit(urljoin(BASE, cleaned)).netloc


@pytest.mark.parametrize("nxt", OFFSITE)
def test_unlock_never_redirects_to_another_host(client: Any, nxt: str) -> None:
    resp = client.post("/unlock", data={"passphrase": PASSPHRASE, "csrf": csrf(client),
                                        "next": nxt})
    assert resp.status_code == 302
    assert _browser_target(resp.headers["Location"]) == "127.0.0.1:8470", resp.headers


@pytest.mark.parametrize("nxt", OFFSITE)
def test_language_switch_never_redirects_to_another_host(unlocked: Any, nxt: str) -> None:
    resp = unlocked.post("/lang", data={"csrf": csrf(unlocked), "lang": "en", "next": nxt})
    assert _browser_target(resp.headers["Location"]) == "127.0.0.1:8470", resp.headers


def test_a_path_on_the_node_is_still_followed(client: Any) -> None:
    resp = client.post("/unlock", data={"passphrase": PASSPHRASE, "csrf": csrf(client),
                                        "next": "/cases?q=%E5%BC%A0&view=today"})
    assert resp.headers["Location"] == "/cases?q=%E5%BC%A0&view=today"


@pytest.mark.parametrize("host", ["evil.test:8470", "127.0.0.1.evil.test", "attacker.example"])
def test_a_page_rebinding_its_name_to_the_laptop_reads_nothing(unlocked: Any, host: str) -> None:
    """DNS rebinding: a site's name resolved to 127.0.0.1 makes the node's unauthenticated
    API same-origin to that site's script; only names of this laptop are served."""
    for path in ("/api/cases", "/api/status"):
        resp = unlocked.get(path, headers={"Host": host})
        assert resp.status_code == 400 and resp.get_json()["error"] == "host", resp.data
    page = unlocked.get("/", headers={"Host": host})
    # the page says it in its own language (node.labels.one_language)
    assert page.status_code == 400 and "请用 http://127.0.0.1 地址打开本应用" in page.text
    assert "open the app at" not in page.text


@pytest.mark.parametrize("host", ["127.0.0.1:8470", "localhost:8470", "[::1]:8470",
                                  "192.168.1.20:8470"])
def test_the_laptops_own_addresses_are_served(client: Any, host: str) -> None:
    # a browser keeps the session cookie per host name: it unlocks at the address it uses
    headers = {"Host": host}
    assert client.post("/api/unlock", json={"passphrase": PASSPHRASE},
                       headers=headers).status_code == 200
    assert client.get("/api/cases", headers=headers).status_code == 200


def test_a_scan_declared_as_html_by_its_writer_is_not_run_as_the_app(unlocked: Any) -> None:
    """A scan's content type is what its event's writer declared (another station's
    device, through the hub): ``text/html`` was served as such from the node's origin,
    a script able to read every case through /api/."""
    import io

    from schemas.sample import catalog

    from .test_casework_flow import _consult, _step

    c = unlocked
    case_id = _consult(c)
    assert _step(c, case_id, "application", channel="offline", mode="nearby",
                 service_item=catalog()[0]["code"]).status_code == 302
    assert _step(c, case_id, "acceptance", zone="assisted_zone",
                 time_limit_days="5").status_code == 302
    html = b"<script>fetch('/api/cases').then(r => r.text()).then(alert)</script>"
    r = c.post(f"/cases/{case_id}/steps/material_received", data={
        "csrf": csrf(c), "materials": [catalog()[0]["materials"][0]["code"]],
        "scans": (io.BytesIO(html), "scan.pdf", "application/pdf")},
        content_type="multipart/form-data")
    assert r.status_code == 302, r.data[:500]
    node = c.application.extensions["bangban_node"]
    ev = next(e for e in node.casework.events(case_id) if e["event_type"] == "material_received")
    name = next(iter(ev["_attachments"]))
    doc = node.store.get(ev["_id"], attachments=True)
    doc["_attachments"][name]["content_type"] = "text/html; charset=utf-8"
    node.store.put(doc)  # as the writer's device declared it
    back = c.get(f"/cases/{case_id}/steps/attachment/{ev['_id']}/{name}")
    assert back.status_code == 200 and back.data == html
    assert back.headers["Content-Type"] == "application/octet-stream"
    assert back.headers["Content-Disposition"] == "attachment"
    assert back.headers["X-Content-Type-Options"] == "nosniff"


#: What a browser sends with a request another site's page makes (W3C Fetch Metadata).
IMG = {"Sec-Fetch-Site": "cross-site", "Sec-Fetch-Mode": "no-cors", "Sec-Fetch-Dest": "image"}


def test_another_sites_page_cannot_open_cases_or_keep_the_laptop_unlocked(unlocked: Any) -> None:
    """A hidden image on any site opened a case (an access event in the clerk's name) and
    counted as the clerk's activity, so the idle lock never came."""
    node = unlocked.application.extensions["bangban_node"]
    touched = node.last_touch
    for headers in (IMG, {**IMG, "Sec-Fetch-Site": "same-site"},
                    {"Sec-Fetch-Site": "cross-site", "Sec-Fetch-Mode": "cors"}):
        resp = unlocked.get("/cases/", headers=headers)
        assert resp.status_code == 403 and "其他网站的网页不能使用本应用" in resp.text
        resp = unlocked.post("/api/lock", headers=headers)
        assert resp.status_code == 403 and resp.get_json()["error"] == "cross_site"
    assert node.last_touch == touched and node.unlocked


@pytest.mark.parametrize("headers", [
    {}, {"Sec-Fetch-Site": "same-origin", "Sec-Fetch-Mode": "cors", "Sec-Fetch-Dest": "empty"},
    {"Sec-Fetch-Site": "none", "Sec-Fetch-Mode": "navigate", "Sec-Fetch-Dest": "document"},
    {"Sec-Fetch-Site": "cross-site", "Sec-Fetch-Mode": "navigate", "Sec-Fetch-Dest": "document"}])
def test_the_apps_own_pages_typed_addresses_and_links_still_work(unlocked: Any,
                                                                 headers: dict[str, str]) -> None:
    assert unlocked.get("/cases/", headers=headers).status_code == 200


@pytest.mark.parametrize("passphrase", ["", "1", "1234567", "口令口令口令口"])
def test_a_new_keychain_needs_a_passphrase_of_eight_characters(tmp_path: Any,
                                                               passphrase: str) -> None:
    """The keychain holds the institution's private key; "1" as its passphrase was accepted,
    and a copied disk gave every case of the station away to an offline guess."""
    from node.errors import InvalidInput
    from node.keys import NodeKeys

    from .conftest import DEVICE, VILLAGE

    enrollment = {"device_id": DEVICE, "institution": VILLAGE, "root_keys": []}
    with pytest.raises(InvalidInput) as refused:
        NodeKeys.create(tmp_path / "keychain.json", passphrase, enrollment, scrypt_n=2**10)
    assert "passphrase" in refused.value.reason and refused.value.fields == {
        "passphrase": "至少 8 个字符 / at least 8 characters"}
    assert not (tmp_path / "keychain.json").exists()
    NodeKeys.create(tmp_path / "keychain.json", "12345678", enrollment, scrypt_n=2**10)


@pytest.mark.parametrize("origin", ["http://127.0.0.1:9999", "http://localhost:8470", "null",
                                   "http://evil.test", "file://"])
def test_a_post_from_another_origin_is_refused_without_fetch_metadata(unlocked: Any,
                                                                      origin: str) -> None:
    """A browser older than Fetch Metadata still sends ``Origin`` with a cross-origin POST;
    a page of another port of the laptop (same-site, so the session cookie went along)
    locked the node and started syncs: those two API calls read no JSON body."""
    node = unlocked.application.extensions["bangban_node"]
    for path in ("/api/lock", "/api/sync"):
        resp = unlocked.post(path, headers={"Origin": origin})
        assert resp.status_code == 403 and resp.get_json()["error"] == "cross_site", resp.data
    resp = unlocked.post("/lock", data={"csrf": csrf(unlocked)}, headers={"Origin": origin})
    assert resp.status_code == 403
    assert node.unlocked


def test_a_post_from_the_apps_own_origin_still_works(unlocked: Any) -> None:
    node = unlocked.application.extensions["bangban_node"]
    # the test client's requests go to http://localhost
    resp = unlocked.post("/api/lock", headers={"Origin": "http://localhost"})
    assert resp.status_code == 200 and not node.unlocked


def test_no_page_of_the_app_goes_in_another_pages_frame(unlocked: Any) -> None:
    """A browser older than Fetch Metadata (Chromium before 76) loads the app in a frame of
    a page of another port of this laptop, session cookie and all (same-site): the clerk's
    click on that page's buttons landed on the app's. Every page forbids framing; a PDF
    (opened in a tab of its own) is left as it was."""
    for path in ("/", "/unlock", "/cases/", "/consultations/new", "/sync/"):
        r = unlocked.get(path)
        assert r.status_code == 200, path
        assert r.headers.get("X-Frame-Options") == "DENY", path
        assert "frame-ancestors 'none'" in r.headers.get("Content-Security-Policy", ""), path


def test_no_script_but_the_apps_own_file_runs_on_a_page(unlocked: Any) -> None:
    """A name or note with markup that ever escaped the templates must not run: only the
    app's own script file (no inline script), forms post only to the app; a page's address
    (/cases/<id>) goes to no other site in a Referer; nothing is sniffed into a page."""
    for path in ("/", "/unlock", "/cases/", "/consultations/new", "/sync/",
                 "/static/bangban.js"):
        r = unlocked.get(path)
        assert r.status_code == 200, path
        assert r.headers.get("X-Content-Type-Options") == "nosniff", path
        assert r.headers.get("Referrer-Policy") == "same-origin", path
        if path.startswith("/static/"):
            continue
        policy = {d.split()[0]: d.split()[1:] for d in
                  r.headers["Content-Security-Policy"].split("; ")}
        assert policy["script-src"] == ["'self'"] and policy["object-src"] == ["'none'"], path
        assert policy["form-action"] == ["'self'"] and policy["base-uri"] == ["'none'"], path
        assert policy["style-src"] == ["'self'"], path  # no style attribute runs either


def test_no_page_needs_a_style_attribute(unlocked: Any, app: Any) -> None:
    """style-src 'self' without 'unsafe-inline' (injected markup cannot restyle a page into a
    fake form): a style attribute would be dropped by the browser, so none may be written.
    The sync page's progress bar was one (a span's width): it is a <progress> now."""
    import re
    from pathlib import Path

    import node

    templates = Path(node.__file__).parent / "templates"
    written = [f"{t.name}: {m.group(0)}" for t in sorted(templates.rglob("*.html"))
               for m in re.finditer(r"""\sstyle\s*=\s*["'][^"']*""", t.read_text("utf-8"))]
    assert written == []
    state = app.extensions["bangban_node"].syncer.state
    state.status, state.phase, state.docs_done, state.docs_total = "running", "pull", 30, 120
    page = unlocked.get("/sync/").get_data(as_text=True)
    assert re.search(r'<progress class="progress" max="120" value="30"[^>]*>25%</progress>',
                     page), page
    assert " style=" not in page


def test_two_nodes_on_one_laptop_keep_their_forms_tokens_apart(app: Any) -> None:
    """Browsers keep cookies per host, not port: the demo's town and village (one browser,
    127.0.0.1, two ports, two processes with their own keys) shared Flask's ``session``
    cookie, so a look at one tab replaced the other's forms token and its next form was
    refused as expired. (``requests`` keeps cookies per host as browsers do.)"""
    import requests
    from werkzeug.serving import make_server

    from node.app import create_app

    from .conftest import serving

    other = create_app({"secret_key": "another process's"}, node=app.extensions["bangban_node"])
    with serving(make_server("127.0.0.1", 0, app, threaded=True)) as village, \
            serving(make_server("127.0.0.1", 0, other, threaded=True)) as town:
        browser = requests.Session()
        page = browser.get(village + "/unlock").text
        token = page.split('name="csrf" value="')[1].split('"')[0]
        seen = browser.get(town + "/unlock")  # the other node's tab
        resp = browser.post(village + "/large-text", data={"csrf": token, "next": "/unlock"},
                            allow_redirects=False)
        assert resp.status_code == 302, resp.text[:300]
        assert "SameSite=Lax" in seen.headers["Set-Cookie"]  # not sent by another site's post
