"""The ``bangban`` dispatcher."""

from __future__ import annotations

import subprocess
import sys
from typing import Any

import pytest

from ops import cli


def test_help_lists_commands(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        cli.main(["--help"])
    assert exc.value.code == 0
    assert "bangban" in capsys.readouterr().out


def test_console_entry_point_runs() -> None:
    out = subprocess.run([sys.executable, "-m", "ops.cli", "--help"], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr


def test_every_package_contributes_its_commands(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        cli.main(["hub", "--help"])
    hub_help = capsys.readouterr().out
    for command in ("init", "device", "serve", "supervisor", "oversight"):
        assert command in hub_help
    with pytest.raises(SystemExit):
        cli.main(["--help"])
    top = capsys.readouterr().out
    for command in ("store", "replicate", "node", "hub", "demo"):
        assert command in top


def _help(capsys: pytest.CaptureFixture[str], *argv: str) -> str:
    with pytest.raises(SystemExit):
        cli.main([*argv, "--help"])
    return capsys.readouterr().out


def _env_names(*paths: str) -> set[str]:
    """Every BANGBAN_* name a source file, a doc or a deployment file spells out."""
    import re
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    found: set[str] = set()
    for pattern in paths:
        for path in root.glob(pattern):
            found |= set(re.findall(r"\bBANGBAN_[A-Z][A-Z0-9_]*[A-Z0-9]\b", path.read_text("utf-8")))
    return found


def test_every_setting_the_code_reads_is_in_the_help(capsys: pytest.CaptureFixture[str]) -> None:
    """`bangban hub --help` and `bangban node --help` list every BANGBAN_* setting (README):
    one read straight from the environment but missing there is a setting nobody finds."""
    hub_help, node_help = _help(capsys, "hub"), _help(capsys, "node")
    assert _env_names("hub/*.py", "hub/*/*.py") - set(hub_help.split()) == set()
    assert _env_names("node/*.py") - set(node_help.split()) == set()


def test_docs_and_deployment_files_name_only_real_settings(
        capsys: pytest.CaptureFixture[str]) -> None:
    from ops.envcheck import HARNESS
    from ops.envcheck import known as declared
    from sync.http.settings import HTTPSettings

    known = set(_help(capsys, "hub").split()) | set(_help(capsys, "node").split())
    known |= {"BANGBAN_" + name.upper() for name in HTTPSettings.__dataclass_fields__}
    known |= HARNESS  # the test harness's own (docs/CONVENTIONS.md)
    # what `bangban` does not warn about (ops.envcheck): the same names
    assert {w.rstrip(".,)") for w in known if w.startswith("BANGBAN_")} == declared()
    named = _env_names("README.md", "docs/*.md", "hub/README.md", "node/README.md",
                       "ops/systemd/*", "ops/couchdb/*", "ops/*.py")
    assert named - known == set()


def test_every_argument_says_what_it_is() -> None:
    """An operator reads `--help` at 2 a.m.: every argument of every command has a line
    (``--json`` speaks for itself; the oversight commands are another package's)."""
    import argparse

    bare: list[str] = []

    def walk(parser: argparse.ArgumentParser, path: list[str]) -> None:
        for action in parser._actions:
            if isinstance(action, argparse._SubParsersAction):
                for name, sub in action.choices.items():
                    walk(sub, [*path, name])
            elif (action.help is None and not isinstance(action, argparse._HelpAction)
                  and "--json" not in action.option_strings and path[:2] != ["hub", "supervisor"]):
                bare.append(" ".join([*path, *(action.option_strings or [action.dest])]))

    walk(cli.build_parser(), [])
    assert bare == []


def _run(env: dict[str, str], *argv: str) -> subprocess.CompletedProcess[str]:
    import os

    clean = {k: v for k, v in os.environ.items() if not k.startswith("BANGBAN_")}
    return subprocess.run([sys.executable, "-m", "ops.cli", *argv], capture_output=True,
                          text=True, timeout=120, env={**clean, **env})


def test_a_misspelt_setting_is_named_not_ignored(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """`BANGBAN_HUB_PROT=8841` in the unit's environment file was ignored without a word:
    the hub served on its default port and the operator could not see why."""
    out = _run({"BANGBAN_HUB_PROT": "8841", "BANGBAN_HUB_PORT": "8840"},
               "hub", "--hub-dir", str(tmp_path / "none"), "doctor")
    assert "BANGBAN_HUB_PROT is not a Bangban setting" in out.stderr
    assert "did you mean BANGBAN_HUB_PORT?" in out.stderr
    assert "BANGBAN_HUB_PORT " not in out.stderr.replace("BANGBAN_HUB_PORT?", "")


@pytest.mark.parametrize(("env", "argv", "named"), [
    ({}, ("serve", "--port", "99999"), "BANGBAN_HUB_PORT: must be from 0 to 65535, got 99999"),
    ({"BANGBAN_HUB_THREADS": "0"}, ("doctor",), "BANGBAN_HUB_THREADS: must be at least 1"),
    ({"BANGBAN_HUB_PROCESSES": "-2"}, ("serve",), "BANGBAN_HUB_PROCESSES: must be at least 1"),
])
def test_a_setting_out_of_range_is_named(tmp_path, env, argv, named) -> None:  # type: ignore[no-untyped-def]
    """A port of 99999 ended `hub serve` in a traceback from `bind` (OverflowError); no
    threads or no gateway processes passed the type check and served nothing."""
    out = _run(env, "hub", "--hub-dir", str(tmp_path), *argv)
    assert out.returncode != 0 and named in out.stdout + out.stderr
    assert "Traceback" not in out.stderr


def test_node_port_out_of_range_is_named(tmp_path) -> None:  # type: ignore[no-untyped-def]
    out = _run({"BANGBAN_NODE_PORT": "70000"}, "node", "serve", "--dir", str(tmp_path))
    assert out.returncode != 0 and "BANGBAN_NODE_PORT: must be from 0 to 65535" in out.stderr
    assert "Traceback" not in out.stderr


def _command_error(parser: Any, text: str) -> str | None:
    """Why ``text`` (``[bangban] hub device keys FILE …``) is not a command line ``parser``
    takes: a subcommand or an option it does not have; ``None`` when it is one (or is no
    command line at all). Placeholders (FILE, CODE) are positionals and pass."""
    import argparse
    import re

    def subs(p: Any) -> dict[str, Any]:
        return next((a.choices for a in p._actions
                     if isinstance(a, argparse._SubParsersAction)), {})

    tokens = text.strip().removeprefix("bangban ").split()
    if not tokens or tokens[0] not in ("hub", "node", "store", "replicate", "demo"):
        return None
    p, path, known = parser, [], set()
    for tok in tokens:
        if tok in ("|", ">", "→", "&&", ";", "2>&1") or tok.startswith("…"):
            break
        if tok in subs(p):
            p = subs(p)[tok]
            path.append(tok)
            known |= {o for a in p._actions for o in a.option_strings}
        elif tok.startswith("--") and tok.split("=")[0] not in known:
            return f"`{' '.join(path)}` has no option {tok.split('=')[0]}"
        elif not tok.startswith("-") and subs(p) and re.fullmatch(r"[a-z][a-z-]+", tok):
            return f"`{' '.join(path)}` has no command {tok}"
    return None


def test_help_and_docs_name_only_real_commands_and_options() -> None:
    """`hub device keys --help` sent the operator to `node init --json`, an option that
    does not exist; every command line in backquotes in a help text, README.md, the runbook,
    ops/couchdb/README.md and the service units must be one `bangban` takes."""
    import argparse
    import re
    from pathlib import Path

    parser = cli.build_parser()
    quoted: list[tuple[str, str]] = []

    def walk(p: argparse.ArgumentParser, where: str) -> None:
        texts = [p.description or "", p.epilog or ""]
        for a in p._actions:
            texts.append(str(a.help or ""))
            if isinstance(a, argparse._SubParsersAction):
                texts += [str(c.help or "") for c in a._choices_actions]
                for name, sub in a.choices.items():
                    walk(sub, f"{where} {name}")
        quoted.extend((where, q) for t in texts for q in re.findall(r"`([^`]+)`", t))

    walk(parser, "bangban")
    root = Path(__file__).resolve().parents[2]
    docs = ["README.md", "docs/operations.md", "ops/couchdb/README.md", "hub/README.md",
            "node/README.md", *(str(p.relative_to(root)) for p in root.glob("ops/systemd/*"))]
    for name in docs:
        text = (root / name).read_text("utf-8")
        quoted += [(name, q) for q in re.findall(r"`([^`\n]+)`", text)]
        quoted += [(name, q) for q in re.findall(r"(?m)(?:^|\s)(bangban [a-z][^\n`#]*)", text)]
    wrong = [f"{where}: {q}: {err}" for where, q in quoted
             if (err := _command_error(parser, q)) is not None]
    assert wrong == []


def test_output_piped_to_a_reader_that_stops_early_ends_quietly(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """`bangban hub doctor | head -1` ended in a BrokenPipeError traceback."""
    import os

    read, write = os.pipe()
    os.close(read)  # the reader is gone before anything is written
    clean = {k: v for k, v in os.environ.items() if not k.startswith("BANGBAN_")}
    proc = subprocess.run([sys.executable, "-m", "ops.cli", "hub", "--hub-dir",
                           str(tmp_path / "none"), "doctor"], stdout=write,
                          stderr=subprocess.PIPE, text=True, timeout=120, env=clean)
    os.close(write)
    assert "Traceback" not in proc.stderr and "BrokenPipeError" not in proc.stderr, proc.stderr
    assert proc.returncode == 141
