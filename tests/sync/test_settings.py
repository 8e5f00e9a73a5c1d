"""Settings declared once: precedence defaults < settings.json < environment < config."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from sync.settings import Setting, SettingError, help_table, resolve

DECLARED = (
    Setting("app_dir", "app-data", "folder"),
    Setting("port", 8000, "port"),
    Setting("workers", True, "run workers"),
    Setting("interval", 2.0, "seconds"),
)


def test_precedence(tmp_path: Path) -> None:
    (tmp_path / "settings.json").write_text(json.dumps({"port": 9000, "interval": 5}), "utf-8")
    env = {"BANGBAN_APP_DIR": str(tmp_path), "BANGBAN_PORT": "9100", "BANGBAN_WORKERS": "off"}
    values = resolve(DECLARED, dir_setting="app_dir", what="app", environ=env,
                     config={"interval": "7.5"})
    assert values == {"app_dir": str(tmp_path), "port": 9100, "workers": False, "interval": 7.5}
    assert resolve(DECLARED, dir_setting="app_dir", what="app", environ={
        "BANGBAN_APP_DIR": str(tmp_path)})["port"] == 9000


@pytest.mark.parametrize(("env", "message"), [
    ({"BANGBAN_WORKERS": "maybe"}, "BANGBAN_WORKERS: expected a boolean"),
    ({"BANGBAN_PORT": "eighty"}, "BANGBAN_PORT: expected int"),
])
def test_wrong_types_name_the_variable(tmp_path: Path, env: dict[str, str], message: str) -> None:
    with pytest.raises(SettingError, match=message):
        resolve(DECLARED, dir_setting="app_dir", what="app",
                environ={"BANGBAN_APP_DIR": str(tmp_path), **env})


def test_unknown_setting_and_broken_json(tmp_path: Path) -> None:
    with pytest.raises(SettingError, match="unknown app settings: colour"):
        resolve(DECLARED, dir_setting="app_dir", what="app", environ={}, config={"colour": 1})
    (tmp_path / "settings.json").write_text("{not json", "utf-8")
    with pytest.raises(SettingError, match="not valid JSON"):
        resolve(DECLARED, dir_setting="app_dir", what="app",
                environ={"BANGBAN_APP_DIR": str(tmp_path)})


def test_help_table_lists_every_variable() -> None:
    table = help_table(DECLARED)
    for s in DECLARED:
        assert f"`{s.env}`" in table


@pytest.mark.parametrize(("saved", "message"), [
    ({"port": 5.5}, "BANGBAN_PORT: expected a whole number, got 5.5"),
    ({"port": True}, "BANGBAN_PORT: expected a whole number, got true"),
    ({"interval": False}, "BANGBAN_INTERVAL: expected a number, got false"),
])
def test_settings_json_numbers_are_not_rounded_or_read_from_booleans(
        tmp_path: Path, saved: dict[str, object], message: str) -> None:
    """int() and float() read settings.json's 5.5 as 5 and true as 1: refused, named."""
    (tmp_path / "settings.json").write_text(json.dumps(saved), "utf-8")
    with pytest.raises(SettingError, match=message):
        resolve(DECLARED, dir_setting="app_dir", what="app",
                environ={"BANGBAN_APP_DIR": str(tmp_path)})


def test_whole_floats_in_settings_json_are_whole_numbers(tmp_path: Path) -> None:
    (tmp_path / "settings.json").write_text(json.dumps({"port": 9000.0, "interval": 3}), "utf-8")
    values = resolve(DECLARED, dir_setting="app_dir", what="app",
                     environ={"BANGBAN_APP_DIR": str(tmp_path)})
    assert values["port"] == 9000 and isinstance(values["port"], int)
    assert values["interval"] == 3.0


def test_a_settings_json_key_this_version_does_not_read_is_said(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A key of settings.json that is no setting (a typo made by hand, a setting a later
    version added or renamed: the file outlives the version that wrote it) was dropped
    without a word; the environment's misspelt variables were warned about (ops.envcheck).
    Said once per process, with the nearest setting; the rest of the file still counts."""
    (tmp_path / "settings.json").write_text(json.dumps({"prot": 9000, "interval": 5,
                                                        "retired_thing": 1}), "utf-8")
    env = {"BANGBAN_APP_DIR": str(tmp_path)}
    for _ in range(2):
        values = resolve(DECLARED, dir_setting="app_dir", what="app", environ=env)
        assert (values["port"], values["interval"]) == (8000, 5.0)
    err = capsys.readouterr().err.splitlines()
    assert len(err) == 2, err
    assert "prot is not a app setting" in err[0] and "(did you mean port?)" in err[0]
    assert str(tmp_path / "settings.json") in err[0]
    assert "retired_thing" in err[1] and "did you mean" not in err[1]
    (tmp_path / "settings.json").write_text("[1, 2]", "utf-8")
    with pytest.raises(SettingError, match="must hold a JSON object"):
        resolve(DECLARED, dir_setting="app_dir", what="app", environ=env)
