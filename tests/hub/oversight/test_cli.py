"""``bangban hub supervisor add|list|disable`` through argparse, as hub/cli.py wires it."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

import pytest

from hub.oversight.cli import register
from hub.oversight.supervisors import authenticate


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="bangban hub")
    parser.add_argument("--hub-dir")
    register(parser.add_subparsers(dest="hub_command", required=True))
    return parser


def test_supervisor_add_and_list(hub: Any, capsys: pytest.CaptureFixture[str],
                                 monkeypatch: pytest.MonkeyPatch) -> None:
    folder = str(Path(hub.settings.hub_dir))
    hub.close()
    monkeypatch.setenv("SUP_PW", "county-pass-1")
    args = _parser().parse_args(["--hub-dir", folder, "supervisor", "add", "xian",
                                 "--institution", "410621", "--name", "浚县监督员",
                                 "--password-env", "SUP_PW"])
    assert args.func(args) == 0
    assert "county 410621" in capsys.readouterr().out
    args = _parser().parse_args(["--hub-dir", folder, "supervisor", "list", "--json"])
    args.func(args)
    assert json.loads(capsys.readouterr().out) == [
        {"login": "xian", "name": "浚县监督员", "level": "county", "institution": "410621",
         "disabled": None}]
    from hub.core import Hub
    from hub.settings import Settings

    again = Hub(Settings.load({"hub_dir": folder}, environ={}))
    who = authenticate(again, "xian", "county-pass-1")
    assert who is not None and who.prefix == "410621" and who.sees("410621101201")
    assert not who.sees("410622101")
    again.close()


@pytest.mark.parametrize(("institution", "says"), [
    ("410602101201", "institution: supervisors belong to a city, county or town"),
    ("410699", "institution"),
])
def test_a_refused_supervisor_is_one_line_not_a_traceback(
        hub: Any, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch,
        institution: str, says: str) -> None:
    folder = str(Path(hub.settings.hub_dir))
    hub.close()
    monkeypatch.setenv("SUP_PW", "village-pass-1")
    args = _parser().parse_args(["--hub-dir", folder, "supervisor", "add", "cun",
                                 "--institution", institution, "--password-env", "SUP_PW"])
    assert args.func(args) == 2
    err = capsys.readouterr().err
    assert err.startswith("bangban hub: ") and says in err and err.count("\n") == 1


def test_a_supervisor_who_left_is_disabled_and_logged_out(
        hub: Any, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    """A town coordinator leaves (7, 6.2.2): their dashboard login had to stop working, and
    no command did it (``disabled`` was honoured, never set): only a new password typed for
    them. `supervisor disable` refuses the login from now on and ends a session open in an
    office browser at its next request; `add --replace` enables it again."""
    from hub.app import create_app
    from hub.core import Hub
    from hub.settings import Settings
    from schemas.state import local_today
    from tests.hub.oversight.test_web import login

    folder = str(Path(hub.settings.hub_dir))
    hub.close()
    monkeypatch.setenv("SUP_PW", "town-pass-01")

    def run(*argv: str) -> int:
        args = _parser().parse_args(["--hub-dir", folder, "supervisor", *argv])
        return int(args.func(args))

    assert run("add", "zhen", "--institution", "410621101", "--password-env", "SUP_PW") == 0
    again = Hub(Settings.load({"hub_dir": folder}, environ={}))
    try:
        app = create_app(hub=again)
        client, resp = login(app, "zhen", "town-pass-01")
        assert resp.status_code == 302 and client.get("/oversight/").status_code == 200
        assert run("disable", "zhen") == 0
        assert "disabled since" in capsys.readouterr().out
        assert client.get("/oversight/").status_code == 302  # the open session ended
        assert login(app, "zhen", "town-pass-01")[1].status_code == 401
        run("list")
        assert f"disabled {local_today().isoformat()}" in capsys.readouterr().out
        assert run("disable", "nobody") == 2
        assert "no supervisor nobody" in capsys.readouterr().err
        assert run("add", "zhen", "--institution", "410621101", "--password-env", "SUP_PW",
                   "--replace") == 0
        assert login(app, "zhen", "town-pass-01")[1].status_code == 302
    finally:
        again.close()
