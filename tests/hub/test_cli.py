"""``bangban hub …`` commands through the dispatcher (in process, embedded store)."""

from __future__ import annotations

import json

import pytest

from ops.cli import main


def test_init_enroll_revoke(hub_dir, capsys):
    capsys.readouterr()
    assert main(["hub", "--hub-dir", hub_dir, "institution", "add", "--code", "410602",
                 "--name", "鹤山区"]) == 0
    assert main(["hub", "--hub-dir", hub_dir, "institution", "add", "--code", "410602101",
                 "--name", "鹤壁集镇"]) == 0
    capsys.readouterr()
    assert main(["hub", "--hub-dir", hub_dir, "device", "enroll", "--institution",
                 "410602101", "--json"]) == 0
    enr = json.loads(capsys.readouterr().out)
    assert enr["hub_url"] == "http://hub.example:8840"
    assert enr["db_url"] == "http://hub.example:8840/bangban"
    assert enr["device_id"] == "410602101-D1" and len(enr["secret"]) >= 40
    assert enr["root_keys"]
    from hub.core import Hub
    from hub.settings import Settings

    hub = Hub(Settings.load({"hub_dir": hub_dir}))
    try:
        record = hub.auth.record(enr["device_id"])
        assert record is not None and enr["secret"] not in json.dumps(record)
    finally:
        hub.close()
    assert main(["hub", "--hub-dir", hub_dir, "device", "revoke", enr["device_id"]]) == 0
    hub = Hub(Settings.load({"hub_dir": hub_dir}))
    try:
        record = hub.auth.record(enr["device_id"])
        assert record is not None and record["revoked"] is True
        first = hub.stores.main.get(f"device:{enr['device_id']}")["revoked_at"]
        assert first
    finally:
        hub.close()
    # a second revoke says so and keeps the first time (it rewrote it, and republished)
    capsys.readouterr()
    assert main(["hub", "--hub-dir", hub_dir, "device", "revoke", enr["device_id"]]) == 2
    assert "revoked already" in capsys.readouterr().err
    hub = Hub(Settings.load({"hub_dir": hub_dir}))
    try:
        assert hub.stores.main.get(f"device:{enr['device_id']}")["revoked_at"] == first
    finally:
        hub.close()


def test_errors_are_one_line_and_exit_2(hub_dir, capsys):
    assert main(["hub", "--hub-dir", hub_dir, "device", "enroll", "--institution",
                 "999999999"]) == 2
    assert "no institution 999999999" in capsys.readouterr().err
    assert main(["hub", "--hub-dir", hub_dir, "init"]) == 2
    assert "already initialised" in capsys.readouterr().err
    assert main(["hub", "--hub-dir", hub_dir, "institution", "add", "--code", "12",
                 "--name", "x"]) == 2


def test_catalog_and_calendar(hub_dir, capsys):
    assert main(["hub", "--hub-dir", hub_dir, "catalog", "import", "--sample"]) == 0
    assert main(["hub", "--hub-dir", hub_dir, "calendar", "set", "--year", "2027",
                 "--holidays", "2027-01-01", "--workdays", ""]) == 0
    assert main(["hub", "--hub-dir", hub_dir, "calendar", "set", "--year", "2027",
                 "--holidays", "2026-01-01"]) == 2  # a date outside the year
    out = capsys.readouterr()
    assert "service items imported" in out.out and "calendar_year" in out.err


def test_init_never_replaces_the_keys_of_a_hub_whose_store_is_gone(hub_dir, capsys):
    """A lost db/ (or a wrong BANGBAN_COUCHDB_URL) must not make `hub init` mint a new root
    key: every station pins the old one and would refuse the hub's directories."""
    import shutil
    from pathlib import Path

    keys = Path(hub_dir) / "keys"
    before = {p.name: p.read_bytes() for p in keys.iterdir()}
    shutil.rmtree(Path(hub_dir) / "db")
    capsys.readouterr()
    assert main(["hub", "--hub-dir", hub_dir, "init"]) == 2
    err = capsys.readouterr().err
    assert "already holds a hub's keys" in err and "hub restore" in err
    assert {p.name: p.read_bytes() for p in keys.iterdir()} == before


def _err(capsys, *argv: str) -> str:
    """Run a command that must be refused: exit 2 and one line on stderr, no traceback."""
    capsys.readouterr()
    assert main(list(argv)) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err, err
    return err


