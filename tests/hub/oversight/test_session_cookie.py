"""The supervisors' login cookie (security audit): HttpOnly and SameSite always, Secure
when the hub is reached over https."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest


def _login_page(tmp_path: Path, public_url: str) -> Any:
    from hub.app import create_app
    from hub.core import Hub
    from hub.settings import Settings

    settings = Settings.load({"hub_dir": str(tmp_path / "hub"), "scrypt_n": 1024,
                              "public_url": public_url}, environ={})
    hub = Hub(settings)
    try:
        return create_app(hub=hub).test_client().get("/oversight/login")
    finally:
        hub.close()


def _cookie(tmp_path: Path, public_url: str) -> str:
    resp = _login_page(tmp_path, public_url)
    return next(v for v in resp.headers.getlist("Set-Cookie")
                if v.startswith("bangban_oversight="))


@pytest.mark.parametrize(("public_url", "secure"), [
    ("https://hub.hebi.example/", True), ("HTTPS://hub.hebi.example", True),
    ("http://10.0.0.5:8840", False), ("", False)])
def test_login_cookie_is_secure_exactly_when_the_hub_is_reached_over_https(
        tmp_path: Path, public_url: str, secure: bool) -> None:
    cookie = _cookie(tmp_path, public_url).lower()
    assert "httponly" in cookie and "samesite=lax" in cookie
    assert ("; secure" in cookie) is secure, cookie


@pytest.mark.parametrize(("public_url", "strict"), [
    ("https://hub.hebi.example/", True), ("http://10.0.0.5:8840", False), ("", False)])
def test_a_hub_reached_over_https_is_never_opened_over_plain_http_again(
        tmp_path: Path, public_url: str, strict: bool) -> None:
    """The Secure cookie keeps the login off plain http, but not the login page: typed as
    hub.hebi.example, it came over http first, where anyone on the wire could serve their
    own page asking for the password (RFC 6797, HSTS). No subdomains: other hosts of the
    city's domain may still be plain http."""
    sts = _login_page(tmp_path, public_url).headers.get("Strict-Transport-Security")
    assert (sts == "max-age=31536000") is strict and (sts is None) is not strict, sts
