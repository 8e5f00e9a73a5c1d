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