def test_bad_files_are_one_line_naming_the_argument(hub_dir, tmp_path, capsys):
    broken = tmp_path / "broken.json"
    broken.write_text("{nope", encoding="utf-8")
    obj = tmp_path / "obj.json"
    obj.write_text('{"a": 1}', encoding="utf-8")
    h = ["hub", "--hub-dir", hub_dir]
    assert "cannot read" in _err(capsys, *h, "device", "keys", str(tmp_path / "missing.json"))
    assert "not valid JSON" in _err(capsys, *h, "device", "keys", str(broken))
    assert "device_id" in _err(capsys, *h, "device", "keys", str(obj))
    assert "no device 410600-X9" in _err(capsys, *h, "device", "keys", str(obj),
                                         "--device-id", "410600-X9")
    assert "cannot read" in _err(capsys, *h, "catalog", "import", str(tmp_path / "no.json"))
    assert "JSON list" in _err(capsys, *h, "catalog", "import", str(obj))


def test_a_catalog_is_imported_whole_or_not_at_all(hub_dir, tmp_path, capsys):
    from schemas import sample

    good, second = sample.catalog()[:2]
    bad = tmp_path / "catalog.json"
    bad.write_text(json.dumps([dict(good, code="NEW-1"),
                               dict(second, code="NEW-2", time_limit_days="ten")]), "utf-8")
    err = _err(capsys, "hub", "--hub-dir", hub_dir, "catalog", "import", str(bad))
    assert "items[1] (NEW-2)" in err and "time_limit_days" in err
    bad.write_text(json.dumps([dict(good, code="NEW-1"), "QY-002"]), "utf-8")
    assert "items[1]" in _err(capsys, "hub", "--hub-dir", hub_dir, "catalog", "import", str(bad))
    from hub.core import Hub
    from hub.settings import Settings
    from sync.errors import NotFound

    hub = Hub(Settings.load({"hub_dir": hub_dir}))
    try:
        with pytest.raises(NotFound):
            hub.stores.main.get("service_item:NEW-1")  # the good first item was not stored
    finally:
        hub.close()


def test_settings_json_with_the_couchdb_password_is_private(tmp_path, monkeypatch):
    monkeypatch.setenv("BANGBAN_SCRYPT_N", "1024")
    monkeypatch.delenv("BANGBAN_COUCHDB_URL", raising=False)
    from hub.settings import Settings

    monkeypatch.setenv("BANGBAN_HUB_KEY_PASSPHRASE", "never on disk")
    folder = tmp_path / "hub"
    Settings.load({"hub_dir": str(folder)}).save(couchdb_url="http://bangban:pw@db:5984")
    assert (folder / "settings.json").stat().st_mode & 0o777 == 0o600
    assert "never on disk" not in (folder / "settings.json").read_text("utf-8")


def test_serve_on_a_port_in_use_is_one_line(hub_dir, capsys):
    import socket

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        err = _err(capsys, "hub", "--hub-dir", hub_dir, "serve", "--port", str(port))
    assert f"--port {port}" in err and "BANGBAN_HUB_PORT" in err


def test_backup_and_restore_refusals(hub_dir, tmp_path, capsys):
    import gzip

    blocker = tmp_path / "file"
    blocker.write_text("x", encoding="utf-8")
    h = ["hub", "--hub-dir", hub_dir]
    assert "no backup was written" in _err(capsys, *h, "backup", str(blocker / "bk"))
    assert main([*h, "backup", str(tmp_path / "bk")]) == 0
    with gzip.open(tmp_path / "bk" / "main.jsonl.gz", "wt", encoding="utf-8") as out:
        out.write('{"_id": "cut in the mid')  # a copy damaged on its way
    err = _err(capsys, "hub", "--hub-dir", str(tmp_path / "fresh"), "restore",
               str(tmp_path / "bk"))
    assert "main.jsonl.gz: damaged" in err


