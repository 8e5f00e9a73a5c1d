"""The supervisors' login cookie (security audit): HttpOnly and SameSite always, Secure
when the hub is reached over https."""

from __future__ import annotations

from pathlib import Path

import pytest


def _cookie(tmp_path: Path, public_url: str) -> str:
    from hub.app import create_app
    from hub.core import Hub
    from hub.settings import Settings

    settings = Settings.load({"hub_dir": str(tmp_path / "hub"), "scrypt_n": 1024,
                              "public_url": public_url}, environ={})
    hub = Hub(settings)
    try:
        resp = create_app(hub=hub).test_client().get("/oversight/login")
        return next(v for v in resp.headers.getlist("Set-Cookie")
                    if v.startswith("bangban_oversight="))
    finally:
        hub.close()


@pytest.mark.parametrize(("public_url", "secure"), [
    ("https://hub.hebi.example/", True), ("HTTPS://hub.hebi.example", True),
    ("http://10.0.0.5:8840", False), ("", False)])
def test_login_cookie_is_secure_exactly_when_the_hub_is_reached_over_https(
        tmp_path: Path, public_url: str, secure: bool) -> None:
    cookie = _cookie(tmp_path, public_url).lower()
    assert "httponly" in cookie and "samesite=lax" in cookie
    assert ("; secure" in cookie) is secure, cookie
