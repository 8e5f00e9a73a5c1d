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
    assert page.status_code == 400 and "open the app at" in page.text


@pytest.mark.parametrize("host", ["127.0.0.1:8470", "localhost:8470", "[::1]:8470",
                                  "192.168.1.20:8470"])
def test_the_laptops_own_addresses_are_served(unlocked: Any, host: str) -> None:
    assert unlocked.get("/api/cases", headers={"Host": host}).status_code == 200