def test_init_refusals_are_one_line_and_store_nothing(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("BANGBAN_SCRYPT_N", "1024")
    monkeypatch.delenv("BANGBAN_COUCHDB_URL", raising=False)
    monkeypatch.delenv("BANGBAN_ROOT_PASSPHRASE", raising=False)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr("sys.stdin.isatty", lambda: False)  # cron, ssh without a terminal
    folder = str(tmp_path / "hub")
    assert "--city abc: a city code" in _err(capsys, "hub", "--hub-dir", folder, "init", "--city",
                                              "abc")
    err = _err(capsys, "hub", "--hub-dir", folder, "init", "--couchdb-url", "127.0.0.1:5984")
    assert "--couchdb-url" in err and "http://" in err
    assert not (tmp_path / "hub" / "settings.json").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["hub"]  # no ./127.0.0.1:5984 store
    err = _err(capsys, "hub", "--hub-dir", folder, "init", "--offline-root",
               str(tmp_path / "root.json"))
    assert "BANGBAN_ROOT_PASSPHRASE" in err


@pytest.mark.timeout(60)  # before the check, the gateway started and served on: a hang here
def test_serve_refuses_to_start_when_its_keys_do_not_open(hub_dir, monkeypatch, capsys):
    """A gateway whose keys do not open answered `/_hub/health` ok while no termination,
    directory or board could be signed; now it does not start, and says why."""
    monkeypatch.setenv("BANGBAN_HUB_KEY_PASSPHRASE", "not the one hub init used")
    err = _err(capsys, "hub", "--hub-dir", hub_dir, "serve", "--port", "0")
    assert "does not unlock" in err and "BANGBAN_HUB_KEY_PASSPHRASE" in err


def test_enrolling_with_a_loopback_hub_url_warns(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("BANGBAN_SCRYPT_N", "1024")
    for name in ("BANGBAN_COUCHDB_URL", "BANGBAN_PUBLIC_URL", "BANGBAN_HUB_HOST"):
        monkeypatch.delenv(name, raising=False)
    folder = str(tmp_path / "hub")
    assert main(["hub", "--hub-dir", folder, "init"]) == 0
    capsys.readouterr()
    assert main(["hub", "--hub-dir", folder, "device", "enroll", "--institution", "410600",
                 "--json"]) == 0
    out = capsys.readouterr()
    assert json.loads(out.out)["hub_url"] == "http://127.0.0.1:8840"  # stdout: JSON only
    assert "loopback" in out.err and "--public-url" in out.err


def test_no_loopback_warning_with_a_public_url(hub_dir, capsys):
    capsys.readouterr()
    assert main(["hub", "--hub-dir", hub_dir, "device", "enroll", "--institution", "410600"]) == 0
    assert capsys.readouterr().err == ""


def test_keys_that_would_break_the_directory_are_refused(hub_dir, tmp_path, capsys):
    """One bad entry in the directory failed every device's signature check, hub-wide."""
    from sync.crypto import SigningKeyPair, key_entry

    h = ["hub", "--hub-dir", hub_dir]
    assert main([*h, "institution", "add", "--code", "410602", "--name", "鹤山区"]) == 0
    assert main([*h, "institution", "add", "--code", "410602101", "--name", "鹤壁集镇"]) == 0
    assert main([*h, "device", "enroll", "--institution", "410602101", "--short", "A1"]) == 0
    good = key_entry(SigningKeyPair.generate())
    entries = tmp_path / "keys.json"
    for bad, rule in ((dict(good, kid="ed25519-typo"), "fingerprint"),
                      (dict(good, key="!!"), "base64url"),
                      ({"kid": "k", "alg": "ed25519", "key": "AAAA"}, "fingerprint")):
        entries.write_text(json.dumps({"device_id": "410602101-A1", "device_key": bad}), "utf-8")
        assert rule in _err(capsys, *h, "device", "keys", str(entries))
    entries.write_text(json.dumps({"device_id": "410602101-A1", "device_key": good}), "utf-8")
    assert main([*h, "device", "keys", str(entries)]) == 0


def test_an_institution_hangs_under_the_tier_above(hub_dir, capsys):
    h = ["hub", "--hub-dir", hub_dir, "institution", "add"]
    assert main([*h, "--code", "410602", "--name", "鹤山区"]) == 0
    assert main([*h, "--code", "410602101", "--name", "鹤壁集镇"]) == 0
    err = _err(capsys, *h, "--code", "410602101201", "--name", "村", "--parent", "410602")
    assert "--parent 410602" in err and "town" in err
    assert main([*h, "--code", "410602101201", "--name", "村"]) == 0


def test_init_saves_a_store_given_in_the_environment(tmp_path, monkeypatch, capsys):
    """ops/couchdb/README.md: `BANGBAN_COUCHDB_URL=… bangban hub init`; the URL was not
    saved, so the service (and every command run without the variable) found no hub."""
    monkeypatch.setenv("BANGBAN_SCRYPT_N", "1024")
    monkeypatch.delenv("BANGBAN_COUCHDB_URL", raising=False)
    monkeypatch.setenv("BANGBAN_DB_PREFIX", "elsewhere")  # as BANGBAN_COUCHDB_URL would be
    folder = str(tmp_path / "hub")
    assert main(["hub", "--hub-dir", folder, "init", "--port", "18999"]) == 0
    saved = json.loads((tmp_path / "hub" / "settings.json").read_text("utf-8"))
    assert saved == {"db_prefix": "elsewhere", "hub_port": 18999}
    monkeypatch.delenv("BANGBAN_DB_PREFIX")
    capsys.readouterr()
    assert main(["hub", "--hub-dir", folder, "doctor"]) == 1  # finds its store: warnings only
    assert "FAIL" not in capsys.readouterr().out


def test_init_keeps_what_the_operator_wrote_in_settings_json_first(tmp_path, monkeypatch,
                                                                  capsys):
    """settings.json written before `hub init` (a tuned board interval; a key of a later
    version, warned about at every load): init rewrote the file with its own flags only,
    and both were gone without a word."""
    monkeypatch.setenv("BANGBAN_SCRYPT_N", "1024")
    monkeypatch.delenv("BANGBAN_COUCHDB_URL", raising=False)
    monkeypatch.delenv("BANGBAN_DB_PREFIX", raising=False)
    folder = tmp_path / "hub"
    folder.mkdir()
    (folder / "settings.json").write_text(
        '{"board_interval": 120, "from_a_later_version": 7}', "utf-8")
    assert main(["hub", "--hub-dir", str(folder), "init", "--port", "18999"]) == 0
    saved = json.loads((folder / "settings.json").read_text("utf-8"))
    assert saved == {"board_interval": 120, "from_a_later_version": 7, "hub_port": 18999}
    assert "from_a_later_version is not a hub setting" in capsys.readouterr().err


def test_a_second_institution_key_points_at_rotate_key(hub_dir, tmp_path, capsys):
    """`node keys rotate` registered before `hub institution rotate-key`: the refusal names
    the step that was skipped, not only the second-laptop path."""
    from sync.crypto import EncryptionKeyPair, SigningKeyPair, key_entry

    h = ["hub", "--hub-dir", hub_dir]
    for code in ("410602", "410602101"):
        assert main([*h, "institution", "add", "--code", code, "--name", code]) == 0
    for short in ("A1", "A2"):
        assert main([*h, "device", "enroll", "--institution", "410602101", "--short", short]) == 0
        entries = tmp_path / f"{short}.json"
        entries.write_text(json.dumps({
            "device_id": f"410602101-{short}", "device_key": key_entry(SigningKeyPair.generate()),
            "institution_key": key_entry(EncryptionKeyPair.generate())}), "utf-8")
    assert main([*h, "device", "keys", str(tmp_path / "A1.json")]) == 0
    err = _err(capsys, *h, "device", "keys", str(tmp_path / "A2.json"))
    assert "already has key" in err and "institution rotate-key 410602101" in err


@pytest.mark.timeout(60)
def test_serve_refuses_another_hubs_keys(hub_dir, tmp_path, monkeypatch, capsys):
    import shutil
    from pathlib import Path

    other = str(tmp_path / "other")
    assert main(["hub", "--hub-dir", other, "init"]) == 0
    shutil.rmtree(Path(hub_dir) / "keys")
    shutil.copytree(Path(other) / "keys", Path(hub_dir) / "keys")
    err = _err(capsys, "hub", "--hub-dir", hub_dir, "serve", "--port", "0")
    assert "another hub" in err


def test_a_calendar_without_holidays_is_refused(hub_dir, capsys):
    """Stored, it would win over chinesecalendar and count every holiday as a working day."""
    h = ["hub", "--hub-dir", hub_dir, "calendar", "set"]
    assert "--holidays" in _err(capsys, *h, "--year", "2026")
    assert "--holidays" in _err(capsys, *h, "--year", "2027", "--holidays", " , ")
    capsys.readouterr()
    assert main([*h, "--year", "2027", "--holidays", "2027-01-01, 2027-02-05",
                 "--workdays", "2027-02-14 "]) == 0  # spaces after the commas are fine
    assert "2 holidays, 1 make-up workdays" in capsys.readouterr().out
    from hub.core import Hub
    from hub.settings import Settings
    from sync.errors import NotFound

    hub = Hub(Settings.load({"hub_dir": hub_dir}))
    try:
        with pytest.raises(NotFound):
            hub.stores.main.get("calendar:2026")  # chinesecalendar's 2026 still counts
    finally:
        hub.close()


def test_restore_says_when_the_folder_cannot_serve_it_yet(hub_dir, tmp_path, capsys):
    """The data came back, but without this hub's keys/ `hub serve` refuses to start:
    the operator hears it at the restore, not from the service at start."""
    import shutil
    from pathlib import Path

    h = ["hub", "--hub-dir"]
    assert main([*h, hub_dir, "backup", str(tmp_path / "bk")]) == 0
    capsys.readouterr()
    bare = str(tmp_path / "bare")
    assert main([*h, bare, "restore", str(tmp_path / "bk")]) == 1
    out = capsys.readouterr()
    assert "restored from" in out.out and "put back this hub's keys/" in out.err
    whole = tmp_path / "whole"
    whole.mkdir()
    shutil.copytree(Path(hub_dir) / "keys", whole / "keys")
    shutil.copy(Path(hub_dir) / "settings.json", whole / "settings.json")
    assert main([*h, str(whole), "restore", str(tmp_path / "bk")]) == 0
    assert capsys.readouterr().err == ""


def test_a_mistyped_hub_folder_is_named_and_not_mistaken_for_a_new_hub(tmp_path, capsys):
    """'run `bangban hub init` first' at a typo in --hub-dir made a second hub there."""
    typo = str(tmp_path / "bangabn-hub")
    err = _err(capsys, "hub", "--hub-dir", typo, "device", "enroll", "--institution", "410600")
    assert f"no hub folder at {typo} " in err and "nothing was made" in err  # test_cli_folder


def test_a_wrong_key_passphrase_names_the_keychain_and_where_it_came_from(
        hub_dir, monkeypatch, capsys):
    """`hub device enroll` and `institution add` said only "the passphrase does not unlock
    this keychain": which keychain, which passphrase (the variable wins over the file), and
    what to do must be on the line."""
    from pathlib import Path

    monkeypatch.delenv("BANGBAN_HUB_KEY_PASSPHRASE", raising=False)
    assert main(["hub", "--hub-dir", hub_dir, "institution", "add", "--code", "410602",
                 "--name", "县"]) == 0
    (Path(hub_dir) / "keys" / "passphrase").write_text("not the one", "utf-8")
    err = _err(capsys, "hub", "--hub-dir", hub_dir, "device", "enroll", "--institution",
               "410602")
    assert "hub.keychain.json" in err and "keys/passphrase" in err
    assert "BANGBAN_HUB_KEY_PASSPHRASE is not set" in err and "restore HUB_DIR/keys" in err
    monkeypatch.setenv("BANGBAN_HUB_KEY_PASSPHRASE", "also wrong")
    err = _err(capsys, "hub", "--hub-dir", hub_dir, "institution", "add", "--code",
               "410603", "--name", "另一县")
    assert "BANGBAN_HUB_KEY_PASSPHRASE, which is set" in err
    capsys.readouterr()
    assert main(["hub", "--hub-dir", hub_dir, "doctor"]) == 2
    out = capsys.readouterr().out
    keys_line = next(line for line in out.splitlines() if line.startswith("FAIL  keys"))
    assert "hub.keychain.json" in keys_line and "another hub" not in out


@pytest.mark.timeout(60)
def test_serve_with_its_store_gone_says_restore_not_init(hub_dir, tmp_path, capsys):
    """HUB_DIR/db moved away (a disk not mounted, a wrong --hub-dir copy): `hub serve` said
    "run `bangban hub init` first", which refuses (the keys are there) and would be the
    wrong thing if it did not."""
    import shutil
    from pathlib import Path

    shutil.move(str(Path(hub_dir) / "db"), str(tmp_path / "db.moved"))
    err = _err(capsys, "hub", "--hub-dir", hub_dir, "serve", "--port", "0")
    assert "hub restore" in err and "BANGBAN_COUCHDB_URL" in err
    assert "run `bangban hub init` first" not in err
    err = _err(capsys, "hub", "--hub-dir", str(tmp_path / "new"), "serve", "--port", "0")
    assert "no hub folder at" in err and "`bangban hub init` to start a new hub" in err


def test_device_keys_given_the_enrollment_file_says_which_file_it_wants(
        hub_dir, tmp_path, capsys):
    """The two JSON files of "A new station" look alike at 2 a.m.: given the enrollment,
    `hub device keys` said "device_key: an ed25519 key entry {kid, alg, key} is required"."""
    assert main(["hub", "--hub-dir", hub_dir, "institution", "add", "--code", "410602",
                 "--name", "县"]) == 0
    capsys.readouterr()
    assert main(["hub", "--hub-dir", hub_dir, "device", "enroll", "--institution", "410602",
                 "--json"]) == 0
    enrollment = tmp_path / "enrollment.json"
    enrollment.write_text(capsys.readouterr().out, "utf-8")
    err = _err(capsys, "hub", "--hub-dir", hub_dir, "device", "keys", str(enrollment))
    assert "is an enrollment" in err and "`bangban node init` printed" in err
