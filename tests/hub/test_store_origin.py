"""The hub's store errors name where its CouchDB URL was set (hub/settings.py resolves it
from the environment, HUB_DIR/settings.json, the command line, or the default): they always
said BANGBAN_COUCHDB_URL, and an operator whose URL was in settings.json looked for a
variable that was never set, and edited the wrong place."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from hub.errors import ConfigError, NotInitialized
from hub.settings import Settings
from hub.storage import HubStores, couchdb_errors, open_server
from sync.errors import TransportError, Unauthorized


def _folder(tmp_path: Path, **saved: str) -> Path:
    (tmp_path / "settings.json").write_text(json.dumps(saved), encoding="utf-8")
    return tmp_path


def test_a_bad_url_in_settings_json_names_the_file(tmp_path: Path) -> None:
    folder = _folder(tmp_path, couchdb_url="127.0.0.1:5984")
    with pytest.raises(ConfigError) as err:
        open_server(Settings.load({"hub_dir": str(folder)}, environ={}))
    assert f"couchdb_url in {folder / 'settings.json'}" in err.value.reason
    assert "BANGBAN_COUCHDB_URL" not in err.value.reason


def test_a_bad_url_in_the_environment_names_the_variable(tmp_path: Path) -> None:
    """The environment wins over settings.json: the variable is what to edit."""
    folder = _folder(tmp_path, couchdb_url="http://127.0.0.1:5984")
    settings = Settings.load({"hub_dir": str(folder)},
                             environ={"BANGBAN_COUCHDB_URL": "http://admin:pa/ss@h:5984"})
    with pytest.raises(ConfigError) as err:
        open_server(settings)
    assert err.value.reason.startswith("BANGBAN_COUCHDB_URL in the environment: "), err.value
    assert "settings.json" not in err.value.reason


def test_couchdb_refusing_the_password_names_where_it_was_set(tmp_path: Path) -> None:
    folder = _folder(tmp_path, couchdb_url="http://admin:old@127.0.0.1:5984")
    settings = Settings.load({"hub_dir": str(folder)}, environ={})
    said = couchdb_errors(settings.couchdb_url, settings.origin("couchdb_url"))
    refused = said(Unauthorized("Name or password is incorrect."))
    assert refused.status == 503 and refused.error == "store_unauthorized"
    assert f"couchdb_url in {folder / 'settings.json'}" in refused.reason
    assert "BANGBAN_COUCHDB_URL" not in refused.reason and "old" not in refused.reason
    down = said(TransportError("cannot reach 127.0.0.1:5984: connection refused"))
    assert down.reason == (f"CouchDB at 127.0.0.1:5984 (couchdb_url in "
                           f"{folder / 'settings.json'}): connection refused")


def test_a_url_given_to_the_hub_is_named_by_its_flag(tmp_path: Path) -> None:
    settings = Settings.load({"hub_dir": str(tmp_path), "couchdb_url": "localhost:5984"},
                             environ={"BANGBAN_COUCHDB_URL": "http://h:5984"})
    with pytest.raises(ConfigError) as err:
        open_server(settings)
    assert err.value.reason.startswith("couchdb_url given to the hub (--couchdb-url)")


def test_no_hub_in_the_store_names_where_each_setting_came_from(tmp_path: Path) -> None:
    """The embedded store of an empty folder: the prefix from settings.json, the folder
    from the environment, both named so."""
    folder = _folder(tmp_path, db_prefix="bangban2")
    settings = Settings.load(environ={"BANGBAN_HUB_DIR": str(folder)})
    stores = HubStores.from_settings(settings)
    try:
        with pytest.raises(NotInitialized) as err:
            _ = stores.main
    finally:
        stores.server.close()
    assert (f"BANGBAN_HUB_DIR in the environment; couchdb_url left at its default (BANGBAN_COUCHDB_URL not set); db_prefix in {folder / 'settings.json'}"
            in err.value.reason), err.value


def _keys_without_their_store(hub_dir: str) -> Path:
    """A hub's folder whose settings.json now names another database prefix: the keys are
    there, the store named holds no hub (the mistake of an edited settings.json)."""
    folder = Path(hub_dir)
    (folder / "settings.json").write_text(json.dumps({"db_prefix": "elsewhere"}),
                                          encoding="utf-8")
    return folder / "settings.json"


def test_init_over_keys_names_where_the_store_settings_were_set(
        hub_dir: str, capsys: pytest.CaptureFixture[str]) -> None:
    """hub.keys.refuse_existing said BANGBAN_COUCHDB_URL and BANGBAN_DB_PREFIX whatever
    their source: here neither variable is set, the prefix is in settings.json."""
    from ops.cli import main

    stored = _keys_without_their_store(hub_dir)
    capsys.readouterr()
    assert main(["hub", "--hub-dir", hub_dir, "init"]) == 2
    err = capsys.readouterr().err
    assert "already holds a hub's keys" in err
    assert f"db_prefix in {stored}" in err, err
    assert "couchdb_url left at its default (BANGBAN_COUCHDB_URL not set)" in err
    assert "BANGBAN_DB_PREFIX" not in err


def test_doctor_over_keys_names_where_the_store_settings_were_set(hub_dir: str) -> None:
    """hub.doctor._no_hub: the same mistake, the same places named in its hint."""
    from hub import doctor
    from hub.core import Hub

    stored = _keys_without_their_store(hub_dir)
    hub = Hub(Settings.load({"hub_dir": hub_dir}, environ={}))
    try:
        store = doctor.run(hub)[0]
    finally:
        hub.close()
    assert store.name == "store" and store.status == "fail"
    assert f"db_prefix in {stored}" in store.hint, store.hint
    assert "BANGBAN_DB_PREFIX" not in store.hint and "not `hub init`" in store.hint
